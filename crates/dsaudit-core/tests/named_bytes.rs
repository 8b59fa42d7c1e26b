//! A Spark row's bytes are described as a folder's file is (`describe_named_bytes`
//! against `image_folder::describe_file`), on the sample images and on damaged copies of them, and under
//! the `--max-file-size` limit. One test: the limit is process-wide.

use dsaudit_core::load::image::describe_named_bytes;
use dsaudit_core::load::image_folder::describe_file;
use std::path::{Path, PathBuf};

fn sample_images() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample_data/images");
    let mut files: Vec<PathBuf> = walk(&root);
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "png") {
            out.push(path);
        }
    }
    out
}

/// Both descriptions of the file at `path`, as text (every field).
fn both(path: &Path) -> (String, String) {
    let bytes = std::fs::read(path).unwrap();
    (
        format!("{:?}", describe_file(path, None)),
        format!("{:?}", describe_named_bytes(path, &bytes)),
    )
}

#[test]
fn bytes_in_memory_are_described_as_their_file() {
    let images = sample_images();
    assert!(images.len() > 100, "{} sample images", images.len());
    for path in &images {
        let (file, named) = both(path);
        assert_eq!(file, named, "{}", path.display());
    }

    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(&images[0]).unwrap();
    let damaged: [(&str, Vec<u8>); 5] = [
        ("cut.png", png[..png.len() * 6 / 10].to_vec()),
        ("text.png", b"not an image at all, just some text".repeat(4)),
        ("named_wrong.jpg", png.clone()),
        ("empty.png", Vec::new()),
        ("notes.txt", b"hello".to_vec()),
    ];
    for (name, bytes) in &damaged {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (file, named) = both(&path);
        assert_eq!(file, named, "{name}");
    }

    // Over the limit: the same one-line problem, not a decode, whatever the name.
    dsaudit_core::safe_read::set_max_file_size(100);
    for path in [
        images[0].clone(),
        dir.path().join("notes.txt"),
        dir.path().join("text.png"),
    ] {
        let (file, named) = both(&path);
        assert_eq!(file, named, "{}", path.display());
    }
    let (file, _) = both(&images[0]);
    assert!(
        file.contains("Unreadable") && file.contains("--max-file-size"),
        "{file}"
    );
}

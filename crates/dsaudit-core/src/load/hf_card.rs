//! The Hugging Face dataset card: README.md's YAML front matter, whose
//! `dataset_info.features` name each `ClassLabel`'s classes. Shards written without
//! the `huggingface` metadata key (by tools other than `datasets`) have their class
//! names only here.

use std::path::Path;

/// Each `class_label` feature of the card in `root` (README.md), with its names in
/// id order; empty when there is no card, no front matter, or no class label. A card
/// that does not parse is no card: the shards are read without it, and the guesses
/// say where the names came from.
pub fn class_labels(root: &Path) -> Vec<(String, Vec<String>)> {
    let Ok(bytes) = crate::safe_read::read_limited(&root.join("README.md"), 1 << 20) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let Some(front) = front_matter(&text) else {
        return Vec::new();
    };
    let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(front) else {
        return Vec::new();
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    // One config's info is a map; several configs' a list (the first is the default).
    let info = &doc["dataset_info"];
    let info = match info.as_vec() {
        Some(configs) => configs.first().unwrap_or(info),
        None => info,
    };
    info["features"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let name = f["name"].as_str()?;
            let names = super::detection::yaml_names(&f["dtype"]["class_label"]["names"])?;
            Some((name.to_string(), names))
        })
        .collect()
}

/// The YAML between a leading `---` line and the next `---` line.
fn front_matter(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let end = rest
        .match_indices("\n---")
        .map(|(i, _)| i)
        .find(|&i| matches!(rest[i + 4..].chars().next(), None | Some('\n' | '\r')))?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_from_the_card() {
        let dir = tempfile::tempdir().unwrap();
        let card = "---\nlicense: mit\ndataset_info:\n  features:\n  - name: img\n    dtype: image\n  - name: fine_label\n    dtype:\n      class_label:\n        names:\n          '0': apple\n          '1': aquarium_fish\n---\n# text\n---\n";
        std::fs::write(dir.path().join("README.md"), card).unwrap();
        assert_eq!(
            class_labels(dir.path()),
            [(
                "fine_label".to_string(),
                vec!["apple".to_string(), "aquarium_fish".into()]
            )]
        );
        let list = "---\ndataset_info:\n- config_name: a\n  features:\n  - name: label\n    dtype:\n      class_label:\n        names: [x, y]\n---\n";
        std::fs::write(dir.path().join("README.md"), list).unwrap();
        assert_eq!(class_labels(dir.path())[0].1, ["x", "y"]);
        std::fs::write(dir.path().join("README.md"), "# no front matter\n").unwrap();
        assert!(class_labels(dir.path()).is_empty());
        std::fs::write(dir.path().join("README.md"), "---\n: [\n---\n").unwrap();
        assert!(class_labels(dir.path()).is_empty());
    }
}

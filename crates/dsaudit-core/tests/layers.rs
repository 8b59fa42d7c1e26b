//! The core's data flows one way: a module may use the modules of its own layer and
//! of the layers before it, never one after it. This test reads the sources (test
//! code excluded) and fails on any `crate::<module>` reference that runs back up,
//! unless it is one of the few the architecture document lists as not yet removed.

use std::collections::BTreeSet;
use std::path::Path;

/// The layers, first to last. A module in layer i may use layers 0..=i.
const LAYERS: &[&[&str]] = &[
    // Words and tools every stage shares.
    &[
        "util",
        "alloc_guard",
        "packed",
        "progress",
        "suggest",
        "choice",
        "output",
        "walk",
        "knn",
        "tally",
        "finding",
        "identity",
        "table_io",
        "safe_read",
        "csv_dialect",
    ],
    &["discover"],
    &["load", "manifest", "stats"],
    &["duplicates"],
    &["shift"],
    &["labels"],
    // What `check` keeps of the stages, and the file cache the load reads through.
    &["incremental", "cache"],
    &["rules", "config", "docs"],
    // What a scan found: the reports and the builds read it.
    &["scanned"],
    &["report"],
    // The pipeline: discover → load → describe → analyse → check.
    &["scan", "fuzzing", "request", "partial"],
];

/// Back edges not yet removed (module → module it uses), each listed in
/// docs/architecture.md with why it remains. The list may only shrink.
const KNOWN: &[(&str, &str)] = &[];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS"))
}

/// The top-level modules `src` names with `crate::`, in code outside `#[cfg(test)]`.
fn uses(src: &str) -> BTreeSet<String> {
    let code = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    // Comments name modules without using them.
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.as_str();
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::X, b};`
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

fn edges() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut out = BTreeSet::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        if top == "lib" {
            continue;
        }
        for used in uses(&std::fs::read_to_string(&f).unwrap()) {
            if used != top {
                out.insert((top.clone(), used));
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_later_stage() {
    let back: Vec<(String, String)> = edges()
        .into_iter()
        .filter(|(from, to)| layer(to) > layer(from))
        .collect();
    let new: Vec<_> = back
        .iter()
        .filter(|(f, t)| !KNOWN.contains(&(f.as_str(), t.as_str())))
        .collect();
    assert!(
        new.is_empty(),
        "imports that run back up the pipeline: {new:?}"
    );
    // A known edge that is gone comes off the list, so that it cannot come back.
    let stale: Vec<_> = KNOWN
        .iter()
        .filter(|(f, t)| !back.iter().any(|(bf, bt)| bf == f && bt == t))
        .collect();
    assert!(
        stale.is_empty(),
        "removed back edges still listed in KNOWN: {stale:?}"
    );
}

#[test]
fn the_reader_finds_grouped_and_plain_uses() {
    let src = "use crate::{load::Loaded, stats};\n// see crate::shift\nfn f() { crate::rules::x(); }\n#[cfg(test)]\nuse crate::scan;";
    let got: Vec<String> = uses(src).into_iter().collect();
    assert_eq!(got, ["load", "rules", "stats"]);
}

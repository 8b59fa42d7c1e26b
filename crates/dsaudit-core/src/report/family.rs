//! Findings grouped by rule family, in the order the codes table gives the families.

use crate::rules::codes::Family;

/// The family name of a code ("other" for a code no family claims).
pub fn of(code: &str) -> &'static str {
    Family::of(code).map_or("other", Family::name)
}

/// Position of a code's family in report order, for sorting.
pub fn rank(code: &str) -> usize {
    Family::of(code).map_or(Family::ALL.len(), |f| f as usize)
}

/// Findings grouped by family in [`FAMILIES`] order; within a family the rules' own
/// order (worst first) is kept.
pub fn grouped(
    findings: &[crate::finding::Finding],
) -> Vec<(&'static str, Vec<&crate::finding::Finding>)> {
    let mut out: Vec<(&'static str, Vec<&crate::finding::Finding>)> = Vec::new();
    let mut order: Vec<&crate::finding::Finding> = findings.iter().collect();
    order.sort_by_key(|f| rank(f.code));
    for f in order {
        match out.last_mut() {
            Some((fam, group)) if *fam == of(f.code) => group.push(f),
            _ => out.push((of(f.code), vec![f])),
        }
    }
    out
}

/// Where a sample lives, as a path from the directory the user ran dsaudit in.
pub fn sample_path(scan: &crate::scanned::Scan, source: &str) -> String {
    let joined = scan.spec.root.join(source);
    let s = joined.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

//! `--select` / `--ignore`: rule codes or code prefixes, as ruff does it.

use super::{registry, Rule};
use anyhow::{bail, Result};

/// Rules selected by `select` (all when empty or "ALL") minus those in `ignore`.
pub fn select(select: &[String], ignore: &[String]) -> Result<Vec<&'static dyn Rule>> {
    let all = registry();
    let matches =
        |pat: &str, r: &dyn Rule| pat == "ALL" || r.code().starts_with(pat) || r.name() == pat;
    for pat in select.iter().chain(ignore) {
        if let Err(e) = check_pattern(pat) {
            bail!("{e}");
        }
    }
    Ok(all
        .into_iter()
        .filter(|r| select.is_empty() || select.iter().any(|p| matches(p, *r)))
        .filter(|r| !ignore.iter().any(|p| matches(p, *r)))
        .collect())
}

/// Whether a select/ignore entry names at least one rule; the error suggests the
/// nearest code or name.
pub fn check_pattern(pat: &str) -> std::result::Result<(), String> {
    let all = registry();
    if pat == "ALL"
        || all
            .iter()
            .any(|r| r.code().starts_with(pat) || r.name() == pat)
    {
        return Ok(());
    }
    let names = all.iter().flat_map(|r| [r.code(), r.name()]);
    Err(format!(
        "unknown rule code, prefix or name '{pat}'{} (see `dsaudit rules`)",
        crate::suggest::hint(pat, names)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_ignores() {
        let all = select(&[], &[]).unwrap().len();
        assert_eq!(select(&["I".into()], &[]).unwrap().len(), 17);
        assert_eq!(select(&["B".into()], &[]).unwrap().len(), 4);
        let one = select(&["I001".into()], &[]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].code(), "I001");
        assert_eq!(select(&[], &["I00".into()]).unwrap().len(), all - 9);
        assert!(select(&["Z9".into()], &[]).is_err());
        assert_eq!(
            select(&["missing-values".into()], &[]).unwrap()[0].code(),
            "I008"
        );
    }
}

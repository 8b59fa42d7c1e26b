//! "Did you mean …?" for mistyped names (config keys, rule codes, threshold keys).

/// The candidate closest to `typed`, when it is close enough to be a likely typo.
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score =
                strsim::normalized_damerau_levenshtein(&typed_lower, &c.to_ascii_lowercase());
            (c, score)
        })
        .filter(|(_, s)| *s >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// "; did you mean 'x'?" or nothing.
pub fn hint<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match nearest(typed, candidates) {
        Some(c) => format!("; did you mean '{c}'?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_strangers() {
        let names = ["select", "ignore", "fail-on", "thresholds"];
        assert_eq!(nearest("selct", names), Some("select"));
        assert_eq!(nearest("fail_on", names), Some("fail-on"));
        assert_eq!(nearest("threshold", names), Some("thresholds"));
        assert_eq!(nearest("zzzzzz", names), None);
        assert_eq!(nearest("d0022", ["D002", "D003", "I001"]), Some("D002"));
    }
}

//! `--threshold NAME.KEY=VALUE`: per-rule numbers, checked against the registry.

use super::{registry, Rule};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Thresholds {
    /// (rule code, key) → value.
    values: BTreeMap<(&'static str, &'static str), f64>,
}

impl Thresholds {
    pub fn parse(items: &[String]) -> Result<Thresholds> {
        let mut out = Thresholds::default();
        for item in items {
            let usage = "expected RULE.KEY=VALUE, e.g. class-imbalance.max-ratio=20";
            let Some((name, value)) = item.split_once('=') else {
                bail!("--threshold '{item}': {usage}");
            };
            let Some((rule, key)) = name.trim().rsplit_once('.') else {
                bail!("--threshold '{item}': {usage}");
            };
            let v: f64 = match value.trim().parse() {
                Ok(v) => v,
                _ => bail!("--threshold '{item}': '{value}' is not a number"),
            };
            if let Err(e) = out.set(rule, key, v) {
                bail!("--threshold '{item}': {e}");
            }
        }
        Ok(out)
    }

    /// Sets one rule's threshold (rule by name or code); the error names what exists.
    pub fn set(&mut self, rule: &str, key: &str, value: f64) -> std::result::Result<(), String> {
        let all = registry();
        let Some(r) = all.iter().find(|r| r.name() == rule || r.code() == rule) else {
            let names = all.iter().flat_map(|r| [r.code(), r.name()]);
            return Err(format!(
                "no rule named '{rule}'{} (see `dsaudit rules`)",
                crate::suggest::hint(rule, names)
            ));
        };
        let Some(t) = r.thresholds().iter().find(|t| t.key == key) else {
            let keys: Vec<&str> = r.thresholds().iter().map(|t| t.key).collect();
            if keys.is_empty() {
                return Err(format!("rule {} has no thresholds", r.name()));
            }
            return Err(format!(
                "rule {} has no threshold '{key}'{}; it has: {}",
                r.name(),
                crate::suggest::hint(key, keys.iter().copied()),
                keys.join(", ")
            ));
        };
        if !value.is_finite() {
            return Err(format!(
                "{}.{key}: {value} is not a finite number",
                r.name()
            ));
        }
        self.values.insert((r.code(), t.key), value);
        Ok(())
    }

    /// Every threshold the user set, as (rule code, key, value).
    pub fn overrides(&self) -> impl Iterator<Item = (&'static str, &'static str, f64)> + '_ {
        self.values.iter().map(|(&(c, k), &v)| (c, k, v))
    }

    pub fn get(&self, rule: &dyn Rule, key: &str) -> f64 {
        let t = rule
            .thresholds()
            .iter()
            .find(|t| t.key == key)
            .unwrap_or_else(|| panic!("rule {} reads undeclared threshold {key}", rule.name()));
        self.values
            .get(&(rule.code(), t.key))
            .copied()
            .unwrap_or(t.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::balance::class_imbalance::ClassImbalance;

    #[test]
    fn parse_and_lookup() {
        let t = Thresholds::parse(&["class-imbalance.max-ratio=20".into()]).unwrap();
        assert_eq!(t.get(&ClassImbalance, "max-ratio"), 20.0);
        assert_eq!(
            Thresholds::default().get(&ClassImbalance, "max-ratio"),
            10.0
        );
        let t = Thresholds::parse(&["B001.max-ratio=3".into()]).unwrap();
        assert_eq!(t.get(&ClassImbalance, "max-ratio"), 3.0);
        for bad in [
            "nope.x=1",
            "class-imbalance.nope=1",
            "class-imbalance.max-ratio=abc",
            "class-imbalance",
            "empty-file.x=1",
        ] {
            assert!(Thresholds::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}

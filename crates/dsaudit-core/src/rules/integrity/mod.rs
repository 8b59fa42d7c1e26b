//! Integrity: can every sample be read, is it labelled, are its values finite.

pub mod empty_class;
pub mod empty_file;
pub mod empty_split;
pub mod extension_mismatch;
pub mod missing_file;
pub mod missing_values;
pub mod non_finite_values;
pub mod non_utf8_path;
pub mod single_class;
pub mod truncated_file;
pub mod unlabeled_sample;
pub mod unreadable_file;
pub mod unreadable_path;
pub mod unsupported_file;

use crate::finding::Finding;
use crate::rules::{samples_with_error, Context, Rule};

/// One finding listing every sample whose load failed with one of `kinds`.
pub(crate) fn error_finding(
    rule: &dyn Rule,
    ctx: &Context,
    kinds: &[&str],
    what: &str,
) -> Vec<Finding> {
    let samples = samples_with_error(ctx, kinds);
    if samples.is_empty() {
        return Vec::new();
    }
    let n = samples.len();
    let total = ctx.loaded.manifest.len();
    vec![
        Finding::new(rule.meta(), format!("{n} of {total} files {what}"))
            .evidence("count", n)
            .evidence("share", crate::util::round4(n as f64 / total.max(1) as f64))
            .with_samples(samples),
    ]
}

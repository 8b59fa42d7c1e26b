//! The rule registry. A rule is one file with a code, a kebab-case name, a default
//! severity, its documentation, and a `check` over the loaded dataset.

pub mod balance;
pub mod duplicates;
pub mod integrity;
pub mod labels;
pub mod normalization;
pub mod outliers;
pub mod select;
pub mod shift;
pub mod thresholds;

use crate::discover::DatasetSpec;
use crate::finding::{Finding, SampleRef, Severity};
use crate::load::Loaded;

pub struct Context<'a> {
    pub spec: &'a DatasetSpec,
    pub loaded: &'a Loaded,
    pub thresholds: &'a thresholds::Thresholds,
    /// Readable samples per split and label, counted once for every rule.
    pub usable: crate::scan::Tally,
    /// Duplicate clusters, found once for every rule.
    pub dups: &'a crate::duplicates::Duplicates,
    /// Distribution shift between splits, measured once for every rule.
    pub shift: &'a crate::shift::Shift,
    /// Label issues and outlier scores, found once for every rule.
    pub labels: &'a crate::labels::Labels,
}

impl Context<'_> {
    /// The user's value for a rule's threshold, else its documented default.
    pub fn threshold(&self, rule: &dyn Rule, key: &str) -> f64 {
        self.thresholds.get(rule, key)
    }
}

/// A tunable number of a rule, with its default and meaning (documented in docs/rules.md).
pub struct Threshold {
    pub key: &'static str,
    pub default: f64,
    pub doc: &'static str,
}

pub trait Rule: Sync {
    fn code(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn default_severity(&self) -> Severity;
    /// One line: what the rule finds.
    fn summary(&self) -> &'static str;
    /// Markdown in three parts: what it finds, why it matters, an example.
    fn doc(&self) -> &'static str;
    /// Tunable thresholds; set with `--threshold NAME.KEY=VALUE`.
    fn thresholds(&self) -> &'static [Threshold] {
        &[]
    }
    /// What to do about a finding.
    fn fix(&self) -> &'static str;
    fn check(&self, ctx: &Context) -> Vec<Finding>;
}

/// Every rule, in code order. A new rule is one file plus one line here.
pub fn registry() -> Vec<&'static dyn Rule> {
    use integrity::*;
    vec![
        &unreadable_file::UnreadableFile,
        &truncated_file::TruncatedFile,
        &empty_file::EmptyFile,
        &unsupported_file::UnsupportedFile,
        &extension_mismatch::ExtensionMismatch,
        &missing_file::MissingFile,
        &unlabeled_sample::UnlabeledSample,
        &missing_values::MissingValues,
        &non_finite_values::NonFiniteValues,
        &empty_class::EmptyClass,
        &empty_split::EmptySplit,
        &single_class::SingleClass,
        &unreadable_path::UnreadablePath,
        &non_utf8_path::NonUtf8Path,
        &balance::class_imbalance::ClassImbalance,
        &balance::too_few_samples::TooFewSamples,
        &balance::class_missing_from_split::ClassMissingFromSplit,
        &balance::label_shift::LabelShift,
        &normalization::scale_mismatch::ScaleMismatch,
        &normalization::not_standardized::NotStandardized,
        &normalization::heavy_skew::HeavySkew,
        &normalization::constant_column::ConstantColumn,
        &normalization::high_cardinality::HighCardinality,
        &normalization::mixed_types::MixedTypes,
        &normalization::unnormalized_array::UnnormalizedArray,
        &normalization::mixed_image_sizes::MixedImageSizes,
        &normalization::odd_aspect_ratio::OddAspectRatio,
        &normalization::mixed_modes::MixedModes,
        &normalization::mixed_bit_depths::MixedBitDepths,
        &normalization::dark_image::DarkImage,
        &normalization::overexposed_image::OverexposedImage,
        &normalization::low_contrast_image::LowContrastImage,
        &normalization::blank_image::BlankImage,
        &normalization::blurry_image::BlurryImage,
        &normalization::unused_dynamic_range::UnusedDynamicRange,
        &duplicates::exact_duplicates::ExactDuplicates,
        &duplicates::near_duplicates::NearDuplicates,
        &duplicates::leakage::Leakage,
        &labels::conflicting_labels::ConflictingLabels,
        &labels::label_issues::LabelIssues,
        &labels::overlapping_classes::OverlappingClasses,
        &outliers::outliers::Outliers,
        &shift::feature_drift::FeatureDrift,
        &shift::covariate_shift::CovariateShift,
    ]
}

pub fn run(rules: &[&'static dyn Rule], ctx: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules.iter().flat_map(|r| r.check(ctx)).collect();
    // Worst first, then by code, then by the first sample: a stable order.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then_with(|| {
                a.samples
                    .first()
                    .map(|s| s.id)
                    .cmp(&b.samples.first().map(|s| s.id))
            })
            .then_with(|| a.message.cmp(&b.message))
    });
    findings
}

/// Samples whose `error_kind` is one of `kinds`, each with its error as the note.
pub fn samples_with_error(ctx: &Context, kinds: &[&str]) -> Vec<SampleRef> {
    let m = &ctx.loaded.manifest;
    let errs = m.strs("error");
    m.strs("error_kind")
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_some_and(|k| kinds.contains(&k)))
        .map(|(i, _)| {
            let mut r = m.sample_ref(i);
            r.note = errs.get(i).map(str::to_string);
            r
        })
        .collect()
}

/// Per-split tallies of usable samples (no error), keyed by split then label.
pub fn usable_counts(loaded: &Loaded) -> crate::scan::Tally {
    let m = &loaded.manifest;
    let kinds = m.strs("error_kind");
    crate::scan::tally(
        m.strs("split")
            .iter()
            .zip(m.strs("label").iter())
            .zip(kinds.iter())
            .filter(|(_, k)| k.is_none())
            .map(|(pair, _)| pair),
    )
}

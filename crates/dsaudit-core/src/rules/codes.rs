//! The codes table: every rule with its family, in the order the registry runs them
//! and the docs list them (like ruff's `codes.rs`). The one source of truth for a
//! rule's family: `docs/rules.md`, the reports' grouping and SARIF's tags read it, and
//! a test checks the codes, the families and the folders against each other.

use super::{
    annotations, balance, duplicates, integrity, labels, normalization, outliers, shift, Rule,
};

/// The rule families, in the order reports show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Integrity,
    Balance,
    Annotations,
    Labels,
    Duplicates,
    Normalization,
    Shift,
    Outliers,
}

impl Family {
    /// In report order.
    pub const ALL: [Family; 8] = [
        Family::Integrity,
        Family::Balance,
        Family::Annotations,
        Family::Labels,
        Family::Duplicates,
        Family::Normalization,
        Family::Shift,
        Family::Outliers,
    ];

    /// The family's name: its folder under `rules/` and its heading in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Integrity => "integrity",
            Family::Balance => "balance",
            Family::Annotations => "annotations",
            Family::Labels => "labels",
            Family::Duplicates => "duplicates",
            Family::Normalization => "normalization",
            Family::Shift => "shift",
            Family::Outliers => "outliers",
        }
    }

    /// The letter its codes start with.
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Integrity => "I",
            Family::Balance => "B",
            Family::Annotations => "A",
            Family::Labels => "L",
            Family::Duplicates => "D",
            Family::Normalization => "N",
            Family::Shift => "S",
            Family::Outliers => "O",
        }
    }

    /// The family a code belongs to, by its letter.
    pub fn of(code: &str) -> Option<Family> {
        Family::ALL
            .into_iter()
            .find(|f| code.starts_with(f.prefix()))
    }
}

use integrity::file_errors;
use normalization::image_quality as quality;

/// Every rule, in code order within its family. A new rule is one file plus one line here.
pub static CODES: &[(Family, &dyn Rule)] = &[
    (Family::Integrity, &file_errors::UNREADABLE),
    (Family::Integrity, &file_errors::TRUNCATED),
    (Family::Integrity, &file_errors::EMPTY),
    (Family::Integrity, &file_errors::UNSUPPORTED),
    (
        Family::Integrity,
        &integrity::extension_mismatch::ExtensionMismatch,
    ),
    (Family::Integrity, &file_errors::MISSING),
    (
        Family::Integrity,
        &integrity::unlabeled_sample::UnlabeledSample,
    ),
    (Family::Integrity, &integrity::missing_values::MissingValues),
    (
        Family::Integrity,
        &integrity::non_finite_values::NonFiniteValues,
    ),
    (Family::Integrity, &integrity::empty_class::EmptyClass),
    (Family::Integrity, &integrity::empty_split::EmptySplit),
    (Family::Integrity, &integrity::single_class::SingleClass),
    (
        Family::Integrity,
        &integrity::unreadable_path::UnreadablePath,
    ),
    (Family::Integrity, &integrity::non_utf8_path::NonUtf8Path),
    (Family::Integrity, &file_errors::OUTSIDE),
    (
        Family::Integrity,
        &integrity::large_row_group::LargeRowGroup,
    ),
    (Family::Integrity, &integrity::repeated_key::RepeatedKey),
    (Family::Balance, &balance::class_imbalance::ClassImbalance),
    (Family::Balance, &balance::too_few_samples::TooFewSamples),
    (
        Family::Balance,
        &balance::class_missing_from_split::ClassMissingFromSplit,
    ),
    (Family::Balance, &balance::label_shift::LabelShift),
    (Family::Annotations, &annotations::box_defects::OUTSIDE),
    (Family::Annotations, &annotations::box_defects::DEGENERATE),
    (Family::Annotations, &annotations::box_defects::OUT_OF_RANGE),
    (Family::Annotations, &annotations::box_defects::UNKNOWN),
    (Family::Annotations, &annotations::file_problems::MALFORMED),
    (
        Family::Annotations,
        &annotations::images_without_boxes::ImagesWithoutBoxes,
    ),
    (
        Family::Annotations,
        &annotations::file_problems::ORPHAN_LABELS,
    ),
    (
        Family::Annotations,
        &annotations::duplicate_boxes::DuplicateBoxes,
    ),
    (Family::Annotations, &annotations::box_defects::TINY),
    (
        Family::Annotations,
        &annotations::instance_imbalance::InstanceImbalance,
    ),
    (Family::Annotations, &annotations::box_shift::BoxShift),
    (
        Family::Annotations,
        &annotations::image_in_two_splits::ImageInTwoSplits,
    ),
    (
        Family::Normalization,
        &normalization::scale_mismatch::ScaleMismatch,
    ),
    (
        Family::Normalization,
        &normalization::not_standardized::NotStandardized,
    ),
    (Family::Normalization, &normalization::heavy_skew::HeavySkew),
    (
        Family::Normalization,
        &normalization::constant_column::ConstantColumn,
    ),
    (
        Family::Normalization,
        &normalization::high_cardinality::HighCardinality,
    ),
    (
        Family::Normalization,
        &normalization::mixed_types::MixedTypes,
    ),
    (
        Family::Normalization,
        &normalization::unnormalized_array::UnnormalizedArray,
    ),
    (
        Family::Normalization,
        &normalization::mixed_image_sizes::MixedImageSizes,
    ),
    (
        Family::Normalization,
        &normalization::odd_aspect_ratio::OddAspectRatio,
    ),
    (
        Family::Normalization,
        &normalization::mixed_modes::MixedModes,
    ),
    (
        Family::Normalization,
        &normalization::mixed_bit_depths::MixedBitDepths,
    ),
    (Family::Normalization, &quality::DARK),
    (Family::Normalization, &quality::OVEREXPOSED),
    (Family::Normalization, &quality::LOW_CONTRAST),
    (Family::Normalization, &quality::BLANK),
    (Family::Normalization, &quality::BLURRY),
    (Family::Normalization, &quality::UNUSED_DYNAMIC_RANGE),
    (
        Family::Duplicates,
        &duplicates::exact_duplicates::ExactDuplicates,
    ),
    (
        Family::Duplicates,
        &duplicates::near_duplicates::NearDuplicates,
    ),
    (Family::Duplicates, &duplicates::leakage::Leakage),
    (
        Family::Labels,
        &labels::conflicting_labels::ConflictingLabels,
    ),
    (Family::Labels, &labels::label_issues::LabelIssues),
    (
        Family::Labels,
        &labels::overlapping_classes::OverlappingClasses,
    ),
    (Family::Outliers, &outliers::outliers::Outliers),
    (Family::Shift, &shift::feature_drift::FeatureDrift),
    (Family::Shift, &shift::covariate_shift::CovariateShift),
];

#[cfg(test)]
mod tests {
    use super::{Family, CODES};
    use std::collections::HashSet;

    fn kebab(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn codes_names_families_and_folders_agree() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for (family, rule) in CODES {
            let code = rule.code();
            assert!(codes.insert(code), "{code} twice");
            assert!(names.insert(rule.name()), "{} twice", rule.name());
            assert!(kebab(rule.name()), "{code}: name {:?}", rule.name());
            let digits = code.strip_prefix(family.prefix()).unwrap_or_else(|| {
                panic!(
                    "{code} is listed under {family:?}, whose codes start with {}",
                    family.prefix()
                )
            });
            assert!(
                digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()),
                "{code}: a family letter and three digits"
            );
            assert_eq!(Family::of(code), Some(*family), "{code}");
            let folder = format!("::rules::{}::", family.name());
            assert!(
                rule.type_name().contains(&folder),
                "{code} ({}) is not in the {} folder",
                rule.type_name(),
                family.name()
            );
        }
    }

    #[test]
    fn the_table_is_in_code_order_with_each_family_together() {
        let mut seen: Vec<Family> = Vec::new();
        for pair in CODES.windows(2) {
            let ((fa, a), (fb, b)) = (pair[0], pair[1]);
            if fa == fb {
                assert!(a.code() < b.code(), "{} before {}", a.code(), b.code());
            } else {
                assert!(!seen.contains(&fb), "{fb:?} appears in two places");
                seen.push(fa);
            }
        }
    }

    #[test]
    fn every_rule_is_documented_in_three_parts_with_its_thresholds() {
        for (_, rule) in CODES {
            let code = rule.code();
            for part in ["**What it finds.**", "**Why it matters.**", "**Example.**"] {
                assert!(rule.doc().contains(part), "{code}: no {part}");
            }
            assert!(
                !rule.summary().is_empty() && !rule.fix().is_empty(),
                "{code}"
            );
            let mut keys = HashSet::new();
            for t in rule.thresholds() {
                assert!(kebab(t.key), "{code}: threshold {:?}", t.key);
                assert!(keys.insert(t.key), "{code}: {} twice", t.key);
                assert!(
                    !t.doc.is_empty() && t.default.is_finite(),
                    "{code}: {}",
                    t.key
                );
            }
        }
    }

    /// Every rule file under `rules/<family>/` is in the table (a rule written and not
    /// registered never runs).
    #[test]
    fn every_rule_file_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        for family in Family::ALL {
            for entry in std::fs::read_dir(root.join(family.name())).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().to_string();
                let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "mod") else {
                    continue;
                };
                let path = format!("::rules::{}::{module}::", family.name());
                assert!(
                    CODES.iter().any(|(_, r)| r.type_name().contains(&path)),
                    "rules/{}/{name} holds no registered rule",
                    family.name()
                );
            }
        }
    }
}

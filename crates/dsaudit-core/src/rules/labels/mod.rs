//! Labels: samples whose label is likely wrong.

pub mod conflicting_labels;
pub mod label_issues;
pub mod overlapping_classes;

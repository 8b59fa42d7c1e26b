//! Labels: samples whose label is likely wrong.

pub mod conflicting_labels;

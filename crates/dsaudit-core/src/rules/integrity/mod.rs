//! Integrity: can every sample be read, is it labelled, are its values finite.

pub mod empty_class;
pub mod empty_split;
pub mod extension_mismatch;
pub mod file_errors;
pub mod large_row_group;
pub mod missing_values;
pub mod non_finite_values;
pub mod non_utf8_path;
pub mod repeated_key;
pub mod single_class;
pub mod unlabeled_sample;
pub mod unreadable_path;

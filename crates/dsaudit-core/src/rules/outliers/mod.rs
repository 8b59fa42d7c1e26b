//! Outliers: samples far from every other in feature space.

// The family and its one rule share a name, as every family's rules sit in their files.
#[allow(clippy::module_inception)]
pub mod outliers;

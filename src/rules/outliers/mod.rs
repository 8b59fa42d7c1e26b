//! Outliers: samples far from every other in feature space.

pub mod outliers;

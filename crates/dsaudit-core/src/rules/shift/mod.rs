//! Train/test distribution shift: what the `shift` module measured, as findings.

pub mod covariate_shift;
pub mod feature_drift;

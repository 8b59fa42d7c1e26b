//! dsaudit: audit machine-learning datasets. The pipeline runs one way:
//! discover (layout) → load (samples, in parallel) → describe (the manifest) →
//! check (rules → findings) → report. See docs/architecture.md.

pub mod alloc_guard;
pub mod cache;
pub mod choice;
pub mod config;
pub mod csv_dialect;
pub mod discover;
pub mod docs;
pub mod duplicates;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod incremental;
pub mod knn;
pub mod labels;
pub mod load;
pub mod manifest;
pub mod output;
pub mod packed;
pub mod partial;
pub mod progress;
pub mod report;
pub mod request;
pub mod rules;
pub mod safe_read;
pub mod scan;
pub mod scanned;
pub mod shift;
pub mod stats;
pub mod suggest;
pub mod table_io;
pub mod tally;
pub mod util;
pub mod walk;

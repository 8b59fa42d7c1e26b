//! Integration tests: drive the real binary on real files in temporary directories.

mod against;
mod bad_input;
mod balance_norm;
// The baseline trains networks: only in a build that has them.
#[cfg(feature = "baseline")]
mod baseline;
mod build;
mod check;
mod detection;
mod duplicates;
mod faults;
mod formats;
mod golden;
mod html;
mod images;
mod labels;
mod options;
mod partial;
mod plan;
mod scan_only;
mod shift;
mod streamed;
mod tables;
mod util;

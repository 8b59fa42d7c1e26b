//! Renders scans for people (text) and machines (json).

pub mod json;
pub mod stats;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

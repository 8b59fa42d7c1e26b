//! Renders scans for people (text, markdown, html) and machines (json, github, sarif).

pub mod family;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod stats;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For the terminal.
    Text,
    /// The stable schema of docs/json-schema.md.
    Json,
    /// For a pull-request comment.
    Markdown,
    /// GitHub Actions annotations (`::error file=…::…`).
    Github,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

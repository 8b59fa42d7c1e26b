//! Renders scans for people (text, markdown, html) and machines (json, github, sarif).

pub mod family;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod stats;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl crate::choice::Choice for Format {
    const ALL: &'static [(Format, &'static str, &'static str)] = &[
        (Format::Text, "text", "For the terminal"),
        (
            Format::Json,
            "json",
            "The stable schema of docs/json-schema.md",
        ),
        (Format::Markdown, "markdown", "For a pull-request comment"),
        (
            Format::Github,
            "github",
            "GitHub Actions annotations (`::error file=…::…`)",
        ),
        (
            Format::Sarif,
            "sarif",
            "SARIF 2.1.0, for code-scanning tools",
        ),
    ];
}

//! Renders scans for people (text, markdown, html) and machines (json, github, sarif).

pub mod family;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod stats;
pub mod text;

use crate::choice::Choice;

use crate::scanned::Scan;

/// What every report reads.
pub struct Reports<'a> {
    pub scans: &'a [Scan],
    /// Samples listed per finding by the formats that list them (text, markdown).
    pub max_samples: usize,
    /// The rules that ran, in code order (SARIF describes them).
    pub rules: &'a [&'static dyn crate::rules::Rule],
}

/// A report format: one file under `report/` and one row of `Format::ALL`.
pub trait Render: Sync {
    fn render(&self, reports: &Reports) -> String;
}

/// An output format, by name (`--format NAME`; `--html FILE` writes the HTML one).
#[derive(Clone, Copy)]
pub struct Format {
    name: &'static str,
    renderer: &'static dyn Render,
}

impl Format {
    pub const TEXT: Format = Format::ALL[0].0;
    pub const JSON: Format = Format::ALL[1].0;
    pub const HTML: Format = Format::ALL[5].0;

    pub fn render(self, reports: &Reports) -> String {
        self.renderer.render(reports)
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const fn row(
    name: &'static str,
    help: &'static str,
    renderer: &'static dyn Render,
) -> (Format, &'static str, &'static str) {
    (Format { name, renderer }, name, help)
}

impl crate::choice::Choice for Format {
    const ALL: &'static [(Format, &'static str, &'static str)] = &[
        row("text", "For the terminal", &text::Text),
        row(
            "json",
            "The stable schema of docs/json-schema.md",
            &json::Json,
        ),
        row(
            "markdown",
            "For a pull-request comment",
            &markdown::Markdown,
        ),
        row(
            "github",
            "GitHub Actions annotations (`::error file=…::…`)",
            &github::Github,
        ),
        row(
            "sarif",
            "SARIF 2.1.0, for code-scanning tools",
            &sarif::Sarif,
        ),
        row(
            "html",
            "One self-contained page: charts, findings, thumbnails",
            &html::Html,
        ),
    ];
}

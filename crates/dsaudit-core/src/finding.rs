//! What a rule reports: a finding with its severity, the samples involved and the evidence.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// One sample named in a finding: its manifest id and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SampleRef {
    pub id: u64,
    /// Path relative to the dataset root (images, tables, arrays).
    pub source: String,
    /// Row number inside `source` for tables and arrays (0-based, header excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// What is wrong with this sample in particular (e.g. the decoder's error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SampleRef {
    /// The sample as reports print it, control characters escaped (`util::printable`).
    pub fn display(&self) -> String {
        let source = crate::util::printable(&self.source);
        match self.row {
            Some(r) => format!("{source}:row {r}"),
            None => source.into_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// What the user should do about it.
    pub fix: String,
    /// Total number of samples involved; `samples` may hold fewer when the rule
    /// only keeps examples (e.g. one column with a million missing values).
    pub sample_count: u64,
    pub samples: Vec<SampleRef>,
    /// Numbers behind the finding, keyed by name; BTreeMap keeps JSON output stable.
    pub evidence: BTreeMap<String, serde_json::Value>,
}

/// What describes a rule: one constant per rule (`META`), from which the reports,
/// the configuration checks and `docs/rules.md` read everything but the check itself.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    /// Kebab-case, unique.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown in three parts: what it finds, why it matters, an example.
    pub doc: &'static str,
    /// Tunable thresholds; set with `--threshold NAME.KEY=VALUE`.
    pub thresholds: &'static [Threshold],
    /// What to do about a finding.
    pub fix: &'static str,
}

/// A tunable number of a rule, with its default and meaning (documented in docs/rules.md).
#[derive(Debug)]
pub struct Threshold {
    pub key: &'static str,
    pub default: f64,
    pub doc: &'static str,
}

impl Finding {
    /// A finding of the rule `meta` describes, at its default severity.
    pub fn new(meta: &RuleMeta, message: impl Into<String>) -> Finding {
        Finding {
            code: meta.code,
            rule: meta.name,
            severity: meta.severity,
            // Messages quote file names and labels; they print on one line.
            message: crate::util::printable(&message.into()).into_owned(),
            fix: meta.fix.to_string(),
            sample_count: 0,
            samples: Vec::new(),
            evidence: BTreeMap::new(),
        }
    }

    pub fn with_samples(mut self, samples: Vec<SampleRef>) -> Finding {
        self.sample_count = samples.len() as u64;
        self.samples = samples;
        self
    }

    /// Example samples out of a larger total.
    pub fn with_examples(mut self, examples: Vec<SampleRef>, total: u64) -> Finding {
        self.samples = examples;
        self.sample_count = total;
        self
    }

    pub fn evidence(mut self, key: &str, value: impl Into<serde_json::Value>) -> Finding {
        self.evidence.insert(key.to_string(), value.into());
        self
    }
}

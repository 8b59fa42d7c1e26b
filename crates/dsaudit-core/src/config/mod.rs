//! `dsaudit.toml` (or `[tool.dsaudit]` in `pyproject.toml`): found by walking up from
//! the dataset as ruff finds its configuration, checked key by key, and merged under
//! the command line (a flag always wins over the file).

use crate::finding::{Finding, Severity};
use crate::load::LayoutKind;
use crate::rules::thresholds::Thresholds;
use anyhow::{bail, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// File names tried in each directory, in this order.
pub const FILE_NAMES: &[&str] = &["dsaudit.toml", ".dsaudit.toml", "pyproject.toml"];

/// One rule's `key = value` thresholds, with their places in the file.
type RuleThresholds = BTreeMap<String, Spanned<toml::Value>>;

/// The keys of the file, as written in it (kebab-case).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    fail_on: Option<Spanned<String>>,
    layout: Option<LayoutFile>,
    thresholds: Option<BTreeMap<String, Spanned<RuleThresholds>>>,
    per_path_ignores: Option<BTreeMap<String, Spanned<Vec<Spanned<String>>>>>,
    cache: Option<CacheFile>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LayoutFile {
    kind: Option<Spanned<String>>,
    label: Option<String>,
    split: Option<String>,
    reference: Option<String>,
    current: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CacheFile {
    enabled: Option<bool>,
    dir: Option<String>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyTool>,
}

#[derive(Deserialize)]
struct PyTool {
    dsaudit: Option<File>,
}

/// Layout hints from the file; each one is overridden by its flag.
#[derive(Debug, Default, Clone)]
pub struct Layout {
    pub kind: Option<LayoutKind>,
    pub label: Option<String>,
    pub split: Option<String>,
    pub reference: Option<String>,
    pub current: Option<String>,
}

/// One `[per-path-ignores]` entry: samples whose path matches the glob are not
/// reported by these rules.
#[derive(Debug, Clone)]
pub struct PathIgnore {
    pub glob: String,
    pub codes: Vec<String>,
    matcher: globset::GlobMatcher,
}

/// The configuration read from one file (or none), checked against the rule registry.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file it came from.
    pub file: Option<PathBuf>,
    /// The project root: the file's directory (per-path globs and the cache are
    /// relative to it).
    pub root: Option<PathBuf>,
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    pub thresholds: Thresholds,
    pub layout: Layout,
    pub per_path_ignores: Vec<PathIgnore>,
    pub cache_enabled: Option<bool>,
    pub cache_dir: Option<PathBuf>,
}

/// `fail-on`: a severity, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn(pub Option<Severity>);

impl FailOn {
    pub fn parse(s: &str) -> Option<FailOn> {
        if s.eq_ignore_ascii_case("never") {
            return Some(FailOn(None));
        }
        Severity::parse(s).map(|s| FailOn(Some(s)))
    }

    pub fn as_str(self) -> &'static str {
        self.0.map(Severity::as_str).unwrap_or("never")
    }
}

/// The nearest configuration file at or above `dataset` (a file's own directory first).
pub fn find(dataset: &Path) -> Result<Option<PathBuf>> {
    let abs = crate::output::absolute(dataset);
    let start = if abs.is_file() {
        abs.parent().map(Path::to_path_buf)
    } else {
        Some(abs)
    };
    for dir in start.iter().flat_map(|d| d.ancestors()) {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if !candidate.is_file() {
                continue;
            }
            // As ruff does: a pyproject.toml counts only when it has our table.
            if *name == "pyproject.toml" && !has_tool_table(&candidate)? {
                continue;
            }
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

fn has_tool_table(path: &Path) -> Result<bool> {
    let text = read(path)?;
    let parsed: Pyproject = toml::from_str(&text).map_err(|e| located(path, &text, &e))?;
    Ok(parsed.tool.is_some_and(|t| t.dsaudit.is_some()))
}

/// A configuration file is a few hundred bytes; a megabyte is plenty.
const MAX_CONFIG: u64 = 1 << 20;

pub fn read(path: &Path) -> Result<String> {
    match crate::safe_read::read_limited(path, MAX_CONFIG) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Ok(s),
            Err(_) => bail!("{}: not UTF-8 text", path.display()),
        },
        Err(e) => bail!("{}: {e}", path.display()),
    }
}

/// Loads the configuration for a dataset: `explicit` when given, else the nearest file.
pub fn load(dataset: &Path, explicit: Option<&Path>, isolated: bool) -> Result<Config> {
    if isolated {
        return Ok(Config::default());
    }
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match find(dataset)? {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    let text = read(&path)?;
    parse(&path, &text)
}

/// Parses and checks one file's text; `path` names it in errors and roots its globs.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let file = if is_pyproject {
        let py: Pyproject = toml::from_str(text).map_err(|e| located(path, text, &e))?;
        py.tool.and_then(|t| t.dsaudit).unwrap_or_default()
    } else {
        toml::from_str::<File>(text).map_err(|e| located(path, text, &e))?
    };
    let root = crate::output::absolute(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let at = |span: std::ops::Range<usize>, msg: String| -> anyhow::Error {
        let (line, col) = line_col(text, span.start);
        anyhow::anyhow!("{}:{line}:{col}: {msg}", path.display())
    };
    let codes = |list: Option<Vec<Spanned<String>>>| -> Result<Option<Vec<String>>> {
        let Some(list) = list else { return Ok(None) };
        let mut out = Vec::new();
        for item in list {
            crate::rules::select::check_pattern(item.get_ref()).map_err(|e| at(item.span(), e))?;
            out.push(item.into_inner());
        }
        Ok(Some(out))
    };
    let mut config = Config {
        file: Some(path.to_path_buf()),
        root: Some(root.clone()),
        select: codes(file.select)?,
        ignore: codes(file.ignore)?.unwrap_or_default(),
        ..Default::default()
    };
    if let Some(f) = file.fail_on {
        config.fail_on = Some(FailOn::parse(f.get_ref()).ok_or_else(|| {
            at(
                f.span(),
                format!(
                    "fail-on '{}': expected error, warning, info or never",
                    f.get_ref()
                ),
            )
        })?);
    }
    if let Some(l) = file.layout {
        config.layout = layout(l, &at)?;
    }
    for (rule, keys) in file.thresholds.unwrap_or_default() {
        rule_thresholds(&mut config.thresholds, &rule, keys, &at)?;
    }
    for (glob, codes) in file.per_path_ignores.unwrap_or_default() {
        config.per_path_ignores.push(path_ignore(glob, codes, &at)?);
    }
    if let Some(c) = file.cache {
        config.cache_enabled = c.enabled;
        config.cache_dir = c.dir.map(|d| root.join(d));
    }
    Ok(config)
}

/// Where a value is in the file, with what is wrong with it.
type At<'a> = &'a dyn Fn(std::ops::Range<usize>, String) -> anyhow::Error;

/// The `[layout]` section.
fn layout(l: LayoutFile, at: At) -> Result<Layout> {
    let mut out = Layout::default();
    if let Some(kind) = l.kind {
        let parsed = <LayoutKind as crate::choice::Choice>::parse(kind.get_ref());
        out.kind = Some(parsed.ok_or_else(|| {
            let names = <LayoutKind as crate::choice::Choice>::names();
            at(
                kind.span(),
                format!(
                    "layout kind '{}': expected one of {}{}",
                    kind.get_ref(),
                    names.join(", "),
                    crate::suggest::hint(kind.get_ref(), names)
                ),
            )
        })?);
    }
    out.label = l.label;
    out.split = l.split;
    out.reference = l.reference;
    out.current = l.current;
    Ok(out)
}

/// One rule's `[thresholds.RULE]` keys, checked against the rule's declared ones.
fn rule_thresholds(
    thresholds: &mut Thresholds,
    rule: &str,
    keys: Spanned<RuleThresholds>,
    at: At,
) -> Result<()> {
    let span = keys.span();
    for (key, value) in keys.into_inner() {
        let v = match value.get_ref() {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            other => {
                return Err(at(
                    value.span(),
                    format!("thresholds.{rule}.{key}: expected a number, got {other}"),
                ))
            }
        };
        thresholds
            .set(rule, &key, v)
            .map_err(|e| at(span.clone(), format!("thresholds.{rule}: {e}")))?;
    }
    Ok(())
}

/// One `[per-path-ignores]` entry: a glob and the codes it silences.
fn path_ignore(glob: String, codes: Spanned<Vec<Spanned<String>>>, at: At) -> Result<PathIgnore> {
    let span = codes.span();
    let matcher = globset::GlobBuilder::new(&glob)
        .literal_separator(true)
        .build()
        .map_err(|e| at(span.clone(), format!("per-path-ignores '{glob}': {e}")))?
        .compile_matcher();
    let mut list = Vec::new();
    for c in codes.into_inner() {
        crate::rules::select::check_pattern(c.get_ref()).map_err(|e| at(c.span(), e))?;
        list.push(c.into_inner());
    }
    Ok(PathIgnore {
        glob,
        codes: list,
        matcher,
    })
}

/// "FILE:LINE:COL: message" for a TOML syntax or schema error, with a suggestion for
/// a mistyped key.
fn located(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    let msg = e.message().trim().replace('\n', " ");
    let suggestion = unknown_field_hint(&msg);
    anyhow::anyhow!("{}:{line}:{col}: {msg}{suggestion}", path.display())
}

/// serde says "unknown field `x`, expected one of `a`, `b`": name the nearest.
fn unknown_field_hint(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return String::new();
    };
    let Some((typed, expected)) = rest.split_once('`') else {
        return String::new();
    };
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    crate::suggest::hint(typed, names)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Config {
    /// Whether `[per-path-ignores]` silences `code` for the file at `path`.
    pub fn ignores_path(&self, code: &str, path: &Path) -> bool {
        if self.per_path_ignores.is_empty() {
            return false;
        }
        let Some(root) = &self.root else { return false };
        let abs = crate::output::absolute(path);
        let rel = abs.strip_prefix(root).unwrap_or(&abs);
        self.per_path_ignores.iter().any(|p| {
            p.codes
                .iter()
                .any(|c| c == "ALL" || code.starts_with(c.as_str()) || rule_name(code) == Some(c))
                && p.matcher.is_match(rel)
        })
    }

    /// Drops the samples `[per-path-ignores]` silences from each finding, and a finding
    /// left with none of the samples it listed.
    pub fn apply_path_ignores(&self, findings: &mut Vec<Finding>, dataset_root: &Path) {
        if self.per_path_ignores.is_empty() {
            return;
        }
        findings.retain_mut(|f| {
            if f.samples.is_empty() {
                return true;
            }
            let before = f.samples.len();
            f.samples
                .retain(|s| !self.ignores_path(f.code, &dataset_root.join(&s.source)));
            let dropped = (before - f.samples.len()) as u64;
            f.sample_count = f.sample_count.saturating_sub(dropped);
            !f.samples.is_empty()
        });
    }

    /// The effective settings as TOML, for `dsaudit config`: every rule that runs and
    /// every threshold with the value in force.
    pub fn render(&self, rules: &[&'static dyn crate::rules::Rule], fail_on: FailOn) -> String {
        use toml::{Table, Value};
        let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let mut t = Table::new();
        let codes: Vec<String> = rules.iter().map(|r| r.code().to_string()).collect();
        t.insert("select".into(), strings(&codes));
        t.insert("ignore".into(), strings(&self.ignore));
        t.insert("fail-on".into(), Value::String(fail_on.as_str().into()));
        let mut layout = Table::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                layout.insert(k.into(), Value::String(v.clone()));
            }
        };
        put(
            "kind",
            &self
                .layout
                .kind
                .map(|k| crate::choice::Choice::name(k).to_string()),
        );
        put("label", &self.layout.label);
        put("split", &self.layout.split);
        put("reference", &self.layout.reference);
        put("current", &self.layout.current);
        t.insert("layout".into(), Value::Table(layout));
        let mut thresholds = Table::new();
        for r in rules {
            if r.thresholds().is_empty() {
                continue;
            }
            let mut keys = Table::new();
            for th in r.thresholds() {
                keys.insert(th.key.into(), Value::Float(self.thresholds.get(*r, th.key)));
            }
            thresholds.insert(r.name().into(), Value::Table(keys));
        }
        t.insert("thresholds".into(), Value::Table(thresholds));
        let mut ppi = Table::new();
        for p in &self.per_path_ignores {
            ppi.insert(p.glob.clone(), strings(&p.codes));
        }
        t.insert("per-path-ignores".into(), Value::Table(ppi));
        let mut cache = Table::new();
        cache.insert(
            "enabled".into(),
            Value::Boolean(self.cache_enabled.unwrap_or(true)),
        );
        if let Some(d) = &self.cache_dir {
            cache.insert("dir".into(), Value::String(d.display().to_string()));
        }
        t.insert("cache".into(), Value::Table(cache));
        let source = match &self.file {
            Some(f) => format!("# from {}\n", f.display()),
            None => "# no dsaudit.toml or [tool.dsaudit] found: defaults\n".to_string(),
        };
        source + &toml::to_string(&t).unwrap_or_default()
    }
}

fn rule_name(code: &str) -> Option<&'static str> {
    crate::rules::registry()
        .into_iter()
        .find(|r| r.code() == code)
        .map(|r| r.name())
}

#[cfg(test)]
mod tests;

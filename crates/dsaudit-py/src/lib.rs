//! `dsaudit._native`: the engine behind the `dsaudit` Python package. The typed API
//! users call is Python (`python/dsaudit/__init__.py`); this module runs the scans and
//! builds with the interpreter detached, and turns errors into `DatasetError` with the
//! CLI's one line.

use dsaudit_core::choice::Choice;
use dsaudit_core::config::FailOn;
use dsaudit_core::labels::confident;
use dsaudit_core::report::{Format, Reports};
use dsaudit_core::request::{self, Audit, Request};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule};
use std::collections::BTreeMap;
use std::path::PathBuf;

create_exception!(
    _native,
    DatasetError,
    PyException,
    "A dataset dsaudit cannot read, or a request it cannot honour (the CLI's one-line error)."
);

fn dataset_error(e: anyhow::Error) -> PyErr {
    DatasetError::new_err(dsaudit_core::util::error_line(&e))
}

/// Runs `work` on its own thread with the interpreter detached, checking for Ctrl-C
/// every 50 ms; an interrupt returns at once (the thread finishes on its own, and
/// what it writes is staged, so nothing half-written is left).
fn detached<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("dsaudit".into())
        .spawn(move || {
            let out = dsaudit_core::util::guarded(work);
            let _ = tx.send(out);
        })
        .map_err(|e| DatasetError::new_err(format!("cannot start the scan: {e}")))?;
    // Waited on with the interpreter detached, which asks for a shareable handle.
    let rx = std::sync::Mutex::new(rx);
    loop {
        let got = py.detach(|| {
            rx.lock()
                .expect("only this thread waits")
                .recv_timeout(std::time::Duration::from_millis(50))
        });
        match got {
            Ok(Ok(Ok(v))) => return Ok(v),
            Ok(Ok(Err(e))) => return Err(dataset_error(e)),
            Ok(Err(panic)) => {
                return Err(DatasetError::new_err(format!(
                    "internal error, a bug in dsaudit (please report it): {panic}"
                )))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(DatasetError::new_err("the scan ended without a result"))
            }
        }
    }
}

/// A scan's result, rendered on demand in any report format.
#[pyclass(frozen, module = "dsaudit._native")]
struct Scanned {
    audit: Audit,
}

impl Scanned {
    fn render(&self, format: Format, max_samples: usize) -> String {
        let scans = std::slice::from_ref(&self.audit.scan);
        format.render(&Reports {
            scans,
            max_samples,
            rules: &self.audit.rules,
        })
    }
}

#[pymethods]
impl Scanned {
    /// The report in `format` (text, json, markdown, github, sarif, html).
    #[pyo3(signature = (format, max_samples=10))]
    fn report(&self, format: &str, max_samples: usize) -> PyResult<String> {
        let f = Format::parse(format).ok_or_else(|| {
            PyValueError::new_err(format!(
                "format '{format}': expected one of {}",
                Format::names().join(", ")
            ))
        })?;
        Ok(self.render(f, max_samples))
    }

    /// Writes the HTML report to `path` atomically; a path inside the dataset read is
    /// refused, as `dsaudit scan --html` refuses it.
    fn write_html(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let page = self.render(Format::HTML, 10);
        let dataset = self.audit.scan.spec.input.clone();
        py.detach(|| {
            dsaudit_core::output::ensure_outside(&path, &dataset)?;
            dsaudit_core::output::write_bytes_atomic(&path, page.as_bytes())
        })
        .map_err(dataset_error)
    }

    /// 1 when a finding is at or above `fail_on`, else 0: `dsaudit scan`'s exit code.
    fn exit_code(&self) -> i32 {
        self.audit.exit_code()
    }

    /// The manifest (one row per sample) as an Arrow C stream in a PyCapsule named
    /// `arrow_array_stream`, which pyarrow (and any Arrow consumer) imports without a
    /// copy of the buffers.
    fn manifest_stream<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let stream = arrow_stream(&self.audit.scan.loaded.manifest.df);
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// `df` as an Arrow C stream of record batches (struct arrays, as the C stream
/// interface exports a table), in the types every Arrow reader knows (large strings,
/// not polars' string views).
fn arrow_stream(df: &polars::prelude::DataFrame) -> polars_arrow::ffi::ArrowArrayStream {
    use polars::prelude::CompatLevel;
    use polars_arrow::array::{Array, StructArray};
    use polars_arrow::datatypes::{ArrowDataType, Field};
    let mut df = df.clone();
    df.align_chunks_par();
    let compat = CompatLevel::oldest();
    let fields: Vec<Field> = df
        .columns()
        .iter()
        .map(|c| c.field().to_arrow(compat))
        .collect();
    let dtype = ArrowDataType::Struct(fields);
    let batches: Vec<polars::prelude::PolarsResult<Box<dyn Array>>> = df
        .iter_chunks(compat, true)
        .map(|batch| {
            let len = batch.height();
            let array = StructArray::new(dtype.clone(), len, batch.into_arrays(), None);
            Ok(Box::new(array) as Box<dyn Array>)
        })
        .collect();
    polars_arrow::ffi::export_iterator(
        Box::new(batches.into_iter()),
        Field::new("".into(), dtype, false),
    )
}

/// Scans `path` as `dsaudit scan` does (see `dsaudit.scan`).
#[pyfunction]
#[pyo3(signature = (path, select, ignore, thresholds, fail_on, label, split, layout, seed, label_model, isolated, memory_limit, against))]
#[allow(clippy::too_many_arguments)]
fn scan(
    py: Python<'_>,
    path: PathBuf,
    select: Vec<String>,
    ignore: Vec<String>,
    thresholds: BTreeMap<String, f64>,
    fail_on: Option<String>,
    label: Option<String>,
    split: Option<String>,
    layout: Option<String>,
    seed: u64,
    label_model: String,
    isolated: bool,
    memory_limit: Option<String>,
    against: Vec<PathBuf>,
) -> PyResult<Scanned> {
    let mut req = request_of(select, ignore, thresholds, fail_on, seed, &label_model)?;
    let memory_limit = memory_limit
        .map(|m| dsaudit_core::safe_read::parse_size(&m))
        .transpose()
        .map_err(|e| PyValueError::new_err(format!("memory_limit: {e}")))?;
    req.hints = dsaudit_core::load::Hints {
        layout: layout
            .map(|l| choice::<dsaudit_core::load::LayoutKind>("layout", &l))
            .transpose()?,
        label,
        split,
        memory_limit,
        ..Default::default()
    };
    let audit = detached(py, move || {
        req.against = profile(&against)?;
        request::audit(&path, req, isolated)
    })?;
    Ok(Scanned { audit })
}

/// Describes one Spark partition's images (the rows' paths, contents, labels and
/// splits) into a partial scan: the bytes of a `.dsp` (`docs/partial.md`).
#[pyfunction]
#[pyo3(signature = (name, shard, sources, contents, labels, splits))]
fn describe_rows<'py>(
    py: Python<'py>,
    name: String,
    shard: String,
    sources: Vec<String>,
    contents: Vec<Option<Bound<'py, PyBytes>>>,
    labels: Vec<Option<String>>,
    splits: Vec<Option<String>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let n = sources.len();
    if contents.len() != n || labels.len() != n || splits.len() != n {
        return Err(PyValueError::new_err(format!(
            "describe_rows: {n} paths, {} contents, {} labels, {} splits: one of each per row",
            contents.len(),
            labels.len(),
            splits.len()
        )));
    }
    // The contents are read in place, the interpreter detached while they decode.
    let bytes: Vec<Option<&[u8]>> = contents
        .iter()
        .map(|c| c.as_ref().map(|b| b.as_bytes()))
        .collect();
    let part = py
        .detach(|| {
            let given: Vec<dsaudit_core::partial::rows::Given<'_>> = (0..n)
                .map(|i| dsaudit_core::partial::rows::Given {
                    source: &sources[i],
                    bytes: bytes[i],
                    label: labels[i].as_deref(),
                    split: splits[i].as_deref(),
                })
                .collect();
            dsaudit_core::partial::rows::describe(&name, &shard, &given).to_bytes()
        })
        .map_err(dataset_error)?;
    Ok(PyBytes::new(py, &part))
}

/// Merges partial scans (the bytes of `.dsp` files, in any order) into one scan of
/// the whole, as `dsaudit merge` does.
#[pyfunction]
#[pyo3(signature = (parts, select, ignore, thresholds, fail_on, seed, label_model, against))]
#[allow(clippy::too_many_arguments)]
fn merge_parts(
    py: Python<'_>,
    parts: Vec<Bound<'_, PyBytes>>,
    select: Vec<String>,
    ignore: Vec<String>,
    thresholds: BTreeMap<String, f64>,
    fail_on: Option<String>,
    seed: u64,
    label_model: String,
    against: Vec<PathBuf>,
) -> PyResult<Scanned> {
    let mut req = request_of(select, ignore, thresholds, fail_on, seed, &label_model)?;
    if parts
        .first()
        .is_some_and(|b| dsaudit_core::partial::table::is_table(b.as_bytes()))
    {
        let owned = named(parts);
        let audit = detached(py, move || {
            req.against = profile(&against)?;
            request::audit_table_parts(owned, req)
        })?;
        return Ok(Scanned { audit });
    }
    let decoded = parts
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let dsp =
                dsaudit_core::partial::Dsp::from_bytes(&format!("part {}", i + 1), b.as_bytes())?;
            Ok((PathBuf::from(&dsp.shard), dsp))
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(dataset_error)?;
    let audit = detached(py, move || {
        req.against = profile(&against)?;
        request::audit_parts(decoded, req)
    })?;
    Ok(Scanned { audit })
}

/// Parts' bytes, copied out of Python, each named for errors by its place ("part 2").
fn named(parts: Vec<Bound<'_, PyBytes>>) -> Vec<(String, Vec<u8>)> {
    parts
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("part {}", i + 1), b.as_bytes().to_vec()))
        .collect()
}

/// Parts (the bytes `describe_rows` or `describe_table` gave, in any order) joined
/// into one `.dsp` written atomically at `path`, never inside `root` (the local folder
/// the images were read from): a saved profile (`dsaudit.spark.save_profile`).
#[pyfunction]
#[pyo3(signature = (parts, path, root))]
fn save_parts(
    py: Python<'_>,
    parts: Vec<Bound<'_, PyBytes>>,
    path: PathBuf,
    root: Option<PathBuf>,
) -> PyResult<()> {
    let owned = named(parts);
    detached(py, move || {
        if let Some(root) = &root {
            dsaudit_core::output::ensure_outside(&path, root)?;
        }
        let joined = dsaudit_core::partial::join::joined(owned)?;
        dsaudit_core::output::write_bytes_atomic(&path, &joined)
    })
}

/// Describes one block of a table (a Spark partition's rows, handed over as an Arrow
/// C stream; `order`: the partition's index) into a table's partial scan: the bytes
/// `merge_parts` reads (`docs/partial.md`).
#[pyfunction]
#[pyo3(signature = (stream, name, order, label, split, memory_limit, table_rows))]
#[allow(clippy::too_many_arguments)]
fn describe_table<'py>(
    py: Python<'py>,
    stream: &Bound<'py, PyCapsule>,
    name: String,
    order: u64,
    label: Option<String>,
    split: Option<String>,
    memory_limit: Option<String>,
    table_rows: Option<u64>,
) -> PyResult<Bound<'py, PyBytes>> {
    let df = frame_of(stream)?;
    let memory_limit = memory_limit
        .map(|m| dsaudit_core::safe_read::parse_size(&m))
        .transpose()
        .map_err(|e| PyValueError::new_err(format!("memory_limit: {e}")))?;
    let hints = dsaudit_core::load::Hints {
        label,
        split,
        memory_limit,
        ..Default::default()
    };
    let bytes = py
        .detach(|| {
            let part =
                dsaudit_core::load::table_parts::describe(&name, &hints, order, df, table_rows)?;
            dsaudit_core::partial::table::to_bytes(&name, part)
        })
        .map_err(dataset_error)?;
    Ok(PyBytes::new(py, &bytes))
}

/// A size (`"2GiB"`, `"700KB"`, bytes as digits) in bytes; None: the default budget.
#[pyfunction]
fn size_bytes(text: Option<String>) -> PyResult<u64> {
    match text {
        None => Ok(dsaudit_core::load::table_stream::DEFAULT_MEMORY_LIMIT),
        Some(t) => dsaudit_core::safe_read::parse_size(&t)
            .map_err(|e| PyValueError::new_err(format!("memory_limit: {e}"))),
    }
}

/// Scans a table handed over as an Arrow C stream (a PyCapsule named
/// `arrow_array_stream`, from `__arrow_c_stream__`), named `name` in the report.
#[pyfunction]
#[pyo3(signature = (stream, name, select, ignore, thresholds, fail_on, label, split, seed, label_model, against))]
#[allow(clippy::too_many_arguments)]
fn scan_frame(
    py: Python<'_>,
    stream: &Bound<'_, PyCapsule>,
    name: String,
    select: Vec<String>,
    ignore: Vec<String>,
    thresholds: BTreeMap<String, f64>,
    fail_on: Option<String>,
    label: String,
    split: Option<String>,
    seed: u64,
    label_model: String,
    against: Vec<PathBuf>,
) -> PyResult<Scanned> {
    let df = frame_of(stream)?;
    let mut req = request_of(select, ignore, thresholds, fail_on, seed, &label_model)?;
    req.hints = dsaudit_core::load::Hints {
        label: Some(label),
        split,
        ..Default::default()
    };
    let audit = detached(py, move || {
        req.against = profile(&against)?;
        request::audit_frame(&name, df, req)
    })?;
    Ok(Scanned { audit })
}

/// The saved profile `against` names (its parts), merged; None when it names none.
fn profile(
    parts: &[PathBuf],
) -> anyhow::Result<Option<std::sync::Arc<dsaudit_core::partial::reference::Reference>>> {
    if parts.is_empty() {
        return Ok(None);
    }
    let r = dsaudit_core::partial::reference::Reference::read(parts)?;
    Ok(Some(std::sync::Arc::new(r)))
}

/// The table a C stream capsule holds: the stream is moved out of the capsule (its
/// producer's release left to us, as the PyCapsule interface says), each batch a
/// struct array whose columns polars takes over without a copy where it can.
fn frame_of(capsule: &Bound<'_, PyCapsule>) -> PyResult<polars::prelude::DataFrame> {
    use polars_arrow::ffi::{ArrowArrayStream, ArrowArrayStreamReader};
    let ptr = capsule
        .pointer_checked(Some(c"arrow_array_stream"))
        .map_err(|_| {
            PyValueError::new_err(
                "df: its __arrow_c_stream__ gave no capsule named arrow_array_stream",
            )
        })?
        .as_ptr() as *mut ArrowArrayStream;
    // SAFETY: the capsule holds an ArrowArrayStream (checked by name); taking it
    // leaves an empty one, whose release is None, for the capsule to drop.
    let stream = unsafe { std::ptr::replace(ptr, ArrowArrayStream::empty()) };
    let bad = |e: polars::prelude::PolarsError| {
        DatasetError::new_err(format!("df: cannot read the table: {e}"))
    };
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(bad)?;
    let mut out: Option<polars::prelude::DataFrame> = None;
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(bad)?;
        let Some(array) = batch
            .as_any()
            .downcast_ref::<polars_arrow::array::StructArray>()
        else {
            return Err(DatasetError::new_err(
                "df: the stream's batches are not tables (struct arrays)",
            ));
        };
        let part = polars::prelude::DataFrame::try_from(array.clone()).map_err(bad)?;
        match &mut out {
            None => out = Some(part),
            Some(df) => {
                df.vstack_mut(&part).map_err(bad)?;
            }
        }
    }
    Ok(out.unwrap_or_default())
}

/// What both scans share of their arguments, checked.
fn request_of(
    select: Vec<String>,
    ignore: Vec<String>,
    thresholds: BTreeMap<String, f64>,
    fail_on: Option<String>,
    seed: u64,
    label_model: &str,
) -> PyResult<Request> {
    let items: Vec<String> = thresholds.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let thresholds = dsaudit_core::rules::thresholds::Thresholds::parse(&items)
        .map_err(|e| PyValueError::new_err(dsaudit_core::util::error_line(&e)))?;
    let fail_on = fail_on
        .map(|s| {
            FailOn::parse(&s).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "fail_on '{s}': expected error, warning, info or never"
                ))
            })
        })
        .transpose()?;
    let model = choice::<dsaudit_core::labels::Model>("label_model", label_model)?;
    if matches!(
        model,
        dsaudit_core::labels::Model::Cnn | dsaudit_core::labels::Model::Mlp
    ) {
        return Err(PyValueError::new_err(format!(
            "label_model '{label_model}': {}",
            dsaudit_core::labels::network::MISSING
        )));
    }
    Ok(Request {
        select,
        ignore,
        thresholds,
        fail_on,
        seed,
        labels: dsaudit_core::labels::Options {
            enabled: true,
            seed,
            model,
            ..Default::default()
        },
        quiet: true,
        ..Default::default()
    })
}

/// The value named `name` of a choice table, or a ValueError listing them.
fn choice<T: Choice>(param: &str, name: &str) -> PyResult<T> {
    T::parse(name).ok_or_else(|| {
        let names = T::names();
        PyValueError::new_err(format!(
            "{param} '{name}': expected one of {}{}",
            names.join(", "),
            dsaudit_core::suggest::hint(name, names.iter().copied())
        ))
    })
}

/// Confident learning on given probabilities: `n × k` float64 (little-endian bytes)
/// and `n` class ids (int64); returns one byte per sample (1: a label issue).
#[pyfunction]
fn label_issues<'py>(
    py: Python<'py>,
    labels: &[u8],
    pred_probs: &[u8],
    k: usize,
    method: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let (labels, probs) = matrices(labels, pred_probs, k)?;
    let method = choice::<confident::Method>("filter_by", &method.replace('_', "-"))?;
    let found = py.detach(|| confident::find(&probs, k, &labels, method));
    let flags: Vec<u8> = found.is_issue.iter().map(|&b| u8::from(b)).collect();
    Ok(PyBytes::new(py, &flags))
}

/// Per-sample label quality (`self_confidence` or `normalized_margin`), as float64
/// little-endian bytes.
#[pyfunction]
fn quality_scores<'py>(
    py: Python<'py>,
    labels: &[u8],
    pred_probs: &[u8],
    k: usize,
    method: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let (labels, probs) = matrices(labels, pred_probs, k)?;
    let score: fn(&[f64], usize) -> f64 = match method {
        "self_confidence" => confident::self_confidence,
        "normalized_margin" => confident::normalized_margin,
        other => {
            return Err(PyValueError::new_err(format!(
                "method '{other}': expected self_confidence or normalized_margin"
            )))
        }
    };
    let out: Vec<u8> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, &l)| score(&probs[i * k..(i + 1) * k], l).to_le_bytes())
        .collect();
    Ok(PyBytes::new(py, &out))
}

/// The labels and probabilities from their bytes, checked against each other.
fn matrices(labels: &[u8], pred_probs: &[u8], k: usize) -> PyResult<(Vec<usize>, Vec<f64>)> {
    if k < 2 {
        return Err(PyValueError::new_err(
            "pred_probs: needs at least two columns (classes)",
        ));
    }
    let labels: Vec<i64> = labels
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let probs: Vec<f64> = pred_probs
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    if probs.len() != labels.len() * k {
        return Err(PyValueError::new_err(format!(
            "pred_probs: {} rows, but labels has {}",
            probs.len() / k,
            labels.len()
        )));
    }
    if let Some(bad) = labels.iter().find(|&&l| l < 0 || l as usize >= k) {
        return Err(PyValueError::new_err(format!(
            "labels: class {bad} is not a column of pred_probs (0 to {})",
            k - 1
        )));
    }
    if probs.iter().any(|p| !p.is_finite()) {
        return Err(PyValueError::new_err(
            "pred_probs: holds NaN or infinite values",
        ));
    }
    Ok((labels.iter().map(|&l| l as usize).collect(), probs))
}

/// Runs the build `command` (split, rebalance, subset, clean) with its options as
/// JSON (the fields of `dsaudit_construct::<command>::Options`); returns the summary
/// the CLI prints.
#[pyfunction]
#[pyo3(signature = (command, path, out, options, seed, overwrite, materialize, isolated))]
#[allow(clippy::too_many_arguments)]
fn build(
    py: Python<'_>,
    command: String,
    path: PathBuf,
    out: PathBuf,
    options: String,
    seed: u64,
    overwrite: bool,
    materialize: Option<String>,
    isolated: bool,
) -> PyResult<String> {
    use dsaudit_construct::{clean, rebalance, split, subset};
    let materialize = materialize
        .map(|m| choice::<dsaudit_construct::images::Mode>("materialize", &m))
        .transpose()?;
    let bad = |e: serde_json::Error| PyValueError::new_err(format!("{command}: {e}"));
    type Planner = Box<
        dyn FnOnce(&dsaudit_construct::Samples, u64) -> anyhow::Result<dsaudit_construct::Plan>
            + Send,
    >;
    let (plan, find_labels): (Planner, bool) = match command.as_str() {
        "split" => {
            let o: split::Options = serde_json::from_str(&options).map_err(bad)?;
            (Box::new(move |s, seed| split::plan(s, &o, seed)), false)
        }
        "rebalance" => {
            let o: rebalance::Options = serde_json::from_str(&options).map_err(bad)?;
            (Box::new(move |s, seed| rebalance::plan(s, &o, seed)), false)
        }
        "subset" => {
            let o: subset::Options = serde_json::from_str(&options).map_err(bad)?;
            (Box::new(move |s, seed| subset::plan(s, &o, seed)), false)
        }
        "clean" => {
            let o: clean::Options = serde_json::from_str(&options).map_err(bad)?;
            let find = o.needs_label_search();
            (Box::new(move |s, seed| clean::plan(s, &o, seed)), find)
        }
        other => return Err(PyValueError::new_err(format!("no build command '{other}'"))),
    };
    detached(py, move || {
        let config = dsaudit_core::config::load(&path, None, isolated)?;
        let argv = vec!["dsaudit".to_string(), command, "(python)".to_string()];
        let options = dsaudit_construct::run::Options {
            overwrite,
            materialize,
            seed,
            hints: request::merged_hints(Default::default(), &config),
            thresholds: config.thresholds.clone(),
            quiet: true,
            timings: false,
            find_labels,
            networks: None,
            argv: &argv,
        };
        dsaudit_construct::run::build(&path, &out, options, plan)
    })
}

/// Runs the `dsaudit` command line on `args` (program name first); returns its exit
/// code. The console script `dsaudit` of the wheel.
#[pyfunction]
fn run_cli(py: Python<'_>, args: Vec<String>) -> PyResult<i32> {
    let args = args.into_iter().map(std::ffi::OsString::from).collect();
    detached(py, move || Ok(dsaudit_cli::cli::main_with(args)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DatasetError", m.py().get_type::<DatasetError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Scanned>()?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(scan_frame, m)?)?;
    m.add_function(wrap_pyfunction!(describe_rows, m)?)?;
    m.add_function(wrap_pyfunction!(merge_parts, m)?)?;
    m.add_function(wrap_pyfunction!(save_parts, m)?)?;
    m.add_function(wrap_pyfunction!(describe_table, m)?)?;
    m.add_function(wrap_pyfunction!(size_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(label_issues, m)?)?;
    m.add_function(wrap_pyfunction!(quality_scores, m)?)?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    Ok(())
}

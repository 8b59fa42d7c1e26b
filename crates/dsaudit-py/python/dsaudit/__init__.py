"""Audit and build machine-learning datasets from Python.

The same engine, defaults and ``dsaudit.toml`` as the ``dsaudit`` command line::

    import dsaudit
    report = dsaudit.scan("data/")
    report            # a notebook shows the HTML report
    report.findings   # Finding(code, name, severity, message, samples)

Errors in the data or the request raise :class:`DatasetError` with the CLI's one line;
wrong argument types raise :class:`TypeError` naming the parameter.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native
from ._native import DatasetError

__all__ = [
    "DatasetError",
    "Finding",
    "Report",
    "Sample",
    "clean",
    "find_label_issues",
    "label_quality_scores",
    "rebalance",
    "scan",
    "scan_frame",
    "split",
    "subset",
]

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Sample:
    """A sample a finding names: its manifest id, file (or table), row and a note."""

    id: int
    source: str
    row: Optional[int]
    note: Optional[str]


@dataclass(frozen=True)
class Finding:
    """One finding, as the JSON report gives it."""

    code: str
    name: str
    severity: str
    message: str
    fix: str
    samples: List[Sample]
    sample_count: int
    evidence: Dict[str, Any]


class Report:
    """The result of :func:`scan`: findings, a summary and every report format."""

    def __init__(self, scanned: Any) -> None:
        self._scanned = scanned
        # Rendered once: the report is deterministic, and to_json() hands out this text.
        self._json: str = scanned.report("json")
        dataset = json.loads(self._json)["datasets"][0]
        self._dataset = dataset
        self.findings: List[Finding] = [_finding(f) for f in dataset["findings"]]

    @property
    def summary(self) -> Dict[str, Any]:
        """What was scanned: layout, guesses, sample and finding counts, shift verdict."""
        d = self._dataset
        return {k: v for k, v in d.items() if k != "findings"}

    @property
    def exit_code(self) -> int:
        """1 when a finding is at or above ``fail_on``, else 0 (as ``dsaudit scan``)."""
        return int(self._scanned.exit_code())

    def to_json(self) -> str:
        """The JSON report (schema in docs/json-schema.md)."""
        return self._json

    def to_text(self, max_samples: int = 10) -> str:
        """The report ``dsaudit scan`` prints."""
        return str(self._scanned.report("text", _int("max_samples", max_samples)))

    def to_markdown(self, max_samples: int = 10) -> str:
        return str(self._scanned.report("markdown", _int("max_samples", max_samples)))

    def to_sarif(self) -> str:
        """SARIF 2.1.0, for code-scanning dashboards."""
        return str(self._scanned.report("sarif"))

    def to_html(self, path: Optional[PathLike] = None) -> str:
        """The self-contained HTML report; written atomically to ``path`` when given
        (a path inside the dataset is refused with ``DatasetError``, as by the CLI)."""
        if path is not None:
            self._scanned.write_html(_path("path", path))
        return str(self._scanned.report("html"))

    def manifest(self) -> Any:
        """The manifest (one row per sample) as a ``pyarrow.Table``, handed over through
        the Arrow C stream interface (no copy of the columns)."""
        try:
            import pyarrow as pa  # type: ignore[import-not-found]
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Report.manifest() needs pyarrow: pip install pyarrow") from e
        reader = pa.RecordBatchReader._import_from_c_capsule(self._scanned.manifest_stream())
        return reader.read_all()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        d = self._dataset
        return f"<dsaudit.Report {d.get('path')!r}: {len(self.findings)} findings, exit {self.exit_code}>"


def scan(
    path: PathLike,
    *,
    select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    thresholds: Optional[Mapping[str, float]] = None,
    fail_on: Optional[str] = None,
    label: Optional[str] = None,
    split: Optional[str] = None,
    layout: Optional[str] = None,
    seed: int = 0,
    label_model: str = "auto",
    isolated: bool = False,
    memory_limit: Optional[Union[int, str]] = None,
    against: Union[PathLike, Sequence[PathLike], None] = None,
) -> Report:
    """Scans a dataset folder or table file, as ``dsaudit scan PATH`` does.

    ``select``/``ignore`` take rule codes, prefixes or names; ``thresholds`` maps
    ``"RULE.KEY"`` to a number (``{"class-imbalance.max-ratio": 20}``); the dataset's
    ``dsaudit.toml`` is merged under them unless ``isolated``. ``memory_limit`` (bytes,
    or a size such as ``"2GiB"``; default 2 GiB) is ``--memory-limit``: a table whose
    scan would need more is read in blocks and its row checks run on a sample.
    ``against`` names a saved profile (the parts ``dsaudit partial`` wrote of the
    training data) that the shift tests compare the data with instead of one of its
    own splits: ``--against`` (docs/partial.md). The interpreter is free while the scan
    runs, and Ctrl-C interrupts it.
    """
    p = _path("path", path)
    return Report(
        _native.scan(
            p,
            _strs("select", select),
            _strs("ignore", ignore),
            _thresholds(thresholds),
            _opt_str("fail_on", fail_on),
            _opt_str("label", label),
            _opt_str("split", split),
            _opt_str("layout", layout),
            _int("seed", seed),
            _str("label_model", label_model),
            _bool("isolated", isolated),
            _bytes("memory_limit", memory_limit),
            _paths("against", against),
        )
    )


def scan_frame(
    df: Any,
    *,
    label: str,
    split: Optional[str] = None,
    name: str = "dataframe",
    select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    thresholds: Optional[Mapping[str, float]] = None,
    fail_on: Optional[str] = None,
    seed: int = 0,
    label_model: str = "auto",
    against: Union[PathLike, Sequence[PathLike], None] = None,
) -> Report:
    """Scans a table in memory (pandas, polars, pyarrow, or anything with the Arrow
    PyCapsule interface ``__arrow_c_stream__``) as ``dsaudit scan`` scans a table file;
    ``name`` stands for the file in the report. No ``dsaudit.toml`` is read. Columns
    are handed over through the Arrow C stream interface, without a copy where their
    layout allows (numbers). ``against`` is ``scan``'s: the shift tests of the frame
    (serving data, say) against a saved profile of a table's training data."""
    return Report(
        _native.scan_frame(
            _arrow_stream(df),
            _str("name", name),
            _strs("select", select),
            _strs("ignore", ignore),
            _thresholds(thresholds),
            _opt_str("fail_on", fail_on),
            _str("label", label),
            _opt_str("split", split),
            _int("seed", seed),
            _str("label_model", label_model),
            _paths("against", against),
        )
    )


def _arrow_stream(df: Any) -> Any:
    stream = getattr(df, "__arrow_c_stream__", None)
    if stream is None and type(df).__module__.startswith("pandas"):
        # pandas before 2.2 has no PyCapsule interface; pyarrow converts it.
        try:
            import pyarrow as pa  # type: ignore[import-not-found]
        except ImportError as e:
            raise ImportError("scan_frame of a pandas DataFrame needs pyarrow") from e
        stream = pa.Table.from_pandas(df, preserve_index=False).__arrow_c_stream__
    if stream is None:
        raise TypeError(
            f"df: expected a table with the Arrow PyCapsule interface (pandas >= 2.2, polars, pyarrow), got {type(df).__name__}"
        )
    return stream()


def split(
    path: PathLike,
    out: PathLike,
    *,
    train_val: Union[float, int, str] = 0.1,
    test_val: Union[float, int, str] = 0.5,
    fold_val: bool = False,
    carve_test: Union[float, int, str, None] = None,
    allow_unseen_classes: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    materialize: Optional[str] = None,
    isolated: bool = False,
) -> str:
    """``dsaudit split``: writes ``out`` with train-val held out of train and test-val
    out of test (a fraction or a count each). Returns the summary the CLI prints."""
    options = {
        "train_val": _size("train_val", train_val),
        "test_val": _size("test_val", test_val),
        "fold_val": _bool("fold_val", fold_val),
        "carve_test": None if carve_test is None else _size("carve_test", carve_test),
        "allow_unseen_classes": _bool("allow_unseen_classes", allow_unseen_classes),
    }
    return _build("split", path, out, options, seed, overwrite, materialize, isolated)


def rebalance(
    path: PathLike,
    out: PathLike,
    *,
    strategy: Optional[str] = None,
    count: Optional[int] = None,
    target: Optional[str] = None,
    max_per_class: Optional[int] = None,
    min_per_class: Optional[int] = None,
    smote: bool = False,
    source: Optional[str] = None,
    seed: int = 0,
    overwrite: bool = False,
    materialize: Optional[str] = None,
    isolated: bool = False,
) -> str:
    """``dsaudit rebalance``: ``strategy`` undersample, oversample, target or weights
    (``source`` is the CLI's ``--from``, the split to rebalance)."""
    options = {
        "strategy": _opt_str("strategy", strategy),
        "count": _opt_int("count", count),
        "target": _opt_str("target", target),
        "max_per_class": _opt_int("max_per_class", max_per_class),
        "min_per_class": _opt_int("min_per_class", min_per_class),
        "smote": _bool("smote", smote),
        "from": _opt_str("source", source),
    }
    return _build("rebalance", path, out, options, seed, overwrite, materialize, isolated)


def subset(
    path: PathLike,
    out: PathLike,
    *,
    per_class: int,
    source: Optional[str] = None,
    seed: int = 0,
    overwrite: bool = False,
    materialize: Optional[str] = None,
    isolated: bool = False,
) -> str:
    """``dsaudit subset``: ``per_class`` samples of each class, for overfitting a tiny
    set first (``source`` is the CLI's ``--from``)."""
    options = {"per_class": _int("per_class", per_class), "from": _opt_str("source", source)}
    return _build("subset", path, out, options, seed, overwrite, materialize, isolated)


def clean(
    path: PathLike,
    out: PathLike,
    *,
    drop_near: bool = False,
    keep_conflicting: bool = False,
    label_issues: Optional[PathLike] = None,
    drop_label_issues: bool = False,
    relabel: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    materialize: Optional[str] = None,
    isolated: bool = False,
) -> str:
    """``dsaudit clean``: unreadable files, exact copies and conflicting labels out;
    near copies and label issues on request."""
    options = {
        "drop_near": _bool("drop_near", drop_near),
        "keep_conflicting": _bool("keep_conflicting", keep_conflicting),
        "label_issues": None if label_issues is None else _path("label_issues", label_issues),
        "drop_label_issues": _bool("drop_label_issues", drop_label_issues),
        "relabel": _bool("relabel", relabel),
    }
    return _build("clean", path, out, options, seed, overwrite, materialize, isolated)


def _build(
    command: str,
    path: PathLike,
    out: PathLike,
    options: Mapping[str, Any],
    seed: int,
    overwrite: bool,
    materialize: Optional[str],
    isolated: bool,
) -> str:
    return str(
        _native.build(
            command,
            _path("path", path),
            _path("out", out),
            json.dumps(options),
            _int("seed", seed),
            _bool("overwrite", overwrite),
            _opt_str("materialize", materialize),
            _bool("isolated", isolated),
        )
    )


_FILTERS = (
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    return_indices_ranked_by: Optional[str] = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Optional[Sequence[int]] = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    n_jobs: Optional[int] = None,
    verbose: bool = False,
    multi_label: bool = False,
    low_memory: bool = False,
) -> Any:
    """Label issues by confident learning, argument-compatible with cleanlab's
    ``cleanlab.filter.find_label_issues``: a boolean mask, or the issues' indices
    ranked by ``"self_confidence"`` or ``"normalized_margin"`` (worst first).

    cleanlab's other arguments are accepted at their defaults (``n_jobs``,
    ``verbose`` and ``low_memory`` change nothing here); a value that would change the
    answer and is not implemented raises ``ValueError`` rather than being ignored."""
    import numpy as np

    for name, value, default in (
        ("frac_noise", frac_noise, 1.0),
        ("num_to_remove_per_class", num_to_remove_per_class, None),
        ("min_examples_per_class", min_examples_per_class, 1),
        ("confident_joint", confident_joint, None),
        ("multi_label", multi_label, False),
    ):
        if not (value is default or value == default):
            raise ValueError(f"find_label_issues: {name}={value!r} is not supported (only {default!r})")
    del n_jobs, verbose, low_memory
    if filter_by not in _FILTERS:
        raise ValueError(f"filter_by '{filter_by}': expected one of {', '.join(_FILTERS)}")
    y, p = _label_arrays(labels, pred_probs)
    flags = _native.label_issues(y.tobytes(), p.tobytes(), p.shape[1], filter_by)
    mask = np.frombuffer(flags, dtype=np.uint8).astype(bool)
    if return_indices_ranked_by is None:
        return mask
    scores = label_quality_scores(y, p, method=return_indices_ranked_by)
    idx = np.flatnonzero(mask)
    return idx[np.argsort(scores[idx], kind="stable")]


def label_quality_scores(labels: Any, pred_probs: Any, *, method: str = "self_confidence") -> Any:
    """Per-sample label quality in [0, 1] (lower: more likely mislabelled), as
    cleanlab's ``get_label_quality_scores`` with ``self_confidence`` or
    ``normalized_margin``."""
    import numpy as np

    y, p = _label_arrays(labels, pred_probs)
    out = _native.quality_scores(y.tobytes(), p.tobytes(), p.shape[1], _str("method", method))
    return np.frombuffer(out, dtype="<f8").copy()


def _label_arrays(labels: Any, pred_probs: Any) -> Any:
    import numpy as np

    try:
        p = np.ascontiguousarray(pred_probs, dtype="<f8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"pred_probs: expected a 2-D array of probabilities ({e})") from None
    try:
        y = np.ascontiguousarray(labels, dtype="<i8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"labels: expected a 1-D array of class ids ({e})") from None
    if p.ndim != 2:
        raise ValueError(f"pred_probs: expected 2 dimensions (samples × classes), got {p.ndim}")
    if y.ndim != 1:
        raise ValueError(f"labels: expected 1 dimension, got {y.ndim}")
    return y, p


def _finding(f: Mapping[str, Any]) -> Finding:
    samples = [
        Sample(id=s["id"], source=s["source"], row=s.get("row"), note=s.get("note"))
        for s in f.get("samples", [])
    ]
    return Finding(
        code=f["code"],
        name=f["rule"],
        severity=f["severity"],
        message=f["message"],
        fix=f.get("fix", ""),
        samples=samples,
        sample_count=int(f.get("sample_count", len(samples))),
        evidence=dict(f.get("evidence", {})),
    )


def _path(name: str, v: Any) -> str:
    if isinstance(v, (str, os.PathLike)):
        return os.fspath(v)
    raise TypeError(f"{name}: expected a path (str or os.PathLike), got {type(v).__name__}")


def _paths(name: str, v: Any) -> List[str]:
    if v is None:
        return []
    if isinstance(v, (str, os.PathLike)):
        return [os.fspath(v)]
    if isinstance(v, (bytes, Mapping)) or not hasattr(v, "__iter__"):
        raise TypeError(f"{name}: expected a path or a list of paths, got {type(v).__name__}")
    return [_path(name, x) for x in v]


def _str(name: str, v: Any) -> str:
    if isinstance(v, str):
        return v
    raise TypeError(f"{name}: expected str, got {type(v).__name__}")


def _opt_str(name: str, v: Any) -> Optional[str]:
    return None if v is None else _str(name, v)


def _bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise TypeError(f"{name}: expected bool, got {type(v).__name__}")


def _int(name: str, v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise TypeError(f"{name}: expected a non-negative int, got {v!r}")


def _bytes(name: str, v: Any) -> Optional[str]:
    """A size as bytes (an int) or as text (``"512MiB"``), handed on as text."""
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return str(v)
    if isinstance(v, str):
        return v
    raise TypeError(f"{name}: expected a positive int or a size such as '2GiB', got {v!r}")


def _opt_int(name: str, v: Any) -> Optional[int]:
    return None if v is None else _int(name, v)


def _strs(name: str, v: Any) -> List[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    items = list(v)
    for x in items:
        if not isinstance(x, str):
            raise TypeError(f"{name}: expected strings, got {type(x).__name__}")
    return items


def _thresholds(v: Any) -> Dict[str, float]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise TypeError(f"thresholds: expected a mapping of 'RULE.KEY' to a number, got {type(v).__name__}")
    out: Dict[str, float] = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise TypeError(f"thresholds: keys are 'RULE.KEY' strings, got {type(k).__name__}")
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"thresholds['{k}']: expected a number, got {type(x).__name__}")
        out[k] = float(x)
    return out


def _size(name: str, v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise TypeError(f"{name}: expected a fraction, a count or a string, got {type(v).__name__}")
    return str(v)



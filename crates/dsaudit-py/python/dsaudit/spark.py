"""Scan a Spark DataFrame of images with dsaudit::

    from pyspark.sql import functions as F
    import dsaudit.spark

    df = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load("/data/pets")
        .withColumn("split", F.element_at(F.split("path", "/"), -3))
        .withColumn("label", F.element_at(F.split("path", "/"), -2))
    )
    report = dsaudit.spark.scan(df, root="/data/pets")

Each partition's images are described where the partition is (``DataFrame.mapInArrow``
into dsaudit's Rust partial scan: the read, hashes, decode and statistics); the parts
come back to the driver as one binary row per Arrow batch, and are merged there into
the report ``dsaudit scan`` gives of the same images (docs/partial.md): samples in path
order, every finding with its paths. No JVM code; pyspark with its SQL extras
(``pip install "pyspark[sql]"``: pandas and pyarrow, which ``mapInArrow`` needs) is
needed only by this module.

Reading many small images, set ``spark.sql.files.openCostInBytes`` low (e.g. 8 KB):
``binaryFile`` counts each file as at least that many bytes (4 MB by default) when it
packs files into tasks, which gives one task per 32 files.

A DataFrame of table rows (no ``content`` column, no ``image_col``) is scanned as a
table::

    df = spark.read.parquet("/data/features")
    report = dsaudit.spark.scan(df, name="features")

Each partition is described where it is: its rows counted per split and class, its
columns summarised, and a sample of its rows chosen by content (the rows of the lowest
content keys, exact copies together) under ``memory_limit``; the driver merges the
parts in partition order and runs the duplicate, shift, label and outlier checks on
the merged sample: every row when the table fits the budget, which the report says
otherwise. Rows are numbered in partition order, as a file read by ``spark.read``
is (a ``repartition`` shuffles them, and the numbers with them).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Sequence

from . import Report, _bytes, _int, _native, _opt_str, _path, _paths, _str, _strs, _thresholds
from ._native import DatasetError

__all__ = ["save_profile", "scan"]


def scan(
    df: Any,
    *,
    label: Optional[str] = "label",
    split: Optional[str] = "split",
    image_col: Optional[str] = None,
    path_col: str = "path",
    root: Optional[str] = None,
    name: Optional[str] = None,
    select: Optional[Sequence[str]] = None,
    ignore: Optional[Sequence[str]] = None,
    thresholds: Optional[Mapping[str, float]] = None,
    fail_on: Optional[str] = None,
    seed: int = 0,
    label_model: str = "auto",
    memory_limit: Optional[Any] = None,
    against: Optional[Any] = None,
) -> Report:
    """Scans the images of a Spark DataFrame: ``path_col`` names each image (made
    relative to ``root`` when it starts with it, as reports name the files of a
    folder), ``image_col`` holds its bytes (default ``content``, as
    ``spark.read.format("binaryFile")`` gives), ``label`` and ``split`` the columns of
    its class and split (left out when the DataFrame has no such column and the
    default name was not changed). ``name`` stands for the dataset in the report
    (default ``root``). The other options are :func:`dsaudit.scan`'s.

    A DataFrame with no ``content`` column (and no ``image_col`` given) is a table:
    every column but ``label`` and ``split`` is a feature, ``name`` names the table in
    the report (its rows are ``name``'s rows), and ``memory_limit`` (as in
    :func:`dsaudit.scan`) bounds the sample of rows the row checks run on.

    ``against`` names a saved profile (:func:`save_profile`'s file, or the parts
    ``dsaudit partial`` wrote): the shift tests compare the DataFrame with it instead
    of with one of its own splits (training–serving skew; ``--against``)."""
    options = (
        _strs("select", select),
        _strs("ignore", ignore),
        _thresholds(thresholds),
        _opt_str("fail_on", fail_on),
        _int("seed", seed),
        _str("label_model", label_model),
    )
    profile = _paths("against", against)
    # The options' values are checked on the driver before any executor starts: a
    # merge of no parts checks them first, then refuses the empty list.
    try:
        _native.merge_parts([], *options, [])
    except DatasetError:
        pass
    parts = _parts(df, **_how(label, split, image_col, path_col, root, name, memory_limit))
    return Report(_native.merge_parts(parts, *options, profile))


def save_profile(
    df: Any,
    path: Any,
    *,
    label: Optional[str] = "label",
    split: Optional[str] = "split",
    image_col: Optional[str] = None,
    path_col: str = "path",
    root: Optional[str] = None,
    name: Optional[str] = None,
    memory_limit: Optional[Any] = None,
) -> str:
    """Describes the DataFrame as :func:`scan` does and saves its parts, joined, as one
    ``.dsp`` file at ``path`` (written whole, then renamed into place): a profile of the
    training data that ``dsaudit scan NEW --against path`` (or ``against=`` here, in
    :func:`dsaudit.scan` and :func:`dsaudit.scan_frame`) compares new data with. A
    table's profile keeps its rows' counts, column statistics and the sample of rows
    the budget holds; an image profile, every image's description. Returns the path."""
    import os

    target = os.fspath(_path("path", path))
    base = _opt_str("root", root)
    # The check that nothing is written inside the dataset applies to a local root.
    local = base.removeprefix("file:") if base and "://" not in base.removeprefix("file:") else None
    # Where it goes is checked before any executor starts: a save of no parts checks
    # the path first, then refuses the empty list.
    try:
        _native.save_parts([], target, local)
    except DatasetError as e:
        if "no parts to join" not in str(e):
            raise
    parts = _parts(df, **_how(label, split, image_col, path_col, root, name, memory_limit))
    _native.save_parts(parts, target, local)
    return target


def _how(label, split, image_col, path_col, root, name, memory_limit) -> dict:
    """How :func:`scan` and :func:`save_profile` read the DataFrame, as keywords."""
    return dict(
        label=label,
        split=split,
        image_col=image_col,
        path_col=path_col,
        root=root,
        name=name,
        memory_limit=memory_limit,
    )


def _parts(df: Any, **how: Any) -> list:
    """The DataFrame's parts (bytes): one per partition of a table, one per Arrow batch
    of images; an empty DataFrame is an error."""
    dataset, parts = _described(df, **how)
    if not parts:
        raise DatasetError(f"{dataset}: empty dataset: the DataFrame has no rows")
    return parts


def _described(
    df: Any, *, label, split, image_col, path_col, root, name, memory_limit
) -> tuple:
    """The dataset's name in the report and its parts (bytes)."""
    columns = list(df.columns)
    if image_col is None and "content" not in columns:
        table = _opt_str("name", name) or "spark DataFrame"
        limit = _bytes("memory_limit", memory_limit)
        return table, _table_parts(df, label=label, split=split, name=table, memory_limit=limit)
    image_col = _str("image_col", image_col) if image_col is not None else "content"
    path_col = _str("path_col", path_col)
    for what, col in (("path_col", path_col), ("image_col", image_col)):
        if col not in columns:
            raise DatasetError(
                f"df: no column {col!r} ({what}); dsaudit.spark.scan reads image rows, e.g. spark.read.format('binaryFile'), columns: {', '.join(columns)}"
            )
    label_col = _column("label", label, "label", columns)
    split_col = _column("split", split, "split", columns)
    root = _opt_str("root", root)
    dataset = _opt_str("name", name) or root or "spark DataFrame"

    from pyspark.sql import functions as F  # type: ignore[import-not-found]

    def nothing() -> Any:
        return F.lit(None).cast("string")

    rows = df.select(
        F.col(path_col).cast("string").alias("path"),
        F.col(image_col).alias("content"),
        (F.col(label_col).cast("string") if label_col else nothing()).alias("label"),
        (F.col(split_col).cast("string") if split_col else nothing()).alias("split"),
    )
    describe = _describer(dataset, root)
    return dataset, [bytes(r.part) for r in rows.mapInArrow(describe, "part binary").collect()]


def _table_parts(df: Any, *, label, split, name: str, memory_limit, table_rows: Any = "auto") -> list:
    """Each non-empty partition's part (bytes), collected on the driver. Told the
    table's row count (``table_rows``; "auto": counted when Spark's estimate of the
    DataFrame's size is above the budget), each part keeps only its share of the sample,
    so the driver receives about the sample, not every partition's rows."""
    columns = list(df.columns)
    label_col = _column("label", label, "label", columns)
    split_col = _column("split", split, "split", columns)
    if table_rows == "auto":
        table_rows = _rows_if_large(df, memory_limit)

    def describe(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-not-found]
        from pyspark import TaskContext  # type: ignore[import-not-found]

        from dsaudit import _native as native

        got = list(batches)
        if not got or sum(b.num_rows for b in got) == 0:
            return
        table = pa.Table.from_batches(got)
        ctx = TaskContext.get()
        order = ctx.partitionId() if ctx is not None else 0
        # One chunk per column: the Rust side reads the stream as one block of rows.
        table = table.combine_chunks()
        part = native.describe_table(
            table.__arrow_c_stream__(), name, order, label_col, split_col, memory_limit, table_rows
        )
        yield pa.RecordBatch.from_arrays([pa.array([part], type=pa.binary())], names=["part"])

    return [bytes(r.part) for r in df.mapInArrow(describe, "part binary").collect()]


def _rows_if_large(df: Any, memory_limit: Optional[str]) -> Optional[int]:
    """The DataFrame's row count (a Spark job) when its size, as Spark's optimizer
    estimates it, is above the budget; else None (the parts may then hold every row,
    which is at most about the budget). Without an estimate (Spark Connect), counted."""
    limit = _native.size_bytes(memory_limit)
    try:
        size = int(str(df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))
    except Exception:  # no JVM plan to ask: count
        size = None
    if size is not None and size <= limit:
        return None
    return int(df.count())


def _column(param: str, value: Optional[str], default: str, columns: Sequence[str]) -> Optional[str]:
    """The column a parameter names: None when it is None, or when it is the default
    name and the DataFrame has no such column; an error when it names a missing one."""
    if value is None:
        return None
    col = _str(param, value)
    if col in columns:
        return col
    if col == default:
        return None
    raise DatasetError(f"df: no column {col!r} ({param}); columns: {', '.join(columns)}")


def _describer(dataset: str, root: Optional[str]) -> Any:
    """The function each partition runs: one part per Arrow batch, as one binary row."""
    prefixes = _prefixes(root)

    def relative(path: str) -> str:
        for p in prefixes:
            if path.startswith(p):
                return path[len(p) :].lstrip("/")
        return path

    def describe(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-not-found]
        from pyspark import TaskContext  # type: ignore[import-not-found]

        from dsaudit import _native as native

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx is not None else 0
        for i, batch in enumerate(batches):
            cols = batch.to_pydict()
            part = native.describe_rows(
                dataset,
                f"partition {partition} batch {i}",
                [relative(p) if p is not None else "" for p in cols["path"]],
                cols["content"],
                cols["label"],
                cols["split"],
            )
            yield pa.RecordBatch.from_arrays([pa.array([part], type=pa.binary())], names=["part"])

    return describe


def _prefixes(root: Optional[str]) -> list:
    """``root`` as Spark may write it in ``path``: as given, or as a ``file:`` URI."""
    if not root:
        return []
    r = root.rstrip("/")
    out = [r + "/"]
    if r.startswith("/"):
        out += ["file:" + r + "/", "file://" + r + "/"]
    return out

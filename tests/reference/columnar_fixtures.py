"""Writes legitimate Parquet and Arrow IPC files in the variants other writers produce,
for crates/dsaudit-core/tests/columnar_vetting.rs: dsaudit checks the sizes such a file
declares before polars reads it (table_io::vet_parquet, vet_ipc), and a check that
refuses a good file is worse than none. Every variant here must pass the check and
read.

The data is scikit-learn's wine table (real measurements; 178 rows, 13 features and
a class), with columns added for the types a table can hold: nulls, strings, a
dictionary-encoded category, lists, a struct, booleans, timestamps, decimals.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install pyarrow==26.0.1 scikit-learn
    /tmp/v/bin/python tests/reference/columnar_fixtures.py crates/dsaudit-core/tests/data/columnar
"""

import datetime
import decimal
import os
import sys

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from sklearn.datasets import load_wine


def table() -> pa.Table:
    wine = load_wine(as_frame=True).frame
    t = pa.Table.from_pandas(wine, preserve_index=False)
    n = t.num_rows
    names = ["class_0", "class_1", "class_2"]
    extra = {
        "name": pa.array([names[int(c)] for c in wine["target"]]),
        "category": pa.array([names[int(c)] for c in wine["target"]]).dictionary_encode(),
        "with_nulls": pa.array([None if i % 7 == 0 else float(i) for i in range(n)]),
        "flag": pa.array([i % 3 == 0 for i in range(n)]),
        "tags": pa.array([[names[i % 3]] * (i % 4) for i in range(n)]),
        "point": pa.array([{"x": float(i), "y": -float(i)} for i in range(n)]),
        "when": pa.array(
            [datetime.datetime(2020, 1, 1) + datetime.timedelta(hours=i) for i in range(n)],
            pa.timestamp("us"),
        ),
        "price": pa.array(
            [decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(9, 2)
        ),
        "big_text": pa.array(["x" * (50 + i % 200) for i in range(n)], pa.large_string()),
    }
    for name, col in extra.items():
        t = t.append_column(name, col)
    return t


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    t = table()
    flat = t.drop_columns(["tags", "point"])
    parquet = {
        "default": dict(),
        "v1-pages-snappy": dict(data_page_version="1.0", compression="snappy"),
        "v2-pages-zstd": dict(data_page_version="2.0", compression="zstd"),
        "gzip": dict(compression="gzip"),
        "brotli": dict(compression="brotli"),
        "lz4": dict(compression="lz4"),
        "uncompressed-no-dictionary": dict(compression="none", use_dictionary=False),
        "small-row-groups": dict(row_group_size=25),
        "small-pages": dict(data_page_size=256, write_batch_size=16),
        "byte-stream-split": dict(
            use_dictionary=False,
            column_encoding={"alcohol": "BYTE_STREAM_SPLIT", "proline": "BYTE_STREAM_SPLIT"},
        ),
        "delta": dict(
            use_dictionary=False,
            column_encoding={"name": "DELTA_BYTE_ARRAY", "big_text": "DELTA_LENGTH_BYTE_ARRAY"},
        ),
        "page-index-and-stats": dict(write_page_index=True, write_statistics=True),
        "parquet-1.0": dict(version="1.0"),
    }
    for name, kw in parquet.items():
        pq.write_table(t, os.path.join(out, f"{name}.parquet"), **kw)
    pq.write_table(flat, os.path.join(out, "flat-v2-pages.parquet"), data_page_version="2.0")
    # An empty table and one of a single row.
    pq.write_table(t.slice(0, 0), os.path.join(out, "empty.parquet"))
    pq.write_table(t.slice(0, 1), os.path.join(out, "one-row.parquet"))

    ipc_variants = {
        "uncompressed": dict(compression="uncompressed"),
        "lz4": dict(compression="lz4"),
        "zstd": dict(compression="zstd"),
        "small-chunks": dict(chunksize=20),
    }
    for name, kw in ipc_variants.items():
        feather.write_feather(t, os.path.join(out, f"{name}.arrow"), **kw)
    # Uncompressed with explicit batches, dictionaries deltas off: the IPC writer's API.
    with ipc.new_file(os.path.join(out, "batches.arrow"), t.schema) as w:
        for batch in t.to_batches(max_chunksize=50):
            w.write_batch(batch)
    with ipc.new_file(
        os.path.join(out, "legacy-format.arrow"),
        flat.schema,
        options=ipc.IpcWriteOptions(use_legacy_format=True),
    ) as w:
        w.write_table(flat)
    feather.write_feather(t.slice(0, 0), os.path.join(out, "empty.arrow"))


if __name__ == "__main__":
    main(sys.argv[1])

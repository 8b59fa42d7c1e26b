"""dsaudit.spark.scan on Spark ``local[2]``, started by the tests: the images of a
folder read with ``binaryFile`` give, with 1, 3 and 8 partitions, the findings the
folder scan gives (codes, severities, messages, sample lists) and its class counts.

The folder is built from real photographs (tests/data/detection: scikit-learn's two
sample photos with digits pasted in), classed by the digit of their first box, with
known problems injected: a truncated JPEG, a PNG named .jpg, text named .jpg and .txt,
and a training image copied into val (a leak). Not a zero-byte file: Spark's
``binaryFile`` gives no row for one (a file of no length has no split to read), so
only the folder scan can report it (docs/partial.md).

Needs pyspark (from PyPI) and Java 17; CI sets DSAUDIT_REQUIRE_SPARK=1 so that a
missing one fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

import dsaudit

if os.environ.get("DSAUDIT_REQUIRE_SPARK"):
    import pyspark  # noqa: F401
    import pyarrow  # noqa: F401
else:
    pytest.importorskip("pyspark", reason="set DSAUDIT_REQUIRE_SPARK=1 to require it")
    pytest.importorskip("pyarrow", reason="set DSAUDIT_REQUIRE_SPARK=1 to require it")

import dsaudit.spark  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
PHOTOS = REPO / "tests" / "data" / "detection" / "yolo"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The workers run this interpreter, which has dsaudit (not whatever python3 is
    # first on PATH).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("dsaudit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "16")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos") / "data"
    for split in ("train", "val"):
        for img in sorted((PHOTOS / "images" / split).iterdir()):
            boxes = (PHOTOS / "labels" / split / (img.stem + ".txt")).read_text().split()
            label = boxes[0] if boxes else "none"
            target = root / split / label / img.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(img, target)
    first = sorted((root / "train").rglob("*.jpg"))[0]
    data = first.read_bytes()
    (first.parent / "cut.jpg").write_bytes(data[: len(data) * 6 // 10])
    (first.parent / "notes.jpg").write_bytes(b"not an image at all\n" * 10)
    (first.parent / "readme.txt").write_text("a stray note among the images\n")
    png = REPO / "sample_data" / "images" / "train" / "circle"
    shutil.copy(sorted(png.glob("*.png"))[0], first.parent / "really_png.jpg")
    leak = root / "val" / first.parent.name / "leaked.jpg"
    leak.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(first, leak)
    return root


def findings(report: dsaudit.Report) -> list:
    ds = json.loads(report.to_json())["datasets"][0]
    return [
        (f["code"], f["severity"], f["message"], [s["source"] for s in f["samples"]])
        for f in ds["findings"]
    ]


def class_counts(report: dsaudit.Report) -> dict:
    return json.loads(report.to_json())["datasets"][0]["splits"]


def images(spark, folder: Path, partitions: int):
    from pyspark.sql import functions as F

    parts = F.split(F.col("path"), "/")
    return (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(str(folder))
        .withColumn("split", F.element_at(parts, -3))
        .withColumn("label", F.element_at(parts, -2))
        .repartition(partitions)
    )


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_spark_finds_what_the_folder_scan_finds(spark, folder: Path, partitions: int) -> None:
    whole = dsaudit.scan(folder, isolated=True)
    got = dsaudit.spark.scan(images(spark, folder, partitions), root=str(folder))
    want = findings(whole)
    codes = {f[0] for f in want}
    # The injected problems are there to be found, by both.
    assert {"I001", "I002", "I004", "I005", "D001"} <= codes, codes
    assert findings(got) == want
    assert class_counts(got) == class_counts(whole)
    assert got.exit_code == whole.exit_code


def test_a_path_read_twice_is_counted_once(spark, folder: Path) -> None:
    df = images(spark, folder, 3)
    twice = dsaudit.spark.scan(df.union(df), root=str(folder))
    once = dsaudit.spark.scan(df, root=str(folder))
    assert findings(twice) == findings(once)
    assert any("counted once" in g for g in json.loads(twice.to_json())["datasets"][0]["guesses"])


def test_bad_columns_are_one_line_errors(spark, folder: Path) -> None:
    df = images(spark, folder, 2)
    with pytest.raises(dsaudit.DatasetError, match="no column 'bytes' \\(image_col\\)"):
        dsaudit.spark.scan(df, image_col="bytes")
    with pytest.raises(dsaudit.DatasetError, match="no column 'klass' \\(label\\)"):
        dsaudit.spark.scan(df, label="klass")
    with pytest.raises(ValueError, match="fail_on 'sometimes'"):
        dsaudit.spark.scan(df, fail_on="sometimes")
    with pytest.raises(dsaudit.DatasetError, match="empty dataset: the DataFrame has no rows"):
        dsaudit.spark.scan(df.limit(0), root=str(folder))


TABLE = REPO / "tests" / "data" / "breast_cancer.csv"


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's breast-cancer table with a split column (every fifth row test),
    a few values blanked, and 30 rows copied at the end with the other label
    (conflicting copies; the copies of test rows land in train: leaks too)."""
    lines = TABLE.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    out = [header + ",split"]
    for i, row in enumerate(rows):
        cells = row.split(",")
        if i % 41 == 7:
            cells[3] = ""
        out.append(",".join(cells) + ("," + ("test" if i % 5 == 0 else "train")))
    for i in range(30):
        cells = rows[i * 17].split(",")
        cells[-1] = "benign" if cells[-1] == "malignant" else "malignant"
        out.append(",".join(cells) + ",train")
    path = tmp_path_factory.mktemp("table") / "cancer.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def spark_table_scan(spark, path: Path, partitions: int, **options) -> dsaudit.Report:
    """dsaudit.spark.scan of the CSV read by Spark in `partitions` splits of the file,
    in file order (the split size is read when a job plans its scan, so it is set
    while the scan runs)."""
    size = path.stat().st_size
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // partitions + 1))
    try:
        df = spark.read.csv(str(path), header=True, inferSchema=True)
        assert df.rdd.getNumPartitions() == partitions
        return dsaudit.spark.scan(df, name=path.name, **options)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


def row_findings(report: dsaudit.Report) -> list:
    ds = json.loads(report._scanned.report("json", 1000))["datasets"][0]
    return [
        (f["code"], f["severity"], f["message"], [(s["source"], s.get("row")) for s in f["samples"]])
        for f in ds["findings"]
    ]


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_spark_table_finds_what_the_file_scan_finds(spark, table_csv: Path, partitions: int) -> None:
    whole = dsaudit.scan(table_csv, isolated=True)
    got = spark_table_scan(spark, table_csv, partitions)
    want = row_findings(whole)
    codes = {f[0] for f in want}
    # The injected problems are there to be found, by both.
    assert "L001" in codes and len(codes) >= 3, codes
    assert row_findings(got) == want
    assert class_counts(got) == class_counts(whole)
    assert got.exit_code == whole.exit_code
    def cols(r: dsaudit.Report) -> list:
        stats = json.loads(r.to_json())["datasets"][0]["stats"]["columns"]
        return [(c["name"], c["count"], c["nulls"]) for c in stats]

    assert cols(got) == cols(whole)


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_a_regression_table_is_one_whatever_the_partitions(spark, partitions: int) -> None:
    """scikit-learn's diabetes table: its target (214 whole numbers over 442 rows) is a
    continuous one, which a partition of 55 rows alone took for 55 classes."""
    path = REPO / "tests" / "data" / "diabetes.csv"
    whole = dsaudit.scan(path, isolated=True)
    got = spark_table_scan(spark, path, partitions)
    assert row_findings(got) == row_findings(whole)
    g, w = (json.loads(r.to_json())["datasets"][0] for r in (got, whole))
    assert w["guesses"][1].startswith("task: regression"), w["guesses"]
    assert g["guesses"][1:] == w["guesses"][1:]
    assert g["label_column"] is None and g["splits"] == w["splits"]


def test_a_sampled_spark_table_is_the_same_whatever_the_partitions(spark, table_csv: Path) -> None:
    # A budget that holds about a third of the rows: the sample is the rows of the
    # lowest content keys whichever partitions they were in; counts cover every row.
    reports = [
        spark_table_scan(spark, table_csv, n, memory_limit="700KB")
        for n in (1, 3, 8)
    ]
    found = [row_findings(r) for r in reports]
    assert found[0] == found[1] == found[2]
    ds = json.loads(reports[0].to_json())["datasets"][0]
    assert ds["samples"] == 599
    assert 100 < ds["sampled_rows"] < 400, ds["sampled_rows"]
    assert class_counts(reports[0]) == class_counts(dsaudit.scan(table_csv, isolated=True))


def test_parts_told_the_row_count_merge_to_the_same_sample(spark, table_csv: Path) -> None:
    # Told the table's row count, each partition keeps only its share of the sample
    # (fewer rows come back to the driver: crates/dsaudit-core/tests/table_parts.rs),
    # and the merged sample and findings are the same. Spark's size estimate decides
    # when to count: above the budget.
    from dsaudit import Report, _native
    from dsaudit.spark import _rows_if_large, _table_parts

    size = table_csv.stat().st_size
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // 8 + 1))
    try:
        df = spark.read.csv(str(table_csv), header=True, inferSchema=True)
        assert _rows_if_large(df, None) is None
        assert _rows_if_large(df, "10KB") == 599
        parts = {
            rows: _table_parts(df, label=None, split=None, name="cancer.csv", memory_limit="450KB", table_rows=rows)
            for rows in (None, 599)
        }
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    options = ([], [], {}, None, 0, "auto", [])
    reports = {rows: Report(_native.merge_parts(ps, *options)) for rows, ps in parts.items()}
    assert row_findings(reports[599]) == row_findings(reports[None])
    ds = json.loads(reports[599].to_json())["datasets"][0]
    assert ds["samples"] == 599 and ds["sampled_rows"] < 599


def test_a_saved_profile_of_a_spark_table_and_of_spark_images(spark, folder: Path, tmp_path: Path) -> None:
    """``save_profile`` of the training half of the breast-cancer table (three
    partitions) and of the photographs' training split: the serving half shows no
    shift against the table's profile (from the CLI and from Spark), the serving half
    with ``mean_radius`` in centimetres shows it on that column; the same photographs
    show none against the images' profile, drawn shapes do."""
    import subprocess

    import pandas as pd
    from pyspark.sql import functions as F

    table = pd.read_csv(TABLE)
    training = spark.createDataFrame(table.iloc[0::2].reset_index(drop=True)).repartition(3)
    profile = tmp_path / "table.dsp"
    assert dsaudit.spark.save_profile(training, profile, name="training") == str(profile)
    assert not list(tmp_path.glob(".*tmp"))
    served = table.iloc[1::2].reset_index(drop=True)
    served_csv = tmp_path / "served.csv"
    served.to_csv(served_csv, index=False)
    run = subprocess.run(
        [sys.executable, "-m", "dsaudit", "scan", str(served_csv), "--against", str(profile), "--format", "json", "-q"],
        capture_output=True,
        text=True,
    )
    assert run.returncode in (0, 1), run.stderr
    ds = json.loads(run.stdout)["datasets"][0]
    assert [f["code"] for f in ds["findings"] if f["code"].startswith("S")] == []
    assert "285 samples of training" in json.dumps(ds["guesses"])

    def shift_codes(r: dsaudit.Report) -> list:
        return [f.code for f in r.findings if f.code.startswith("S")]

    same = dsaudit.spark.scan(spark.createDataFrame(served), name="served", against=profile)
    assert shift_codes(same) == []
    skewed = spark.createDataFrame(served.assign(mean_radius=served["mean_radius"] / 10))
    report = dsaudit.spark.scan(skewed, name="served", against=[profile])
    assert "S001" in shift_codes(report)
    comparison = json.loads(report.to_json())["datasets"][0]["shift"]["comparisons"][0]
    drift = {f["feature"]: f["p_value"] for f in comparison["features"]}
    assert drift["mean_radius"] < 1e-6 and drift["mean_texture"] > 0.01

    # Images: a profile of the training split's photographs; the same photographs show
    # no shift against it, the repository's drawn shapes do.
    train = images(spark, folder, 3).where(F.col("split") == "train")
    photos = tmp_path / "photos.dsp"
    dsaudit.spark.save_profile(train, photos, root=str(folder))
    assert shift_codes(dsaudit.scan(folder / "train", against=photos, isolated=True)) == []
    shapes = dsaudit.scan(REPO / "sample_data" / "images", against=photos, isolated=True)
    assert "S001" in shift_codes(shapes), [f.code for f in shapes.findings]
    with pytest.raises(dsaudit.DatasetError, match="refusing to write inside the dataset being read"):
        dsaudit.spark.save_profile(train, folder / "profile.dsp", root=str(folder))
    assert not (folder / "profile.dsp").exists()
    with pytest.raises(dsaudit.DatasetError, match="empty dataset"):
        dsaudit.spark.save_profile(train.limit(0), tmp_path / "none.dsp", root=str(folder))

"""The Python API on the repository's sample data: the same findings and JSON as the
CLI, errors as the CLI words them, typed arguments, builds that leave the input
untouched, and cleanlab's answers for confident learning.

The comparison with the CLI needs its binary: set DSAUDIT_BIN (.ci/run does, and sets
DSAUDIT_REQUIRE_CLI=1 so that a missing binary fails instead of skipping).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dsaudit

ROOT = Path(__file__).resolve().parents[3]
IMAGES = ROOT / "sample_data" / "images"
# COCO and YOLO copies of one real-image detection set (tests/reference/detection_fixture.py).
COCO = ROOT / "tests" / "data" / "detection" / "coco"
YOLO = COCO.parent / "yolo"
TABLE = ROOT / "sample_data" / "table.csv"


def cli() -> str | None:
    binary = os.environ.get("DSAUDIT_BIN")
    if binary and Path(binary).is_file():
        return binary
    if os.environ.get("DSAUDIT_REQUIRE_CLI"):
        pytest.fail("DSAUDIT_REQUIRE_CLI is set but DSAUDIT_BIN names no binary")
    pytest.skip("set DSAUDIT_BIN to the dsaudit binary to compare with the CLI")
    return None


def tree_digest(root: Path) -> str:
    h = hashlib.blake2b()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def assert_html_renders(page: str) -> None:
    """The notebook HTML parses: every element it opens it closes, and it holds the
    findings section and its tables."""
    from html.parser import HTMLParser

    void = {"meta", "img", "br", "hr", "input", "link", "col", "source", "wbr", "area", "base"}

    class Checker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.seen: set[str] = set()
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.seen.add(tag)
            if tag not in void:
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    c = Checker()
    c.feed(page)
    c.close()
    assert c.stack in ([], ["html"]), c.stack[-5:]
    assert {"html", "body", "h2", "table"} <= c.seen
    assert "Findings" in "".join(c.text)


@pytest.mark.parametrize(
    "path", [IMAGES, TABLE, COCO, YOLO], ids=["images", "table", "coco", "yolo"]
)
def test_scan_reports_what_the_cli_reports(path: Path) -> None:
    report = dsaudit.scan(path)
    binary = cli()
    run = subprocess.run(
        [binary, "scan", str(path), "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert run.returncode in (0, 1), run.stderr
    # Same engine, same defaults: the JSON is byte for byte the CLI's (the path is
    # printed as given in both).
    assert report.to_json() == run.stdout
    assert report.exit_code == run.returncode


def test_report_exposes_findings_summary_and_formats(tmp_path: Path) -> None:
    report = dsaudit.scan(IMAGES)
    doc = json.loads(report.to_json())
    findings = doc["datasets"][0]["findings"]
    assert [f.code for f in report.findings] == [f["code"] for f in findings]
    assert report.findings, "the sample images hold injected issues"
    f = report.findings[0]
    assert f.severity in ("error", "warning", "info")
    assert f.sample_count >= len(f.samples)
    assert report.summary["samples"] == doc["datasets"][0]["samples"]
    assert "findings" not in report.summary
    assert report.to_text().startswith("dsaudit ")
    sarif = json.loads(report.to_sarif())
    assert sarif["version"] == "2.1.0"
    html = tmp_path / "report.html"
    page = report.to_html(html)
    assert html.read_text(encoding="utf-8") == page
    assert_html_renders(report._repr_html_())
    assert repr(report).startswith("<dsaudit.Report")


def test_manifest_is_the_clis_manifest_as_a_pyarrow_table(tmp_path: Path) -> None:
    if os.environ.get("DSAUDIT_REQUIRE_PYARROW"):
        import pyarrow as pa
    else:
        pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    for path in (IMAGES, TABLE):
        report = dsaudit.scan(path)
        table = report.manifest()
        assert isinstance(table, pa.Table)
        assert table.num_rows == report.summary["samples"]
        written = tmp_path / f"{path.name}.parquet"
        run = subprocess.run(
            [cli(), "scan", str(path), "--quiet", "--manifest", str(written)],
            capture_output=True,
            text=True,
        )
        assert run.returncode in (0, 1), run.stderr
        # The same rows and values as the CLI's --manifest, column for column.
        assert table.to_pylist() == pq.read_table(written).to_pylist()


def test_select_ignore_thresholds_and_fail_on_are_the_clis() -> None:
    only = dsaudit.scan(IMAGES, select=["D"])
    assert only.findings and all(f.code.startswith("D") for f in only.findings)
    none = dsaudit.scan(IMAGES, ignore=["D", "I", "B", "L", "N", "S", "O"])
    assert none.findings == [] and none.exit_code == 0
    never = dsaudit.scan(IMAGES, fail_on="never")
    assert never.exit_code == 0
    loose = dsaudit.scan(TABLE, thresholds={"class-imbalance.max-ratio": 1000})
    assert all(f.name != "class-imbalance" for f in loose.findings)


def test_errors_are_one_line_dataset_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(dsaudit.DatasetError) as e:
        dsaudit.scan(missing)
    assert str(missing) in str(e.value) and "\n" not in str(e.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(dsaudit.DatasetError, match="empty directory"):
        dsaudit.scan(empty)
    with pytest.raises(dsaudit.DatasetError, match="--label column 'nope' not found"):
        dsaudit.scan(TABLE, label="nope")


@pytest.mark.parametrize(
    "found, name",
    [
        ("parquet/negative-page-value-count-alloc", "t.parquet"),
        ("parquet/3ae8b7f82284-alloc", "t.parquet"),
        ("ipc/buffer-length-alloc", "t.arrow"),
    ],
)
def test_tables_that_made_polars_ask_for_exabytes_raise_instead_of_ending_python(
    tmp_path: Path, found: str, name: str
) -> None:
    # These files made polars' readers allocate sizes read from the file (2^61 bytes,
    # 55 GB, 5e18 bytes); an allocation failure ends the process, and this one is
    # the interpreter. The size checks refuse them first.
    table = tmp_path / name
    table.write_bytes((ROOT / "fuzz" / "regressions" / found).read_bytes())
    with pytest.raises(dsaudit.DatasetError) as e:
        dsaudit.scan(table)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_bad_arguments_name_the_parameter() -> None:
    with pytest.raises(TypeError, match="path"):
        dsaudit.scan(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="thresholds"):
        dsaudit.scan(IMAGES, thresholds={"class-imbalance.max-ratio": "high"})
    with pytest.raises(TypeError, match="seed"):
        dsaudit.scan(IMAGES, seed="0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="did you mean 'class-imbalance'"):
        dsaudit.scan(IMAGES, thresholds={"class-imbalanse.max-ratio": 3})
    with pytest.raises(ValueError, match="fail_on"):
        dsaudit.scan(IMAGES, fail_on="sometimes")
    with pytest.raises(ValueError, match="label_model"):
        dsaudit.scan(IMAGES, label_model="forest")
    with pytest.raises(ValueError, match="memory_limit"):
        dsaudit.scan(TABLE, memory_limit="lots")
    with pytest.raises(TypeError, match="memory_limit"):
        dsaudit.scan(TABLE, memory_limit=-1)


def test_memory_limit_reads_a_large_table_in_blocks_as_the_cli_does() -> None:
    # The real breast cancer table (124 KB) is over what a 300 KiB limit plans for.
    table = ROOT / "tests" / "data" / "breast_cancer.csv"
    report = dsaudit.scan(table, memory_limit="300KiB")
    doc = json.loads(report.to_json())["datasets"][0]
    assert doc["samples"] == 569
    assert 0 < doc["sampled_rows"] < 569
    assert sum(sum(s["classes"].values()) for s in doc["splits"]) == 569
    # Bytes and text are the same limit, and the CLI's flag gives the same report.
    assert dsaudit.scan(table, memory_limit=300 * 1024).to_json() == report.to_json()
    binary = cli()
    run = subprocess.run(
        [binary, "scan", str(table), "--format", "json", "--quiet", "--memory-limit", "300KiB"],
        capture_output=True,
        text=True,
    )
    assert run.stdout == report.to_json()
    whole = json.loads(dsaudit.scan(table).to_json())["datasets"][0]
    assert "sampled_rows" not in whole


def test_split_builds_both_validation_splits_and_leaves_the_input(tmp_path: Path) -> None:
    before = tree_digest(IMAGES)
    out = tmp_path / "split"
    summary = dsaudit.split(IMAGES, out, train_val=0.2, test_val=0.5, seed=1)
    assert "train-val" in summary and "test-val" in summary
    assert (out / "manifest.csv").is_file() or any(out.iterdir())
    assert tree_digest(IMAGES) == before
    with pytest.raises(dsaudit.DatasetError, match="not empty"):
        dsaudit.split(IMAGES, out)
    dsaudit.split(IMAGES, out, overwrite=True)


# cleanlab 2.7's answers on this fixture (tests/reference/cleanlab_fixture.py): the
# same numbers the core's unit test checks.
PROBS = np.array(
    [
        [0.9, 0.05, 0.05],
        [0.8, 0.1, 0.1],
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.7, 0.1],
        [0.05, 0.9, 0.05],
        [0.1, 0.1, 0.8],
        [0.1, 0.2, 0.7],
        [0.05, 0.05, 0.9],
        [0.85, 0.1, 0.05],
        [0.1, 0.1, 0.8],
        [0.3, 0.4, 0.3],
    ]
)
LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 0, 2])


@pytest.mark.parametrize(
    "filter_by,want",
    [
        ("prune_by_noise_rate", [9, 10]),
        ("prune_by_class", [9, 10]),
        ("both", [9, 10]),
        ("confident_learning", [9, 10]),
        ("predicted_neq_given", [9, 10, 11]),
    ],
)
def test_find_label_issues_gives_cleanlabs_answers(filter_by: str, want: list[int]) -> None:
    mask = dsaudit.find_label_issues(LABELS, PROBS, filter_by=filter_by)
    assert mask.dtype == bool and mask.shape == (12,)
    assert list(np.flatnonzero(mask)) == want


def test_ranked_indices_and_quality_scores() -> None:
    ranked = dsaudit.find_label_issues(LABELS, PROBS, return_indices_ranked_by="self_confidence")
    # Sample 9 gives its label 0.1, sample 10 gives 0.1 too: ties keep index order.
    assert list(ranked) == [9, 10]
    scores = dsaudit.label_quality_scores(LABELS, PROBS)
    assert np.allclose(scores, PROBS[np.arange(12), LABELS])
    margin = dsaudit.label_quality_scores(LABELS, PROBS, method="normalized_margin")
    assert np.isclose(margin[0], (0.9 - 0.05 + 1) / 2)


def test_label_arrays_are_checked() -> None:
    with pytest.raises(ValueError, match="rows"):
        dsaudit.find_label_issues(LABELS[:5], PROBS)
    with pytest.raises(ValueError, match="class 3"):
        dsaudit.find_label_issues(np.array([3] * 12), PROBS)
    with pytest.raises(ValueError, match="filter_by"):
        dsaudit.find_label_issues(LABELS, PROBS, filter_by="low_magic")
    # cleanlab's arguments at their defaults are accepted; others are refused, not ignored.
    assert list(np.flatnonzero(dsaudit.find_label_issues(LABELS, PROBS, n_jobs=4, verbose=True, frac_noise=1.0))) == [9, 10]
    with pytest.raises(ValueError, match="frac_noise"):
        dsaudit.find_label_issues(LABELS, PROBS, frac_noise=0.5)
    with pytest.raises(TypeError):
        dsaudit.find_label_issues(LABELS, PROBS, no_such_argument=1)  # type: ignore[call-arg]


def test_console_script_is_the_cli() -> None:
    import sys

    report = dsaudit.scan(IMAGES)
    for command in (
        [sys.executable, "-m", "dsaudit"],
        [str(Path(sys.executable).parent / "dsaudit")],
    ):
        run = subprocess.run(
            [*command, "scan", str(IMAGES), "--format", "json", "--quiet"],
            capture_output=True,
            text=True,
        )
        assert run.stdout == report.to_json(), run.stderr
        assert run.returncode == report.exit_code
    bad = subprocess.run(
        [sys.executable, "-m", "dsaudit", "scan", "/no/such/dataset"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: /no/such/dataset")
    # The package has no deep-learning stack: the baseline says how to get it.
    baseline = subprocess.run(
        [sys.executable, "-m", "dsaudit", "baseline", str(IMAGES)],
        capture_output=True,
        text=True,
    )
    assert baseline.returncode == 2 and "baseline" in baseline.stderr


def test_scan_leaves_the_interpreter_free() -> None:
    import threading

    done = threading.Event()
    counted = 0
    failed: list[BaseException] = []

    def work() -> None:
        # A scan that raises must end the wait below, not leave it spinning.
        try:
            dsaudit.scan(IMAGES)
        except BaseException as e:
            failed.append(e)
        finally:
            done.set()

    t = threading.Thread(target=work)
    t.start()
    # Pure Python on this thread: it runs only while the scan does not hold the
    # interpreter.
    while not done.is_set():
        counted += 1
    t.join()
    assert not failed, failed
    assert counted > 100_000


def test_the_other_builds(tmp_path: Path) -> None:
    before = tree_digest(IMAGES)
    tiny = dsaudit.subset(IMAGES, tmp_path / "tiny", per_class=2, seed=3)
    assert "subset" in tiny
    rebalanced = dsaudit.rebalance(IMAGES, tmp_path / "balanced", strategy="undersample")
    assert "rebalance" in rebalanced
    cleaned = dsaudit.clean(TABLE, tmp_path / "clean")
    assert "clean" in cleaned and (tmp_path / "clean").is_dir()
    assert tree_digest(IMAGES) == before
    with pytest.raises(ValueError, match="unknown variant"):
        dsaudit.rebalance(IMAGES, tmp_path / "x", strategy="shuffle")
    with pytest.raises(TypeError, match="per_class"):
        dsaudit.subset(IMAGES, tmp_path / "y", per_class="two")  # type: ignore[arg-type]


def test_the_readme_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\n") + len("```python\n")
    code = readme[start : readme.index("```", start)]
    assert len([line for line in code.splitlines() if line.strip()]) == 3
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert isinstance(scope["report"], dsaudit.Report)
    assert "<html" in scope["report"]._repr_html_()


def test_scan_frame_finds_what_the_file_scan_finds(tmp_path: Path) -> None:
    if os.environ.get("DSAUDIT_REQUIRE_PYARROW"):
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    else:
        pacsv = pytest.importorskip("pyarrow.csv")
        pq = pytest.importorskip("pyarrow.parquet")
    # The same table as a file and in memory, with the same column types (pyarrow's
    # CSV reader infers types of its own; the Parquet file keeps them for the file scan).
    table = pacsv.read_csv(TABLE)
    written = tmp_path / "table.parquet"
    pq.write_table(table, written)
    from_file = dsaudit.scan(written, isolated=True)
    label = from_file.summary["label_column"]
    in_memory = dsaudit.scan_frame(table, label=label, name="table.parquet")
    assert in_memory.summary["samples"] == from_file.summary["samples"] == table.num_rows
    assert in_memory.summary["layout"] == "table (in memory)"

    def what(r: dsaudit.Report) -> list:
        return [(f.code, f.sample_count, [(s.id, s.row) for s in f.samples]) for f in r.findings]

    assert what(in_memory) == what(from_file)
    assert any(f.code.startswith("D") for f in in_memory.findings)

    class Wrapped:
        """Any table with the Arrow PyCapsule interface (polars, pandas >= 2.2)."""

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return table.__arrow_c_stream__(requested_schema)

    assert what(dsaudit.scan_frame(Wrapped(), label=label)) == what(from_file)
    with pytest.raises(dsaudit.DatasetError, match="columns are: "):
        dsaudit.scan_frame(table, label="no_such_column")
    with pytest.raises(TypeError, match="df"):
        dsaudit.scan_frame([1, 2, 3], label=label)


def test_ctrl_c_interrupts_a_scan() -> None:
    import signal
    import sys
    import time

    script = (
        "import sys, dsaudit\n"
        "print('started', flush=True)\n"
        "for _ in range(1000):\n"
        f"    dsaudit.scan({str(IMAGES)!r})\n"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background by a shell without job control (nohup
        # ... &) ignores SIGINT, and an ignored signal stays ignored across exec:
        # Python would then install no KeyboardInterrupt handler and the scans run on.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    took = time.monotonic() - sent
    assert "KeyboardInterrupt" in err
    assert p.returncode != 0
    # Within the 50 ms polling, plus the interpreter's own exit.
    assert took < 5, took


def test_scan_frame_of_a_pandas_dataframe(tmp_path: Path) -> None:
    if os.environ.get("DSAUDIT_REQUIRE_PANDAS"):
        import pandas as pd
    else:
        pd = pytest.importorskip("pandas")
    df = pd.read_csv(TABLE)
    written = tmp_path / "table.parquet"
    df.to_parquet(written, index=False)
    from_file = dsaudit.scan(written, isolated=True)
    in_memory = dsaudit.scan_frame(df, label="label", name="table.parquet")

    def what(r: dsaudit.Report) -> list:
        return [(f.code, f.sample_count, [(s.id, s.row) for s in f.samples]) for f in r.findings]

    assert in_memory.summary["samples"] == len(df)
    assert what(in_memory) == what(from_file)


def test_the_cli_runs_anew_on_each_call_in_one_process(capfd: pytest.CaptureFixture[str]) -> None:
    from dsaudit import _native

    assert _native.run_cli(["dsaudit", "config", str(IMAGES)]) == 0
    first = capfd.readouterr()
    assert "fail-on" in first.out
    # A second run in the same process reads its own arguments, not the first run's.
    assert _native.run_cli(["dsaudit", "scan", "/no/such/dataset"]) == 2
    second = capfd.readouterr()
    assert second.err.startswith("error: /no/such/dataset") and "fail-on" not in second.out


def test_html_is_never_written_inside_the_dataset(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "images"
    shutil.copytree(IMAGES, data)
    before = tree_digest(data)
    report = dsaudit.scan(data)
    with pytest.raises(dsaudit.DatasetError, match="refusing to write inside the dataset"):
        report.to_html(data / "report.html")
    assert tree_digest(data) == before
    report.to_html(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == report.to_html()


def test_scan_and_scan_frame_against_a_saved_profile(tmp_path: Path) -> None:
    """Training–serving skew from a notebook: a profile of the training half of the
    breast-cancer table, written by ``python -m dsaudit partial``; the serving half as
    a file and as a DataFrame shows no shift, and with one column in other units it
    shows that column."""
    import sys

    if os.environ.get("DSAUDIT_REQUIRE_PANDAS"):
        import pandas as pd
    else:
        pd = pytest.importorskip("pandas")
    table = pd.read_csv(ROOT / "tests" / "data" / "breast_cancer.csv")
    (tmp_path / "training").mkdir()
    training = tmp_path / "training" / "training.csv"
    table.iloc[0::2].to_csv(training, index=False)
    profile = tmp_path / "profile.dsp"
    made = subprocess.run(
        [sys.executable, "-m", "dsaudit", "partial", str(training), "--shard", "1/1", "-qo", str(profile)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    served = table.iloc[1::2].reset_index(drop=True)
    served_file = tmp_path / "served.csv"
    served.to_csv(served_file, index=False)

    def shift(r: dsaudit.Report) -> tuple[list[str], dict]:
        doc = json.loads(r.to_json())
        ds = doc["datasets"][0] if "datasets" in doc else doc
        return [f.code for f in r.findings if f.code.startswith("S")], ds["shift"]

    for report in (
        dsaudit.scan(served_file, against=profile, isolated=True),
        dsaudit.scan_frame(served, label="label", against=[profile]),
    ):
        codes, s = shift(report)
        assert codes == []
        assert [(c["reference"], c["current"]) for c in s["comparisons"]] == [("reference", "current")]
    skewed = served.assign(mean_radius=served["mean_radius"] / 10)
    codes, s = shift(dsaudit.scan_frame(skewed, label="label", against=str(profile)))
    assert "S001" in codes
    drift = {f["feature"]: f["p_value"] for f in s["comparisons"][0]["features"]}
    assert drift["mean_radius"] < 1e-6 and drift["mean_texture"] > 0.01
    with pytest.raises(dsaudit.DatasetError, match="the data has no column 'mean_radius'"):
        dsaudit.scan_frame(served.drop(columns=["mean_radius"]), label="label", against=profile)
    with pytest.raises(TypeError, match="against"):
        dsaudit.scan_frame(served, label="label", against=3)  # type: ignore[arg-type]

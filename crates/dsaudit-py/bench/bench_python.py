"""The Python package against the CLI on the same data, in one run, interleaved:
`dsaudit.scan` and `dsaudit scan` (scan-only release binary) on an image folder, and
`Report.manifest()` of a table. Usage: bench_python.py BIN IMAGES TABLE [RUNS]."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import dsaudit


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    binary, images, table = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    cli_args = [binary, "scan", "-q", "--fail-on", "never", "--format", "json", images]
    # Warm the page cache once for both.
    subprocess.run(cli_args, check=True, capture_output=True)
    py, cli = [], []
    for _ in range(runs):
        cli.append(timed(lambda: subprocess.run(cli_args, check=True, capture_output=True)))
        py.append(timed(lambda: dsaudit.scan(images, fail_on="never").to_json()))
    mp, mc = statistics.median(py), statistics.median(cli)
    print(f"scan {images}: python {mp:.2f} s, cli {mc:.2f} s (medians of {runs}); python/cli = {mp / mc:.3f}")
    report = dsaudit.scan(table, fail_on="never")
    times = []
    for _ in range(runs):
        times.append(timed(report.manifest))
    rows = report.manifest().num_rows
    print(f"manifest() of {rows} rows: {statistics.median(times):.3f} s (median of {runs})")


if __name__ == "__main__":
    main()

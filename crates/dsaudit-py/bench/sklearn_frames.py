"""scan_frame on scikit-learn's real tables (pandas DataFrames, as_frame=True): what a
notebook user sees on data nobody here generated. Needs scikit-learn and pandas
(`pip install scikit-learn pandas`). Prints each table's findings and scan time."""

from __future__ import annotations

import time

import dsaudit
from sklearn import datasets


def main() -> None:
    for name in ("load_iris", "load_wine", "load_breast_cancer", "load_digits"):
        frame = getattr(datasets, name)(as_frame=True).frame
        start = time.perf_counter()
        report = dsaudit.scan_frame(frame, label="target", name=name.removeprefix("load_"))
        took = time.perf_counter() - start
        found = ", ".join(f"{f.code} {f.name} ({f.sample_count})" for f in report.findings)
        print(f"{name.removeprefix('load_'):14} {frame.shape[0]:5} rows  {took:5.2f} s  exit {report.exit_code}  {found}")


if __name__ == "__main__":
    main()

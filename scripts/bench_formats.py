"""One image dataset stored three ways, scanned by the same binary in one run,
interleaved: an image folder, Hugging Face Parquet shards, WebDataset tar shards
(issue 31's target: the shard formats at >= 90% of the folder's throughput).
Usage: bench_formats.py BIN FOLDER HF_SHARDS TAR_SHARDS [RUNS]; medians of RUNS."""

import json
import statistics
import subprocess
import sys
import time


def scan(binary: str, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "scan", "-q", "--fail-on", "never", "--format", "json", path],
        check=True,
        capture_output=True,
    ).stdout
    secs = time.perf_counter() - start
    return secs, json.loads(out)["datasets"][0]["samples"]


def main() -> None:
    binary, folder, hf, wds = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    layouts = {"image folder": folder, "hf-parquet": hf, "webdataset": wds}
    for path in layouts.values():
        scan(binary, path)  # the page cache warmed once, so the figure is the scan
    times = {name: [] for name in layouts}
    samples = {}
    for _ in range(runs):
        for name, path in layouts.items():
            secs, n = scan(binary, path)
            times[name].append(secs)
            samples[name] = n
    base = samples["image folder"] / statistics.median(times["image folder"])
    for name in layouts:
        med = statistics.median(times[name])
        rate = samples[name] / med
        print(
            f"{name:<13} {samples[name]:>7} samples  median {med:6.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times[name])})  {rate:8.0f} samples/s  "
            f"{rate / base:5.3f} of the folder's"
        )


if __name__ == "__main__":
    main()

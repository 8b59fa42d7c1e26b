"""dsaudit beside its peers on one image folder, in one run (issue 30): the plain
decode limit (`examples/decode_limit.rs`: read + BLAKE3 + full decode on every
core), `dsaudit scan`, cleanvision (all its default checks) and fastdup (its default
run), each on the same files with a warm page cache; prints seconds, images/s and the
ratios the issue's targets are stated in.

Usage: bench_peers.py DSAUDIT DECODE_LIMIT FOLDER PEER_PYTHON [RUNS]
PEER_PYTHON is a throwaway venv's python with cleanvision and fastdup installed
(`just bench-peers` makes one; never CI). dsaudit and the decode limit take the
median of RUNS; the peers, which take minutes, run once.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd, env=None):
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start, out.stdout.decode()


CLEANVISION = """
import sys
from cleanvision import Imagelab
lab = Imagelab(data_path=sys.argv[1])
lab.find_issues()
print(len(lab.issues))
"""

FASTDUP = """
import sys, fastdup
fd = fastdup.create(input_dir=sys.argv[1], work_dir=sys.argv[2])
fd.run(overwrite=True, verbose=False)
"""


def main():
    dsaudit, limit, folder, peer = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    n = sum(len(files) for _, _, files in os.walk(folder))
    # The page cache warmed once, so every figure is compute, not disk.
    scan = [dsaudit, "scan", "-q", "--fail-on", "never", "--format", "json", folder]
    _, out = timed(scan)
    assert json.loads(out)["datasets"][0]["samples"] == n
    secs = {}
    _, out = timed([limit, folder, str(runs)])
    secs["decode limit"] = float(re.search(r"median ([0-9.]+) s", out).group(1))
    secs["dsaudit scan"] = statistics.median(timed(scan)[0] for _ in range(runs))
    env = dict(os.environ, SENTRY_OPT_OUT="1", PYTHONWARNINGS="ignore")
    secs["cleanvision"] = timed([peer, "-c", CLEANVISION, folder], env)[0]
    with tempfile.TemporaryDirectory() as work:
        secs["fastdup"] = timed([peer, "-c", FASTDUP, folder, work], env)[0]
    for name, s in secs.items():
        print(f"{name:<13} {n:>7} images  {s:8.2f} s  {n / s:8.0f} images/s")
    scan_rate = n / secs["dsaudit scan"]
    print(f"dsaudit / decode limit: {scan_rate / (n / secs['decode limit']):.2f}× (target ≥ 2)")
    print(f"dsaudit / cleanvision:  {secs['cleanvision'] / secs['dsaudit scan']:.1f}× (target ≥ 20)")
    print(f"dsaudit / fastdup:      {secs['fastdup'] / secs['dsaudit scan']:.1f}× (target ≥ 10)")


if __name__ == "__main__":
    main()

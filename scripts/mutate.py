#!/usr/bin/env python3
"""Mutated files through the real binary: each run must end with a report or a one-line
error, never a panic, a signal or a hang.

usage: mutate.py DSAUDIT_BINARY SEED_FILE N [SEED]

Writes N mutants of SEED_FILE (byte flips, overwritten runs, truncations, duplicated
and deleted blocks; seeded), scans each with a 60 s deadline, and counts the outcomes.
The messages of files a reader gave up on ("the reader failed on this file (...)")
are tallied too: each is a panic inside a dependency that dsaudit caught.
"""

import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile


def mutate(data, rng):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        if not b:
            break
        i = rng.randrange(len(b))
        if kind == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            n = rng.randint(1, 16)
            b[i:i + n] = bytes(rng.randrange(256) for _ in range(n))
        elif kind == 2:
            del b[i:]
        elif kind == 3:
            n = rng.randint(1, 64)
            b[i:i] = b[i:i + n]
        else:
            n = rng.randint(1, 64)
            del b[i:i + n]
    return bytes(b)


def main():
    binary, seed_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    data = open(seed_file, "rb").read()
    ext = os.path.splitext(seed_file)[1]
    work = tempfile.mkdtemp(prefix="dsaudit-mutate-")
    outcomes = collections.Counter()
    caught = collections.Counter()
    bad = []
    for k in range(n):
        # A single image or array is no dataset: the mutant goes into one with two
        # intact samples beside it.
        if ext in (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tiff", ".webp"):
            path = os.path.join(work, f"m{k}")
            os.makedirs(f"{path}/a")
            os.makedirs(f"{path}/b")
            with open(f"{path}/a/intact{ext}", "wb") as f:
                f.write(data)
            with open(f"{path}/b/intact{ext}", "wb") as f:
                f.write(data)
            target = f"{path}/a/mutant{ext}"
        elif ext == ".npy":
            path = os.path.join(work, f"m{k}")
            os.makedirs(path)
            target = f"{path}/X_train.npy"
        else:
            path = target = os.path.join(work, f"m{k}{ext}")
        with open(target, "wb") as f:
            f.write(mutate(data, rng))
        try:
            env = {k: v for k, v in os.environ.items() if k != "DSAUDIT_PANIC_REPORT"}
            p = subprocess.run([binary, "scan", path, "-q", "--fail-on", "never"],
                               capture_output=True, timeout=60, env=env)
        except subprocess.TimeoutExpired:
            outcomes["hang"] += 1
            bad.append(path)
            continue
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode == 0 and not err:
            outcomes["report"] += 1
        elif p.returncode == 2 and err.count("\n") == 1 and err.startswith("error: "):
            outcomes["one-line error"] += 1
            if "the reader failed on this file" in err:
                caught[err.split("the reader failed on this file (", 1)[1].rstrip(")\n")[:160]] += 1
        else:
            outcomes[f"exit {p.returncode}"] += 1
            bad.append(f"{path}: exit {p.returncode}: {err.strip()[:300]}")
            continue
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    print(f"{n} mutants of {os.path.basename(seed_file)}: " +
          ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items())))
    for msg, count in caught.most_common():
        print(f"  caught {count}x: {msg}")
    for b in bad:
        print(f"  BAD {b}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

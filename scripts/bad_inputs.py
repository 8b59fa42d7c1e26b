#!/usr/bin/env python3
"""Every kind of bad input of issue 32, over every command, with a deadline.

usage: bad_inputs.py DSAUDIT_BINARY [WORKDIR]

Builds each bad dataset by hand (no generator shared with the code under test), runs
scan, check, stats, split, clean (with --materialize copy) and scan --html/--manifest on
it with a 60 s deadline under /usr/bin/time, and checks what issue 32 promises:
no hang, no panic (exit 101, "panicked"), peak RSS under 1 GiB, nothing written or
changed inside the dataset, nothing outside it read or materialised, every file under
a class folder a manifest row. Prints one Markdown table row per run and a summary;
exits 1 when a promise is broken.
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

LIMIT_S = 60
LIMIT_KIB = 1 << 20


def png(path, seed, w=16, h=16, grey=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    channels = 1 if grey else 3
    raw = b"".join(
        b"\x00" + bytes(((seed * 37 + x * 13 + y * y * 5 + x * y * seed + c * 71) % 256)
                        for x in range(w) for c in range(channels))
        for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    color = 0 if grey else 2
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def big_png(path, side, rgb=False):
    """A legal PNG of side×side pixels (grey, or RGB) that compresses to almost nothing."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    comp = zlib.compressobj(9)
    row = b"\x00" + bytes(side * (3 if rgb else 1))
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2 if rgb else 0, 0, 0, 0))
                + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def classes(root, n=6):
    for c in "ab":
        for i in range(n):
            png(f"{root}/{c}/{i}.png", i + (20 if c == "b" else 0))


def build(work):
    """name -> (dataset path to pass, dataset root, files outside it that must stay unread)."""
    out = {}
    secret = f"{work}/secret"
    png(f"{secret}/s.png", 99)

    d = f"{work}/fifo-in-class"
    classes(d)
    os.mkfifo(f"{d}/a/pipe")
    os.symlink("/dev/zero", f"{d}/b/zero.png")
    out["FIFO and /dev/zero link in class folders"] = (d, d)

    d = f"{work}/labels-fifo-zero"
    for i in range(6):
        png(f"{d}/img{i}.png", i)
    os.mkfifo(f"{d}/pipe.png")
    os.symlink("/dev/zero", f"{d}/zero.png")
    with open(f"{d}/labels.csv", "w") as f:
        f.write("path,label\n" + "".join(f"img{i}.png,{'ab'[i % 2]}\n" for i in range(6))
                + "pipe.png,a\nzero.png,b\n/dev/zero,a\n")
    out["labels file naming a FIFO, /dev/zero and a link to it"] = (d, d)

    d = f"{work}/huge-non-image"
    classes(d)
    with open(f"{d}/a/huge.png", "wb") as f:
        f.truncate(3 << 30)
    with open(f"{d}/b/page.png", "wb") as f:
        f.write(b"<html>" * (8 << 20))
    out["3 GiB sparse .png and a 48 MiB HTML page named .png"] = (d, d)

    d = f"{work}/large-legal-pngs"
    for i in range(8):
        big_png(f"{d}/{'ab'[i % 2]}/{i}.png", 12000)
    out["8 legal 12000x12000 PNGs (144 MB of pixels each), 8 threads"] = (d, d)

    d = f"{work}/large-legal-rgb-pngs"
    for i in range(4):
        big_png(f"{d}/{'ab'[i % 2]}/{i}.png", 12000, rgb=True)
    out["4 legal 12000x12000 RGB PNGs (432 MB of pixels each), 8 threads"] = (d, d)

    d = f"{work}/bomb"
    classes(d)
    big_png(f"{d}/a/bomb.png", 30000)
    out["decompression bomb: 30000x30000 PNG of 900 MB pixels in 0.9 MB"] = (d, d)

    for folder, label, text in [
        ("header-only", "header-only CSV", "a,b,label\n"),
        ("two-labels", "two columns named label",
         "a,label,label\n" + "".join(f"{i},x,y\n" for i in range(20))),
        ("semicolon", "semicolon-separated CSV",
         "a;b;label\n" + "".join(f"{i};{i * 3 % 7};{'xy'[i % 2]}\n" for i in range(60))),
        ("regression", "float regression target",
         "a,b,label\n" + "".join(f"{i},{i * 2 % 13},{i * 0.37 + 0.1:.3f}\n" for i in range(300))),
    ]:
        d = f"{work}/{folder}"
        os.makedirs(d)
        with open(f"{d}/t.csv", "w") as f:
            f.write(text)
        out[label] = (f"{d}/t.csv", d)

    d = f"{work}/outside-paths"
    for i in range(6):
        png(f"{d}/img{i}.png", i)
    with open(f"{d}/labels.csv", "w") as f:
        f.write("path,label\n" + "".join(f"img{i}.png,{'ab'[i % 2]}\n" for i in range(6))
                + f"../secret/s.png,a\n{secret}/s.png,b\n")
    out["labels file with ../ and absolute paths outside"] = (d, d)

    d = f"{work}/control-chars"
    classes(d)
    with open(f"{d}/b/x\n::error file=a.py::forged\r\x1b[2J.png", "wb") as f:
        f.write(b"not a png")
    out["file name with a line break, ::error and ESC"] = (d, d)

    d = f"{work}/non-utf8"
    classes(d)
    png(f"{d}/a/tmp.png", 77)
    os.rename(f"{d}/a/tmp.png".encode(), f"{d}/a/caf\xe9.png".encode())
    out["non-UTF-8 file name"] = (d, d)

    d = f"{work}/fortran-npy"
    os.makedirs(d)
    rows, cols = 50, 3
    header = f"{{'descr': '<f8', 'fortran_order': True, 'shape': ({rows}, {cols}), }}".encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    data = b"".join(struct.pack("<d", float(r * (j + 1))) for j in range(cols) for r in range(rows))
    with open(f"{d}/X_train.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data)
    out["Fortran-order .npy"] = (d, d)

    d = f"{work}/truncated-parquet"
    os.makedirs(d)
    with open(f"{d}/t.parquet", "wb") as f:
        f.write(b"PAR1" + os.urandom(64) + b"PAR1")
    out["damaged Parquet"] = (f"{d}/t.parquet", d)

    # What the fuzzers found in polars' readers: panics (caught) and impossible
    # allocations (refused by the allocator guard).
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for found, name, ext in [
        ("parquet/thrift-metadata-unwrap", "Parquet whose reader panics (fuzzer)", "parquet"),
        ("parquet/negative-page-value-count-alloc", "Parquet whose reader asks for 2^61 bytes (fuzzer)", "parquet"),
        ("ipc/ipc-length-assertion", "Arrow IPC whose reader panics (fuzzer)", "arrow"),
        ("ipc/buffer-length-alloc", "Arrow IPC whose reader asks for 5.3e18 bytes (fuzzer)", "arrow"),
    ]:
        d = f"{work}/{found.replace('/', '-')}"
        os.makedirs(d)
        shutil.copy(f"{repo}/fuzz/regressions/{found}", f"{d}/t.{ext}")
        out[name] = (f"{d}/t.{ext}", d)

    d = f"{work}/config-inside"
    classes(d)
    with open(f"{d}/dsaudit.toml", "w") as f:
        f.write('[cache]\ndir = ".dsaudit_cache"\n')
    out["dsaudit.toml inside the dataset asking for a cache inside it"] = (d, d)
    return out, secret


def snapshot(root):
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root.encode(), followlinks=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            seen[p] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


def commands(path, work, name):
    out = f"{work}/out-{name}"
    # Images are materialised; tables and arrays are always written one file per split.
    has_images = any(f.endswith(".png") for _, _, fs in os.walk(path) for f in fs)
    copy = ["--materialize", "copy"] if has_images else []
    return [
        ["scan", path],
        # The user cache (XDG_CACHE_HOME below) unless a configuration names one.
        ["check", path],
        ["stats", path],
        ["split", path, "-o", out + "-split", "--carve-test", "0.3", *copy],
        ["clean", path, "-o", out + "-clean", *copy],
        ["scan", path, "--html", out + ".html", "--manifest", out + "-manifest.csv"],
    ]


def main():
    binary = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="dsaudit-bad-")
    os.makedirs(work, exist_ok=True)
    cases, secret = build(work)
    secret_atime = os.stat(f"{secret}/s.png").st_atime_ns
    broken = []
    print("| input | command | exit | seconds | peak MiB | inside the dataset | error |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, (path, root) in cases.items():
        slug = "".join(ch if ch.isalnum() else "-" for ch in label)[:40]
        for cmd in commands(path, work, slug):
            before = snapshot(root)
            env = dict(os.environ, RAYON_NUM_THREADS="8", XDG_CACHE_HOME=f"{work}/xdg")
            timing = f"{work}/time"
            p = subprocess.Popen(["/usr/bin/time", "-f", "%e %M", "-o", timing, binary, *cmd],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=work,
                                 start_new_session=True)
            try:
                _, err = p.communicate(timeout=LIMIT_S)
                rc = p.returncode
                secs, kib = open(timing).read().split()[-2:]
                secs, kib = float(secs), int(kib)
                err = err.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.communicate()
                rc, secs, kib, err = "hang", LIMIT_S, 0, ""
            after = snapshot(root)
            changed = sorted(set(after) ^ set(before) | {k for k in before if k in after and after[k] != before[k] and not os.path.isdir(k)})
            problems = []
            if rc == "hang":
                problems.append("hang")
            if rc == 101 or "panicked" in err:
                problems.append("panic")
            if kib > LIMIT_KIB:
                problems.append("memory")
            if changed:
                problems.append("wrote inside: " + ", ".join(c.decode(errors="replace") for c in changed[:3]))
            inside = "nothing" if not changed else "**" + str(len(changed)) + " paths**"
            cmd_text = " ".join(c if not c.startswith(work) else "…" + c[len(work):] for c in cmd[:1] + cmd[2:])
            first = err.strip().splitlines()[0] if rc == 2 and err.strip() else ""
            first = first.replace(work, "…").replace("|", "\\|")
            print(f"| {label} | `{cmd_text}` | {rc} | {secs:.2f} | {kib / 1024:.0f} | {inside} | {first} |")
            if problems:
                broken.append(f"{label} / {cmd[0]}: {'; '.join(problems)}")
        # Nothing outside the dataset was materialised.
        for build_dir in [f"{work}/out-{slug}-split", f"{work}/out-{slug}-clean"]:
            if os.path.isdir(build_dir):
                for dirpath, _, filenames in os.walk(build_dir):
                    for fn in filenames:
                        p = os.path.join(dirpath, fn)
                        if fn.endswith(".png") and open(p, "rb").read() == open(f"{secret}/s.png", "rb").read():
                            broken.append(f"{label}: the outside file was materialised at {p}")
    # Every file under a class folder is a manifest row.
    d, _ = cases["FIFO and /dev/zero link in class folders"]
    subprocess.run([binary, "scan", d, "-q", "--manifest", f"{work}/m.csv"], capture_output=True, timeout=LIMIT_S)
    rows = open(f"{work}/m.csv").read().count("\n") - 1
    files = sum(len(fs) for _, _, fs in os.walk(d))
    if rows != files:
        broken.append(f"{rows} manifest rows for {files} files under class folders")
    if os.stat(f"{secret}/s.png").st_atime_ns != secret_atime:
        # Only meaningful on a file system that records access times.
        print("\nnote: the file outside the dataset has a new access time")
    print(f"\n{len(broken)} broken promises" + "".join(f"\n- {b}" for b in broken))
    print(f"manifest rows for the class folders with special files: {rows} of {files} files")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()

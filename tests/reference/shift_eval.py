"""dsaudit's shift findings (S001 feature-drift, S002 covariate-shift) scored on real
data: false alarms on random halves of untouched data, and recall on known shifts
injected into one half. Both ways a user meets them: a dataset's own train/test
splits (`dsaudit scan`), and new data against a saved profile of the training data
(`dsaudit partial --shard 1/1` then `dsaudit scan NEW --against profile.dsp`).
Not part of CI: `just eval-shift` runs it in a throwaway virtual environment.

    python3 tests/reference/shift_eval.py DSAUDIT_BINARY [--seeds N] [--only NAME]

Real data that ships inside scikit-learn (nothing is downloaded):
  * tables: iris (150 rows x 4), wine (178 x 13), breast cancer (569 x 30), diabetes
    (442 x 10; its target cut at its terciles into three classes), digits as a table
    (1,797 x 64 pixel counts 0-16, many columns nearly constant);
  * images: the 1,797 digits upscaled to 32x32 grey PNG (bilinear), class folders.

Each run shuffles the rows with its seed and halves them: the first half is the
reference (train, or the profile), the second the current data (test, or the new
data). Untouched, the halves come from one distribution, so any S001 or S002 is a
false alarm. Injected into the current half only:
  * tables, one column drawn per run among those with at least 10 distinct values:
    `unit` (the column x 10: centimetres read as millimetres), `offset1` and
    `offset05` (the reference half's standard deviation x 1 or x 0.5 added),
    `zerofill` (a quarter of its values replaced by 0: missing values filled with a
    default), and `selection` (rows kept with probability 0.9 above the column's
    median and 0.1 below: a sampling bias, which moves the correlated columns too);
  * images: `darker` (pixel values x 0.8), `blur` (Gaussian, radius 1), `noise`
    (Gaussian noise, sigma 12 grey levels), `jpeg` (re-encoded as JPEG q75: another
    format and its artefacts).

Scores per dataset, injection and mode: `alarm` = runs with an S001 or S002 finding
(the false-alarm rate on untouched halves, the recall on injected ones); for the
one-column table injections but `selection`, `located` = runs whose S001 names the
injected column, and `precision` = injected columns among all the columns S001
named (a column named beside it is drift the injection did not make); `B004` = runs
with a label-shift finding (the class mixes differ: false on untouched halves; a
sampling bias on a column that goes with the class moves the class mix too).
"""

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

TABLE_KINDS = ["none", "unit", "offset1", "offset05", "zerofill", "selection"]
IMAGE_KINDS = ["none", "darker", "blur", "noise", "jpeg"]
SHIFT_CODES = ("S001", "S002")


def tables():
    from sklearn import datasets

    out = {}
    for name, loader in [("iris", datasets.load_iris), ("wine", datasets.load_wine),
                         ("breast_cancer", datasets.load_breast_cancer),
                         ("diabetes", datasets.load_diabetes), ("digits", datasets.load_digits)]:
        d = loader()
        x = np.asarray(d.data, dtype=float)
        if name == "diabetes":
            cuts = np.quantile(d.target, [1 / 3, 2 / 3])
            y = np.array(["low", "mid", "high"])[np.searchsorted(cuts, d.target)]
        else:
            y = np.array([str(d.target_names[t]) for t in d.target]) if name != "digits" \
                else d.target.astype(str)
        names = [f"f{i}" for i in range(x.shape[1])] if name == "digits" else \
            [n.replace(" ", "_").replace("(", "").replace(")", "") for n in d.feature_names]
        out[name] = (x, y, names)
    return out


def digit_images():
    from sklearn.datasets import load_digits

    d = load_digits()
    ims = [Image.fromarray((img * 255 / 16).round().astype(np.uint8), "L").resize((32, 32), Image.BILINEAR)
           for img in d.images]
    return ims, d.target.astype(str)


def eligible(x):
    return [j for j in range(x.shape[1]) if len(np.unique(x[:, j])) >= 10]


def inject_table(x_ref, x_cur, y_cur, kind, col, rng):
    x = x_cur.copy()
    if kind == "unit":
        x[:, col] *= 10
    elif kind in ("offset1", "offset05"):
        x[:, col] += (1.0 if kind == "offset1" else 0.5) * x_ref[:, col].std()
    elif kind == "zerofill":
        x[rng.random(len(x)) < 0.25, col] = 0.0
    elif kind == "selection":
        above = x[:, col] > np.median(np.concatenate([x_ref[:, col], x[:, col]]))
        keep = rng.random(len(x)) < np.where(above, 0.9, 0.1)
        return x[keep], y_cur[keep]
    return x, y_cur


def write_table(path, names, x, y, split=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names + ["label"] + (["split"] if split is not None else []))
        for i in range(len(x)):
            w.writerow([repr(float(v)) for v in x[i]] + [y[i]] + ([split[i]] if split is not None else []))


def inject_image(im, kind, rng):
    if kind == "darker":
        return Image.fromarray((np.asarray(im, dtype=float) * 0.8).round().astype(np.uint8), "L")
    if kind == "blur":
        return im.filter(ImageFilter.GaussianBlur(1))
    if kind == "noise":
        a = np.asarray(im, dtype=float) + rng.normal(0, 12, (im.height, im.width))
        return Image.fromarray(a.clip(0, 255).round().astype(np.uint8), "L")
    return im


def save_image(im, path, kind):
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "jpeg":
        im.save(path.with_suffix(".jpg"), "JPEG", quality=75)
    else:
        im.save(path.with_suffix(".png"))


def dsaudit(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"dsaudit {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


THRESHOLDS = []


def scan(binary, data, against=None):
    extra = (["--against", str(against)] if against else []) + [a for t in THRESHOLDS for a in ("--threshold", t)]
    p = dsaudit(binary, "scan", "-q", "--fail-on", "never", "--format", "json", "--select", "S,B004",
                *extra, str(data))
    ds = json.loads(p.stdout)["datasets"][0]
    found = [f for f in ds["findings"] if f["code"] in SHIFT_CODES]
    drifting = {f["feature"] for c in (ds.get("shift") or {}).get("comparisons", [])
                for f in c.get("features", []) if f.get("drifting")}
    return {"codes": sorted({f["code"] for f in found}), "drifting": drifting,
            "label_shift": any(f["code"] == "B004" for f in ds["findings"]),
            "messages": [f"{f['code']}: {f['message']}" for f in found]}


def run_table(binary, work, mode, names, x_ref, y_ref, x_cur, y_cur):
    if mode == "split":
        x = np.vstack([x_ref, x_cur])
        y = np.concatenate([y_ref, y_cur])
        split = ["train"] * len(x_ref) + ["test"] * len(x_cur)
        write_table(work / "d" / "table.csv", names, x, y, split)
        return scan(binary, work / "d" / "table.csv")
    write_table(work / "ref" / "train.csv", names, x_ref, y_ref)
    dsaudit(binary, "partial", "-q", str(work / "ref" / "train.csv"), "--shard", "1/1", "-o", str(work / "p.dsp"))
    write_table(work / "new" / "served.csv", names, x_cur, y_cur)
    return scan(binary, work / "new" / "served.csv", work / "p.dsp")


def run_images(binary, work, mode, ims, ys, ref, cur, kind, rng):
    root = work / "d"
    for i in ref:
        save_image(ims[i], (root / "train" if mode == "split" else work / "ref") / ys[i] / f"{i}", "none")
    for i in cur:
        save_image(inject_image(ims[i], kind, rng), (root / "test" if mode == "split" else work / "new") / ys[i] / f"{i}", kind)
    if mode == "split":
        return scan(binary, root)
    dsaudit(binary, "partial", "-q", str(work / "ref"), "--shard", "1/1", "-o", str(work / "p.dsp"))
    return scan(binary, work / "new", work / "p.dsp")


class Tally:
    def __init__(self):
        self.rows = {}

    def add(self, key, result, col=None, seed=None, verbose=False):
        if verbose and key[1] == "none" and result["codes"]:
            print(f"false alarm: {key[0]} {key[2]} seed {seed}: " + " | ".join(result["messages"]), flush=True)
        t = self.rows.setdefault(key, {"runs": 0, "alarm": 0, "located": 0, "named": 0, "right": 0,
                                       "label_shift": 0})
        t["runs"] += 1
        t["label_shift"] += result["label_shift"]
        t["alarm"] += bool(result["codes"])
        if col is not None:
            t["located"] += col in result["drifting"]
            t["named"] += len(result["drifting"])
            t["right"] += col in result["drifting"]

    def print(self):
        print(f"{'data':<14} {'injected':<10} {'mode':<8} {'runs':>4} {'alarm':>7} {'located':>8} {'precision':>9} {'B004':>5}")
        for (data, kind, mode), t in sorted(self.rows.items(), key=lambda kv: (kv[0][1] != "none", kv[0])):
            located = f"{t['located'] / t['runs']:.2f}" if kind not in ("none", "selection") and data != "digit-images" else ""
            precision = f"{t['right'] / t['named']:.2f}" if located and t["named"] else ""
            print(f"{data:<14} {kind:<10} {mode:<8} {t['runs']:>4} {t['alarm'] / t['runs']:>7.2f} {located:>8} {precision:>9}"
                  f" {t['label_shift'] / t['runs']:>5.2f}")
        for kind in TABLE_KINDS:
            rs = [t for (d, k, m), t in self.rows.items() if k == kind and d != "digit-images"]
            if rs:
                runs = sum(t["runs"] for t in rs)
                print(f"tables, {kind}: {sum(t['alarm'] for t in rs)}/{runs} runs with S001/S002, "
                      f"{sum(t['label_shift'] for t in rs)}/{runs} with B004 (label shift)"
                      + (f", injected column named in {sum(t['located'] for t in rs)}/{runs}, "
                         f"{sum(t['right'] for t in rs)}/{sum(t['named'] for t in rs)} columns named right"
                         if kind not in ("none", "selection") else ""))
        for kind in IMAGE_KINDS:
            rs = [t for (d, k, m), t in self.rows.items() if k == kind and d == "digit-images"]
            if rs:
                runs = sum(t["runs"] for t in rs)
                print(f"images, {kind}: {sum(t['alarm'] for t in rs)}/{runs} runs with S001/S002, "
                      f"{sum(t['label_shift'] for t in rs)}/{runs} with B004 (label shift)")


def kinds(args, every):
    return [k for k in every if not args.kinds or k in args.kinds.split(",")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seeds", type=int, default=10, help="runs per dataset, injection and mode")
    ap.add_argument("--only", help="one dataset by name (iris, wine, ..., digit-images)")
    ap.add_argument("--kinds", help="injections to run, comma-separated (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every false alarm's findings")
    ap.add_argument("--threshold", action="append", default=[], help="passed to dsaudit scan")
    args = ap.parse_args()
    THRESHOLDS.extend(args.threshold)
    tally = Tally()
    for name, (x, y, names) in tables().items():
        if args.only and args.only != name:
            continue
        cols = eligible(x)
        for kind in kinds(args, TABLE_KINDS):
            for mode in ("split", "against"):
                # Untouched halves get three times the runs: their rate is the one to trust.
                for seed in range(args.seeds * (3 if kind == "none" else 1)):
                    rng = np.random.default_rng([seed, TABLE_KINDS.index(kind), len(x)])
                    order = rng.permutation(len(x))
                    ref, cur = order[: len(x) // 2], order[len(x) // 2:]
                    col = int(rng.choice(cols))
                    x_cur, y_cur = inject_table(x[ref], x[cur], y[cur], kind, col, rng)
                    with tempfile.TemporaryDirectory() as work:
                        r = run_table(args.binary, Path(work), mode, names, x[ref], y[ref], x_cur, y_cur)
                    single = kind not in ("none", "selection")
                    tally.add((name, kind, mode), r, names[col] if single else None, seed, args.verbose)
    if not args.only or args.only == "digit-images":
        ims, ys = digit_images()
        for kind in kinds(args, IMAGE_KINDS):
            for mode in ("split", "against"):
                for seed in range(args.seeds * (3 if kind == "none" else 1)):
                    rng = np.random.default_rng([seed, 100 + IMAGE_KINDS.index(kind)])
                    order = rng.permutation(len(ims))
                    ref, cur = order[: len(ims) // 2], order[len(ims) // 2:]
                    with tempfile.TemporaryDirectory() as work:
                        r = run_images(args.binary, Path(work), mode, ims, ys, ref, cur, kind, rng)
                    tally.add(("digit-images", kind, mode), r, None, seed, args.verbose)
    tally.print()


if __name__ == "__main__":
    main()

"""dsaudit's duplicate, leakage and conflicting-label findings scored on real images
with injected copies, and its false alarms on the same images untouched (issue 25).
Not part of CI: `just eval-duplicates` runs it in a throwaway virtual environment.

    python3 tests/reference/duplicates_eval.py DSAUDIT_BINARY [--seed N] [--keep DIR]

Real images that ship inside packages (nothing is downloaded):
  * digits: scikit-learn's 1,797 handwritten digits (8x8, 17 grey levels) upscaled
    to 32x32 PNG (bilinear), class folders, split train/test 80/20: look-alike images;
  * photos: 20 real photographs (scikit-learn's two sample images and 18 of
    scikit-image's), 10 crops of each at random places and scales (no two crops of a
    photo overlapping by more than 30% IoU), resized to 640x480 JPEG q90, the photo's
    name as label, split 80/20: photo-sized JPEGs, with hard negatives (crops of the
    same photo);
  * faces: scikit-image's LFW subset (200 grey 25x25 faces and non-faces), untouched.

Injected (each original used once), per dataset: exact copies (same file bytes);
near copies of four kinds, as the issue names them: re-encoded as JPEG q70, resized
to 90%, brightness x1.1 or x0.9 (clipped), shifted by 1 px along a random axis
(edge repeated); leaks (a train image copied into test, identical or near); and
conflicts (a train image copied, identical or near, into another class).

Scores:
  * pairs: every pair of samples that share a cluster is a predicted pair; truth is
    every pair within an original and its copies, plus natural pixel-identical groups.
    Precision = predicted pairs that are true; recall per kind of copy.
  * leak: the test samples D003 names against the injected leaks (plus natural
    pixel-identical ones across splits);
  * conflict: the samples L001 names against the injected conflicts and originals;
  * clustered: samples placed in clusters against injected + natural copies.
On the untouched sets: the share of samples named by D002, D003 and L001.
"""

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

KINDS = ["jpeg70", "resize90", "brightness", "shift1"]


def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    out = []
    for img, y in zip(d.images, d.target):
        im = Image.fromarray((img * 255 / 16).round().astype(np.uint8), "L")
        out.append((im.resize((32, 32), Image.BILINEAR), str(int(y))))
    return out


PHOTOS = ["astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins", "grass",
          "gravel", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina",
          "rocket", "text", "cell", "stereo_motorcycle"]


def photos(rng):
    import skimage.data as skd
    from sklearn.datasets import load_sample_images

    sources = []
    for name in PHOTOS:
        a = getattr(skd, name)()
        a = a[0] if isinstance(a, tuple) else a
        a = np.asarray(a)
        if a.dtype != np.uint8:
            a = (255 * (a - a.min()) / max(1e-9, float(a.max() - a.min()))).astype(np.uint8)
        sources.append((name, Image.fromarray(a).convert("RGB")))
    for name, a in zip(["china", "flower"], load_sample_images().images):
        sources.append((name, Image.fromarray(a).convert("RGB")))
    out = []
    for name, im in sources:
        w, h = im.size
        boxes = []
        tries = 0
        while len(boxes) < 10 and tries < 2000:
            tries += 1
            cw = int(w * rng.uniform(0.35, 0.8))
            ch = min(h, int(cw * 3 / 4))
            cw = int(ch * 4 / 3)
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            box = (x, y, x + cw, y + ch)
            if all(iou(box, b) <= 0.3 for b in boxes):
                boxes.append(box)
        for b in boxes:
            out.append((im.crop(b).resize((640, 480), Image.BILINEAR), name))
    return out


def faces():
    import skimage.data as skd

    # Floats in 0..1; the first 100 are faces.
    return [(Image.fromarray((a * 255).round().astype(np.uint8), "L"), "face" if i < 100 else "other")
            for i, a in enumerate(skd.lfw_subset())]


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return inter / (area(a) + area(b) - inter)


def near_copy(im, kind, rng):
    if kind == "jpeg70":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=70)
        return Image.open(io.BytesIO(buf.getvalue())).convert(im.mode), ".jpg"
    if kind == "resize90":
        w, h = im.size
        return im.resize((round(w * 0.9), round(h * 0.9)), Image.BILINEAR), None
    if kind == "brightness":
        f = 1.1 if rng.random() < 0.5 else 0.9
        a = np.clip(np.asarray(im, dtype=np.float32) * f, 0, 255).round().astype(np.uint8)
        return Image.fromarray(a, im.mode), None
    if kind == "shift1":
        a = np.asarray(im)
        axis = int(rng.integers(0, 2))
        step = 1 if rng.random() < 0.5 else -1
        b = np.roll(a, step, axis=axis)
        edge = [slice(None)] * a.ndim
        src = [slice(None)] * a.ndim
        edge[axis] = 0 if step == 1 else -1
        src[axis] = 1 if step == 1 else -2
        b[tuple(edge)] = b[tuple(src)]
        return Image.fromarray(b, im.mode), None
    raise ValueError(kind)


def save(im, path, ext):
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".jpg":
        im.convert("RGB" if im.mode == "RGB" else "L").save(path, "JPEG", quality=90)
    else:
        im.save(path)


def build(images, root, rng, inject, counts):
    """Writes ROOT/<split>/<label>/*; returns (rel path -> truth group, kinds, leaks,
    conflicts)."""
    ext = ".jpg" if images[0][0].size[0] > 100 else ".png"
    n = len(images)
    order = rng.permutation(n)
    split = {int(i): ("test" if k < n // 5 else "train") for k, i in enumerate(order)}
    rel = {}
    for i, (im, y) in enumerate(images):
        r = f"{split[i]}/{y}/{i:05d}{ext}"
        save(im, root / r, ext)
        rel[i] = r
    group = {rel[i]: f"orig{i}" for i in range(n)}
    kind_of, leaks, conflicts = {}, set(), set()
    if not inject:
        return group, kind_of, leaks, conflicts
    train = [i for i in range(n) if split[i] == "train"]
    labels = sorted({y for _, y in images})
    pool = iter(rng.permutation(train).tolist())
    k = 0

    def add(i, kind, into_split, label):
        nonlocal k
        k += 1
        im, _ = images[i]
        if kind == "exact":
            cext = Path(rel[i]).suffix
            r = f"{into_split}/{label}/copy{k:04d}_exact{cext}"
            (root / r).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel[i], root / r)
        else:
            c, cext = near_copy(im, kind, rng)
            cext = cext or ext
            r = f"{into_split}/{label}/copy{k:04d}_{kind}{cext}"
            save(c, root / r, cext)
        group[r] = f"orig{i}"
        kind_of[r] = kind
        return r

    for _ in range(counts["exact"]):
        i = next(pool)
        add(i, "exact", "train", images[i][1])
    for kind in KINDS:
        for _ in range(counts["near"]):
            i = next(pool)
            add(i, kind, "train", images[i][1])
    for t in range(counts["leak"]):
        i = next(pool)
        kind = "exact" if t % 2 == 0 else KINDS[t // 2 % 4]
        leaks.add(add(i, kind, "test", images[i][1]))
    for t in range(counts["conflict"]):
        i = next(pool)
        other = [y for y in labels if y != images[i][1]]
        kind = "exact" if t % 2 == 0 else KINDS[t // 2 % 4]
        r = add(i, kind, "train", other[int(rng.integers(0, len(other)))])
        conflicts.add(r)
        conflicts.add(rel[i])
    return group, kind_of, leaks, conflicts


def run(binary, root, thresholds=()):
    with tempfile.TemporaryDirectory() as out:
        m = Path(out) / "m.csv"
        extra = [a for t in thresholds for a in ("--threshold", t)]
        p = subprocess.run(
            [binary, "scan", "-q", "--fail-on", "never", "--format", "json", "--manifest", str(m),
             "--timings", *extra, str(root)],
            check=True, capture_output=True, text=True)
        report = json.loads(p.stdout)
        import csv

        with open(m) as f:
            rows = list(csv.DictReader(f))
    return report, rows, p.stderr


def findings(report, code):
    ds = report["datasets"][0] if "datasets" in report else report
    return [f for f in ds["findings"] if f["code"] == code]


def named(report, code):
    return {s["source"] for f in findings(report, code) for s in f["samples"]}


def score(name, report, rows, truth, quiet=False):
    group, kind_of, leaks, conflicts = truth
    src = {int(r["id"]): r["source"] for r in rows}
    pix = {r["source"]: r["pixel_blake3"] for r in rows}
    # Natural pixel-identical copies among the untouched originals join one group.
    first = {}
    for s in sorted(group):
        if kind_of.get(s) is None and pix.get(s):
            h = pix[s]
            if h in first:
                g0 = group[first[h]]
                for t in [t for t, g in group.items() if g == group[s]]:
                    group[t] = g0
            else:
                first[h] = s
    by_group = {}
    for s, g in group.items():
        by_group.setdefault(g, []).append(s)
    truth_pairs = {tuple(sorted((a, b))) for m in by_group.values() for a in m for b in m if a < b}
    ds = report["datasets"][0] if "datasets" in report else report
    clusters = ds["duplicates"]["clusters"]
    pred_pairs = set()
    clustered = set()
    sizes = []
    for c in clusters:
        mem = [src[i] for i in c["members"]]
        sizes.append(len(mem))
        clustered.update(mem)
        pred_pairs.update(tuple(sorted((a, b))) for a in mem for b in mem if a < b)
    true_pred = pred_pairs & truth_pairs
    copies = {s for m in by_group.values() if len(m) > 1 for s in m}
    out = {
        "dataset": name,
        "samples": len(rows),
        "clusters": len(clusters),
        "largest_cluster": max(sizes, default=0),
        "clustered": len(clustered),
        "true_copies": len(copies),
        "pair_precision": len(true_pred) / max(1, len(pred_pairs)),
        "pairs_predicted": len(pred_pairs),
    }
    exact_pred = {p for p in pred_pairs if pix.get(p[0]) and pix.get(p[0]) == pix.get(p[1])}
    near_pred = pred_pairs - exact_pred
    out["exact_precision"] = len(exact_pred & truth_pairs) / max(1, len(exact_pred))
    out["near_precision"] = len(near_pred & truth_pairs) / max(1, len(near_pred))
    for kind in ["exact"] + KINDS:
        ps = [tuple(sorted((s, t))) for s, k in kind_of.items() if k == kind
              for t in by_group[group[s]] if t != s and kind_of.get(t) is None]
        if ps:
            out[f"recall_{kind}"] = sum(p in pred_pairs for p in ps) / len(ps)
    near_ps = [p for p in truth_pairs if any(kind_of.get(x) in KINDS for x in p)]
    if near_ps:
        out["recall_near"] = sum(p in pred_pairs for p in near_ps) / len(near_ps)
    # Leaks: injected ones and natural identical ones across splits.
    split = {r["source"]: r["split"] for r in rows}
    leak_truth = set(leaks)
    for m in by_group.values():
        if len(m) > 1 and "train" in {split.get(s) for s in m}:
            leak_truth.update(s for s in m if split.get(s) == "test" and kind_of.get(s) is None)
    leaked = named(report, "D003")
    out["leak_named"] = len(leaked)
    out["leak_precision"] = len(leaked & leak_truth) / max(1, len(leaked))
    if leaks:
        out["leak_recall"] = len(leaked & leaks) / len(leaks)
    conf = named(report, "L001")
    out["conflict_named"] = len(conf)
    if conflicts:
        out["conflict_recall"] = len(conf & conflicts) / len(conflicts)
        label = {r["source"]: r["label"] for r in rows}
        # A named sample is right when its truth group holds two labels.
        ok = {s for s in conf if len({label.get(t) for t in by_group[group[s]]}) > 1}
        out["conflict_precision"] = len(ok) / max(1, len(conf))
    n = len(rows)
    out["D002_share"] = len(named(report, "D002")) / n
    out["D003_share"] = len(leaked) / n
    out["L001_share"] = len(conf) / n
    th = ds["duplicates"]["thresholds"]
    out["threshold"] = th.get("distance")
    out["median_nn_distance"] = th.get("median_nn_distance")
    return out


def clusters_summary(path, label):
    """`--clusters REPORT.json LABEL`: one line on a report's duplicate clusters."""
    d = json.load(open(path))
    d = d["datasets"][0] if "datasets" in d else d
    sizes = [len(c["members"]) for c in d["duplicates"]["clusters"]]
    print(f"{label}: {len(sizes)} clusters, {sum(sizes)} samples in them, largest {max(sizes, default=0)}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--clusters":
        return clusters_summary(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="write the datasets here and keep them")
    ap.add_argument("--threshold", action="append", default=[],
                    help="passed to dsaudit scan, e.g. near-duplicates.phash=10")
    ap.add_argument("--only", type=int, action="append", help="run only these datasets (0-4)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    sets = [
        ("digits (untouched)", digits, False, {}),
        ("digits + copies", digits, True, dict(exact=40, near=25, leak=30, conflict=20)),
        ("photos (untouched)", lambda: photos(np.random.default_rng(args.seed)), False, {}),
        ("photos + copies", lambda: photos(np.random.default_rng(args.seed)), True,
         dict(exact=10, near=10, leak=10, conflict=6)),
        ("faces (untouched)", faces, False, {}),
    ]
    results = []
    try:
        for k, (name, make, inject, counts) in enumerate(sets):
            if args.only and k not in args.only:
                continue
            root = base / f"set{k}"
            if root.exists():
                shutil.rmtree(root)
            truth = build(make(), root, np.random.default_rng(args.seed + k), inject, counts)
            report, rows, timings = run(args.binary, root, args.threshold)
            r = score(name, report, rows, truth)
            r["timings"] = [l for l in timings.splitlines() if l.startswith("timing duplicates")]
            results.append(r)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    for r in results:
        print(f"== {r['dataset']}: {r['samples']} samples, threshold {r['threshold']} "
              f"(median NN distance {r['median_nn_distance']})")
        print(f"   clusters {r['clusters']} (largest {r['largest_cluster']}), samples clustered "
              f"{r['clustered']} / true copies {r['true_copies']}"
              + (f" = {r['clustered'] / r['true_copies']:.2f}x" if r['true_copies'] else ""))
        print(f"   pair precision {r['pair_precision']:.3f} (exact {r['exact_precision']:.3f}, "
              f"near {r['near_precision']:.3f}) of {r['pairs_predicted']} pairs")
        rec = [f"{k[7:]} {v:.3f}" for k, v in r.items() if k.startswith("recall_")]
        if rec:
            print("   recall: " + ", ".join(rec))
        if "leak_recall" in r:
            print(f"   leak: precision {r['leak_precision']:.3f}, recall {r['leak_recall']:.3f} "
                  f"({r['leak_named']} named)")
        if "conflict_recall" in r:
            print(f"   conflict: precision {r['conflict_precision']:.3f}, recall "
                  f"{r['conflict_recall']:.3f} ({r['conflict_named']} named)")
        print(f"   named: D002 {100 * r['D002_share']:.2f}%, D003 {100 * r['D003_share']:.2f}%, "
              f"L001 {100 * r['L001_share']:.2f}% of samples")
        for t in r["timings"]:
            print("   " + t)


if __name__ == "__main__":
    sys.exit(main())

"""dsaudit's label-error detection scored on real data with injected label flips,
beside cleanlab's pixel/column baseline on the same files (issue 26). Not part of CI:
`just eval-labels BINARY...` runs it in a throwaway virtual environment.

    python3 tests/reference/labels_eval.py DSAUDIT_BINARY[:MODEL] ... [--seeds N] [--sets a,b]

MODEL, when given, is passed as `--label-model MODEL`.

Real data that ships inside scikit-learn (nothing is downloaded):
  * digits: the 1,797 handwritten digits (8x8, 17 grey levels) upscaled to 32x32 PNG
    (bilinear), class folders, split train/test 80/20;
  * digits28 (`--sets digits28`): the same digits upscaled to 24x24 and pasted at a
    random offset on a 28x28 canvas, MNIST's format (not in the default sets);
  * lfw (needs scikit-image): scikit-image's bundled subset of Labeled
    Faces in the Wild, 100 faces and 100 non-faces, 25x25 grey, as PNG;
  * crops (needs scikit-image): 48x48 crops at seeded random places of
    twelve of scikit-image's bundled photographs and textures, 100 per picture, the
    class being the picture they come from: natural images, where the digits are
    drawings;
  * wine: the 178-row, 13-column wine-chemistry table (3 cultivars), CSV;
  * breast cancer: the 569-row, 30-column table (2 classes), CSV.

Per seed, 10% of the training samples (`--flip`) get another class, drawn at random; the truth
is the set of flipped samples. Each binary runs `dsaudit scan --manifest` on the
files; a sample is flagged when its `is_label_issue` is true. cleanlab 2.x runs
`find_label_issues` (its default, prune_by_noise_rate) on out-of-fold probabilities of
scikit-learn's LogisticRegression (C = 1, 5 stratified folds) on the standardized
pixels of the 32x32 grey images or the standardized columns: the baseline the issue
names. Scores: precision, recall and F1 of the flagged samples against the truth,
averaged over the seeds; and, on the untouched data, the share of samples flagged.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

FLIP = 0.10


def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    ims = [Image.fromarray((img * 255 / 16).round().astype(np.uint8), "L").resize((32, 32), Image.BILINEAR)
           for img in d.images]
    return ims, d.target.astype(int)


def digits28():
    """The same digits, each once, upscaled to 24x24 and pasted at a seeded random
    offset of 0-4 pixels on a 28x28 black canvas (MNIST's format)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(0)
    ims = []
    for img in d.images:
        canvas = Image.new("L", (28, 28))
        dx, dy = rng.integers(0, 5, 2)
        small = Image.fromarray((img * 255 / 16).round().astype(np.uint8), "L")
        canvas.paste(small.resize((24, 24), Image.BILINEAR), (int(dx), int(dy)))
        ims.append(canvas)
    return ims, d.target.astype(int)


def lfw():
    from skimage.data import lfw_subset

    x = lfw_subset()
    ims = [Image.fromarray((im * 255).round().astype(np.uint8), "L") for im in x]
    return ims, np.repeat([0, 1], len(x) // 2)


CROP_SOURCES = ["astronaut", "coffee", "chelsea", "rocket", "moon", "hubble_deep_field",
                "retina", "camera", "coins", "brick", "grass", "gravel"]


def crops():
    import skimage.data as sd

    rng = np.random.default_rng(0)
    ims, labels = [], []
    for c, name in enumerate(CROP_SOURCES):
        pic = getattr(sd, name)()
        pic = Image.fromarray(pic).convert("RGB")
        w, h = pic.size
        for _ in range(100):
            x, y = int(rng.integers(0, w - 48)), int(rng.integers(0, h - 48))
            ims.append(pic.crop((x, y, x + 48, y + 48)))
            labels.append(c)
    return ims, np.array(labels)


def table(loader):
    d = loader()
    return pd.DataFrame(d.data, columns=[f"f{j}" for j in range(d.data.shape[1])]), d.target.astype(int)


def split_of(n, rng):
    order = rng.permutation(n)
    test = np.zeros(n, bool)
    test[order[: n // 5]] = True
    return test


def flips(labels, test, rng):
    """{sample: new label} for 10% of the training samples."""
    classes = np.unique(labels)
    train = np.flatnonzero(~test)
    chosen = rng.choice(train, size=int(round(FLIP * len(train))), replace=False)
    return {int(i): int(rng.choice(classes[classes != labels[i]])) for i in chosen}


def write_images(root, ims, labels, test):
    names = []
    for i, (im, y) in enumerate(zip(ims, labels)):
        rel = f"{'test' if test[i] else 'train'}/{y}/{i:05d}.png"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        im.save(root / rel)
        names.append(rel)
    return names


def write_table(root, frame, labels, test):
    f = frame.copy()
    f["label"] = labels
    f["split"] = np.where(test, "test", "train")
    path = root / "data.csv"
    f.to_csv(path, index=False)
    return path


def dsaudit(spec, path, n_expected):
    """`spec`: a binary, or BINARY:MODEL to pass `--label-model MODEL`."""
    binary, _, model = spec.partition(":")
    extra = ["--label-model", model] if model else []
    with tempfile.TemporaryDirectory() as out:
        m = Path(out) / "m.csv"
        subprocess.run([binary, "scan", "-q", "--fail-on", "never", *extra, "--manifest", str(m), str(path)],
                       check=True, stdout=subprocess.DEVNULL)
        man = pd.read_csv(m)
    assert len(man) == n_expected, (len(man), n_expected)
    return man


def cleanlab_flags(x, labels):
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(x)
    p = cross_val_predict(LogisticRegression(max_iter=3000), x, labels,
                          cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")
    return find_label_issues(labels, p), float((p.argmax(1) == labels).mean())


def score(flagged, truth):
    tp = len(flagged & truth)
    p = tp / max(len(flagged), 1)
    r = tp / max(len(truth), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def run_set(name, kind, make, binaries, seeds):
    data, labels = make()
    n = len(labels)
    rows = {b: [] for b in binaries}
    rows["cleanlab"] = []
    for seed in range(seeds + 1):
        clean = seed == seeds  # the last round: untouched labels
        rng = np.random.default_rng(seed)
        test = split_of(n, np.random.default_rng(1000))
        flip = {} if clean else flips(labels, test, rng)
        noisy = labels.copy()
        for i, y in flip.items():
            noisy[i] = y
        truth = set(flip)
        with tempfile.TemporaryDirectory() as work:
            root = Path(work) / "data"
            if kind == "images":
                names = write_images(root, data, noisy, test)
                x = np.stack([np.asarray(im.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float64).ravel()
                              for im in data])
                target = root
            else:
                root.mkdir()
                target = write_table(root, data, noisy, test)
                x = data.to_numpy(dtype=np.float64)
            for b in binaries:
                man = dsaudit(b, target, n)
                issue = man["is_label_issue"].fillna(False).astype(bool)
                if kind == "images":
                    pos = {s: i for i, s in enumerate(names)}
                    flagged = {pos[s] for s in man.loc[issue, "source"]}
                else:
                    flagged = set(np.flatnonzero(issue.to_numpy()).tolist())
                scored = man["label_quality"].notna()
                acc = man["suggested_label"].astype(str).eq(man["label"].astype(str))[scored].mean()
                # The model's skill as dsaudit gates on it: Cohen's kappa against always
                # answering the commonest class.
                base = man.loc[scored, "label"].astype(str).value_counts(normalize=True).max()
                skill = (acc - base) / (1 - base)
                # What L002 states: the mean of 1 - p(given label) over the flagged.
                expected = float((1 - man.loc[issue, "label_quality"]).mean()) if issue.any() else np.nan
                rows[b].append((clean, score(flagged, truth), len(flagged) / n, acc, expected, skill))
            try:
                issues, acc = cleanlab_flags(x, noisy)
                rows["cleanlab"].append((clean, score(set(np.flatnonzero(issues).tolist()), truth),
                                         float(issues.mean()), acc, np.nan, np.nan))
            except ImportError:
                pass
    print(f"== {name}: {n} samples, {FLIP:.0%} of train flipped, {seeds} seeds")
    for who, rs in rows.items():
        if not rs:
            continue
        noisy_runs = [r for r in rs if not r[0]]
        p, r, f = (np.mean([x[1][k] for x in noisy_runs]) for k in range(3))
        acc = np.mean([x[3] for x in noisy_runs])
        expected = np.mean([x[4] for x in noisy_runs])
        stated = "" if np.isnan(expected) else f", expected precision stated {expected:.3f}"
        untouched = [x[2] for x in rs if x[0]]
        skills = [x[5] for x in rs if not np.isnan(x[5])]
        skill = f" (skill {np.mean(skills[:-1]):.2f}, untouched {skills[-1]:.2f})" if skills else ""
        print(f"   {Path(who).name if who != 'cleanlab' else who:>16}: F1 {f:.3f} (P {p:.3f}, R {r:.3f}{stated}), "
              f"out-of-fold accuracy {acc:.3f}{skill}; untouched: {100 * untouched[0]:.2f}% flagged")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sets", default="digits,lfw,crops,wine,breast")
    ap.add_argument("--flip", type=float, default=FLIP,
                    help="share of the training labels flipped (default 0.10)")
    args = ap.parse_args()
    globals()["FLIP"] = args.flip
    from sklearn.datasets import load_breast_cancer, load_wine

    sets = {
        "digits": ("digits 32x32", "images", digits),
        "digits28": ("digits 28x28, shifted", "images", digits28),
        "lfw": ("LFW subset, faces and non-faces", "images", lfw),
        "crops": ("crops of scikit-image's photographs", "images", crops),
        "wine": ("wine", "table", lambda: table(load_wine)),
        "breast": ("breast cancer", "table", lambda: table(load_breast_cancer)),
    }
    for key in args.sets.split(","):
        name, kind, make = sets[key]
        run_set(name, kind, make, args.binaries, args.seeds)


if __name__ == "__main__":
    sys.exit(main())

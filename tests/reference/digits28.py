"""Writes N 28x28 grey PNG digits in class folders (train/ and test/, every fifth
image in test) for the label CNN's speed benchmark (`just bench-label-cnn`).

The pictures are scikit-learn's 1,797 real handwritten digits (8x8, nothing is
downloaded), upscaled to 24x24 and pasted at a seeded random offset of 0-4 pixels on
a 28x28 black canvas, cycling through the set: the size and kind of MNIST-like data
the issue's target names, not new digits (a repeated digit sits at another offset).

    python3 tests/reference/digits28.py OUT [N]
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def main():
    out = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    d = load_digits()
    rng = np.random.default_rng(0)
    for i in range(n):
        j = i % len(d.images)
        small = Image.fromarray((d.images[j] * 255 / 16).round().astype(np.uint8), "L")
        canvas = Image.new("L", (28, 28))
        dx, dy = rng.integers(0, 5, 2)
        canvas.paste(small.resize((24, 24), Image.BILINEAR), (int(dx), int(dy)))
        split = "test" if i % 5 == 0 else "train"
        path = out / split / str(d.target[j]) / f"{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        canvas.save(path)


if __name__ == "__main__":
    main()

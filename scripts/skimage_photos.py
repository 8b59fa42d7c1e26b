"""Writes the real photographs and micrographs scikit-image bundles (the ones in its
wheel, nothing downloaded) as JPEGs (quality 90) into OUT, for the JPEG-scaling
measurement (`just bench-jpeg-scaling`). Binary and float images are scaled to 0-255;
alpha is dropped.

    python3 scripts/skimage_photos.py /tmp/skphotos
"""

import os
import sys

import numpy as np
from PIL import Image
from skimage import data

NAMES = [
    "astronaut", "camera", "coffee", "chelsea", "rocket", "cat", "coins", "horse",
    "hubble_deep_field", "immunohistochemistry", "moon", "page", "text", "clock",
    "grass", "gravel", "brick", "retina", "colorwheel", "logo", "microaneurysms",
    "cell", "checkerboard",
]


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name in NAMES:
        a = np.asarray(getattr(data, name)())
        if a.dtype == bool:
            a = a.astype(np.uint8) * 255
        if a.dtype != np.uint8:
            a = a.astype(np.float64)
            a = (255 * (a - a.min()) / max(1e-9, a.max() - a.min())).astype(np.uint8)
        if a.ndim == 3 and a.shape[2] == 4:
            a = a[..., :3]
        Image.fromarray(a).save(os.path.join(out, f"{name}.jpg"), quality=90)


if __name__ == "__main__":
    main(sys.argv[1])

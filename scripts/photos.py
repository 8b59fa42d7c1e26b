"""Writes N photo-like 640x480 JPEGs (quality 90) into OUT/<class>/, for the photo
benchmarks (`just bench-peers`, `just bench-limit`).

Each picture is a seeded random crop of one of scikit-learn's two bundled photographs
(`load_sample_images`: a Chinese temple and a flower, 427x640), scaled by 1.0-2.5,
mirrored at random, with a random brightness and colour gain and a little sensor
noise, so that the files are distinct real-photo content (not gradients or noise), of
the size and compression people audit. The class is the source photo.

    python3 scripts/photos.py 10000 /tmp/photos
"""

import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

W, H = 640, 480


def main(n: int, out: str) -> None:
    rng = np.random.default_rng(0)
    photos = load_sample_images()
    names = ["temple", "flower"]
    for name in names:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i in range(n):
        k = int(rng.integers(0, 2))
        photo = Image.fromarray(photos.images[k])
        scale = float(rng.uniform(1.0, 2.5))
        big = photo.resize((int(photo.width * scale), int(photo.height * scale)), Image.BILINEAR)
        # A crop at least 640x480: scale the photo up first where it is smaller.
        if big.width < W or big.height < H:
            f = max(W / big.width, H / big.height)
            big = big.resize((int(big.width * f) + 1, int(big.height * f) + 1), Image.BILINEAR)
        x = int(rng.integers(0, big.width - W + 1))
        y = int(rng.integers(0, big.height - H + 1))
        crop = np.asarray(big.crop((x, y, x + W, y + H)), dtype=np.float32)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain = rng.uniform(0.8, 1.2) * rng.uniform(0.9, 1.1, size=3)
        crop = crop * gain + rng.normal(0, 2.0, size=crop.shape)
        img = Image.fromarray(crop.clip(0, 255).astype(np.uint8))
        img.save(os.path.join(out, names[k], f"{i:06d}.jpg"), quality=90)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])

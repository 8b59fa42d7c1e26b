"""Writes a small real-image detection dataset twice, as COCO and as YOLO.

Each image is a 96x72 crop (a textured one, not plain sky) of one of
scikit-learn's two bundled photographs (`load_sample_images`: a Chinese temple and a
flower) with one to three of
scikit-learn's handwritten digits (`load_digits`, 8x8, drawn at 3x) pasted on it at
seeded random places that do not overlap, in dark ink on light places and light ink
on dark ones. A box is the extent of a digit's ink, its
class the digit, so every box is known exactly. 80 images go to train and 24 to val.

    python3 tests/reference/detection_fixture.py tests/data/detection

writes `coco/` (`annotations/instances_{train,val}.json`, `{train,val}/*.jpg`) and
`yolo/` (`data.yaml`, `images/{train,val}/*.jpg`, `labels/{train,val}/*.txt`) with
the same JPEG bytes. tests/cli/detection.rs scans both untouched (no annotation
finding expected) and with one injected defect of each kind.
"""

import io
import json
import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits, load_sample_images

W, H, SCALE = 96, 72, 3
SPLITS = {"train": 80, "val": 24}
NAMES = [str(d) for d in range(10)]


def digit_patch(img8):
    """The digit at 3x as an alpha mask (0..1) and its ink extent in the patch."""
    big = np.kron(img8 / 16.0, np.ones((SCALE, SCALE)))
    ys, xs = np.nonzero(big > 0.15)
    return big, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def place(rng, taken, size):
    for _ in range(200):
        x = int(rng.integers(0, W - size + 1))
        y = int(rng.integers(0, H - size + 1))
        if all(x + size <= a or a + s <= x or y + size <= b or b + s <= y for a, b, s in taken):
            taken.append((x, y, size))
            return x, y
    return None


def make_image(rng, photos, digits):
    # A crop with texture (not a patch of plain sky, which would be a blank image).
    while True:
        photo = photos[int(rng.integers(0, len(photos)))]
        top = int(rng.integers(0, photo.shape[0] - H))
        left = int(rng.integers(0, photo.shape[1] - W))
        canvas = photo[top:top + H, left:left + W].astype(np.float64)
        if canvas.mean(axis=2).std() >= 30 and 40 <= canvas.mean() <= 215:
            break
    boxes, taken = [], []
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(0, len(digits.images)))
        mask, (x0, y0, x1, y1) = digit_patch(digits.images[i])
        spot = place(rng, taken, mask.shape[0])
        if spot is None:
            continue
        x, y = spot
        region = canvas[y:y + mask.shape[0], x:x + mask.shape[1]]
        ink = mask[..., None]
        # Dark ink on a light place, light ink on a dark one: every digit is visible.
        colour = 0.0 if region.mean() > 128 else 255.0
        region[:] = region * (1 - ink) + colour * ink
        boxes.append((int(digits.target[i]), x + int(x0), y + int(y0), int(x1 - x0), int(y1 - y0)))
    out = io.BytesIO()
    Image.fromarray(canvas.clip(0, 255).astype(np.uint8)).save(out, format="JPEG", quality=85)
    return out.getvalue(), boxes


def write(path, data, mode="wb"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def main(out):
    rng = np.random.default_rng(7)
    photos = load_sample_images().images
    digits = load_digits()
    ann_id = 1
    for split, n in SPLITS.items():
        coco = {
            "info": {"description": "sklearn digits on sklearn sample photos"},
            "images": [],
            "annotations": [],
            "categories": [{"id": i, "name": name} for i, name in enumerate(NAMES)],
        }
        for k in range(n):
            jpeg, boxes = make_image(rng, photos, digits)
            name = f"{split}_{k:04d}.jpg"
            image_id = len(coco["images"]) + (1 if split == "train" else 1001)
            coco["images"].append({"id": image_id, "file_name": name, "width": W, "height": H})
            write(os.path.join(out, "coco", split, name), jpeg)
            write(os.path.join(out, "yolo", "images", split, name), jpeg)
            lines = []
            for cls, x, y, w, h in boxes:
                coco["annotations"].append({
                    "id": ann_id, "image_id": image_id, "category_id": cls,
                    "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                })
                ann_id += 1
                lines.append(f"{cls} {(x + w / 2) / W:.6f} {(y + h / 2) / H:.6f} {w / W:.6f} {h / H:.6f}")
            write(os.path.join(out, "yolo", "labels", split, name[:-4] + ".txt"),
                  "\n".join(lines) + "\n", "w")
        write(os.path.join(out, "coco", "annotations", f"instances_{split}.json"),
              json.dumps(coco, indent=1) + "\n", "w")
    write(os.path.join(out, "yolo", "data.yaml"),
          "path: .\ntrain: images/train\nval: images/val\nnames:\n"
          + "".join(f"  {i}: '{n}'\n" for i, n in enumerate(NAMES)), "w")


if __name__ == "__main__":
    main(sys.argv[1])

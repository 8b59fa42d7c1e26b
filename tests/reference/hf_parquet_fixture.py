"""Stores an image-folder dataset as the Hugging Face Hub serves one: Parquet shards
`data/<split>-00000-of-00001.parquet` whose `image` column is a struct of the file's
bytes (unchanged, whatever they hold) and its path, an int64 `label` of class ids, and
the `huggingface` metadata key that `datasets` writes, naming the classes
(`ClassLabel`). A file outside any class folder gets the Hub's "no label", -1.

tests/cli/formats.rs scans sample_data/images and this copy of it and asserts the
same samples, classes and findings.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install pyarrow==26.0.1
    /tmp/v/bin/python tests/reference/hf_parquet_fixture.py sample_data/images tests/data/hf_parquet/sample

It also writes tests/data/hf_parquet/sample-without-bytes (see `without_bytes`) and
tests/data/hf_parquet/sample-card (see `with_card`).
"""

import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main(src: str, out: str) -> None:
    splits = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    classes = sorted(
        {c for s in splits for c in os.listdir(os.path.join(src, s))
         if os.path.isdir(os.path.join(src, s, c))}
    )
    features = {
        "image": {"_type": "Image"},
        "label": {"names": classes, "_type": "ClassLabel"},
    }
    meta = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for split in splits:
        rows = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, split)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, os.path.join(src, split))
                parts = rel.split(os.sep)
                label = classes.index(parts[0]) if len(parts) > 1 else -1
                with open(path, "rb") as f:
                    rows.append(({"bytes": f.read(), "path": name}, label))
        image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
        table = pa.table(
            {
                "image": pa.array([r[0] for r in rows], image_type),
                "label": pa.array([r[1] for r in rows], pa.int64()),
            }
        ).replace_schema_metadata(meta)
        pq.write_table(table, os.path.join(out, "data", f"{split}-00000-of-00001.parquet"))


def without_bytes(good: str, out: str) -> None:
    """A dataset whose train shard stores only the images' paths (no `bytes` field),
    beside a good test shard: the bad shard is a finding, the good one is scanned."""
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    test = pq.read_table(os.path.join(good, "data", "test-00000-of-00001.parquet"))
    pq.write_table(test, os.path.join(out, "data", "test-00000-of-00001.parquet"))
    paths = [{"path": r["path"]} for r in test.column("image").to_pylist()]
    bad = pa.table(
        {
            "image": pa.array(paths, pa.struct([("path", pa.string())])),
            "label": test.column("label"),
        }
    ).replace_schema_metadata(test.schema.metadata)
    pq.write_table(bad, os.path.join(out, "data", "train-00000-of-00001.parquet"))


def with_card(good: str, out: str) -> None:
    """The same shards without the `huggingface` metadata key (as shards written by
    other tools are), their class names only in the dataset card: README.md's YAML
    front matter, `dataset_info.features[].dtype.class_label.names`, as the Hub
    writes it (ids as quoted keys)."""
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    names = None
    for split in ("test", "train"):
        name = f"{split}-00000-of-00001.parquet"
        table = pq.read_table(os.path.join(good, "data", name))
        meta = json.loads(table.schema.metadata[b"huggingface"])
        names = meta["info"]["features"]["label"]["names"]
        pq.write_table(table.replace_schema_metadata(None), os.path.join(out, "data", name))
    card = ["---", "license: cc0-1.0", "dataset_info:", "  features:",
            "  - name: image", "    dtype: image", "  - name: label", "    dtype:",
            "      class_label:", "        names:"]
    card += [f"          '{i}': {n}" for i, n in enumerate(names)]
    card += ["  splits:", "  - name: train", "  - name: test", "---", "",
             "# sample", "", "Shapes drawn for dsaudit's tests.", ""]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(card))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    without_bytes(sys.argv[2], sys.argv[2] + "-without-bytes")
    with_card(sys.argv[2], sys.argv[2] + "-card")

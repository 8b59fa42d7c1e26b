"""Stores an image-folder dataset as WebDataset shards: one tar per split
(`<split>-000000.tar`), each file of a class folder as a sample keyed
`<class>/<stem>`: the file's bytes under its own extension (unchanged, whatever they
hold) and a `.cls` member holding the class name. A file outside any class folder is a
sample without a `.cls`; the empty class folder has no members (a tar has no empty
classes).

tests/cli/formats.rs scans sample_data/images and this copy of it and asserts the
same samples, classes and findings.

    python3 tests/reference/webdataset_fixture.py sample_data/images tests/data/webdataset/sample
"""

import io
import os
import sys
import tarfile


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    # Fixed metadata: the same input gives byte-identical shards.
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def main(src: str, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for split in sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d))):
        path = os.path.join(out, f"{split}-000000.tar")
        with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
            for dirpath, dirnames, filenames in os.walk(os.path.join(src, split)):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.startswith("."):
                        continue
                    rel = os.path.relpath(os.path.join(dirpath, name), os.path.join(src, split))
                    parts = rel.split(os.sep)
                    stem, ext = name.split(".", 1)
                    key = "/".join(parts[:-1] + [stem])
                    with open(os.path.join(dirpath, name), "rb") as f:
                        add(tar, f"{key}.{ext}", f.read())
                    if len(parts) > 1:
                        add(tar, f"{key}.cls", parts[0].encode())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

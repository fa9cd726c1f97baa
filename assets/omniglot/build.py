"""Build `omniglot28.npz` (this folder) from the Omniglot zips: the one data file the `omniglot`
task family reads. Needs numpy and Pillow (a Streamlit dependency) and nothing of maml_viz, so
that the recipe sits next to what it made:

    python assets/omniglot/build.py [--src DIR_WITH_THE_ZIPS]

Source: brendenlake/omniglot, folder python/ (commit in SOURCE_COMMIT of the source folder,
copied into manifest.json): images_background_small1.zip, images_background_small2.zip (Greek
and Latin are in both, byte for byte: kept once) and all_runs.zip (Lake's 20 one-shot runs).

Conversion, exact and library-independent: each 105x105 1-bit PNG is inverted (ink = 1) and
area-averaged to 28x28. 105/28 = 3.75 source pixels per target pixel, so every target pixel is
an integer-weighted sum (weights 0..4 quarter-pixels per axis, 225 per target pixel) of source
pixels; stored as round(255 * sum / 225) in uint8 computed in integers, so the result never
depends on a resampling library, a BLAS or a platform.

Arrays (np.load(..., allow_pickle=False) reads them; no object arrays):
    images         uint8 [242, 20, 28, 28]  characters x drawers (sorted by file name), ink 255
    alphabets      str   [8]                alphabet names, sorted
    char_alphabet  int16 [242]              alphabet index of each character
    char_names     str   [242]              "<alphabet>/characterNN"
    lake_support   uint8 [20, 20, 28, 28]   run x class01..class20 (the one example per class)
    lake_query     uint8 [20, 20, 28, 28]   run x item01..item20 (the test drawings)
    lake_labels    int8  [20, 20]           class (0..19) of each test drawing

The npz is written with fixed zip timestamps (byte-reproducible with the same zlib), and
manifest.json records its SHA-256 and a content hash of the arrays (independent of zip/zlib).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "omniglot28.npz"
MANIFEST = HERE / "manifest.json"
BACKGROUND = ("images_background_small1.zip", "images_background_small2.zip")
RUNS = "all_runs.zip"
SIZE, SRC = 28, 105


def area_matrix(src: int = SRC, dst: int = SIZE) -> np.ndarray:
    """Integer [dst, src] overlap weights in units of 1/4 source pixel (105/28 = 15/4): each row
    sums to 15. out = Q @ img @ Q.T is 225x the area average."""
    q = np.zeros((dst, src), dtype=np.int64)
    for i in range(dst):
        lo, hi = i * 15, (i + 1) * 15              # in quarter source pixels
        for j in range(src):
            q[i, j] = max(0, min(hi, 4 * (j + 1)) - max(lo, 4 * j))
    assert (q.sum(1) == 15).all()
    return q


_Q = area_matrix()


def convert(png: bytes) -> np.ndarray:
    """One Omniglot PNG (black strokes on white) -> uint8 [28, 28], ink 255."""
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    if img.size != (SRC, SRC):
        raise ValueError(f"expected a {SRC}x{SRC} image, got {img.size}")
    ink = (np.asarray(img.convert("L")) < 128).astype(np.int64)
    s = _Q @ ink @ _Q.T                           # integers in [0, 225]
    return ((510 * s + 225) // 450).astype(np.uint8)   # round(255 * s / 225), exact


def read_background(paths) -> dict:
    """{(alphabet, character): {drawer_file: png bytes}} over the zips; a file present in more
    than one zip must be identical (Greek and Latin are), and is kept once."""
    chars: dict = {}
    pat = re.compile(r"^[^/]+/([^/]+)/(character\d+)/(\d+_\d+)\.png$")
    for p in paths:
        with zipfile.ZipFile(p) as z:
            for name in sorted(z.namelist()):
                m = pat.match(name)
                if not m:
                    continue
                alphabet, char, drawing = m.groups()
                data = z.read(name)
                slot = chars.setdefault((alphabet, char), {})
                if drawing in slot and slot[drawing] != data:
                    raise ValueError(f"{alphabet}/{char}/{drawing}.png differs between the zips")
                slot[drawing] = data
    return chars


def read_runs(path) -> tuple:
    support = np.zeros((20, 20, SIZE, SIZE), np.uint8)
    query = np.zeros((20, 20, SIZE, SIZE), np.uint8)
    labels = np.full((20, 20), -1, np.int8)
    with zipfile.ZipFile(path) as z:
        for r in range(20):
            run = f"run{r + 1:02d}"
            for c in range(20):
                support[r, c] = convert(z.read(f"{run}/training/class{c + 1:02d}.png"))
                query[r, c] = convert(z.read(f"{run}/test/item{c + 1:02d}.png"))
            for line in z.read(f"{run}/class_labels.txt").decode().split("\n"):
                if not line.strip():
                    continue
                item, cls = line.split()
                i = int(re.search(r"item(\d+)\.png$", item).group(1)) - 1
                labels[r, i] = int(re.search(r"class(\d+)\.png$", cls).group(1)) - 1
    if (labels < 0).any():
        raise ValueError("a run's class_labels.txt does not name all 20 test items")
    return support, query, labels


def build(src) -> dict:
    """All arrays of the asset, from the zips in `src`."""
    src = Path(src)
    chars = read_background([src / b for b in BACKGROUND])
    keys = sorted(chars)
    alphabets = sorted({a for a, _ in keys})
    images = np.zeros((len(keys), 20, SIZE, SIZE), np.uint8)
    for i, key in enumerate(keys):
        drawings = chars[key]
        if len(drawings) != 20:
            raise ValueError(f"{key[0]}/{key[1]} has {len(drawings)} drawings, expected 20")
        for j, d in enumerate(sorted(drawings)):
            images[i, j] = convert(drawings[d])
    support, query, labels = read_runs(src / RUNS)
    return {
        "images": images,
        "alphabets": np.array(alphabets),
        "char_alphabet": np.array([alphabets.index(a) for a, _ in keys], np.int16),
        "char_names": np.array([f"{a}/{c}" for a, c in keys]),
        "lake_support": support, "lake_query": query, "lake_labels": labels,
    }


def content_hash(arrays: dict) -> str:
    """SHA-256 over each array's name, dtype, shape and bytes (sorted by name)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def file_hash(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_npz(arrays: dict, path) -> None:
    """Like np.savez_compressed, with fixed timestamps so that the bytes are reproducible."""
    tmp = Path(str(path) + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for k in sorted(arrays):
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[k]), allow_pickle=False)
            z.writestr(info, buf.getvalue(), compresslevel=9)
    tmp.replace(path)


def find_source():
    """The folder with the zips: $OMNIGLOT_SRC, else `shared/data/omniglot` beside the checkout
    or beside one of its parent folders (the team's layout); None if there is none."""
    env = os.environ.get("OMNIGLOT_SRC")
    cands = [Path(env)] if env else [d / "shared" / "data" / "omniglot" for d in HERE.parents[1:]]
    return next((c for c in cands if all((c / f).is_file() for f in (*BACKGROUND, RUNS))), None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", help="folder holding the three zips and SOURCE_COMMIT "
                                  "(default: $OMNIGLOT_SRC or ../shared/data/omniglot)")
    a = ap.parse_args(argv)
    src = Path(a.src) if a.src else find_source()
    if src is None:
        raise SystemExit("error: the Omniglot zips were not found: pass --src DIR (the folder "
                         "with images_background_small1.zip, ...) or set OMNIGLOT_SRC")
    arrays = build(src)
    write_npz(arrays, OUT)
    commit = (src / "SOURCE_COMMIT").read_text().strip() if (src / "SOURCE_COMMIT").is_file() else None
    manifest = {
        "file": OUT.name, "sha256": file_hash(OUT), "content_sha256": content_hash(arrays),
        "source": "https://github.com/brendenlake/omniglot (folder python/)",
        "source_commit": commit, "source_files": list(BACKGROUND) + [RUNS],
        "arrays": {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in sorted(arrays.items())},
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{OUT} ({OUT.stat().st_size / 1e6:.2f} MB), content {manifest['content_sha256'][:16]}…")


if __name__ == "__main__":
    main()

"""The Omniglot asset checked before use: one validation function for the file kind
(`assets/omniglot/omniglot28.npz` and its `manifest.json`).

`check_asset(path)` returns the arrays only if the file is the one its manifest describes (the
manifest's sha256 of the file's bytes) and every array has the dtype and shape the family reads
(the manifest's, and the structure below); otherwise it raises AssetError with one line saying
what is wrong and what to do. Files are read with `numpy.load(allow_pickle=False)`: nothing is
ever unpickled, and a file holding Python objects is refused as such.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from ..config import ConfigError

MAX_BYTES = 64 * 2**20           # the asset is under 1 MB; anything far larger is not it
SIDE, DRAWERS = 28, 20
REBUILD = "restore it from the project (git checkout assets/omniglot) or rebuild it with " \
          "assets/omniglot/build.py"
NAME = re.compile(r"^[A-Za-z0-9_()\-]{1,64}/character\d{1,4}$")   # as Omniglot names them


class AssetError(ConfigError):
    """The Omniglot data file is missing, damaged or not the one its manifest describes."""

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__("omniglot data", f"{path} {problem}; {REBUILD}")


def _manifest(path: Path) -> dict:
    m = path.parent / "manifest.json"
    if not m.is_file():
        raise AssetError(path, f"has no manifest beside it ({m.name} is missing)")
    try:
        if m.stat().st_size > 2**20:
            raise ValueError("far too large")
        d = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise AssetError(path, f"has a manifest that is not valid JSON ({str(e)[:60]})") from None
    if not isinstance(d, dict) or not isinstance(d.get("sha256"), str) or \
            not re.fullmatch(r"[0-9a-f]{64}", d["sha256"]) or not isinstance(d.get("arrays"), dict):
        raise AssetError(path, "has a manifest without its sha256 and arrays")
    return d


def _want(manifest: dict, name: str, path: Path) -> tuple:
    spec = manifest["arrays"].get(name)
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str) or \
            not isinstance(spec.get("shape"), list):
        raise AssetError(path, f"has a manifest that does not describe the array {name!r}")
    return spec["dtype"], tuple(spec["shape"])


REQUIRED = ("images", "alphabets", "char_alphabet", "char_names", "lake_support", "lake_query",
            "lake_labels")


def check_asset(path) -> dict:
    """The asset's arrays (numpy), checked (see the module doc); AssetError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise AssetError(path, "is missing (it ships with the project)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise AssetError(path, f"is {size:,} bytes, far larger than the asset")
    manifest = _manifest(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != manifest["sha256"]:
        raise AssetError(path, f"does not match its manifest (sha256 {digest[:12]}…, the "
                               f"manifest says {manifest['sha256'][:12]}…): it was changed, cut "
                               f"short or replaced")
    if not raw.startswith(b"PK\x03\x04"):
        raise AssetError(path, "is not a NumPy .npz file (it does not start like one)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise AssetError(path, "holds Python objects (pickled data), which are never "
                                   "loaded") from None
        raise AssetError(path, f"is not a NumPy .npz file ({str(e)[:60]})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise AssetError(path, f"is not a NumPy .npz file (truncated or damaged: "
                               f"{type(e).__name__})") from None
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise AssetError(path, f"lacks the array{'s' * (len(missing) > 1)} {', '.join(missing)}")
    for k in REQUIRED:
        dtype, shape = _want(manifest, k, path)
        a = arrays[k]
        if a.dtype.str != dtype or a.shape != shape:
            raise AssetError(path, f"array {k} is {a.dtype.str} {a.shape}, its manifest says "
                                   f"{dtype} {shape}")
    _structure(arrays, path)
    return arrays


def _structure(a: dict, path: Path) -> None:
    """What the family reads, whatever the manifest says."""
    def bad(what):
        raise AssetError(path, what)

    img, names, alpha = a["images"], a["char_names"], a["alphabets"]
    if img.dtype != np.uint8 or img.ndim != 4 or img.shape[1:] != (DRAWERS, SIDE, SIDE):
        bad(f"array images is {img.dtype} {img.shape}, expected uint8 [characters, {DRAWERS}, "
            f"{SIDE}, {SIDE}]")
    n = img.shape[0]
    if alpha.dtype.kind != "U" or alpha.ndim != 1 or not len(alpha):
        bad("array alphabets is not a list of names")
    ca = a["char_alphabet"]
    if ca.dtype.kind not in "iu" or ca.shape != (n,) or (n and (ca.min() < 0 or ca.max() >= len(alpha))):
        bad(f"array char_alphabet is not one alphabet index per character ({n})")
    if names.dtype.kind != "U" or names.shape != (n,) or \
            not all(NAME.match(str(x)) for x in names.tolist()):
        bad("array char_names is not one 'Alphabet/characterNN' name per character")
    sup, qry, lab = a["lake_support"], a["lake_query"], a["lake_labels"]
    if sup.dtype != np.uint8 or sup.ndim != 4 or sup.shape[2:] != (SIDE, SIDE) or \
            qry.dtype != np.uint8 or qry.ndim != 4 or qry.shape[:1] + qry.shape[2:] != \
            (sup.shape[0], SIDE, SIDE):
        bad("arrays lake_support / lake_query are not [runs, drawings, 28, 28] uint8 images")
    if lab.dtype.kind not in "iu" or lab.shape != qry.shape[:2] or \
            (lab.size and (lab.min() < 0 or lab.max() >= sup.shape[1])):
        bad("array lake_labels is not one class per test drawing of each run")

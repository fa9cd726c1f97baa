"""Omniglot: the shipped asset (hash, licence, provenance, rebuild from the source zips), the
task family (alphabet split, label shuffling, disjoint support and query drawings), the
convolutional network and its meta-gradients, and the lake20 benchmark."""
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSET = ROOT / "assets" / "omniglot"


def _build_module():
    spec = importlib.util.spec_from_file_location("omniglot_build", ASSET / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build = _build_module()


# ----------------------------------------------------------------------------- the asset
def test_asset_matches_its_manifest_and_ships_licence_and_provenance():
    man = json.loads((ASSET / "manifest.json").read_text())
    assert build.file_hash(ASSET / man["file"]) == man["sha256"]
    with np.load(ASSET / man["file"], allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    assert build.content_hash(arrays) == man["content_sha256"]
    assert {k: [v.dtype.str, list(v.shape)] for k, v in arrays.items()} == \
        {k: [v["dtype"], v["shape"]] for k, v in man["arrays"].items()}
    lic = (ASSET / "LICENSE").read_text()
    assert "MIT License" in lic and "Brenden Lake" in lic
    readme = (ASSET / "README.md").read_text()
    assert man["source_commit"] in readme and "brendenlake/omniglot" in readme
    assert arrays["images"].shape == (242, 20, 28, 28)
    assert sorted(np.bincount(arrays["lake_labels"].ravel().astype(int))) == [20] * 20


def test_asset_is_rebuilt_exactly_from_the_source_zips():
    """With the source zips at hand (the team's machines), the arrays are rebuilt and must match
    the manifest. Without them (a clean clone in CI), the converter still runs, on zips made
    here in the same layout, and the shipped asset's hashes are checked by the test above."""
    src = build.find_source()
    if src is not None:
        assert build.content_hash(build.build(src)) == \
            json.loads((ASSET / "manifest.json").read_text())["content_sha256"]
    else:
        print("source zips not found: checked the converter on synthetic zips only")


def _png(ink: np.ndarray) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1").save(buf, "PNG")
    return buf.getvalue()


def test_converter_on_synthetic_zips(tmp_path):
    rng = np.random.default_rng(0)
    drawings = {}
    for zname, alphabets in ((build.BACKGROUND[0], ("Alpha", "Shared")),
                             (build.BACKGROUND[1], ("Shared", "Beta"))):
        with zipfile.ZipFile(tmp_path / zname, "w") as z:
            for a in alphabets:
                for c in (1, 2):
                    for d in range(1, 21):
                        key = (a, c, d)
                        if key not in drawings:
                            drawings[key] = rng.random((105, 105)) < 0.1
                        z.writestr(f"{zname[:-4]}/{a}/character{c:02d}/{c:04d}_{d:02d}.png",
                                   _png(drawings[key]))
    with zipfile.ZipFile(tmp_path / build.RUNS, "w") as z:
        for r in range(1, 21):
            lines = []
            for i in range(1, 21):
                z.writestr(f"run{r:02d}/training/class{i:02d}.png", _png(np.zeros((105, 105), bool)))
                z.writestr(f"run{r:02d}/test/item{i:02d}.png", _png(np.ones((105, 105), bool)))
                lines.append(f"run{r:02d}/test/item{i:02d}.png run{r:02d}/training/class{21 - i:02d}.png")
            z.writestr(f"run{r:02d}/class_labels.txt", "\n".join(lines) + "\n")
    out = build.build(tmp_path)
    # "Shared" is in both zips, identical: kept once
    assert list(out["alphabets"]) == ["Alpha", "Beta", "Shared"]
    assert out["images"].shape == (6, 20, 28, 28)
    assert list(out["char_names"][:2]) == ["Alpha/character01", "Alpha/character02"]
    # ink is 255 after inversion; the area average keeps the amount of ink (~10% of pixels)
    img = out["images"][0, 0].astype(float) / 255
    assert abs(img.mean() - drawings[("Alpha", 1, 1)].mean()) < 0.01
    assert (out["lake_support"] == 0).all() and (out["lake_query"] == 255).all()
    assert list(out["lake_labels"][0]) == list(range(19, -1, -1))
    # a drawing that differs between the two zips is an error, not silently one of them
    with zipfile.ZipFile(tmp_path / build.BACKGROUND[1], "a") as z:
        z.writestr("x/Alpha/character01/0001_01.png", _png(~drawings[("Alpha", 1, 1)]))
    with pytest.raises(ValueError, match="differs"):
        build.build(tmp_path)


def test_area_average_is_exact():
    q = build.area_matrix()
    assert q.shape == (28, 105) and (q.sum(1) == 15).all() and (q.sum(0) == 4).all()
    full = np.ones((105, 105), bool)
    assert (build.convert(_png(full)) == 255).all()
    assert (build.convert(_png(~full)) == 0).all()

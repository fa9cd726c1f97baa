"""Issue 26, item 7: the Omniglot asset missing, truncated, random bytes, holding pickled objects,
without a field, of the wrong shape, or not the file its manifest's sha256 names: one line saying
what is wrong, everywhere it is read (the family, `train`, `evaluate`, the Handwriting page),
never a traceback and never an unpickling."""
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz import cli
from maml_viz.engine.tasks import omniglot as og
from maml_viz.engine.tasks.omniglot_asset import AssetError, check_asset

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "assets" / "omniglot"


def resign(folder: Path, arrays=None):
    """Write the manifest for the npz as it is now (a damage that passes the sha256 check)."""
    npz = folder / "omniglot28.npz"
    m = json.loads((folder / "manifest.json").read_text())
    m["sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    if arrays is not None:
        m["arrays"] = {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()}
    (folder / "manifest.json").write_text(json.dumps(m))


def rewrite(folder: Path, edit, allow_pickle=False):
    npz = folder / "omniglot28.npz"
    with np.load(npz) as d:
        arrays = {k: d[k] for k in d.files}
    arrays = edit(arrays)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in arrays.items():
            b = io.BytesIO()
            np.lib.format.write_array(b, v, allow_pickle=allow_pickle)
            z.writestr(f"{k}.npy", b.getvalue())
    npz.write_bytes(buf.getvalue())
    resign(folder, {k: v for k, v in arrays.items() if v.dtype != object})


DAMAGE = {
    "missing": (lambda f: (f / "omniglot28.npz").unlink(), "is missing"),
    "empty": (lambda f: (f / "omniglot28.npz").write_bytes(b""), "does not match its manifest"),
    "truncated": (lambda f: (f / "omniglot28.npz").write_bytes(
        (f / "omniglot28.npz").read_bytes()[:5000]), "does not match its manifest"),
    "random": (lambda f: (f / "omniglot28.npz").write_bytes(os.urandom(4000)),
               "does not match its manifest"),
    "one-byte-changed": (lambda f: (f / "omniglot28.npz").write_bytes(
        (lambda b: b[:-10] + bytes([b[-10] ^ 1]) + b[-9:])((f / "omniglot28.npz").read_bytes())),
        "does not match its manifest"),
    "manifest-missing": (lambda f: (f / "manifest.json").unlink(), "has no manifest"),
    "manifest-garbage": (lambda f: (f / "manifest.json").write_text("{oops"),
                         "manifest that is not valid JSON"),
    # damage that passes the sha256 (the manifest rewritten for it): the schema catches it
    "truncated-resigned": (lambda f: ((f / "omniglot28.npz").write_bytes(
        (f / "omniglot28.npz").read_bytes()[:5000]), resign(f)), "is not a NumPy .npz file"),
    "random-resigned": (lambda f: ((f / "omniglot28.npz").write_bytes(os.urandom(4000)),
                                   resign(f)), "is not a NumPy .npz file"),
    "pickled": (lambda f: rewrite(f, lambda a: {**a, "char_names": np.array(
        [{"x": 1}] * 242, dtype=object)}, allow_pickle=True), "pickled data"),
    "without-a-field": (lambda f: rewrite(f, lambda a: {k: v for k, v in a.items()
                                                        if k != "char_alphabet"}),
                        "lacks the array char_alphabet"),
    "wrong-shape": (lambda f: rewrite(f, lambda a: {**a, "images": a["images"][:, :5]}),
                    "array images is"),
    "bad-names": (lambda f: rewrite(f, lambda a: {**a, "char_names": np.array(
        ["../../etc"] * 242)}), "char_names"),
    "markdown-names": (lambda f: rewrite(f, lambda a: {**a, "char_names": np.array(
        ["[log in](javascript:x)/character01"] * 242)}), "char_names"),   # (shown on a page)
    "index-out-of-range": (lambda f: rewrite(f, lambda a: {**a, "char_alphabet": np.full(
        242, 99, dtype=np.int16)}), "char_alphabet"),
}


@pytest.fixture
def damaged(tmp_path, monkeypatch, request):
    folder = tmp_path / "omniglot"
    shutil.copytree(GOOD, folder)
    how, why = DAMAGE[request.param]
    how(folder)
    monkeypatch.setattr(og, "ASSET", folder / "omniglot28.npz")
    for f in (og._checked_asset, og.image_pool, og.class_ids):
        f.cache_clear()
    yield folder / "omniglot28.npz", why
    for f in (og._checked_asset, og.image_pool, og.class_ids):
        f.cache_clear()


def test_the_shipped_asset_checks_out():
    arrays = check_asset(GOOD / "omniglot28.npz")
    assert arrays["images"].shape == (242, 20, 28, 28)


@pytest.mark.parametrize("damaged", sorted(DAMAGE), indirect=True)
def test_a_damaged_asset_is_refused_in_one_line_everywhere(damaged, tmp_path, capsys, monkeypatch):
    path, why = damaged
    with pytest.raises(AssetError) as e:
        og.load_asset()
    msg = str(e.value)
    assert why in msg and "\n" not in msg and "assets/omniglot/build.py" in msg
    # the command line: one line, exit 1, nothing trained or written
    runs = tmp_path / "runs"
    capsys.readouterr()
    code = cli.main(["train", "--family", "omniglot", "--iterations", "2", "--runs-dir",
                     str(runs), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and why in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not runs.exists() or not any(runs.iterdir())
    bundled = next((ROOT / "assets" / "runs").glob("omniglot-maml-*"))
    code = cli.main(["evaluate", str(bundled), "--tasks", "2", "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 1 and why in err and len(err.strip().splitlines()) == 1, err
    code = cli.main(["evaluate", str(bundled), "--benchmark", "lake20", "--steps", "1"])
    err = capsys.readouterr().err
    assert code == 1 and why in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("damaged", ["random-resigned", "one-byte-changed"], indirect=True)
def test_the_handwriting_page_says_what_is_wrong(damaged, tmp_path, monkeypatch):
    path, why = damaged
    root = tmp_path / "runs"
    root.mkdir()
    with app_store(root, monkeypatch):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/5_Handwriting.py")
        at.run()
        assert not at.exception, [x.value for x in at.exception]
        assert any(why in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]

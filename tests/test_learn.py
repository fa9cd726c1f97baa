"""The Learn page's precomputed pictures match a fresh computation from the bundled runs, and
the home page draws without importing torch (that is what makes it fast)."""
import os
import subprocess
import sys

import numpy as np

from maml_viz import learn
from maml_viz.store import RunStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_learn_json_matches_the_bundled_runs():
    saved = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    assert saved is not None, "run: python -m maml_viz learn-data"
    fresh = learn.compute(RunStore(os.path.join(ROOT, "assets", "runs")))
    assert saved["sine"]["maml"]["key"] == fresh["sine"]["maml"]["key"]
    for path in [("sine", "maml", "after"), ("sine", "pretrained", "after"), ("sine", "true"),
                 ("linear", "optima"), ("linear", "adapted", "maml")]:
        a, b = saved, fresh
        for p in path:
            a, b = a[p], b[p]
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    # the story the page tells is true of these runs
    assert fresh["sine"]["maml"]["error"][1] < 0.5 * fresh["sine"]["pretrained"]["error"][1]


def test_home_page_draws_without_torch():
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({os.path.join(ROOT, 'app.py')!r}, default_timeout=60); at.run(); "
            "assert not at.exception, [e.value for e in at.exception]; "
            "assert len(at.get('plotly_chart')) == 4; print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "False"


def test_missing_learn_file_means_live_computation(tmp_path):
    assert learn.load(tmp_path / "nope.json") is None
    (tmp_path / "bad.json").write_text("{broken")
    assert learn.load(tmp_path / "bad.json") is None

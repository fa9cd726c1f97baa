"""The Inside page (issue 23, item 3, the app): one run's per-layer weight change and CKA as
views.diagnostics computes them (ANIL's body exactly 0, said in words), Meta-SGD's step-size
histograms, the training signals from the run's history (or why there are none), one task or
the average, the table out as LaTeX; and the sentence's rules on cases with known answers."""
import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.saving import save_run
from maml_viz.runs.store import RunStore
from maml_viz.views import diagnostics as dg
from maml_viz.views import inside

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED = os.path.join(ROOT, "assets", "runs")


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def page(**query):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=180)
    at.switch_page("pages/6_Inside.py")
    for k, v in query.items():
        at.query_params[k] = str(v)
    return ok(at.run())


def arr(v):
    import base64
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def chart(at, ytitle):
    figs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    return next(f for f in figs if ytitle in json.dumps(f["layout"].get("yaxis", {})))


def lines(fig):
    return {t["name"]: (arr(t["x"]), arr(t["y"])) for t in fig["data"]
            if t.get("mode") == "lines+markers"}


def plain(t):
    return re.sub(r"\\(.)", r"\1", t)


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    with app_store(tmp_path / "runs", monkeypatch):
        yield RunStore(BUNDLED)


def test_anil_body_is_flat_on_the_chart_and_said_in_words(bundled):
    cfg = make_config(family="sinusoid", algo="anil")
    at = page(family="sinusoid", run=cfg.key(), steps=5)
    want = dg.weight_change(bundled.get(cfg), n_tasks=inside.TASKS["mlp"], steps=5, k=10)
    got = lines(chart(at, "weight change"))
    assert set(got) == {"l0", "l1", "l2"}
    for layer, (x, y) in got.items():
        w = want[want["layer"] == layer].sort_values("step")
        assert list(x) == list(range(6))
        np.testing.assert_allclose(y, 100 * w["relative"].to_numpy(), rtol=1e-9, atol=1e-12)
    assert (got["l0"][1] == 0).all() and (got["l1"][1] == 0).all() and (got["l2"][1][1:] > 0).all()
    said = [plain(i.value) for i in at.info]
    assert any("ANIL's body does not move at all" in s and "feature reuse" in s for s in said)
    cka = lines(chart(at, "CKA"))
    np.testing.assert_allclose(cka["l0"][1], 1.0, atol=1e-9)           # the same features
    # the bundled runs were trained before the training signals were kept: said, not drawn
    assert any("trained before they were recorded" in s for s in said)


def test_one_task_and_metasgd_step_sizes(bundled):
    cfg = make_config(family="sinusoid", algo="metasgd")
    at = page(family="sinusoid", run=cfg.key(), steps=2, task=3)
    run = bundled.get(cfg)
    want = dg.weight_change(run, n_tasks=inside.TASKS["mlp"], steps=2, k=10, task=3)
    got = lines(chart(at, "weight change"))
    np.testing.assert_allclose(got["l1"][1], 100 * want[want["layer"] == "l1"]["relative"])
    assert any("on one held-out task" in plain(c.value) for c in at.caption)
    hist = chart(at, "weights")
    sizes = dg.step_sizes(run)
    bars = {t["name"]: arr(t["y"]) for t in hist["data"] if t.get("type") == "bar"}
    assert set(bars) == {x["layer"] for x in sizes["layers"]}
    for x in sizes["layers"]:
        assert list(bars[x["layer"]]) == x["counts"]
        assert bars[x["layer"]].sum() == sum(v.numel() for k, v in run.params.items()
                                              if k.startswith(f"lr.{x['layer']}."))


def test_training_signals_from_the_history_and_latex_out(tmp_path, monkeypatch):
    cfg = make_config(family="sinusoid", algo="maml", iterations=300, meta_batch=4, seed=3)
    run = train(cfg, "cpu")
    save_run(run, tmp_path / "runs")
    h = RunStore(tmp_path / "runs").get(cfg).history            # as stored (history.csv)
    with app_store(tmp_path / "runs", monkeypatch):
        at = page(family="sinusoid", run=cfg.key(), steps=3)
        fig = chart(at, "meta-gradient norm")
        norm = next(t for t in fig["data"] if t["name"] == "meta-gradient norm")
        pts = [(i, v) for i, v in zip(h["iteration"], h["meta_grad_norm"])
               if v is not None and np.isfinite(v)]
        assert len(pts) >= 2
        assert list(arr(norm["x"])) == [p[0] for p in pts]
        np.testing.assert_allclose(arr(norm["y"]), [p[1] for p in pts])
        assert {t["name"] for t in fig["data"]} == {"meta-gradient norm",
                                                   "support loss before adapting",
                                                   "support loss after the inner loop"}
        table = at.dataframe[-1].value
        assert isinstance(table, pd.DataFrame) and list(table["layer"]) == ["l0", "l1", "l2"]
        want = dg.weight_change(RunStore(tmp_path / "runs").get(cfg), n_tasks=inside.TASKS["mlp"],
                                steps=3, k=10)
        np.testing.assert_allclose(table["change after 3 steps, % of size"],
                                   100 * want[want["step"] == 3]["relative"].to_numpy())
        assert {b.label for b in at.get("download_button")} >= {"Table as CSV", "Table as LaTeX"}
        assert any("__mavizExport" in x.proto.body and '"in_"' in x.proto.body
                   for x in at.get("html"))


def test_sentence_rules_on_known_cases():
    def frame(rel, cka_body):
        ch = pd.DataFrame([{"layer": lay, "step": s, "relative": (0 if s == 0 else r)}
                           for lay, r in rel.items() for s in range(3)])
        ck = pd.DataFrame([{"layer": lay, "step": s, "cka": (1 if s == 0 else c)}
                           for lay, c in {**cka_body, "out": 0.5}.items() for s in range(3)])
        return ch, ck
    s = inside.sentence("ANIL", *frame({"l0": 0.0, "l1": 0.0, "out": 0.2}, {"l0": 1, "l1": 1}))
    assert "does not move at all" in s and "out moves 20%" in s and "feature reuse" in s
    s = inside.sentence("MAML", *frame({"l0": 0.003, "l1": 0.001, "out": 0.1},
                                       {"l0": 0.99, "l1": 0.97}))
    assert "at most 0.3% of its size (l0)" in s and "CKA ≥ 0.97" in s and "feature reuse" in s
    s = inside.sentence("X", *frame({"l0": 0.3, "out": 0.1}, {"l0": 0.6}))
    assert "CKA down to 0.60" in s and "rapid learning" in s
    s = inside.sentence("Line", *frame({"out": 0.4}, {}))
    assert "one layer (out) moves 40%" in s and "does not move" not in s
    ch, ck = frame({"l0": 0.1, "out": 0.1}, {"l0": 0.99})
    ch.loc[(ch["step"] == 2) & (ch["layer"] == "l0"), "relative"] = np.nan
    s = inside.sentence("Y", ch, ck)
    assert s.startswith("After 1 step,") and "runs away after step 1" in s

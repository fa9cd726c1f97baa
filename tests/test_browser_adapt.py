"""The browser's adaptation engine (assets/js/adapt.js) against the engine's own: for every bundled
run of the families the browser adapts (sinusoid, linear, wave, blobs; every algorithm and
baseline), a blank Chromium page with adapt.js adapts the same task's points as
explore.support + explore.trajectory + explore.blowup_step (what the Playground draws) and must
give the same support points (bit for bit), the same curves / class scores on the grid, support
losses, errors on the true curve or query accuracy and loss to 1e-4 (float32), and the same
blow-up step; with the run's own step size (Meta-SGD's per weight), an override, several K and
step counts, clicked points, "use only my points", and a step size that diverges.

No Streamlit: the page is about:blank with the script injected. Deterministic (fixed seeds, the
same payload, single-threaded torch)."""
import base64
import glob
import json
import os

import numpy as np
import pytest
import torch
from browser import ROOT, browser

from maml_viz.engine.tasks import ClassificationFamily
from maml_viz.runs.files import load_run
from maml_viz.views import browser as browser_payload
from maml_viz.views.adaptation import POOL_K, blowup_step, grid, playground_query, trajectory
from maml_viz.views.points import support

ADAPT_JS = os.path.join(ROOT, "assets", "js", "adapt.js")
FAMILIES = ("sinusoid", "linear", "wave", "blobs")
RUN_DIRS = sorted(d for f in FAMILIES for d in glob.glob(os.path.join(ROOT, "assets", "runs", f"{f}-*")))
N_TASKS = 4                       # tasks in the test payload (seeds 0..3)
# a step size at which every bundled run of the family blows up within the shown steps
DIVERGE = {"sinusoid": 0.3, "linear": 3.0, "wave": 10.0, "blobs": 10.0}
DIVERGE_RUN = {"blobs-anil": 1e5}     # the head alone: logits grow only linearly in α
TOL = dict(rtol=1e-4, atol=1e-4)

# runs the cases in the page (or under node): results with float32 arrays as base64
RUNNER = """
(args) => {
  const M = (typeof MamlAdapt !== 'undefined') ? MamlAdapt : args.M;
  const eng = M.load(args.payload), out = [];
  for (const c of args.cases) {
    const sup = eng.support(c.task, c.k, c.mine, c.only);
    const res = eng.adapt(sup, {steps: c.steps, lr: c.lr});
    const shown = res.shown, maps = [];
    let boundOk = true;                  // the lazy blow-up test's bound holds on every map
    const at = c.maps ? [...new Set(c.maps.map(s => Math.min(s, shown - 1)))] : [...Array(shown).keys()];
    for (const s of at) {
      const p = res.predsAt(s), lo = eng.gridAxis[0], hi = eng.gridAxis[eng.gridAxis.length - 1];
      const top = p.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      boundOk = boundOk && top <= 1.0001 * eng.model.bound(res.thetas[s], lo, hi);
      maps.push(p);
    }
    const cat = (arrs) => {
      const n = arrs.reduce((a, b) => a + b.length, 0), o = new Float32Array(n); let i = 0;
      for (const a of arrs) { o.set(a, i); i += a.length; } return o; };
    out.push({x: M.encodeF32(sup.x), y: M.encodeF32(Float32Array.from(sup.y)), task: sup.task,
              blowup: res.blowup, shown: shown, support: res.support,
              mapSteps: at, preds: M.encodeF32(cat(maps)), boundOk: boundOk,
              gridError: res.gridError || null, queryAccuracy: res.queryAccuracy || null,
              queryLoss: res.queryLoss || null});
  }
  return out;
}
"""


def _runs():
    return [pytest.param(d, id=os.path.basename(d).rsplit("-", 1)[0]) for d in RUN_DIRS]


def cases(run) -> list:
    """The interactions checked for one run: K, α, steps, task, clicks, only my points."""
    fam, cfg = run.family, run.config
    cls = isinstance(fam, ClassificationFamily)
    lo, hi = fam.x_range()
    mid, span = (lo + hi) / 2, (hi - lo) / 2
    if cls:
        mine = [(round(mid + 0.3 * span, 3), round(mid - 0.2 * span, 3), 1),
                (round(mid - 0.5 * span, 3), round(mid + 0.4 * span, 3), 3),
                (-1.0, 2.5, 0)]
    else:
        mine = [(round(mid + 0.37 * span, 3), 1.234), (round(mid - 0.61 * span, 3), -0.8),
                (0.0, 0.5), (round(mid + 0.9 * span, 3), -1.5)]
    a = cfg.inner_lr
    key = os.path.basename(run.path).rsplit("-", 1)[0]
    div = DIVERGE_RUN.get(key, DIVERGE[cfg.family])
    # class maps (G·C numbers a step) come back for steps 0, 1 and the last shown (each one
    # depends on every step before it); curves for every step
    maps = [0, 1, 10**6] if cls else None
    cs = [dict(task=0, k=cfg.k_shot, mine=[], only=False, steps=10, lr=None),
          dict(task=1, k=POOL_K, mine=[], only=False, steps=8 if cls else 50, lr=a / 2),
          dict(task=2, k=3, mine=mine[:3], only=False, steps=5, lr=2 * a),
          dict(task=3, k=5, mine=mine, only=True, steps=7, lr=None),
          dict(task=1, k=2, mine=[], only=True, steps=3, lr=a),     # only mine, none: the task's
          dict(task=3, k=10, mine=[], only=False, steps=30, lr=div, diverges=True)]
    return [dict(c, maps=maps) for c in cs]


def reference(run, payload, case) -> dict:
    """What the Playground's engine path gives for the case (explore.playground's inputs)."""
    fam = run.family
    seed = payload["tasks"]["first_seed"] + case["task"]
    sup = support(run, seed, case["k"], case["mine"], case["only"])
    cls = isinstance(fam, ClassificationFamily)
    xg = grid(run, 60 if cls else 200)
    xq = yq = None
    if cls and sup.task is not None:
        xq, yq = playground_query(fam, sup.task, seed)
    tr = trajectory(run, sup.xs, sup.ys, case["steps"], lr=case["lr"], x_grid=xg,
                    task=sup.task, xq=xq, yq=yq)
    if cls and xq is not None:          # the query loss, as the engine's loss on the query set
        tr["query_loss"] = np.array([
            fam.loss(run.model(p, xq), yq).item() for p in run.algorithm.adapt(
                run.model, fam, run.params, sup.xs, sup.ys, case["steps"], run.config,
                trajectory=True, lr=case["lr"])])
    tr["blowup"] = blowup_step(tr["preds"], tr["support"])
    tr["sup"] = sup
    return tr


def f32(b64) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), "<f4")


def check(run, payload, case, got):
    ref = reference(run, payload, case)
    what = f"{os.path.basename(run.path)} {case}"
    sup = ref["sup"]
    np.testing.assert_array_equal(f32(got["x"]), sup.xs.reshape(-1).numpy(), err_msg=what)
    np.testing.assert_array_equal(f32(got["y"]), sup.ys.reshape(-1).float().numpy(), err_msg=what)
    assert (got["task"] is None) == (sup.task is None), what
    assert got["blowup"] == ref["blowup"] and got["boundOk"], what
    if case.get("diverges"):
        assert ref["blowup"] is not None and ref["blowup"] >= 1, f"{what}: did not diverge"
    shown = got["shown"]
    assert shown == (case["steps"] + 1 if ref["blowup"] is None else ref["blowup"]), what
    steps = got["mapSteps"]
    preds = dict(zip(steps, f32(got["preds"]).reshape((len(steps), *ref["preds"].shape[1:]))))
    assert max(steps) == shown - 1 and (case["maps"] or len(steps) == shown), what
    # A diverging step size amplifies rounding ~α·curvature-fold a step: after one step the wave
    # model's phase is ~160, where a float32 ulp (1.5e-5) already moves the curve by 3e-4 and
    # torch's float32 differs from its own float64 by more than 1e-4 from the second step on.
    # There the blow-up step must agree, and the first step's curve to 1e-4 of its scale.
    n = min(shown, 2) if case.get("diverges") else shown
    for s in (s for s in steps if s < n):
        tol = dict(TOL, atol=1e-4 * max(1.0, float(np.abs(ref["preds"][s]).max()))) \
            if case.get("diverges") else TOL
        np.testing.assert_allclose(preds[s], ref["preds"][s], **tol, err_msg=f"{what} step {s}")
    np.testing.assert_allclose(got["support"][:n], ref["support"][:n], **TOL, err_msg=what)
    if "grid_error" in ref:
        np.testing.assert_allclose(got["gridError"][:n], ref["grid_error"][:n], **TOL, err_msg=what)
    else:
        assert got["gridError"] is None, what
    if "query" in ref:
        np.testing.assert_allclose(got["queryAccuracy"][:n], ref["query"][:n], **TOL, err_msg=what)
        np.testing.assert_allclose(got["queryLoss"][:n], ref["query_loss"][:n], **TOL,
                                   err_msg=what)
    else:
        assert got["queryAccuracy"] is None, what


@pytest.fixture(scope="module")
def page():
    torch.set_num_threads(1)
    with browser() as chromium:
        pg = chromium.new_page()
        pg.set_content("<!doctype html><html><body></body></html>")
        pg.add_script_tag(path=ADAPT_JS)
        yield pg


def test_every_small_run_covered():
    names = {os.path.basename(d).split("-")[0] for d in RUN_DIRS}
    assert names == set(FAMILIES) and len(RUN_DIRS) >= 28


@pytest.mark.parametrize("run_dir", _runs())
def test_browser_adapts_like_the_engine(page, run_dir):
    run = load_run(run_dir)
    payload = browser_payload.payload(run, n_tasks=N_TASKS)
    cs = cases(run)
    got = page.evaluate(RUNNER, {"payload": json.loads(browser_payload.to_json(payload)),
                                 "cases": cs})
    for case, g in zip(cs, got):
        check(run, payload, case, g)


def test_payload_pool_is_what_the_engine_draws():
    """The default payload (64 tasks): every seed's pool, cut at any K, is explore.support's
    points for that K; the true curve is the family's on the Playground's grid; small JSON."""
    for d in RUN_DIRS:
        if "-maml-" not in d:
            continue
        run = load_run(d)
        p = browser_payload.payload(run)
        text = browser_payload.to_json(p)
        assert len(text) < 300_000, (d, len(text))
        t, fam = p["tasks"], run.family
        c = getattr(fam, "n_classes", 1)
        xs = f32(t["xs"]).reshape(t["n"], c, t["pool_k"], fam.in_dim)
        for seed in (0, 17, 63):
            for k in (1, 7, 50):
                sup = support(run, seed, k)
                np.testing.assert_array_equal(xs[seed, :, :k].reshape(-1),
                                              sup.xs.reshape(-1).numpy())
                if c == 1:
                    ys = f32(t["ys"]).reshape(t["n"], t["pool_k"])
                    np.testing.assert_array_equal(ys[seed, :k], sup.ys.reshape(-1).numpy())
                    true = f32(t["true"]).reshape(t["n"], -1)[seed]
                    np.testing.assert_array_equal(
                        true, fam.target(sup.task, grid(run, 200)).reshape(-1).numpy())
            assert t["describe"][seed] == fam.describe_task(support(run, seed, 1).task[0])


def test_runs_the_browser_cannot_adapt_say_so():
    for d in glob.glob(os.path.join(ROOT, "assets", "runs", "navigation-maml-*")):
        with pytest.raises(browser_payload.BrowserUnsupported, match="server"):
            browser_payload.payload(load_run(d))


def test_bad_input_gives_one_clear_message(page):
    run = load_run(RUN_DIRS[0])
    p = json.loads(browser_payload.to_json(browser_payload.payload(run, n_tasks=2)))
    msgs = page.evaluate("""(p) => {
      const tries = [() => MamlAdapt.load({format: 'other'}),
                     () => MamlAdapt.load(p).support(0, 0, [], false),
                     () => MamlAdapt.load(p).support(5, 1, [], false),
                     () => { const e = MamlAdapt.load(p); e.adapt(e.support(0, 1), {lr: NaN}); }];
      return tries.map(f => { try { f(); return null; } catch (e) { return String(e.message); } });
    }""", p)
    assert "not a maml-viz adaptation payload" in msgs[0]
    assert "K must be a whole number from 1 to 50" in msgs[1]
    assert "task index" in msgs[2] and "step size" in msgs[3]

"""Compare's one-task chart computed in the browser (assets/js/cmpview.js over adapt.js) against
the engine and against itself, for every family the browser adapts, with every bundled run of the
family on one chart (all algorithms and baselines), several tasks, K, numbers of steps and steps
shown, and one run given a step size that blows up. A blank Chromium page builds the view and
draws it with Plotly.js (the copy the plotly package ships); the test requires:

- the support points drawn are the engine's (points.support for the task's seed), every run's
  curve after the step shown and its error on the whole true curve after every step equal the
  engine's (views.adaptation.trajectory, as compare.compare_task computes them) to 1e-4;
- in the plane, each map's title counts the test points the engine's adapted network gets right
  at that step, the crosses drawn are exactly the others, and the map's picture is the engine's
  predicted class at every grid point (ties aside: none allowed beyond 0.5%);
- the caption's ranking and numbers are those of the chart; a run that blows up has nothing drawn
  from that step on, a ✕ at that step, and the warning and caption say the same step.
"""
import glob
import json
import os
import re

import numpy as np
import pytest
import torch
from browser import DECODE, ROOT, blank_page

from maml_viz.engine.tasks import ClassificationFamily
from maml_viz.runs.files import load_run
from maml_viz.views import browser as browser_payload
from maml_viz.views import points
from maml_viz.views.adaptation import blowup_step, grid, playground_query, trajectory
from maml_viz.views.figures.style import color

FAMILIES = ("sinusoid", "linear", "wave", "blobs")
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "anil": "ANIL",
          "metasgd": "Meta-SGD", "pretrained": "Pretrained", "scratch": "Random init"}
BLOW = {"sinusoid": 3.0, "linear": 3.0, "wave": 30.0, "blobs": 1e5}    # MAML's α in the last case

RENDER = """async (args) => {
  document.body.innerHTML = '<div id="root" style="width:900px"></div>';
  const root = document.getElementById('root');
  const P0 = args.payloads[0];
  const runs = args.payloads.map((P, i) => ({ key: P.run.key, label: args.labels[i], color: args.colors[i],
    dash: 'solid', payload: P, eng: MamlAdapt.load(Object.assign({}, P, { tasks: P0.tasks })), res: null }));
  const out = [];
  for (const c of args.cases) {
    const sup = runs[0].eng.support(c.task, c.k, [], false);
    for (const r of runs) {
      const lr = (c.lrs || {})[r.key];
      r.res = r.eng.adapt(sup, { steps: c.steps, lr: lr, grid: r.eng.classes ? 'lazy' : true });
    }
    const view = MamlCmpView.build({ runs: runs, sup: sup, task: runs[0].eng.task(c.task), step: c.step,
                                     phone: false, width: 290 });
    root.replaceChildren();
    const charts = [];
    for (const p of view.panels) {
      const box = document.createElement('div');
      box.innerHTML = '<div data-ptitle></div><div data-panel></div><div data-legend></div>';
      box.style.width = p.name.startsWith('map') ? '290px' : '440px';
      root.append(box);
      await MamlPgView.draw(box, p, { displayModeBar: false });
      const gd = box.querySelector('[data-panel]');
      charts.push({ name: p.name, title: box.querySelector('[data-ptitle]').textContent,
        images: Array.from(gd.querySelectorAll('.imagelayer image')).map((im) => im.getAttribute('href')),
        traces: gd._fullData.map((t) => ({ name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
                                           visible: t.visible, mode: t.mode })) });
    }
    out.push({ sup: { x: Array.from(sup.x), y: Array.from(sup.y), n: sup.n }, notes: view.notes,
               caption: view.caption.join(' '), head: view.head, step: view.step, charts: charts });
  }
  return out;
}"""

@pytest.fixture(scope="module")
def page():
    torch.set_num_threads(1)
    with blank_page("adapt.js", "pgview.js", "cmpview.js") as pg:
        yield pg


def bundled(family):
    runs = [load_run(d) for d in sorted(glob.glob(os.path.join(ROOT, "assets", "runs", f"{family}-*")))]
    first = next(r for r in runs if r.config.algo == "maml")         # MAML's tasks, as the page
    return [first] + [r for r in runs if r is not first]


def engine(run, sup, steps, lr, seed):
    fam = run.family
    if isinstance(fam, ClassificationFamily):
        xq, yq = playground_query(fam, sup.task, seed)
        xg = grid(run, 60)
        tr = trajectory(run, sup.xs, sup.ys, steps, lr=lr, x_grid=torch.cat([xg, xq], 1))
        p = tr["preds"]
        G = 60 * 60
        with np.errstate(invalid="ignore"):              # a blown-up step's NaN: no margin
            margin = np.nan_to_num(np.diff(np.sort(p[:, :G], -1)[..., -2:], axis=-1)[..., 0])
        return {"maps": p[:, :G].argmax(-1), "right": p[:, G:].argmax(-1) == yq[0].numpy()[None],
                "margin": margin,
                "xq": xq[0].numpy(), "blowup": blowup_step(p, tr["support"])}
    tr = trajectory(run, sup.xs, sup.ys, steps, lr=lr, x_grid=grid(run, 200), task=sup.task)
    return {"preds": tr["preds"][:, :, 0], "error": tr["grid_error"],
            "blowup": blowup_step(tr["preds"], tr["support"])}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_browsers_compare_chart_is_the_engines(page, family):
    runs = bundled(family)
    labels = [LABELS[r.config.algo] for r in runs]
    payloads = json.loads(json.dumps(browser_payload.compare_payloads(runs, 0, n_tasks=4, labels=labels)))
    k0 = runs[0].config.k_shot
    maml = runs[0].key
    cases = [dict(task=0, k=k0, steps=10, step=1), dict(task=1, k=k0 + 2, steps=5, step=5),
             dict(task=2, k=1, steps=3, step=0),
             dict(task=3, k=k0, steps=12, step=12, lrs={maml: BLOW[family]})]
    views = page.evaluate(RENDER, {"payloads": payloads, "cases": cases, "labels": labels,
                                   "colors": [color(r.config.algo) for r in runs]})
    cls = isinstance(runs[0].family, ClassificationFamily)
    for c, v in zip(cases, views):
        sup = points.support(runs[0], c["task"], c["k"])
        assert np.allclose(np.array(v["sup"]["x"]), sup.xs.numpy().reshape(-1)), c
        assert np.allclose(np.array(v["sup"]["y"]), sup.ys.numpy().reshape(-1)), c
        S = v["step"]
        assert S == min(c["step"], c["steps"])
        ref = {r.key: engine(r, sup, c["steps"], (c.get("lrs") or {}).get(r.key), c["task"])
               for r in runs}
        blown = {lab: ref[r.key]["blowup"] for r, lab in zip(runs, labels)
                 if ref[r.key]["blowup"] is not None}
        if c.get("lrs"):
            assert "MAML" in blown, f"{family}: MAML at α {BLOW[family]} was meant to blow up"
        for lab, b in blown.items():                        # the warning says the same step
            assert any(n.startswith(f"{lab}: the predictions blew up at step {b} ") for n in v["notes"])
        assert len(v["notes"]) == len(blown)
        charts = {ch["name"]: ch for ch in v["charts"]}
        if not cls:
            curve = {t["name"]: t for t in charts["curve"]["traces"]}
            errs = {t["name"]: t for t in charts["error"]["traces"]}
            ranked = []
            for r, lab in zip(runs, labels):
                e = ref[r.key]
                b = e["blowup"]
                n = len(e["error"]) if b is None else b
                assert np.allclose(errs[lab]["y"], e["error"][:n], rtol=1e-4, atol=1e-6), (c, lab)
                if b is not None and S >= b:
                    assert lab not in curve, f"{lab} drawn after it blew up"
                    assert f"✕ {lab} blew up at step {b}" in errs and f"{lab} blew up at step {b}" in v["caption"]
                else:
                    assert np.allclose(curve[lab]["y"], e["preds"][S], rtol=1e-4, atol=1e-4), (c, lab)
                    ranked.append((e["error"][S], lab))
            said = v["caption"].split("lowest first: ")[1].split(").")[0] + ")" if ranked else ""
            named = re.findall(r"([A-Za-z][\w -]*?) \(", said.replace(" and ", ", "))
            value = {lab: x for x, lab in ranked}
            assert sorted(named) == sorted(value), said            # every run drawn, once
            in_order = [value[lab] for lab in named]                # lowest first (float32 ties)
            assert all(a <= b * (1 + 1e-4) for a, b in zip(in_order, in_order[1:])), said
            for text, x in zip(re.findall(r"\(([^)]*)\)", said), in_order):   # as written
                tol = 0.05 if "e" in text else 6e-3               # 2 digits in e-notation, else 3
                assert abs(float(text.replace("−", "-")) - x) <= tol * abs(x), (text, x)
        else:
            Q = len(ref[runs[0].key]["xq"])
            for i, (r, lab) in enumerate(zip(runs, labels)):
                e, ch = ref[r.key], charts[f"map{i}"]
                b = e["blowup"]
                if b is not None and S >= b:
                    assert ch["title"] == f"{lab}: blew up at step {b}" and not ch["images"]
                    continue
                right = e["right"][S]
                assert ch["title"].startswith(f"{lab}: {int(right.sum())} of {Q} right"), (c, ch["title"])
                wrong = next(t for t in ch["traces"] if t["name"].startswith("× "))
                assert sorted(zip(wrong["x"], wrong["y"])) == pytest.approx(
                    sorted(map(tuple, e["xq"][~right])), abs=1e-5)
                shown = np.array(page.evaluate(DECODE, [ch["images"], runs[0].family.n_classes])[0])
                shown = shown.reshape(-1)                       # row-major, as the grid
                differ = (shown != e["maps"][S]) & (e["margin"][S] > 1e-4)
                assert differ.mean() <= 0.005, (c, lab, differ.mean())
            counts = [(int(ref[r.key]["right"][S].sum()), lab) for r, lab in zip(runs, labels)
                      if ref[r.key]["blowup"] is None or S < ref[r.key]["blowup"]]
            said = v["caption"].split("most first: ")[1].split(";")[0]
            got = re.findall(r"([A-Za-z][\w -]*?) \((\d+)\)", said.replace(" and ", ", "))
            assert sorted(int(n) for _, n in got) == sorted((n for n, _ in counts))
            assert [int(n) for _, n in got] == sorted((n for n, _ in counts), reverse=True)
            assert all(dict((lab, n) for n, lab in counts)[lab] == int(n) for lab, n in got)

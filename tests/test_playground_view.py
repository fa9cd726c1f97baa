"""The Playground's words and marks against its own chart and the engine, for every bundled run of
the families the browser adapts (every algorithm and baseline) and several settings each: the
run's own, step 0 of another task, a step size that blows up, the user's points alone (one off
the chart), many points and steps with another α, on a phone. A blank Chromium page draws what
assets/js/pgview.js builds from assets/js/adapt.js's arrays with Plotly.js (the copy the plotly
package ships), and tests/playground_claims.py lists every contradiction (none allowed): the
curves and maps are the engine's, legends, marks, blow-up steps and caption numbers and claims.
The real page runs the same checks: tests/test_browser_playground.py."""
import glob
import json
import os

import pytest
import torch
from browser import DECODE, ROOT, blank_page
from playground_claims import SNAPSHOT, problems, reference

from maml_viz.engine.tasks import ClassificationFamily
from maml_viz.runs.files import load_run
from maml_viz.views import browser as browser_payload
from maml_viz.views.figures.style import color

FAMILIES = ("sinusoid", "linear", "wave", "blobs")
RUN_DIRS = sorted(d for f in FAMILIES for d in glob.glob(os.path.join(ROOT, "assets", "runs", f"{f}-*")))
DIVERGE = {"sinusoid": 1.0, "linear": 3.0, "wave": 10.0, "blobs": 10.0}
DIVERGE_RUN = {"blobs-anil": 1e5}
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "anil": "ANIL",
          "metasgd": "Meta-SGD", "pretrained": "Pretrained", "scratch": "Random init"}

RENDER = """async (args) => {
  const P = args.payload, eng = MamlAdapt.load(P), out = [];
  // the component's boxes (pages/_shared/adapt_component.py + playground.js), drawn over again
  // for each case: the plots are redrawn (Plotly.react) or only moved (Plotly.animate) as there
  document.body.innerHTML = '<div data-maviz-pg><div data-title></div><div data-notes></div>' +
    '<div data-panels style="display:grid;grid-template-columns:1fr 1fr"></div><div data-caption></div></div>';
  const root = document.querySelector('[data-maviz-pg]'), panels = root.querySelector('[data-panels]');
  for (const c of args.cases) {
    root.style.width = (c.phone ? 380 : 900) + 'px';
    panels.style.gridTemplateColumns = c.phone ? '1fr' : '1fr 1fr';
    const sup = eng.support(c.task, c.k, c.mine, c.only);
    const lr = c.lr === null ? P.inner_lr : c.lr, learned = !!P.lrs && lr === P.inner_lr;
    const res = eng.adapt(sup, { steps: c.steps, lr: learned ? undefined : lr });
    const view = MamlPgView.build({ payload: P, eng: eng, res: res, sup: sup, step: c.step,
      lr: learned ? null : lr, label: args.label, color: args.color, phone: c.phone,
      width: c.phone ? 370 : 440, onlyWithoutPoints: c.only && !c.mine.length });
    root.querySelector('[data-title]').textContent = view.title;
    root.querySelector('[data-notes]').replaceChildren(...view.notes.map((t) => {
      const e = document.createElement('div'); e.textContent = t; return e; }));
    root.querySelector('[data-caption]').textContent = view.caption.join(' ');
    const names = view.panels.map((p) => p.name);
    panels.querySelectorAll('[data-box]').forEach((b) => { b.style.display = names.includes(b.dataset.box) ? '' : 'none'; });
    for (const p of view.panels) {
      let box = panels.querySelector('[data-box="' + p.name + '"]');
      if (!box) {
        box = document.createElement('div'); box.dataset.box = p.name;
        box.innerHTML = '<div data-ptitle></div><div data-panel="' + p.name + '"></div><div data-legend></div>';
        panels.append(box);
      }
      await MamlPgView.draw(box, p, { displayModeBar: false });
    }
    const snap = (SNAPSHOT)();
    snap.moved = view.panels.map((p) => panels.querySelector('[data-panel="' + p.name + '"]').__pgMoved || 0);
    out.push(snap);
  }
  return out;
}""".replace("(SNAPSHOT)", f"({SNAPSHOT})")


def cases(run) -> list:
    fam, cfg = run.family, run.config
    cls = isinstance(fam, ClassificationFamily)
    lo, hi = fam.x_range()
    key = os.path.basename(run.path).rsplit("-", 1)[0]
    step0 = min(max(1, cfg.inner_steps), 10)
    if cls:
        mine = [(round(lo + 0.3 * (hi - lo), 3), round(lo + 0.6 * (hi - lo), 3), 1),
                (round(lo + 0.7 * (hi - lo), 3), round(lo + 0.2 * (hi - lo), 3), 3), (0.5, -0.5, 0)]
    else:
        vr = 9.0 if fam.name == "linear" else 7.0                # one point above the chart
        mine = [(round(lo + 0.2 * (hi - lo), 3), 1.25), (round(lo + 0.8 * (hi - lo), 3), -0.75),
                (0.1, vr)]
    return [dict(task=0, k=cfg.k_shot, mine=[], only=False, steps=10, step=step0, lr=None, phone=False),
            # the same plots, only the values move (drawn by Plotly.animate, not redrawn)
            dict(task=0, k=cfg.k_shot, mine=[], only=False, steps=10, step=3, lr=None, phone=False),
            dict(task=0, k=cfg.k_shot + 1, mine=[], only=False, steps=10, step=3, lr=None, phone=False),
            dict(task=1, k=cfg.k_shot, mine=[], only=False, steps=10, step=0, lr=None, phone=False),
            dict(task=2, k=cfg.k_shot, mine=mine[:2], only=False, steps=12,
                 step=12, lr=DIVERGE_RUN.get(key, DIVERGE[cfg.family]), phone=False),
            dict(task=3, k=5, mine=mine, only=True, steps=10, step=10, lr=None, phone=True),
            dict(task=3, k=50, mine=[], only=False, steps=30, step=30, lr=cfg.inner_lr / 2, phone=False)]


@pytest.fixture(scope="module")
def page():
    torch.set_num_threads(1)
    with blank_page("adapt.js", "pgview.js") as pg:
        yield pg


@pytest.mark.parametrize("run_dir", [pytest.param(d, id=os.path.basename(d).rsplit("-", 1)[0])
                                     for d in RUN_DIRS])
def test_words_and_marks_agree_with_the_chart_and_the_engine(page, run_dir):
    run = load_run(run_dir)
    p = json.loads(browser_payload.to_json(browser_payload.payload(run, n_tasks=4)))
    cs = cases(run)
    snaps = page.evaluate(RENDER, {"payload": p, "cases": cs, "label": LABELS[run.config.algo],
                                   "color": color(run.config.algo)})
    found = []
    for c, snap in zip(cs, snaps):
        maps = [t for ch in snap["charts"] for t in ch["traces"] if t["type"] == "heatmap"]
        if maps:                         # the pictures show the classes the maps hold
            shown = page.evaluate(DECODE, [snap["charts"][0]["images"], run.family.n_classes])
            assert shown == [m["z"] for m in maps], f"{c}: a map's picture is not its classes"
        s = dict(c, points=[tuple(m) for m in c["mine"]])
        ref = reference(run, s)
        if c["lr"] is not None and c["lr"] >= 1.0 and run.config.family != "blobs":
            assert ref["blowup"] is not None, f"{c}: meant to blow up"
        found += [f"{c}: {x}" for x in problems(snap, ref)]
    assert not found, "\n".join(found)
    assert sum(snaps[-1]["moved"]) >= 2, "no case drew by moving the values (Plotly.animate)"

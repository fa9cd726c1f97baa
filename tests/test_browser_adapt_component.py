"""The in-browser Playground prototype (pages/_shared/adapt_component.py, assets/js/playground.js)
in a real Streamlit page: a K change, a click that adds a point, "Use only my points" and the step
shown repaint the chart with zero websocket messages to the server, and the curve drawn is the
engine's (explore.support + explore.trajectory) for those settings to 1e-4."""
import glob
import os

import numpy as np
import pytest
from browser import ROOT, browser, count_sent, server, wait_idle

from maml_viz.runs.files import load_run
from maml_viz.views.adaptation import grid, trajectory
from maml_viz.views.points import support

APP = os.path.join("tests", "apps", "playground_live.py")
RUN = glob.glob(os.path.join(ROOT, "assets", "runs", "sinusoid-maml-*"))[0]
STATE = """() => { const r = document.querySelector('[data-maviz-pg]'), s = r.__pg;
  const gd = r.querySelector('.js-plotly-plot');
  const t = gd._fullData.find(t => (t.name || '').endsWith('after adapting'));
  return {k: s.k, step: Math.min(s.step, s.res.shown - 1), task: s.task, points: s.points,
          only: s.only, y: Array.from(t.y), title: r.querySelector('[data-title]').textContent}; }"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with server(tmp_path_factory.mktemp("runs"), script=APP) as (url, _), browser() as chromium:
        pg = chromium.new_page(viewport={"width": 1300, "height": 1000})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.sent = count_sent(pg)
        pg.goto(url)
        pg.wait_for_selector('[data-maviz-pg][data-ready="1"]', timeout=120_000)
        wait_idle(pg)
        pg.errors = errors
        yield pg


def engine_curve(run, state):
    sup = support(run, state["task"], state["k"], [tuple(p) for p in state["points"]],
                  state["only"])
    tr = trajectory(run, sup.xs, sup.ys, 10, x_grid=grid(run, 200),
                    task=sup.task)
    return tr["preds"][state["step"], :, 0]


def change(page, action, title_has=None):
    """Do `action`, wait until the chart's curve changed; returns the new state."""
    before = page.evaluate(STATE)
    action()
    page.wait_for_function(f"(old) => ({STATE})().y.join() !== old.join()", arg=before["y"],
                           timeout=10_000)
    return page.evaluate(STATE)


def test_controls_repaint_in_the_browser_with_the_engines_curve(page):
    run = load_run(RUN)
    state = page.evaluate(STATE)
    assert state["k"] == run.config.k_shot and state["step"] == 1
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)
    n0 = len(page.sent)

    def key(sel, k):
        return lambda: (page.locator(sel).focus(), page.keyboard.press(k))

    state = change(page, key("[data-k]", "ArrowRight"))                       # K + 1
    assert state["k"] == run.config.k_shot + 1 and "11 points" in state["title"]
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)

    box = page.locator("[data-maviz-pg] .js-plotly-plot").bounding_box()
    at = page.evaluate("""() => { const gd = document.querySelector('[data-maviz-pg] .js-plotly-plot');
        const L = gd._fullLayout, b = gd.getBoundingClientRect();
        return [b.left + L.xaxis._offset + L.xaxis.l2p(1.5), b.top + L.yaxis._offset + L.yaxis.l2p(4.0)]; }""")
    assert box is not None
    state = change(page, lambda: page.mouse.click(*at))                       # click: a point
    assert len(state["points"]) == 1 and abs(state["points"][0][0] - 1.5) < 0.05
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)

    state = change(page, lambda: page.locator("[data-only]").check())         # only my points
    assert state["only"] and "your points" in state["title"]
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)

    state = change(page, key("[data-step]", "ArrowRight"))                    # the step shown
    assert state["step"] == 2
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)

    state = change(page, lambda: page.locator("[data-new]").click())          # New task
    assert state["task"] == 1 and state["points"] == [] and "a new task" in state["title"]
    np.testing.assert_allclose(state["y"], engine_curve(run, state), rtol=1e-4, atol=1e-4)

    page.wait_for_timeout(300)
    assert len(page.sent) == n0, "a control sent a message to the server"
    assert not page.errors

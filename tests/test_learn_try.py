"""The Learn page in a real browser: the hands-on chart (pages/_shared/learn_try.py,
assets/js/learn_try.js on adapt.js) answers the wave's height and shift, clicked points and the
step slider with no message to the server, and draws for both networks the curve the Python
engine computes for those points (views.adaptation.trajectory) to 1e-4; presenter mode's arrow
keys walk the scenes and the URL follows; §2's legend stays clear of its x-axis title and §6's
arrow names clear of each other, at 1400 and 390 px (issue 20 item 6)."""
import glob
import os

import numpy as np
import pytest
import torch
from browser import ROOT, browser, count_sent, server, wait_idle

from maml_viz.runs.files import load_run
from maml_viz.views.adaptation import grid, trajectory

RUNS = {a: glob.glob(os.path.join(ROOT, "assets", "runs", f"sinusoid-{a}-*"))[0]
        for a in ("maml", "pretrained")}
STATE = """() => { const r = document.querySelector('[data-maviz-try]'), s = r.__lt;
  const curve = (a) => { const gd = r.querySelector(`[data-chart="${a}"]`);
    const t = gd._fullData.find(t => (t.name || '').startsWith('after '));
    return Array.from(t.y); };
  return {step: s.step, amp: s.amp, phase: s.phase, points: s.points,
          x: Array.from(s.sup.x), y: Array.from(s.sup.y), maml: curve('maml'),
          pretrained: curve('pretrained'),
          titles: [...r.querySelectorAll('.gtitle')].map(e => e.textContent)}; }"""
BOXES = """(sel) => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
                     .filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom])"""


def overlaps(a, b):
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with server(tmp_path_factory.mktemp("runs")) as (url, _), browser() as chromium:
        yield url, chromium


@pytest.fixture(scope="module")
def runs():
    torch.set_num_threads(1)
    return {a: load_run(p) for a, p in RUNS.items()}


def engine(run, state):
    xs = torch.tensor(state["x"], dtype=torch.float32).reshape(1, -1, 1)
    ys = torch.tensor(state["y"], dtype=torch.float32).reshape(1, -1, 1)
    tr = trajectory(run, xs, ys, 10, x_grid=grid(run, 200))
    return tr["preds"][state["step"], :, 0]


def agree(runs, state):
    for a, run in runs.items():
        np.testing.assert_allclose(state[a], engine(run, state), rtol=1e-4, atol=1e-4, err_msg=a)


def change(page, action):
    before = page.evaluate(STATE)
    action()
    page.wait_for_function(f"(old) => ({STATE})().maml.join() !== old.join()", arg=before["maml"],
                           timeout=15_000)
    return page.evaluate(STATE)


def test_hands_on_chart_adapts_in_the_browser_like_the_engine(site, runs):
    url, chromium = site
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent = count_sent(page)
    page.goto(f"{url}/?demo=1&scene=3")
    page.wait_for_selector('[data-maviz-try][data-ready="1"]', timeout=120_000)
    wait_idle(page)
    state = page.evaluate(STATE)
    assert state["step"] == 1 and len(state["x"]) == 5
    agree(runs, state)
    # it opens on §2's task and points: the same errors as §2's charts
    from maml_viz.views import learn
    s = learn.load(os.path.join(ROOT, "assets", "learn.json"))["sine"]
    np.testing.assert_allclose(state["x"], s["xs"], atol=1e-3)
    for a, title in zip(("pretrained", "maml"), state["titles"]):
        assert title.endswith(f"{s[a]['error'][0]:.2f} → {s[a]['error'][1]:.2f}"), (a, title)
    n0 = len(sent)

    def key(sel, k, times=1):
        def act():
            page.locator(sel).focus()
            for _ in range(times):
                page.keyboard.press(k)
        return act

    state = change(page, key("[data-step]", "ArrowRight", 3))             # four steps
    assert state["step"] == 4
    agree(runs, state)
    state = change(page, key("[data-amp]", "ArrowLeft", 10))              # a lower wave
    assert state["amp"] < s["task"][0] - 0.4
    agree(runs, state)
    state = change(page, lambda: page.locator("[data-other]").click())    # other x's
    assert state["x"][0] != pytest.approx(s["xs"][0])
    agree(runs, state)
    at = page.evaluate("""() => { const gd = document.querySelector('[data-chart="maml"]');
        const L = gd._fullLayout, b = gd.getBoundingClientRect();
        return [b.left + L.xaxis._offset + L.xaxis.l2p(-2.0), b.top + L.yaxis._offset + L.yaxis.l2p(3.0)]; }""")
    page.evaluate("() => document.querySelector('[data-chart=\"maml\"]').scrollIntoView()")
    at = page.evaluate("""() => { const gd = document.querySelector('[data-chart="maml"]');
        const L = gd._fullLayout, b = gd.getBoundingClientRect();
        return [b.left + L.xaxis._offset + L.xaxis.l2p(-2.0), b.top + L.yaxis._offset + L.yaxis.l2p(3.0)]; }""")
    state = change(page, lambda: page.mouse.click(*at))                   # your own point
    assert len(state["points"]) == 1 and state["x"] == pytest.approx([-2.0], abs=0.05)
    assert state["y"] == pytest.approx([3.0], abs=0.1)
    agree(runs, state)
    assert page.locator("[data-amp]").is_disabled()
    state = change(page, lambda: page.locator("[data-clear]").click())    # back to the wave
    assert state["points"] == [] and len(state["x"]) == 5
    page.wait_for_timeout(300)
    assert len(sent) == n0, "the hands-on chart sent a message to the server"
    assert not errors, errors
    page.close()


def test_presenter_mode_arrow_keys_walk_the_scenes(site):
    url, chromium = site
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/?demo=1&scene=2")
    page.get_by_role("heading", name="2 · Why").wait_for(timeout=90_000)
    wait_idle(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    page.keyboard.press("ArrowRight")
    page.get_by_role("heading", name="3 · Try it yourself").wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('scene=3')", timeout=10_000)
    page.keyboard.press("ArrowLeft")
    page.get_by_role("heading", name="2 · Why").wait_for(timeout=60_000)
    wait_idle(page)
    # a choice made with the mouse does not keep the arrow keys (they would change the choice)
    page.locator('[data-testid="stRadio"] label').nth(1).click()
    page.get_by_text("After one step the error is").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.keyboard.press("ArrowRight")
    page.get_by_role("heading", name="3 · Try it yourself").wait_for(timeout=60_000)
    page.close()


def test_jargon_links_jump_to_the_glossary(site):
    url, chromium = site
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("heading", name="Learning to learn").wait_for(timeout=90_000)
    wait_idle(page)
    link = page.locator('[data-testid="stMain"] a[href="#g-task"]').first
    assert link.get_attribute("title").startswith("Task: one small problem")
    link.click()
    page.wait_for_function("() => Math.abs(document.getElementById('g-task')"
                           ".getBoundingClientRect().top) < 50", timeout=10_000)
    assert len(context.pages) == 1                       # the same tab, not a new one
    context.close()


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_legends_and_names_stay_clear_of_titles(site, width, height):
    url, chromium = site
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/?hide=predict")              # every chart at once
    page.get_by_role("heading", name="Learning to learn").wait_for(timeout=90_000)
    page.locator(".st-key-learn-pretrained .js-plotly-plot .main-svg").first.wait_for(timeout=90_000)
    wait_idle(page)
    for key in ("learn-pretrained", "learn-maml"):          # §2: legend vs x-axis title
        sel = f".st-key-{key} .js-plotly-plot"
        page.locator(sel).scroll_into_view_if_needed()
        title = page.evaluate(BOXES, f"{sel} .xtitle")
        legend = page.evaluate(BOXES, f"{sel} .legend .traces")
        assert title and legend
        hit = [(t, g) for t in title for g in legend if overlaps(t, g)]
        assert not hit, f"{key} at {width} px: the x-axis title meets the legend {hit}"
    sel = ".st-key-learn-arrows .js-plotly-plot"                   # §6: the arrows' names
    page.locator(sel).scroll_into_view_if_needed()
    names = page.evaluate(BOXES, f"{sel} .textpoint text")
    assert len(names) == 3
    assert not [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if overlaps(a, b)]
    page.close()


def test_a_link_hides_the_playgrounds_controls(site):
    url, chromium = site
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/Playground?hide=k,alpha")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    wait_idle(page)
    labels = page.locator('[data-testid="stMain"] [data-testid="stWidgetLabel"]')
    visible = [t.strip() for t in labels.all_inner_texts()]
    assert "Task family" in " ".join(visible)
    assert not page.get_by_text("Examples per task (K)").is_visible()
    assert not page.get_by_text("Step size α").is_visible()
    assert page.get_by_text("Adaptation steps to show").is_visible()      # the others stay
    page.close()


DRAWN = """() => [...document.querySelectorAll('[data-maviz-lazy]')].filter(g => g._fullLayout)
  .map(g => ({title: (g.layout.title && g.layout.title.text) || '', names: g.data.map(t => t.name || ''),
              box: Math.round(g.getBoundingClientRect().width), width: g._fullLayout.width,
              height: g._fullLayout.height, frames: (g._transitionData._frames || []).length,
              template: JSON.stringify(g.layout.template)}))"""


def test_the_charts_are_the_stored_figures_drawn_as_streamlit_draws_them(site):
    """pages/_shared/lazy_chart.py: the Learn page's charts are drawn by the page from the
    stored figures (those below the first screen while the page is idle): each with its
    figure's traces, frames and height, a bold title, the container's width, and the same Plotly
    template as a chart Streamlit draws itself (presenter mode's hidden loader chart)."""
    import json

    from maml_viz.views import learn
    url, chromium = site
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    specs = {tuple(t.get("name", "") for t in f["data"]): f for f in
             (json.loads(s) for s, _ in learn.stored_specs(
                 data, os.path.join(ROOT, "assets", learn.FIGURES)).values())}
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{url}/?hide=predict")                   # every chart, none scrolled to
    page.get_by_role("heading", name="Learning to learn").wait_for(timeout=90_000)
    page.wait_for_function(f"() => ({DRAWN})().length === 9", timeout=90_000)
    drawn = page.evaluate(DRAWN)
    for d in drawn:
        spec = specs[tuple(d["names"])]
        title = spec["layout"].get("title", {}).get("text")
        assert d["title"] == (f"<b>{title}</b>" if title else ""), d["title"]
        assert abs(d["width"] - d["box"]) <= 1 and d["height"] == spec["layout"]["height"]
        assert d["frames"] == len(spec.get("frames") or [])
    theme = json.load(open(os.path.join(ROOT, "assets", "js", "streamlit_plotly_template.json")))
    assert all(json.loads(d["template"]) == theme for d in drawn)
    page.close()
    mine = chromium.new_page(viewport={"width": 1400, "height": 900})
    mine.goto(f"{url}/?demo=1&scene=4")                 # presenter mode: bigger type
    mine.wait_for_function(f"() => ({DRAWN})().length >= 1", timeout=90_000)
    theirs = chromium.new_page(viewport={"width": 1400, "height": 900})
    theirs.goto(f"{url}/?demo=1&scene=3")               # Streamlit's own st.plotly_chart
    theirs.wait_for_function("() => { const g = document.querySelector("
                             "'.st-key-learn_plotly_loader .js-plotly-plot'); "
                             "return !!(g && g.layout && g.layout.template); }", timeout=90_000)
    want = theirs.evaluate("() => JSON.stringify(document.querySelector("
                           "'.st-key-learn_plotly_loader .js-plotly-plot').layout.template)")
    assert json.loads(want) != theme                    # the type did grow
    assert all(json.loads(d["template"]) == json.loads(want) for d in mine.evaluate(DRAWN))
    mine.close()
    theirs.close()

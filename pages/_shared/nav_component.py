"""The Navigation plane computed in the browser (issue 21): a Streamlit v2 component that
receives the chosen run's and the comparison run's policies once (maml_viz/views/browser.py:
navigation_payload) and answers a click or tap on the plane, "Random goal", the step slider and
▶ in the page's JavaScript (assets/js/navroll.js rolls the policy out with the engine's maths
and noise, navview.js turns the arrays into traces and words, navigation.js owns the controls
and the URL's goal, seed and step) with no message to the server. The family, the algorithm, the
run and the number of steps stay the page's widgets. Runs the browser cannot roll out keep the
server's chart (the page's own path)."""
from __future__ import annotations

import streamlit as st

from maml_viz.views import browser
from maml_viz.views.figures.style import color
from pages._shared.adapt_component import ROOT, SHARED_CSS
from pages._shared.goal_click import goal_click

TARGET = "nav-live"                   # the plane's layout.meta.goal_plane (navview.js)
JS_DIR = ROOT / "assets" / "js"
WORKER_JS = "\n".join((JS_DIR / f).read_text() for f in ("adapt.js", "navroll.js"))
JS = "\n".join((JS_DIR / f).read_text() for f in (
    "plotly_ready.js", "chart_controls.js", "adapt.js", "navroll.js", "pgview.js", "navview.js",
    "navigation.js"))
HTML = """<div data-maviz-nav>
<div class="pg-title" data-head></div>
<div class="pg-notes" data-notes></div>
<div class="nav-panels">
 <div class="nav-box" data-box="plane"><div class="pg-ptitle" data-ptitle></div>
  <div class="pg-panel nav-plane" data-panel="plane"></div><div class="pg-legend" data-legend></div></div>
 <div class="nav-box" data-box="returns"><div class="pg-ptitle" data-ptitle></div>
  <div class="pg-panel" data-panel="returns"></div><div class="pg-legend" data-legend></div></div>
</div>
<div class="pg-row pg-steprow">
 <button data-play title="Play the steps one after another (again: pause)">▶</button>
 <label class="pg-step" title="Which policy-gradient step the charts show (0: before adapting)">Step shown
  <input type="range" min="0" max="5" step="1" data-step aria-label="Step shown"></label>
 <b data-stepv></b>
 <button data-random title="Put the goal somewhere else at random">Random goal</button>
</div>
<p class="nav-story" data-story></p>
<div class="pg-caption" data-caption></div>
</div>"""
CSS = SHARED_CSS + """
[data-maviz-nav] .nav-panels { display: grid; grid-template-columns: 56fr 44fr; gap: 0.6rem;
  align-items: start; }
[data-maviz-nav] .nav-box, [data-maviz-nav] .pg-panel { min-width: 0; }
[data-maviz-nav] .nav-plane .nsewdrag { cursor: crosshair !important; }
[data-maviz-nav] .nav-story { margin: 0.5rem 0 0.2rem 0; }
@media (max-width: 640px) {
  [data-maviz-nav] .nav-panels { grid-template-columns: 1fr; }
  [data-maviz-nav] .pg-steprow .pg-step { flex-basis: 60%; }
}"""

_component = st.components.v2.component("maml_viz.navigation", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)


def supported(*runs) -> bool:
    """Whether the browser can roll every one of these runs out (None: no run, ignored)."""
    try:
        for run in runs:
            if run is not None:
                browser.check_navigation(run)
    except browser.BrowserUnsupported:
        return False
    return True


@st.cache_data(max_entries=16, show_spinner=False)
def _payload(weights: str, _run) -> dict:
    return browser.navigation_payload(_run)


def _sent(run) -> dict:                 # cached per weights (a run trained on is another)
    return _payload(browser.weights_id(run), run)


def plane(run, ref, *, label: str, ref_label: str | None, goal, seed: int, steps: int,
          step: int, adapting: bool, caption: str, n: int, show: int, key: str = "nav_live"):
    """Mount the in-browser plane for `run` toward `goal` (tries drawn with `seed`), steps
    0..steps, `ref` (or None) drawn dotted in the return panel for comparison."""
    goal_click("nav")                       # installs the page's click-on-a-plane listener
    _component(data={"run": _sent(run), "ref": _sent(ref) if ref is not None else None,
                     "label": label, "ref_label": ref_label, "color": color(run.config.algo),
                     "ref_color": color(ref.config.algo) if ref is not None else None,
                     "goal": [float(goal[0]), float(goal[1])], "seed": int(seed),
                     "steps": int(steps), "step": int(step), "adapting": bool(adapting),
                     "caption": caption, "n": int(n), "show": int(show), "extent": 0.6,
                     "target": TARGET, "worker_js": WORKER_JS}, key=key)

"""The Learn page's hands-on chart: a Streamlit v2 component (assets/js/adapt.js, the app's
in-browser adaptation engine, + assets/js/learn_try.js) that adapts the pretrained and the MAML
sine networks side by side to a wave the reader shapes (height A, shift φ) or to points the
reader clicks, one step slider for both, all in the browser (no message to the server).
Its data are the two runs' browser payloads, precomputed in assets/learn.json ("try")."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from maml_viz.views.figures.colors import color

ROOT = Path(__file__).resolve().parents[2]
JS = ((ROOT / "assets" / "js" / "plotly_ready.js").read_text() + "\n"
      + (ROOT / "assets" / "js" / "adapt.js").read_text() + "\n"
      + (ROOT / "assets" / "js" / "learn_try.js").read_text())
HTML = """<div data-maviz-try>
<div class="lt-row">
 <label class="lt-steps" title="How many gradient steps both networks have taken on the points
 (0: before any step). One slider moves both.">Gradient steps taken
  <input type="range" min="0" max="10" step="1" data-step> <b data-stepv></b></label>
</div>
<div class="lt-row">
 <label title="The height A of the new wave: both networks see points of it">Height A
  <input type="range" step="0.05" data-amp> <b data-ampv></b></label>
 <label title="The shift φ of the new wave (how far it is moved to the right)">Shift φ
  <input type="range" step="0.01" data-phase> <b data-phasev></b></label>
 <button data-other title="The same wave, seen at other places along x">Other points</button>
 <button data-clear title="Remove the points you placed and go back to the wave's points">
  Clear my points</button>
</div>
<div class="lt-charts"><div data-chart="pretrained"></div><div data-chart="maml"></div></div>
<div class="lt-note" data-note></div>
</div>"""
CSS = """[data-maviz-try] .lt-row { display: flex; flex-wrap: wrap; gap: 0.6rem 1.4rem;
  align-items: center; margin: 0.4rem 0; }
[data-maviz-try] .lt-steps { font-weight: 600; }
[data-maviz-try] .lt-steps input { width: min(22rem, 60vw); vertical-align: middle; }
[data-maviz-try] input[type=range] { vertical-align: middle; }
[data-maviz-try] .lt-charts { display: flex; flex-wrap: wrap; gap: 1rem; }
[data-maviz-try] .lt-charts > div { flex: 1 1 320px; min-width: 0; cursor: crosshair; }
[data-maviz-try] .lt-note { color: #555; margin-top: 0.3rem; }
[data-maviz-try] button { padding: 0.3rem 0.8rem; border: 1px solid rgba(49,51,63,0.2);
  border-radius: 0.5rem; background: white; cursor: pointer; font: inherit; }
[data-maviz-try] button:disabled { opacity: 0.5; cursor: default; }
.st-key-learn_plotly_loader { display: none; }"""

_component = st.components.v2.component("maml_viz.learn_try", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)


def ensure_plotly():
    """A hidden one-point Plotly chart, so that Streamlit loads plotly.js (window.Plotly) on a
    presenter-mode scene with no other chart."""
    import plotly.graph_objects as go
    with st.container(key="learn_plotly_loader"):
        st.plotly_chart(go.Figure(go.Scatter(x=[0], y=[0], mode="markers"),  # the look of the
                                  layout={"template": "plotly_white"}),  # page's other charts
                        config={"staticPlot": True}, key="learn_plotly_loader_chart")


def hands_on(data: dict, big: bool = False, alone: bool = False, key: str = "learn_try"):
    """Mount the chart. data: learn.json's "try" section; alone: no other Plotly chart on the
    page (presenter mode's scene), so load plotly.js with a hidden one."""
    # Streamlit checks a component's dict values for dataframes, importing numpy and pandas:
    # import them (and the rest boot.py leaves out) once per server, one session at a time
    import pages._shared.figures_warm  # noqa: F401
    if alone:
        ensure_plotly()
    labels = {a: p["run"]["label"] for a, p in data["runs"].items()}
    return _component(data={"runs": data["runs"], "task": int(data["task"]), "k": int(data["k"]),
                             "steps": int(data["steps"]), "step": 1,
                             "amp_range": data["amp_range"], "phase_range": data["phase_range"],
                             "labels": labels, "colors": {a: color(a) for a in labels},
                             "big": bool(big)}, key=key)

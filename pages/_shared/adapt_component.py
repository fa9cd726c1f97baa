"""A prototype of the Playground's chart computed in the browser (issue 21): a Streamlit v2
component that receives one run's payload (maml_viz/browser_payload.py) and answers K, α, steps,
the step shown, New task, clicks and "Use only my points" in the page's JavaScript
(assets/js/adapt.js + assets/js/playground.js) with no message to the server. Regression
families only for now (the 2-D classes' maps: adapt.js's lazy maps, still to draw).

Plotly.js: Streamlit loads its own bundle (window.Plotly) only on a page that draws a Plotly
chart, so `playground` draws an empty, hidden one first and the component waits for it."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from maml_viz.views.figures.style import color

ROOT = Path(__file__).resolve().parents[2]
JS = ((ROOT / "assets" / "js" / "adapt.js").read_text() + "\n"
      + (ROOT / "assets" / "js" / "playground.js").read_text())
HTML = """<div data-maviz-pg>
<div class="pg-title" data-title></div>
<div class="pg-row">
 <label title="How many points of the new task it adapts to">Examples per task (K)
  <input type="range" min="1" max="50" data-k> <b data-kv></b></label>
 <label title="How big each gradient step is">Step size α
  <input type="number" min="0" max="10" step="any" data-lr></label>
 <label title="The step slider goes from 0 to this many gradient steps">Adaptation steps
  <input type="number" min="1" max="50" step="1" data-steps></label>
</div>
<div class="pg-row">
 <button data-new title="Draw another task from the family">New task</button>
 <button data-clear title="Remove the points you added">Clear points</button>
 <label title="Adapt to your points alone instead of adding them to the task's K points">
  <input type="checkbox" data-only> Use only my points</label>
</div>
<div data-chart></div>
<label class="pg-step" title="Which gradient step the chart shows">Step shown
 <input type="range" min="0" max="10" data-step> <b data-stepv></b></label>
<div class="pg-note" data-note></div>
</div>"""
CSS = """[data-maviz-pg] .pg-row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center;
  margin: 0.3rem 0; }
[data-maviz-pg] .pg-title { font-weight: 600; margin-bottom: 0.3rem; }
[data-maviz-pg] .pg-step input { width: 50%; vertical-align: middle; }
[data-maviz-pg] .pg-note { color: #8a5300; }
[data-maviz-pg] button { padding: 0.3rem 0.8rem; border: 1px solid rgba(49,51,63,0.2);
  border-radius: 0.5rem; background: white; cursor: pointer; font: inherit; }
.st-key-maviz_plotly_loader { display: none; }"""

_component = st.components.v2.component("maml_viz.playground_live", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)


@st.cache_data(max_entries=16, show_spinner=False)
def _payload(run_key: str, _run) -> dict:
    from maml_viz.views import browser as browser_payload
    return browser_payload.payload(_run)


def ensure_plotly():
    """Draw an empty, hidden Plotly chart so that Streamlit loads plotly.js (window.Plotly)."""
    import plotly.graph_objects as go
    with st.container(key="maviz_plotly_loader"):
        st.plotly_chart(go.Figure(), config={"staticPlot": True}, key="maviz_plotly_loader_chart")


def playground(run, *, k: int, lr: float, steps: int, step: int = 1, task: int = 0,
               label: str = "", key: str = "pg_live"):
    """Mount the in-browser Playground chart for `run` (a regression family's run)."""
    ensure_plotly()
    return _component(data={"payload": _payload(run.key, run), "k": int(k), "lr": float(lr),
                            "steps": int(steps), "step": int(step), "task": int(task),
                            "label": label or run.config.algo,
                            "color": color(run.config.algo)}, key=key)

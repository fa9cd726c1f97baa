"""Compare's one-task chart computed in the browser (issue 21): a Streamlit v2 component that
receives the compared runs' payloads (maml_viz/views/browser.py: compare_payloads) and answers
"Another task", the step slider and ▶ in the page's JavaScript (assets/js/adapt.js adapts every
run, cmpview.js turns the arrays into traces and words, compare.js owns the controls and the
URL's task and step) with no message to the server. K and the number of steps stay the page's
widgets: they rerun the chart's fragment, which hands the component the new values (the same
payloads). Runs the browser cannot adapt keep the server's chart (maml_viz/views/compare.py)."""
from __future__ import annotations

import streamlit as st

from maml_viz.views.figures.style import color
from pages._shared.adapt_component import ROOT, SHARED_CSS

JS = "\n".join((ROOT / "assets" / "js" / f).read_text() for f in (
    "plotly_ready.js", "chart_controls.js", "adapt.js", "pgview.js", "cmpview.js", "compare.js"))
HTML = """<div data-maviz-cmp>
<div class="pg-title" data-head></div>
<div class="pg-notes" data-notes></div>
<div data-panels></div>
<div class="pg-row pg-steprow">
 <button data-play title="Play the steps one after another (again: pause)">▶</button>
 <label class="pg-step" title="Which gradient step the charts show (0: before adapting)">Step shown
  <input type="range" min="0" max="10" step="1" data-step aria-label="Step shown"></label>
 <b data-stepv></b>
 <button data-new title="Draw another new task for this chart">Another task</button>
</div>
<div class="pg-caption" data-caption></div>
</div>"""
CSS = SHARED_CSS + """
[data-maviz-cmp] .cmp-panels { display: grid; gap: 0.6rem; align-items: start; }
[data-maviz-cmp] .cmp-regression { grid-template-columns: 56fr 44fr; }
[data-maviz-cmp] .cmp-classes { grid-template-columns: repeat(3, minmax(0, 1fr)); }
[data-maviz-cmp] .cmp-box { min-width: 0; margin-bottom: 0.4rem; }
[data-maviz-cmp] .cmp-wide { grid-column: 1 / -1; }
@media (max-width: 640px) {
  [data-maviz-cmp] .pg-steprow .pg-step { flex-basis: 60%; }    /* Another task: the next line */
  [data-maviz-cmp] .cmp-regression { grid-template-columns: 1fr; }
  [data-maviz-cmp] .cmp-classes { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}"""

_component = st.components.v2.component("maml_viz.compare", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)


def supported(runs: dict) -> bool:
    """Whether the browser can adapt every one of these runs on the first one's tasks."""
    from maml_viz.views import browser
    runs = list(runs.values())
    try:
        for run in runs:
            browser.check(run)
    except browser.BrowserUnsupported:
        return False
    return all(r.family == runs[0].family for r in runs)


@st.cache_data(max_entries=8, show_spinner=False)
def _payloads(sig: tuple, first_seed: int, labels: tuple, _runs) -> list:
    from maml_viz.views import browser
    return browser.compare_payloads(_runs, first_seed, labels=list(labels))


def task_chart(runs: dict, *, k: int, steps: int, task: int, step: int, labels: dict,
               colors: dict, dashes: dict, k_label: str, steps_label: str,
               key: str = "cmp_live"):
    """Mount the in-browser one-task chart for `runs` (key -> Run, all of one family) at K
    examples and steps 0..steps; task and step: the page's (a link's) task number and step;
    k_label, steps_label: the labels of the page's K and steps number inputs (the chart follows
    a change there at once, before the server's rerun)."""
    from maml_viz.views.browser import batch_start
    keys = tuple(runs)
    sig = tuple((x, runs[x].info.get("iterations_done"), bool(runs[x].info.get("partial")))
                for x in keys)                  # a partial run trained on is another payload
    payloads = _payloads(sig, batch_start(task), tuple(labels[x] for x in keys),
                         [runs[x] for x in keys])
    _component(data={"payloads": payloads, "k": int(k), "steps": int(steps), "task": int(task),
                     "step": int(step), "labels": [labels[x] for x in keys],
                     "colors": [color(colors[x]) for x in keys],
                     "dashes": [dashes.get(x, "solid") for x in keys],
                     "k_label": k_label, "steps_label": steps_label}, key=key)
    # (Plotly.js: the page's averaged chart, drawn in the same run, makes Streamlit load it)

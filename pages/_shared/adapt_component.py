"""The Playground's chart computed in the browser (issue 21): a Streamlit v2 component that
receives one run's payload (maml_viz/views/browser.py) once and answers K, α, steps, the step
shown, New task, clicked / tapped / dragged points, "Use only my points", Clear points and the
class of added points in the page's JavaScript (assets/js/adapt.js computes, pgview.js turns the
arrays into traces and words, playground.js owns the controls, the pointer and the URL) with no
message to the server. Python passes the defaults, a link's values and uploaded points.

Plotly.js: Streamlit loads its own bundle (window.Plotly) only on a page that draws a Plotly
chart, so `playground` draws an empty, hidden one first and the component waits for it."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from maml_viz.views.figures.colors import CLASS_NAMES, color

ROOT = Path(__file__).resolve().parents[2]
JS = "\n".join((ROOT / "assets" / "js" / f).read_text()
               for f in ("plotly_ready.js", "adapt.js", "pgview.js", "playground.js"))
# the settings playground.js keeps in the URL (besides family, algo and run: Streamlit's)
URL_KEYS = ("k", "lr", "steps", "step", "task", "pts", "only")
HTML = """<div data-maviz-pg>
<div class="pg-title" data-title></div>
<div class="pg-notes" data-notes></div>
<div class="pg-panels" data-panels></div>
<div class="pg-row pg-steprow">
 <button data-play title="Play the steps one after another (again: pause)">▶</button>
 <label class="pg-step" title="Which gradient step the chart shows (0: before adapting)">Step shown
  <input type="range" min="0" max="10" step="1" data-step aria-label="Step shown"></label>
 <b data-stepv></b>
</div>
<div class="pg-row pg-controls">
 <label data-ctl="pg_k" title="How many points of the new task it adapts to (per class for classes)">Examples per
  task (K) <input type="range" min="1" max="50" step="1" data-k aria-label="Examples per task (K)">
  <b data-kv></b></label>
 <label data-ctl="pg_lr" data-lrlabel>Step size α
  <input type="number" min="0" max="10" step="any" data-lr aria-label="Step size α"></label>
 <label data-ctl="pg_steps" title="The step slider goes from 0 to this many gradient steps">Adaptation steps to show
  <input type="number" min="1" max="50" step="1" data-steps aria-label="Adaptation steps to show"></label>
</div>
<div class="pg-row pg-controls">
 <button data-new title="Draw another task from the family">New task</button>
 <button data-clear title="Remove the points you added">Clear points</button>
 <label data-ctl="pg_only" title="Adapt to your points alone instead of adding them to the task's K points">
  <input type="checkbox" data-only> Use only my points</label>
 <span class="pg-classes" data-classes title="The class of the examples a click adds"></span>
</div>
<div class="pg-caption" data-caption></div>
</div>"""
# what the Playground's, Compare's and Navigation's in-browser charts share (titles, warnings,
# legends, the step row, captions, buttons): R is any of the three components' roots
R = ":is([data-maviz-pg], [data-maviz-cmp], [data-maviz-nav])"
SHARED_CSS = f"""{R} {{ font-size: 0.95rem; }}
{R} .pg-title {{ font-weight: 600; margin-bottom: 0.3rem; }}
{R} .pg-notes div {{ background: rgba(255, 189, 69, 0.2); color: #7a4a00;
  border-radius: 0.5rem; padding: 0.5rem 0.8rem; margin: 0.3rem 0; }}
{R} .pg-ptitle {{ font-size: 0.9rem; margin: 0 0 0 0.4rem; min-height: 1.2em; }}
{R} .pg-legend {{ display: flex; flex-wrap: wrap; gap: 0.1rem 0.9rem; font-size: 0.8rem;
  margin: 0 0 0 0.6rem; line-height: 1.35; }}
{R} .pg-entry {{ display: inline-flex; align-items: center; gap: 0.25rem; }}
{R} .pg-entry svg {{ flex: none; }}
{R} .pg-row {{ display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; align-items: center;
  margin: 0.35rem 0; }}
{R} .pg-steprow .pg-step {{ flex: 1; display: flex; gap: 0.6rem; align-items: center;
  white-space: nowrap; min-width: 0; }}
{R} .pg-steprow input {{ min-width: 0; flex: 1; }}
{R} input[type=range] {{ vertical-align: middle; accent-color: #ff4b4b; }}
{R} .pg-caption {{ color: rgba(49, 51, 63, 0.75); font-size: 0.88rem; margin-top: 0.4rem; }}
{R} .pg-caption p {{ margin: 0 0 0.25rem 0; }}
{R} button {{ padding: 0.3rem 0.8rem; border: 1px solid rgba(49,51,63,0.25);
  border-radius: 0.5rem; background: white; cursor: pointer; font: inherit; }}
{R} button:disabled {{ opacity: 0.45; cursor: default; }}"""
CSS = SHARED_CSS + """
[data-maviz-pg] .pg-panels { display: grid; grid-template-columns: 56fr 44fr; gap: 0.6rem;
  align-items: start; }
[data-maviz-pg] .pg-panels.pg-classes3 { grid-template-columns: 64fr 36fr; }
[data-maviz-pg] .pg-col, [data-maviz-pg] .pg-panel, [data-maviz-pg] .pg-box { min-width: 0; }
[data-maviz-pg] .pg-box { margin-bottom: 0.4rem; }
[data-maviz-pg] .pg-panel.pg-click .nsewdrag { cursor: crosshair !important; }
[data-maviz-pg] input[type=number] { width: 5.5rem; font: inherit; padding: 0.15rem 0.3rem; }
[data-maviz-pg] .pg-classes label { margin-right: 0.5rem; white-space: nowrap; }
[data-maviz-pg] .pg-err { color: #B00020; }
@media (max-width: 640px) {
  [data-maviz-pg] .pg-panels, [data-maviz-pg] .pg-panels.pg-classes3 { grid-template-columns: 1fr; }
  /* a phone: the step slider stays at the screen's foot while the charts are in view */
  [data-maviz-pg] .pg-steprow { position: sticky; bottom: 0; z-index: 2; background: white;
    padding: 0.3rem 0; border-top: 1px solid rgba(49,51,63,0.15); }
}
.st-key-maviz_plotly_loader { display: none; }"""

_component = st.components.v2.component("maml_viz.playground", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)


def supported(run) -> bool:
    """Whether the browser can adapt this run (else the page keeps the server's chart)."""
    from maml_viz.views import browser
    try:
        browser.check(run)
    except browser.BrowserUnsupported:
        return False
    return True


@st.cache_data(max_entries=16, show_spinner=False)
def _payload(run_key: str, first_seed: int, label: str, _run) -> dict:
    from maml_viz.views import browser
    return browser.payload(_run, first_seed=first_seed, algo_label=label)


def ensure_plotly():
    """Draw an empty, hidden Plotly chart so that Streamlit loads plotly.js (window.Plotly)."""
    import plotly.graph_objects as go
    with st.container(key="maviz_plotly_loader"):
        st.plotly_chart(go.Figure(), config={"staticPlot": True}, key="maviz_plotly_loader_chart")


def playground(run, *, defaults: dict, link: dict | None = None, upload=None, label: str = "",
               key: str = "pg_live", hide: list | None = None):
    """Mount the in-browser Playground for `run`. defaults: k, lr, steps, step, task (the
    page's own, used where this tab has chosen nothing yet); link: {name: [url text, value]}
    for settings a link brings (they win); upload: (signature, points) of a CSV to use; hide:
    the widget keys a link's ?hide= names (pages/_shared/present.py), hidden in the component."""
    from maml_viz.views.browser import batch_start
    label = label or run.config.algo
    payload = _payload(run.key, batch_start(defaults["task"]), label, run)
    out = _component(data={
        "payload": payload, "defaults": defaults, "link": link or {}, "label": label,
        "color": color(run.config.algo), "class_names": CLASS_NAMES,
        "upload": None if upload is None else {"sig": upload[0], "points": upload[1]},
        "hide": list(hide or [])}, key=key)
    ensure_plotly()                  # after the component: the page's first chart is its own
    return out


def from_url(view, casts: dict, run, cfg) -> tuple[dict, dict, dict]:
    """What the component starts from: (defaults, link, publish). defaults: the run's own K, α,
    steps, step and the task; link: {name: [url text, value]} for the settings the URL brings
    that changed since the server last saw them (a link, or playground.js's own writing: it
    tells them apart); publish: the URL's current settings, written back unchanged (the
    browser owns them)."""
    from maml_viz.views.links import read_query
    from maml_viz.views.points import link_points
    params = st.query_params.to_dict()
    now, _ = read_query(params, casts)                    # (the View warned about bad ones)
    steps = run.family.eval_steps
    defaults = {"k": cfg.k_shot, "lr": float(cfg.inner_lr), "steps": steps,
                "step": min(max(1, cfg.inner_steps), steps),
                "task": int(view.fresh.get("task", now.get("task", view.get("task", 0))))}
    link = {k: [params[k], view.fresh.pop(k)] for k in URL_KEYS if k in view.fresh}
    if "pts" in link:
        pts, note = link_points(run.family, link["pts"][1])
        if note:
            st.warning(note)
            link.pop("pts")
        else:
            link["pts"][1] = [list(p) for p in pts]
    publish = {k: (params[k] if k in ("lr", "pts") else now[k]) for k in URL_KEYS if k in now}
    return defaults, link, publish

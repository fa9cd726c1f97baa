"""A square to draw in and, beside it, the guesses for the drawing (a Streamlit v2 component;
its script is pages/_shared/drawing_pad.js): strokes appear under the mouse, finger or pen as
they are drawn, in the browser, and reach Python when a stroke ends (a re-run of the fragment
that holds the pad, not of the page). The fragment reads them first (`strokes_now`), computes
the guesses and hands their chart to the pad, which draws it with the page's own Plotly in the
same message (issue 21: Streamlit's own chart element took 100-150 ms more to draw in the
browser). `drawing_pad(key)` returns the strokes so far: lists of (x, y) in [0, 1], y downwards,
checked here (whatever the browser sends, a malformed stroke is dropped, never raised)."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from pages._shared.lazy_chart import caption_css, themed_js

MAX_STROKES, MAX_POINTS = 40, 400
HTML = """<div data-maviz-pad>
<div class="pad-draw">
<canvas aria-label="Drawing area: drag to draw a stroke" title="Drag to draw a stroke"></canvas>
<button data-clear title="Remove your strokes and start a new drawing">Clear my drawing</button>
</div>
<div class="pad-guess"><div data-plot></div><div class="maviz-caption" data-note></div></div>
</div>"""
CSS = """[data-maviz-pad] { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.6fr);
  gap: 1rem; width: 100%; align-items: start; }
[data-maviz-pad] canvas { width: min(100%, 340px); aspect-ratio: 1; display: block;
  border: 1px solid #999; border-radius: 4px; background: white; touch-action: none;
  cursor: crosshair; }
[data-maviz-pad] button { margin-top: 0.5rem; padding: 0.3rem 0.8rem; font: inherit;
  border: 1px solid rgba(49,51,63,0.2); border-radius: 0.5rem; background: white; cursor: pointer; }
[data-maviz-pad] button:disabled { opacity: 0.5; cursor: default; }
[data-maviz-pad] .pad-guess { min-width: 0; }
@media (max-width: 640px) { [data-maviz-pad] { grid-template-columns: minmax(0, 1fr); } }
""" + caption_css("[data-maviz-pad]")

_component = st.components.v2.component(
    "maml_viz.drawing_pad", html=HTML, css=CSS, isolate_styles=False,
    js=themed_js(Path(__file__).parent / "drawing_pad.js"))


def clean(strokes) -> list:
    """Strokes as lists of (x, y) floats in [0, 1]; anything else is left out."""
    out = []
    for s in (strokes if isinstance(strokes, list) else [])[:MAX_STROKES]:
        pts = []
        for p in (s if isinstance(s, list) else [])[:MAX_POINTS]:
            try:
                x, y = float(p[0]), float(p[1])
            except (TypeError, ValueError, IndexError, KeyError):
                continue
            if math.isfinite(x) and math.isfinite(y):
                pts.append((min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)))
        if pts:
            out.append(pts)
    return out


def strokes_now(key: str) -> list:
    """The strokes the browser last sent to pad `key` (before the pad is drawn in this run, so
    that what goes with it can be computed first), checked as `clean` does; [] before any."""
    value = st.session_state.get(key)
    return clean(value.get("strokes") if hasattr(value, "get") else None)


def drawing_pad(key: str, pen: float = 0.05, chart: str = "", height: int = 340,
                note: str = "") -> list:
    """pen: the line's width as a fraction of the square (as wide as the dataset's strokes);
    chart: the Plotly JSON of the chart drawn beside the square (`height` pixels), or "" for
    none: then `note` is shown there instead (set as text, never as HTML)."""
    res = _component(data={"pen": pen, "max_points": MAX_POINTS, "max_strokes": MAX_STROKES,
                           "strokes": strokes_now(key), "chart": chart, "height": int(height),
                           "note": note},
                     key=key, default={"strokes": []}, on_strokes_change=lambda: None)
    return clean(getattr(res, "strokes", None))

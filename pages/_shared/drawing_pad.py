"""A square to draw in (a Streamlit v2 component; its script is pages/_shared/drawing_pad.js):
strokes appear under the mouse, finger or pen as they are drawn, in the browser, and reach
Python when a stroke ends (a re-run of the fragment that holds the pad, not of the page).
`drawing_pad(key)` returns the strokes so far: lists of (x, y) in [0, 1], y downwards, checked
here (whatever the browser sends, a malformed stroke is dropped, never raised)."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

MAX_STROKES, MAX_POINTS = 40, 400
HTML = """<div data-maviz-pad>
<canvas aria-label="Drawing area: drag to draw a stroke" title="Drag to draw a stroke"></canvas>
<button data-clear title="Remove your strokes and start a new drawing">Clear my drawing</button>
</div>"""
CSS = """[data-maviz-pad] canvas { width: min(100%, 340px); aspect-ratio: 1; display: block;
  border: 1px solid #999; border-radius: 4px; background: white; touch-action: none;
  cursor: crosshair; }
[data-maviz-pad] button { margin-top: 0.5rem; padding: 0.3rem 0.8rem; font: inherit;
  border: 1px solid rgba(49,51,63,0.2); border-radius: 0.5rem; background: white; cursor: pointer; }
[data-maviz-pad] button:disabled { opacity: 0.5; cursor: default; }"""

_component = st.components.v2.component(
    "maml_viz.drawing_pad", html=HTML, css=CSS,
    js=(Path(__file__).parent / "drawing_pad.js").read_text(), isolate_styles=False)


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


def drawing_pad(key: str, pen: float = 0.05) -> list:
    """pen: the line's width as a fraction of the square (as wide as the dataset's strokes)."""
    res = _component(data={"pen": pen, "max_points": MAX_POINTS, "max_strokes": MAX_STROKES,
                           "strokes": clean(st.session_state.get(f"_{key}_last", []))},
                     key=key, default={"strokes": []}, on_strokes_change=lambda: None)
    strokes = clean(getattr(res, "strokes", None))
    st.session_state[f"_{key}_last"] = strokes
    return strokes

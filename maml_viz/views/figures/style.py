"""The look every chart shares: one colour per algorithm and per class, fonts, the layout, and
honest values (a value off the chart is a triangle on its edge with its value).

Figure builders are pure functions of arrays; they import nothing of the package.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .colors import (BEFORE, CLASS_COLORS, CLASS_NAMES, COLORS, FONT,  # noqa: F401
                     OTHER_COLORS, STEP_SLIDER, TRUE, class_color, color, rgba)


def base_layout(fig, title=None, subtitle=None, x=None, y=None, height=420, legend=True):
    t = None
    if title:
        t = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None, x=0.01)
    # an unvalidated figure (fast_figure) would send the template's name, not the template: Streamlit's
    # own theme styles those charts (as it does every chart on the pages)
    fig.update_layout(title=t, height=height, font=FONT,
                      template="plotly_white" if fig._validate else None,
                      margin=dict(l=60, r=20, t=80 if subtitle else 50 if title else 20, b=50),
                      showlegend=legend, legend=dict(orientation="h", y=-0.18, x=0))
    if x:
        fig.update_xaxes(title_text=x)
    if y:
        fig.update_yaxes(title_text=y)
    return fig


def fast_figure(data: list) -> go.Figure:
    """A figure from plain trace dicts, without plotly's per-property validation (it cost most
    of a page's render time); its layout is then set through the validated API."""
    return go.Figure(dict(data=data, layout={}), _validate=False)


def as_array(v):
    return np.asarray(v, dtype=float).reshape(-1)


def as_f32(v):
    return np.asarray(v, dtype=np.float32)


def plural(n: int, word: str = "step") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# ----------------------------------------------------------------------------- honest values
def edge_points(values, lo: float, hi: float, higher_is_better: bool = False):
    """Where a curve leaves a fixed range. Returns (over, under, diverged): index arrays of the
    finite values above hi, below lo, and of the values that are not finite."""
    v = as_array(values)
    fin = np.isfinite(v)
    return (np.flatnonzero(fin & (v > hi)), np.flatnonzero(fin & (v < lo)),
            np.flatnonzero(~fin))


def on_chart(values, y_range):
    """A line's values with those off the chart or not finite left out (the line breaks there;
    edge_traces marks them on the edge instead of drawing a line out of the plot)."""
    v = as_array(values)
    lo, hi = y_range
    return np.where(np.isfinite(v) & (v >= lo) & (v <= hi), v, np.nan)


def edge_traces(x, values, y_range, bad_top=True, color_="#444444", name=""):
    """Markers on the chart's edge for off-chart values (triangles, hover: the real value) and a
    labelled cross for diverged ones, at the bad edge (top for errors, bottom for scores).
    Plain trace dicts."""
    lo, hi = y_range
    x, v = as_array(x), as_array(values)
    over, under, bad = edge_points(v, lo, hi)
    out = []
    for idx, y, sym in ((over, hi, "triangle-up"), (under, lo, "triangle-down")):
        if len(idx):
            out.append(dict(
                type="scatter", x=x[idx], y=np.full(len(idx), y), mode="markers",
                showlegend=False, cliponaxis=False, customdata=v[idx], name=f"{name} off the chart",
                marker=dict(symbol=sym, size=12, color=color_, line=dict(color="white", width=1)),
                hovertemplate=f"{name}: off the chart (%{{customdata:.3g}}) at step %{{x}}<extra></extra>"))
    if len(bad):
        first = int(bad[0])
        out.append(dict(
            type="scatter", x=[x[first]], y=[hi if bad_top else lo], mode="markers+text",
            showlegend=False, name=f"{name} diverged", cliponaxis=False,
            marker=dict(symbol="x-thin", size=14, color=color_, line=dict(color=color_, width=3)),
            text=[f"diverged (step {int(x[first])})"],
            textposition="bottom center" if bad_top else "top center",
            textfont=dict(color=color_, size=12),
            hovertemplate=f"{name}: diverged at step {int(x[first])} (NaN or infinity)<extra></extra>"))
    return out

"""Regression charts: a network's curve adapting step by step beside its error, a gallery of
tasks, and curves before and after adapting.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .canvas import Canvas, marker_props, now_marker, step_axis, value_axis
from .style import TRUE, as_array, as_f32, base_layout, color, edge_traces, on_chart, plural


def regression_steps(x, curves, support=None, mine=None, true_y=None, errors=(), y_range=(-6, 6),
                     err_range=(0, 10), active=1, click_grid=None, height=520, x_title="x",
                     y_title="y", err_title="mean squared error", fixed=(),
                     err_log=False) -> go.Figure:
    """Predictions adapting step by step (left) and the errors after each step (right), one
    slider for both. curves: [(label, preds [S+1, G], algo/colour, dash)], all with the same S;
    fixed: [(label, y, colour, dash)] curves that do not move (before adapting);
    errors: [(label, values [S_total+1], algo/colour, dash)] (values may run past the shown
    steps and hold NaN/inf: those are marked); err_log: a log error axis (err_range in data
    units); click_grid: (gx, gy) invisible points so a click anywhere on the left panel
    registers. The click grid, when given, is trace 0."""
    n = len(curves[0][1])
    active = int(min(max(active, 0), n - 1))
    c = Canvas({1: ((0, 0.56), (0, 1)), 2: ((0.7, 1), (0, 1))})
    x = as_f32(x).reshape(-1)
    if click_grid is not None:
        c.add(1, x=as_f32(click_grid[0]).reshape(-1), y=as_f32(click_grid[1]).reshape(-1),
              mode="markers", name="click to add", showlegend=False, hoverinfo="x+y",
              marker=dict(size=9, color="rgba(0,0,0,0)"))
    if true_y is not None:
        c.add(1, x=x, y=as_f32(true_y).reshape(-1), mode="lines", name="true function", line=TRUE,
              hoverinfo="skip")
    for label, y, col, dash in fixed:
        c.add(1, x=x, y=as_f32(y).reshape(-1), mode="lines", name=label,
              line=dict(color=color(col), width=2.5, dash=dash),
              hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>")
    moving, per_step = [], [[] for _ in range(n)]
    for label, preds, col, dash in curves:
        preds = np.asarray(preds, dtype=np.float32)
        moving.append(c.add(1, x=x, y=preds[0], mode="lines", name=label,
                            line=dict(color=color(col), width=3, dash=dash),
                            hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>"))
        for s in range(n):
            per_step[s].append(dict(type="scatter", y=preds[s]))
    if support is not None and len(as_array(support[0])):
        sx = as_array(support[0])
        c.add(1, x=sx, y=as_array(support[1]), mode="markers", name=f"the task's {len(sx)} points",
              marker=dict(color="black", size=10, line=dict(color="white", width=1.5)))
    if mine is not None and len(as_array(mine[0])):
        mx = as_array(mine[0])
        c.add(1, x=mx, y=as_array(mine[1]), mode="markers", name=f"your {plural(len(mx), 'point')}",
              marker=dict(color="#FFFFFF", size=12, symbol="diamond",
                          line=dict(color="black", width=2.5)))
    total = max((len(as_array(e[1])) for e in errors), default=n)
    shown = {cv[0] for cv in curves}
    for label, vals, col, dash in errors:
        v = as_array(vals)
        c.add(2, x=np.arange(len(v)), y=on_chart(v, err_range), mode="lines",
              name=label, line=dict(color=color(col), width=2, dash=dash),
              showlegend=label not in shown,                  # Compare: one entry per run
              hovertemplate=f"{label}: %{{y:.3g}} after %{{x}} steps<extra></extra>")
        for t in edge_traces(np.arange(len(v)), v, err_range, True, color(col), label):
            c.add(2, **t)
    for label, vals, col, _ in errors:
        moving.append(now_marker(c, 2, color(col), label))
        for s in range(n):
            per_step[s].append(marker_props(s, vals, err_range))
    c.steps(moving, per_step, active)
    c.axis(1, "x", range=[float(x.min()), float(x.max())], title=dict(text=x_title))
    c.axis(1, "y", range=list(y_range), title=dict(text=y_title))
    step_axis(c, 2, total)
    value_axis(c, 2, err_range, err_title, err_log)
    return c.figure(height, phone={"xaxis.domain": [0, 1], "yaxis.domain": [0.5, 1],
                                   "xaxis2.domain": [0, 1], "yaxis2.domain": [0, 0.27],
                                   "yaxis2.title.text": "error (log)" if err_log else "error",
                                   "xaxis.title.text": "", "height": height + 100,
                                   "margin.t": 40, "margin.b": 110}, redraw=False)


# ----------------------------------------------------------------------------- regression (static)
def task_gallery(x, ys, titles, cols=4, y_range=None) -> go.Figure:
    """Small multiples: one sampled task per panel, all on the same scale."""
    rows = (len(ys) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes="all",
                        shared_xaxes="all", horizontal_spacing=0.03, vertical_spacing=0.14)
    for i, y in enumerate(ys):
        fig.add_trace(go.Scatter(x=as_array(x), y=as_array(y), mode="lines", showlegend=False,
                                 line=dict(color="black", width=2), name=titles[i]),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=12)
    if y_range is None:
        top = max(float(np.abs(as_array(y)).max()) for y in ys) * 1.1
        y_range = (-top, top)
    fig.update_yaxes(range=list(y_range))
    return base_layout(fig, height=200 * rows + 40, legend=False)


def adaptation(x, true_y=None, curves=(), support=None, title=None, subtitle=None,
               y_range=None, click_grid=None, height=420, x_title="x", y_title="y") -> go.Figure:
    """Predictions on a new task (one picture, no steps). curves: [(label, y, algo_or_color, dash)].
    click_grid: (gx, gy) an invisible grid of points so a click anywhere selects a location."""
    fig = go.Figure()
    if click_grid is not None:
        gx, gy = click_grid
        fig.add_trace(go.Scatter(x=as_array(gx), y=as_array(gy), mode="markers", name="click to add",
                                 marker=dict(size=9, color="rgba(0,0,0,0)"), hoverinfo="x+y",
                                 showlegend=False))
    if true_y is not None:
        fig.add_trace(go.Scatter(x=as_array(x), y=as_array(true_y), mode="lines", name="true function",
                                 line=TRUE))
    for label, y, c, dash in curves:
        fig.add_trace(go.Scatter(x=as_array(x), y=as_array(y), mode="lines", name=label,
                                 line=dict(color=color(c), width=3, dash=dash)))
    if support is not None and len(as_array(support[0])):
        fig.add_trace(go.Scatter(x=as_array(support[0]), y=as_array(support[1]), mode="markers",
                                 name=f"the {len(as_array(support[0]))} point"
                                      f"{'s' if len(as_array(support[0])) != 1 else ''} it sees",
                                 marker=dict(color="black", size=10, symbol="circle",
                                             line=dict(color="white", width=1.5))))
    base_layout(fig, title, subtitle, x_title, y_title, height=height)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig

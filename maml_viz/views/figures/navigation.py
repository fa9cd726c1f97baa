"""Navigation charts: a policy's rollouts on the plane before and after each policy-gradient step,
beside its return.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .canvas import Canvas, marker_props, now_marker, step_axis, value_axis
from .style import BEFORE, as_array, color, edge_traces, on_chart


def navigation_steps(paths, returns, goal, algo, label, ret_range, active=1, extent=0.6, show=5,
                     height=540, click=True) -> go.Figure:
    """A point robot toward a goal, step by step. paths: [S+1, n, H+1, 2] positions of the
    rollouts at each step (step 0: before adapting, drawn grey); returns: [S+1] their mean
    return (right panel, with the current step marked). The click grid is trace 0."""
    paths = np.asarray(paths, dtype=float)
    n = len(paths)
    active = int(min(max(active, 0), n - 1))
    c = Canvas({1: ((0, 0.52), (0, 1)), 2: ((0.66, 1), (0, 1))})
    if click:
        gg = np.linspace(-extent, extent, 25)
        X, Y = np.meshgrid(gg, gg)
        c.add(1, x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False, hoverinfo="x+y",
              marker=dict(size=10, color="rgba(0,0,0,0)"), name="click to move the goal")

    def lines(ps):
        xs, ys = [], []
        for p in np.asarray(ps)[:show]:
            xs += list(np.round(p[:, 0], 4)) + [None]
            ys += list(np.round(p[:, 1], 4)) + [None]
        return xs, ys

    bx, by = lines(paths[0])
    c.add(1, x=bx, y=by, mode="lines", name="before adapting", hoverinfo="skip",
          line=dict(color=BEFORE, width=1.5))
    adapted = c.add(1, x=[], y=[], mode="lines", name=f"{label} after adapting",
                    hoverinfo="skip", line=dict(color=color(algo), width=2.5))
    c.add(1, x=[0], y=[0], mode="markers", name="start", marker=dict(color="black", size=10))
    c.add(1, x=[goal[0]], y=[goal[1]], mode="markers", name="goal",
          marker=dict(color="#D62728", size=20, symbol="star", line=dict(color="black", width=1)))
    r = as_array(returns)
    c.add(2, x=np.arange(len(r)), y=on_chart(r, ret_range), mode="lines",
          name="return", showlegend=False, line=dict(color=color(algo), width=2),
          hovertemplate="return %{y:.1f} after %{x} steps<extra></extra>")
    for t in edge_traces(np.arange(len(r)), r, ret_range, False, color(algo), "return"):
        c.add(2, **t)
    marker = now_marker(c, 2, color(algo), "return")
    per_step = []
    for s in range(n):
        ax, ay = lines(paths[s]) if s > 0 else ([], [])
        per_step.append([dict(type="scatter", x=ax, y=ay), marker_props(s, r, ret_range)])
    c.steps([adapted, marker], per_step, active)
    c.axis(1, "x", range=[-extent, extent], title=dict(text="x"), constrain="domain")
    c.axis(1, "y", range=[-extent, extent], title=dict(text="y"), scaleanchor="x", scaleratio=1,
           constrain="domain")
    step_axis(c, 2, len(r), "policy-gradient steps")
    value_axis(c, 2, ret_range, "average return")
    return c.figure(height, phone={"xaxis.domain": [0, 1], "yaxis.domain": [0.42, 1],
                                   "xaxis2.domain": [0, 1], "yaxis2.domain": [0, 0.25],
                                   "height": height + 200}, redraw=False)

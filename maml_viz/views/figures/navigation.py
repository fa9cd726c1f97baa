"""Navigation charts: a policy's rollouts on the plane before and after each policy-gradient step,
beside its return; the average return of every algorithm over held-out goals. A value below the
chart is a ▼ on its edge labelled with the value. A click or tap anywhere on the plane places
the goal: the plane says so in layout.meta.goal_plane, and the page's script
(pages/_shared/goal_click.py) turns the click into plane coordinates.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .canvas import Canvas, marker_props, now_marker, step_axis, value_axis
from .curves import error_vs_steps
from .style import BEFORE, as_array, color, edge_traces, on_chart

STEPS_TITLE = "policy-gradient steps"      # the x-axis of both navigation charts
GOAL_PLANE = "nav"                         # layout.meta.goal_plane: the click target's name


def labelled_edges(traces: list, digits: int = 1) -> list:
    """edge_traces' markers for off-chart values, each also showing its value as text (inside
    the chart, next to the triangle)."""
    out = []
    for t in traces:
        if str(t.get("name", "")).endswith("off the chart"):
            bottom = t["marker"]["symbol"] == "triangle-down"
            t = {**t, "mode": "markers+text",
                 "text": [f"{v:.{digits}f}" for v in as_array(t["customdata"])],
                 "textposition": "top center" if bottom else "bottom center",
                 "textfont": dict(size=12, color=t["marker"]["color"])}
        out.append(t)
    return out


def navigation_steps(paths, returns, goal, algo, label, ret_range, active=1, extent=0.6, show=5,
                     height=540, adapting=True, reference=None) -> go.Figure:
    """A point robot toward a goal, step by step. paths: [S+1, n, H+1, 2] positions of the
    rollouts at each step (step 0 drawn grey); returns: [S+1] their mean return (right panel,
    with the current step marked). adapting=False (the oracle, told the goal): the legend says
    the policy never adapts. reference: (label, algo, returns) drawn dotted in the return panel
    for comparison."""
    paths = np.asarray(paths, dtype=float)
    n = len(paths)
    active = int(min(max(active, 0), n - 1))
    c = Canvas({1: ((0, 0.52), (0, 1)), 2: ((0.66, 1), (0, 1))})

    def lines(ps):
        xs, ys = [], []
        for p in np.asarray(ps)[:show]:
            xs += list(np.round(p[:, 0], 4)) + [None]
            ys += list(np.round(p[:, 1], 4)) + [None]
        return xs, ys

    if adapting:                    # a policy that never adapts has no "before": it is drawn
        bx, by = lines(paths[0])    # in colour at every step, step 0 included
        c.add(1, x=bx, y=by, mode="lines", name="before adapting", hoverinfo="skip",
              line=dict(color=BEFORE, width=1.5))
    after = f"{label} after adapting" if adapting else f"{label}'s tries (never adapts)"
    adapted = c.add(1, x=[], y=[], mode="lines", name=after, hoverinfo="skip",
                    line=dict(color=color(algo), width=2.5))
    c.add(1, x=[0], y=[0], mode="markers", name="start", marker=dict(color="black", size=10))
    c.add(1, x=[goal[0]], y=[goal[1]], mode="markers", name="goal",
          marker=dict(color="#D62728", size=20, symbol="star", line=dict(color="black", width=1)))
    steps = np.arange(n)
    if reference is not None:
        rlabel, ralgo, rret = reference
        rr = as_array(rret)[:n]
        c.add(2, x=steps[:len(rr)], y=on_chart(rr, ret_range), mode="lines+markers",
              name=f"{rlabel} on this goal (for comparison)",
              line=dict(color=color(ralgo), width=2, dash="dot"), marker=dict(size=6),
              hovertemplate=f"{rlabel}: return %{{y:.1f}} after %{{x}} steps<extra></extra>")
        for t in labelled_edges(edge_traces(steps[:len(rr)], rr, ret_range, False, color(ralgo),
                                            rlabel)):
            c.add(2, **t)
    r = as_array(returns)
    c.add(2, x=steps, y=on_chart(r, ret_range), mode="lines+markers", name="return",
          showlegend=False, line=dict(color=color(algo), width=2.5), marker=dict(size=6),
          hovertemplate="return %{y:.1f} after %{x} steps<extra></extra>")
    for t in labelled_edges(edge_traces(steps, r, ret_range, False, color(algo), label)):
        c.add(2, **t)
    marker = now_marker(c, 2, color(algo), "return")
    per_step = []
    for s in range(n):
        ax, ay = lines(paths[s]) if s > 0 or not adapting else ([], [])
        per_step.append([dict(type="scatter", x=ax, y=ay), marker_props(s, r, ret_range)])
    c.steps([adapted, marker], per_step, active)
    c.axis(1, "x", range=[-extent, extent], title=dict(text="x"), constrain="domain",
           fixedrange=True)
    c.axis(1, "y", range=[-extent, extent], title=dict(text="y"), scaleanchor="x", scaleratio=1,
           constrain="domain", fixedrange=True)
    step_axis(c, 2, len(r), STEPS_TITLE)
    value_axis(c, 2, ret_range, "average return")
    c.axis(2, "x", fixedrange=True)
    c.axis(2, "y", fixedrange=True)
    c.layout["dragmode"] = False             # a drag neither zooms nor pans: clicks place goals
    fig = c.figure(height, phone={"xaxis.domain": [0, 1], "yaxis.domain": [0.42, 1],
                                  "xaxis2.domain": [0, 1], "yaxis2.domain": [0, 0.25],
                                  "height": height + 200}, slider_y=-0.17, redraw=False)
    fig.layout.meta = {**(fig.layout.meta or {}), "goal_plane": GOAL_PLANE}
    return fig


def return_curves(df, labels, y_range, height=440) -> go.Figure:
    """Every algorithm's average return after 0..S steps over held-out goals (error_vs_steps),
    its off-chart values labelled and the x-axis worded as on the plane's panel."""
    spec = error_vs_steps(df, "return", labels=labels, y_range=y_range,
                          height=height).to_plotly_json()
    spec["data"] = labelled_edges(spec["data"])
    fig = go.Figure(spec, _validate=False)
    fig.update_xaxes(title_text=STEPS_TITLE)
    return fig

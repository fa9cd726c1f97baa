"""Classification charts: decision regions adapting step by step, alone or several runs side by
side.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .canvas import Canvas, marker_props, now_marker, step_axis, value_axis
from .style import as_array, as_f32, class_color, color, edge_traces, on_chart, rgba


def _region_scale(n_way: int):
    n = max(int(n_way), 1)
    scale = []
    for i in range(n):
        col = rgba(class_color(i), 0.3)
        scale += [[i / n, col], [(i + 1) / n, col]]
    return scale


def _class_points(xy, labels, name, size, opacity=1.0, outline="black", symbol="circle"):
    xy, lab = np.asarray(xy, float).reshape(-1, 2), np.asarray(labels, int).reshape(-1)
    big = size >= 12
    return dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="markers+text" if big else "markers",
                name=name, opacity=opacity, text=[str(c) for c in lab],
                textfont=dict(size=9, color="white"),
                marker=dict(color=[class_color(c) for c in lab], size=size, symbol=symbol,
                            line=dict(color=outline, width=1.5 if big else 0)),
                hovertemplate="class %{text}<extra>" + name + "</extra>")


def _heatmap(g, z, n_way, name):
    return dict(type="heatmap", x=g, y=g, z=z, zmin=-0.5, zmax=n_way - 0.5, showscale=False,
                colorscale=_region_scale(n_way), name=name,
                hovertemplate="(%{x:.1f}, %{y:.1f}): class %{z}<extra></extra>")


def regions_steps(g, classes, n_way, support, mine=None, query=None, curves=(), ranges=None,
                  active=1, height=560) -> go.Figure:
    """Classification, step by step: the predicted class over the plane before adapting (left)
    and after the chosen steps (middle, clickable), and curves after each step on the right
    (curves: [(label, values, algo/colour, dash, panel)] with panel 0 = accuracy, 1 = loss;
    ranges: {0: (lo, hi), 1: (lo, hi)}). classes: [S+1, n, n] predicted labels on the grid g.
    The click grid is trace 2."""
    classes = np.asarray(classes)
    n = len(classes)
    active = int(min(max(active, 0), n - 1))
    ranges = ranges or {0: (0, 1), 1: (0, 4)}
    c = Canvas({1: ((0, 0.3), (0, 1)), 2: ((0.35, 0.65), (0, 1)),
                3: ((0.76, 1), (0.6, 1)), 4: ((0.76, 1), (0, 0.4))})
    g = as_f32(g).reshape(-1)
    c.add(1, **_heatmap(g, classes[0].astype(np.int8), n_way, "before adapting"))
    c.add(2, **_heatmap(g, classes[active].astype(np.int8), n_way, "predicted class"))
    X, Y = np.meshgrid(g[::2], g[::2])
    c.add(2, x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False, hoverinfo="x+y",
          marker=dict(size=8, color="rgba(0,0,0,0)"), name="click to add")
    if query is not None and len(query[0]):
        c.add(2, **_class_points(query[0], query[1], "new points of the task", 5, 0.7))
    for panel in (1, 2):
        if len(support[0]):
            c.add(panel, **_class_points(support[0], support[1], "labelled examples", 15),
                  showlegend=panel == 2)
        if mine is not None and len(mine[0]):
            c.add(panel, **_class_points(mine[0], mine[1], "your examples", 17, outline="white",
                                         symbol="diamond"), showlegend=panel == 2)
    moving = [1]
    per_step = [[dict(type="heatmap", z=classes[s].astype(np.int8))] for s in range(n)]
    panels = {0: 3, 1: 4}
    for label, vals, col, dash, which in curves:
        v = as_array(vals)
        c.add(panels[which], x=np.arange(len(v)), y=on_chart(v, ranges[which]),
              mode="lines", name=label, line=dict(color=color(col), width=2, dash=dash),
              hovertemplate=f"{label}: %{{y:.3g}} after %{{x}} steps<extra></extra>")
        for t in edge_traces(np.arange(len(v)), v, ranges[which], which == 1, color(col), label):
            c.add(panels[which], **t)
    for label, vals, col, dash, which in curves:
        moving.append(now_marker(c, panels[which], color(col), label))
        for s in range(n):
            per_step[s].append(marker_props(s, vals, ranges[which]))
    c.steps(moving, per_step, active)
    lim = [float(g.min()), float(g.max())]
    for panel, title in ((1, "before adapting"), (2, "after the chosen steps")):
        c.axis(panel, "x", range=lim, title=dict(text=f"x₁ · {title}"), constrain="domain")
        c.axis(panel, "y", range=lim, scaleanchor=f"x{c.suffix(panel)}", scaleratio=1,
               constrain="domain", title=dict(text="x₂" if panel == 1 else ""))
    total = max((len(as_array(cv[1])) for cv in curves), default=n)
    for which, panel in panels.items():
        step_axis(c, panel, total, "gradient steps" if which == 1 else "")
        value_axis(c, panel, ranges[which], "accuracy" if which == 0 else "loss")
    return c.figure(height, phone={"xaxis.domain": [0, 0.48], "yaxis.domain": [0.5, 1],
                                   "xaxis2.domain": [0.52, 1], "yaxis2.domain": [0.5, 1],
                                   "xaxis3.domain": [0, 0.45], "yaxis3.domain": [0, 0.3],
                                   "xaxis4.domain": [0.58, 1], "yaxis4.domain": [0, 0.3],
                                   "height": height + 120})


def compare_regions_steps(g, classes: dict, n_way, support, labels: dict, active=1, height=None,
                          cols=3, query=None, right=None) -> go.Figure:
    """One decision-region map per run (classes: key -> [S+1, n, n], NaN where it blew up), all
    moved by one slider, with tick labels. query: (xy [Q, 2], true labels [Q]), the task's test
    points, drawn on every map; right: key -> [S+1, Q] bool, whether the run's prediction at each
    test point is right after each step: the wrong ones are crossed and each map's title says
    how many are right, step by step (both computed from what is drawn)."""
    keys = list(classes)
    n = min(len(classes[k]) for k in keys)
    active = int(min(max(active, 0), n - 1))
    cols = min(cols, len(keys))
    rows = (len(keys) + cols - 1) // cols
    c = Canvas(_grid_domains(len(keys), cols))
    g = as_f32(g).reshape(-1)
    lim = [float(g.min()), float(g.max())]
    per_step, moving = [[] for _ in range(n)], []
    has_query = query is not None and len(query[0]) and right is not None
    qx, qy = (np.asarray(query[0], float).reshape(-1, 2), np.asarray(query[1], int).reshape(-1)) \
        if has_query else (np.zeros((0, 2)), np.zeros(0, int))
    for i, k in enumerate(keys):
        z = [_classes_z(m) for m in np.asarray(classes[k], dtype=np.float32)]
        moving.append(c.add(i + 1, **_heatmap(g, z[active], n_way, labels[k])))
        for s in range(n):
            per_step[s].append(dict(type="heatmap", z=z[s]))
    for i, k in enumerate(keys):
        c.add(i + 1, **_class_points(support[0], support[1], "labelled examples (big dots)", 13),
              showlegend=i == 0, legendgroup="support")
        if not has_query:
            continue
        c.add(i + 1, **_class_points(qx, qy, "test points (colour: true class)", 6, 0.9,
                                     outline="white"), showlegend=i == 0, legendgroup="query")
        ok = np.asarray(right[k], bool)
        moving.append(c.add(i + 1, x=[], y=[], mode="markers", name="test point predicted wrong",
                            showlegend=i == 0, legendgroup="wrong", hoverinfo="skip",
                            marker=dict(symbol="x-thin", size=7, color="rgba(0,0,0,0.8)",
                                        line=dict(color="rgba(0,0,0,0.8)", width=1.5))))
        for s in range(n):
            bad = ~ok[min(s, len(ok) - 1)]
            per_step[s].append(dict(type="scatter", x=qx[bad, 0], y=qx[bad, 1]))
    for i, k in enumerate(keys):
        # the map's title: a text trace above it, so that it can change with the step
        moving.append(c.add(i + 1, x=[(lim[0] + lim[1]) / 2], y=[lim[1]], mode="text",
                            showlegend=False, hoverinfo="skip", cliponaxis=False,
                            textposition="top center", textfont=dict(size=13, color="#31333F"),
                            name=f"{labels[k]} title", text=[labels[k]]))
        ok = np.asarray(right[k], bool) if has_query else None
        for s in range(n):
            text = labels[k]
            if ok is not None:
                row = ok[min(s, len(ok) - 1)]
                text += f": {int(row.sum())}/{len(row)} right ({100 * row.mean():.0f}%)"
            per_step[s].append(dict(type="scatter", text=[text]))
    c.steps(moving, per_step, active)
    for i, k in enumerate(keys):
        s = c.suffix(i + 1)
        c.axis(i + 1, "x", range=lim, constrain="domain", tickfont=dict(size=10),
               title=dict(text="x₁" if i // cols == rows - 1 or i + cols >= len(keys) else ""))
        c.axis(i + 1, "y", range=lim, constrain="domain", tickfont=dict(size=10),
               scaleanchor=f"x{s}", scaleratio=1, title=dict(text="x₂" if i % cols == 0 else ""))
    height = height or 340 * rows + 150
    # on a phone: two maps a row (pages/_shared/stepsync.js applies layout.meta.phone)
    p_rows = (len(keys) + 1) // 2
    phone = {f"{xy}axis{c.suffix(i)}.domain": list(d[j])
             for i, d in _grid_domains(len(keys), 2).items() for j, xy in enumerate("xy")}
    return c.figure(height, slider_y=-0.08 if rows > 1 else -0.16,
                    phone={**phone, "height": 260 * p_rows + 170})


def _classes_z(z):
    """A map of predicted classes as small integers (a quarter of the bytes to send), or as
    floats where it holds NaN (blown up: drawn as nothing)."""
    return z.astype(np.int8) if np.isfinite(z).all() else z


def _grid_domains(n: int, cols: int) -> dict:
    """Panel number -> (x domain, y domain) for n maps, `cols` a row."""
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    w, h = 1 / cols, 1 / rows
    return {i + 1: ((i % cols * w + 0.06, (i % cols + 1) * w - 0.02),
                    (1 - (i // cols + 1) * h + 0.07, 1 - i // cols * h - 0.06)) for i in range(n)}

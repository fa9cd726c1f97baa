"""The formula family's preview: a small gallery of sampled tasks' true functions, drawn before
anything trains (a pure builder of arrays; views/formula.py computes them)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import as_array, base_layout, fast_figure

# muted, distinguishable lines: the tasks are examples, not algorithms (no algorithm's colour)
TASK_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
               "#8C8C8C"]


def task_gallery(x, ys, labels, title: str, y_range=None, height: int = 280) -> go.Figure:
    """One line per task: x [M], ys [n, M] (a task's values), labels [n] (hover text). y_range
    fixes the y axis (else Plotly's own)."""
    x = as_array(x)
    ys = np.asarray(ys, dtype=float).reshape(len(labels), -1)
    data = [dict(type="scatter", mode="lines", x=x, y=y, name=str(lab), hoverinfo="name",
                 line=dict(color=TASK_COLORS[i % len(TASK_COLORS)], width=1.6))
            for i, (y, lab) in enumerate(zip(ys, labels))]
    fig = fast_figure(data)
    base_layout(fig, title=title, x="x", y="y", height=height, legend=False)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig

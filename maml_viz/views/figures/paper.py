"""Figures of a methods paper: the probability-of-improvement matrix (a small heat map, each cell
writing its value, its 95% interval in the hover), reference marks (the paper's reported figure
on an error-against-steps chart, its source in the legend and hover), and the publication size
every chart is exported at. Pure functions of plain data; they import nothing of the package
outside views/figures/.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import base_layout, color, fast_figure

# every chart's PNG/SVG export (pages/_shared/export.js): layout size in px, PNG scale (300 dpi
# at 6 x 3.75 in), and the font size there (readable at print size)
EXPORT = {"width": 900, "height": 560, "scale": 2, "font": 16}


def poi_matrix(poi: dict, labels: dict, step: int, height: int | None = None) -> go.Figure:
    """poi: runs/stats.poi_matrix's dict over run keys; labels: key -> name. Row X, column Y:
    P(X better than Y), written in the cell; the hover gives its 95% interval. The diagonal is
    blank. Red: the column is better, blue: the row is better."""
    names = poi["algos"]
    shown = [labels.get(n, n) for n in names]
    n = len(names)
    z = np.full((n, n), np.nan)
    text, lo, hi = [[""] * n for _ in range(n)], np.full((n, n), np.nan), np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            v = poi["value"][i][j]
            if i == j or v is None:
                text[i][j] = "—" if i == j else "n/a"
                continue
            z[i, j], lo[i, j], hi[i, j] = v, poi["low"][i][j], poi["high"][i][j]
            text[i][j] = f"{v:.2f}"
    trace = dict(type="heatmap", z=z, x=shown, y=shown, zmin=0.0, zmax=1.0, text=text,
                 texttemplate="%{text}", textfont=dict(size=14),
                 customdata=np.stack([lo, hi], -1),
                 colorscale=[[0.0, "#B2182B"], [0.5, "#F7F7F7"], [1.0, "#2166AC"]],
                 colorbar=dict(title=dict(text="P(row better)"), thickness=12, len=0.9),
                 hovertemplate="P(%{y} better than %{x}) = %{z:.2f}<br>95% interval "
                               "[%{customdata[0]:.2f}, %{customdata[1]:.2f}]<extra></extra>",
                 name="probability of improvement", showscale=True, xgap=2, ygap=2)
    fig = fast_figure([trace])
    fig = base_layout(fig, None, None, "… than this run (column)", "this run (row) better …",
                      height=height or 140 + 60 * n, legend=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(meta={"step": int(step)})
    return fig


def add_marks(fig: go.Figure, marks: list, colors: dict | None = None) -> go.Figure:
    """Reference marks on an error-against-steps chart: marks are dicts {algo, name, step, value,
    ci95, source, caveat}; one legend entry per name (open diamonds in the algorithm's colour,
    an error bar where the source gives a ± ), the source and the caveat in the hover."""
    colors = colors or {}
    by_name: dict = {}
    for m in marks:
        by_name.setdefault(m["name"], []).append(m)
    for name, ms in by_name.items():
        ms = sorted(ms, key=lambda m: m["step"])
        col = colors.get(ms[0]["algo"], color(ms[0]["algo"]))
        ci = [m["ci95"] if m["ci95"] is not None else 0.0 for m in ms]
        src = ms[0]["source"]
        tr = dict(type="scatter", x=[m["step"] for m in ms], y=[m["value"] for m in ms],
                  mode="markers", name=name, legendgroup=f"paper {name}",
                  customdata=ci,
                  marker=dict(symbol="diamond-open", size=15, color=col,
                              line=dict(width=2.5, color=col)),
                  hovertemplate=(f"{name}, step %{{x}}: %{{y:.3f}}"
                                 + (" ± %{customdata:.3f}" if any(ci) else "")
                                 + f"<br>{_wrap(src)}<br>{_wrap('Differs: ' + ms[0]['caveat'])}"
                                 "<extra>paper</extra>"))
        if any(ci):
            tr["error_y"] = dict(type="data", array=ci, color=col, thickness=1.5)
        fig.add_trace(tr)
    return fig


def _wrap(text: str, width: int = 70) -> str:
    """Hover text in lines of about `width` characters (Plotly does not wrap hovers); no
    template variable can appear (braces become parentheses)."""
    words, lines, line = str(text).replace("{", "(").replace("}", ")").split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "<br>".join(lines)

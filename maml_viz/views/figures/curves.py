"""Curves over steps and over training: the error after each step averaged over held-out tasks
(with its 95% band), loss histories and validation curves.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import (as_array, base_layout, color, edge_points, edge_traces, fast_figure, on_chart,
                    rgba)


def error_vs_steps(df, metric="mse", title=None, subtitle=None, labels=None, height=440,
                   y_range=None, colors=None, dashes=None, higher_is_better=None) -> go.Figure:
    """df columns: algo, step, mean, ci95 (one K); `algo` may be any run label, with colors /
    dashes mapping it (default: the algorithm's colour). Mean line with a shaded 95% CI band.
    y_range fixes the axis (pages pass the family's range, the same for every algorithm):
    means outside it are edge markers (their band is not drawn), NaN/inf means a "diverged"
    marker at the bad edge. Without y_range the axis keeps the scale of the step-0 values."""
    data = []
    labels, colors, dashes = labels or {}, colors or {}, dashes or {}
    hib = metric in ("accuracy", "return") if higher_is_better is None else higher_is_better
    for algo, g in df.groupby("algo", sort=False):
        g = g.sort_values("step")
        s, m, c = g["step"].to_numpy(), g["mean"].to_numpy(float), g["ci95"].to_numpy(float)
        col = colors.get(algo, color(algo))
        ok = np.isfinite(m) & np.isfinite(c)
        bar = np.zeros(len(m), bool)
        if y_range is not None:
            ok &= (m >= y_range[0]) & (m <= y_range[1])
            # a band wider than a quarter of the axis would paint over the others: such steps
            # get an error bar instead, and bands never bridge a gap
            bar = ok & (2 * c > 0.25 * (y_range[1] - y_range[0]))
            ok &= ~bar
        lo_, hi_ = m - c, m + c
        if y_range is not None:
            lo_, hi_ = np.clip(lo_, *y_range), np.clip(hi_, *y_range)
        for seg in np.split(np.arange(len(m)), np.flatnonzero(np.diff(ok.astype(int))) + 1):
            if not ok[seg[0]]:
                continue
            sb = s[seg]
            data.append(dict(type="scatter", x=np.concatenate([sb, sb[::-1]]),
                             y=np.concatenate([hi_[seg], lo_[seg][::-1]]), fill="toself",
                             mode="lines", fillcolor=rgba(col, 0.2), line=dict(width=0),
                             hoverinfo="skip", showlegend=False, name=f"{algo} 95% CI"))
        name = labels.get(algo, algo)
        line = dict(type="scatter", x=s, y=m if y_range is None else on_chart(m, y_range),
                    mode="lines+markers", name=name, customdata=c,
                    line=dict(color=col, width=3, dash=dashes.get(algo) or "solid"),
                    hovertemplate=f"{name}, step %{{x}}: %{{y:.3f}} ± %{{customdata:.3f}}<extra></extra>")
        if bar.any():
            line["error_y"] = dict(type="data", symmetric=False, color=col, thickness=1.5,
                                   array=np.where(bar, hi_ - m, 0), arrayminus=np.where(bar, m - lo_, 0))
        data.append(line)
        if y_range is not None:
            data += with_values(edge_traces(s, m, y_range, not hib, col, name))
    fig = fast_figure(data)
    ytitle = {"mse": "mean squared error on new tasks", "accuracy": "accuracy on new tasks",
              "return": "average return"}.get(metric, metric)
    fig = base_layout(fig, title, subtitle, "gradient steps on the new task", ytitle, height=height)
    if len(df) and df["step"].max() <= 20:
        fig.update_xaxes(tickmode="linear", dtick=1)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    elif metric == "mse" and len(df):
        # keep the scale of the useful range: a curve that diverges leaves through the top
        start = df.loc[df["step"] == df["step"].min(), "mean"].to_numpy(dtype=float)
        top = np.nanmax(np.where(np.isfinite(start), start, np.nan)) if np.isfinite(start).any() else 1.0
        fig.update_yaxes(range=[0, 1.15 * top])
    elif metric == "return" and len(df):
        # likewise for returns (≤ 0 here): a policy that overshoots leaves through the bottom
        start = df.loc[df["step"] == df["step"].min(), "mean"].to_numpy(dtype=float)
        if np.isfinite(start).any():
            fig.update_yaxes(range=[1.15 * min(np.nanmin(start[np.isfinite(start)]), 0.0) - 1, 0])
    return fig


def with_values(traces: list) -> list:
    """Edge markers (style.edge_traces) that also write their value beside them, so that a value
    off the chart can be read without hovering."""
    for t in traces:
        if str(t.get("name", "")).endswith("off the chart"):
            top = str(t["marker"]["symbol"]).startswith("triangle-up")
            t.update(mode="markers+text", text=[f"{v:.3g}" for v in t["customdata"]],
                     textposition="bottom center" if top else "top center",
                     textfont=dict(size=11, color=t["marker"]["color"]))
    return traces


def smooth(y, window: int) -> np.ndarray:
    """Trailing moving average (same length; the first points average what exists so far)."""
    y = as_array(y)
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def loss_histories(histories: dict, title=None, subtitle=None, labels=None, height=400,
                   metric="mse", colors=None) -> go.Figure:
    """histories: algo -> (iterations, meta_loss). A moving average over about 2% of training in
    the algorithm's colour, the raw values faint behind it. metric="return" (RL): the values are
    average returns after adaptation, drawn on a linear axis."""
    data = []
    labels, colors = labels or {}, colors or {}
    for algo, (it, loss) in histories.items():
        x, y = as_array(it), as_array(loss)
        col = colors.get(algo, color(algo))
        data.append(dict(type="scatter", x=x, y=y, mode="lines", showlegend=False,
                         hoverinfo="skip", line=dict(color=rgba(col, 0.25), width=1)))
        data.append(dict(type="scatter", x=x, y=smooth(y, max(1, len(y) // 50)), mode="lines",
                         name=labels.get(algo, algo), line=dict(color=col, width=2.5)))
    fig = fast_figure(data)
    if metric == "return":
        return base_layout(fig, title, subtitle, "meta-training iteration",
                           "average return after adaptation", height=height)
    fig = base_layout(fig, title, subtitle, "meta-training iteration", "meta-loss (after adaptation)",
                      height=height)
    fig.update_yaxes(type="log", tickformat=".2~g", minor=dict(showgrid=False), dtick="D2")
    return fig


def _edge_segments(x, y, idx, edge, symbol, col, name) -> list:
    """A long curve's values off the chart: a small triangle on the edge for each (hover: the
    value) and, for each stretch of them, its farthest value written beside its first point."""
    if not len(idx):
        return []
    top = symbol == "triangle-up"
    stretches = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    far = [s[np.argmax(y[s]) if top else np.argmin(y[s])] for s in stretches]
    return [dict(type="scatter", x=x[idx], y=np.full(len(idx), edge), mode="markers",
                 showlegend=False, cliponaxis=False, customdata=y[idx],
                 name=f"{name} off the chart",
                 marker=dict(symbol=symbol, size=7, color=col),
                 hovertemplate=f"{name}: off the chart (%{{customdata:.3g}}) at iteration "
                               f"%{{x}}<extra></extra>"),
            dict(type="scatter", x=[x[s[0]] for s in stretches], y=np.full(len(stretches), edge),
                 mode="text", showlegend=False, cliponaxis=False, hoverinfo="skip",
                 name=f"{name} off the chart: values",
                 text=[f"{'up to' if top else 'down to'} {y[i]:.3g}" for i in far],
                 textposition="bottom right" if top else "top right",
                 textfont=dict(size=11, color=col))]


def validation_curves(curves: dict, y_range, metric="mse", labels=None, colors=None, dashes=None,
                      title=None, height=400, higher_is_better=False) -> go.Figure:
    """The common validation measure during training: key -> (iterations, values), one line per
    run; NaN values (adaptation diverged on the validation tasks) are marked at the bad edge."""
    data = []
    labels, colors, dashes = labels or {}, colors or {}, dashes or {}
    for k, (it, v) in curves.items():
        x, y = as_array(it), as_array(v)
        col = colors.get(k, color(k))
        data.append(dict(type="scatter", x=x, y=on_chart(y, y_range), mode="lines",
                         name=labels.get(k, k),
                         line=dict(color=col, width=2.5, dash=dashes.get(k) or "solid"),
                         hovertemplate=f"{labels.get(k, k)}: %{{y:.3g}} at iteration %{{x}}<extra></extra>"))
        over, under, bad = edge_points(y, *y_range)
        data += _edge_segments(x, y, over, y_range[1], "triangle-up", col, labels.get(k, k))
        data += _edge_segments(x, y, under, y_range[0], "triangle-down", col, labels.get(k, k))
        if len(bad):
            data.append(dict(type="scatter", x=x[bad],
                             y=np.full(len(bad), y_range[0 if higher_is_better else 1]),
                             mode="markers", showlegend=False, name=f"{labels.get(k, k)} diverged",
                             marker=dict(symbol="x-thin", size=10, color=col,
                                         line=dict(color=col, width=2)),
                             hovertemplate="diverged at iteration %{x}<extra></extra>"))
    fig = fast_figure(data)
    ytitle = {"mse": "mean squared error", "accuracy": "accuracy"}.get(metric, metric)
    fig = base_layout(fig, title, None, "meta-training iteration", f"{ytitle} on validation tasks",
                      height=height)
    fig.update_yaxes(range=list(y_range))
    return fig

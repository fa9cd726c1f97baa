"""Plotly figure builders: pure functions from data (numpy arrays, lists, DataFrames) to
go.Figure, testable without a browser. One colour per algorithm everywhere (Okabe-Ito, safe for
colour-blind readers); the true function is black and dashed, support points are black dots."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = {
    "maml": "#0072B2", "fomaml": "#56B4E9", "reptile": "#009E73", "anil": "#CC79A7",
    "metasgd": "#D55E00", "pretrained": "#E69F00", "scratch": "#7F7F7F",
    "support": "#555555",   # support-set curves (not an algorithm)
}
CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
                "#000000", "#999999", "#882255"]
TRUE = dict(color="black", dash="dash", width=2)
FONT = dict(size=13)


def color(algo: str) -> str:
    return COLORS.get(algo, "#444444")


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig, title=None, subtitle=None, x=None, y=None, height=420, legend=True):
    t = None
    if title:
        t = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None, x=0.01)
    fig.update_layout(title=t, height=height, font=FONT, template="plotly_white",
                      margin=dict(l=60, r=20, t=80 if subtitle else 50, b=50),
                      showlegend=legend, legend=dict(orientation="h", y=-0.18, x=0))
    if x:
        fig.update_xaxes(title_text=x)
    if y:
        fig.update_yaxes(title_text=y)
    return fig


def _arr(v):
    return np.asarray(v, dtype=float).reshape(-1)


# ----------------------------------------------------------------------------- regression
def task_gallery(x, ys, titles, cols=4, y_range=None) -> go.Figure:
    """Small multiples: one sampled task per panel, all on the same scale."""
    rows = (len(ys) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_yaxes="all",
                        shared_xaxes="all", horizontal_spacing=0.03, vertical_spacing=0.14)
    for i, y in enumerate(ys):
        fig.add_trace(go.Scatter(x=_arr(x), y=_arr(y), mode="lines", showlegend=False,
                                 line=dict(color="black", width=2), name=titles[i]),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_annotations(font_size=12)
    if y_range is None:
        top = max(float(np.abs(_arr(y)).max()) for y in ys) * 1.1
        y_range = (-top, top)
    fig.update_yaxes(range=list(y_range))
    return _layout(fig, height=200 * rows + 40, legend=False)


def adaptation(x, true_y=None, curves=(), support=None, title=None, subtitle=None,
               y_range=None, click_grid=None, height=420, x_title="x", y_title="y") -> go.Figure:
    """Predictions on a new task. curves: [(label, y, algo_or_color, dash)].
    click_grid: (gx, gy) an invisible grid of points so a click anywhere selects a location."""
    fig = go.Figure()
    if click_grid is not None:
        gx, gy = click_grid
        fig.add_trace(go.Scatter(x=_arr(gx), y=_arr(gy), mode="markers", name="click to add",
                                 marker=dict(size=9, color="rgba(0,0,0,0)"), hoverinfo="x+y",
                                 showlegend=False))
    if true_y is not None:
        fig.add_trace(go.Scatter(x=_arr(x), y=_arr(true_y), mode="lines", name="true function",
                                 line=TRUE))
    for label, y, c, dash in curves:
        fig.add_trace(go.Scatter(x=_arr(x), y=_arr(y), mode="lines", name=label,
                                 line=dict(color=COLORS.get(c, c), width=3, dash=dash)))
    if support is not None and len(_arr(support[0])):
        fig.add_trace(go.Scatter(x=_arr(support[0]), y=_arr(support[1]), mode="markers",
                                 name=f"the {len(_arr(support[0]))} point"
                                      f"{'s' if len(_arr(support[0])) != 1 else ''} it sees",
                                 marker=dict(color="black", size=10, symbol="circle",
                                             line=dict(color="white", width=1.5))))
    _layout(fig, title, subtitle, x_title, y_title, height=height)
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig


def loss_vs_steps(series: dict, current=None, metric="mse", title=None, subtitle=None,
                  height=420) -> go.Figure:
    """series: name -> list of values over steps 0..S (optionally name -> (values, algo))."""
    fig = go.Figure()
    dashes = {"support": "dot", "query": "solid"}
    for name, vals in series.items():
        c = None
        if isinstance(vals, tuple):
            vals, c = vals
        v = _arr(vals)
        dash = next((d for k, d in dashes.items() if k in name), "solid")
        fig.update_xaxes(tickmode="linear", dtick=1 if len(v) <= 21 else None)
        fig.add_trace(go.Scatter(x=list(range(len(v))), y=v, mode="lines+markers", name=name,
                                 line=dict(color=color(c) if c else None, dash=dash)))
    if current is not None:
        fig.add_vline(x=current, line=dict(color="gray", dash="dot"))
    ytitle = {"mse": "mean squared error", "accuracy": "accuracy"}.get(metric, metric)
    return _layout(fig, title, subtitle, "gradient steps on the new task", ytitle, height=height)


def error_vs_steps(df, metric="mse", title=None, subtitle=None, labels=None, height=440) -> go.Figure:
    """df columns: algo, step, mean, ci95 (one K). Mean line with a shaded 95% CI band."""
    fig = go.Figure()
    labels = labels or {}
    for algo, g in df.groupby("algo", sort=False):
        g = g.sort_values("step")
        s, m, c = g["step"].to_numpy(), g["mean"].to_numpy(), g["ci95"].to_numpy()
        col = color(algo)
        fig.add_trace(go.Scatter(x=np.concatenate([s, s[::-1]]),
                                 y=np.concatenate([m + c, (m - c)[::-1]]), fill="toself", mode="lines",
                                 fillcolor=_rgba(col, 0.2), line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, name=f"{algo} 95% CI"))
        fig.add_trace(go.Scatter(x=s, y=m, mode="lines+markers", name=labels.get(algo, algo),
                                 line=dict(color=col, width=3),
                                 error_y=None, customdata=c,
                                 hovertemplate="step %{x}: %{y:.3f} ± %{customdata:.3f}"))
    ytitle = {"mse": "mean squared error on new tasks", "accuracy": "accuracy on new tasks",
              "return": "average return"}.get(metric, metric)
    fig = _layout(fig, title, subtitle, "gradient steps on the new task", ytitle, height=height)
    if len(df) and df["step"].max() <= 20:
        fig.update_xaxes(tickmode="linear", dtick=1)
    if metric == "mse" and len(df):
        # keep the scale of the useful range: a curve that diverges leaves through the top
        start = df.loc[df["step"] == df["step"].min(), "mean"].to_numpy(dtype=float)
        top = np.nanmax(np.where(np.isfinite(start), start, np.nan)) if np.isfinite(start).any() else 1.0
        fig.update_yaxes(range=[0, 1.15 * top])
    if metric == "return" and len(df):
        # likewise for returns (≤ 0 here): a policy that overshoots leaves through the bottom
        start = df.loc[df["step"] == df["step"].min(), "mean"].to_numpy(dtype=float)
        if np.isfinite(start).any():
            fig.update_yaxes(range=[1.15 * min(np.nanmin(start[np.isfinite(start)]), 0.0) - 1, 0])
    return fig


def smooth(y, window: int) -> np.ndarray:
    """Trailing moving average (same length; the first points average what exists so far)."""
    y = _arr(y)
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def loss_histories(histories: dict, title=None, subtitle=None, labels=None, height=400,
                   metric="mse") -> go.Figure:
    """histories: algo -> (iterations, meta_loss). A moving average over about 2% of training in
    the algorithm's colour, the raw values faint behind it. metric="return" (RL): the values are
    average returns after adaptation, drawn on a linear axis."""
    fig = go.Figure()
    labels = labels or {}
    for algo, (it, loss) in histories.items():
        x, y = _arr(it), _arr(loss)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(color=_rgba(color(algo), 0.25), width=1)))
        fig.add_trace(go.Scatter(x=x, y=smooth(y, max(1, len(y) // 50)), mode="lines",
                                 name=labels.get(algo, algo), line=dict(color=color(algo), width=2.5)))
    if metric == "return":
        return _layout(fig, title, subtitle, "meta-training iteration",
                       "average return after adaptation", height=height)
    fig = _layout(fig, title, subtitle, "meta-training iteration", "meta-loss (after adaptation)",
                  height=height)
    fig.update_yaxes(type="log", tickformat=".2~g", minor=dict(showgrid=False), dtick="D2")
    return fig


def adaptation_animation(x, true_y, preds, support, algo, title=None, subtitle=None,
                         y_range=None, height=420) -> go.Figure:
    """A Plotly animation over steps 0..S (preds: [S+1, G]) with a play button."""
    preds = np.asarray(preds, dtype=float)
    fig = adaptation(x, true_y, [("after 0 steps", preds[0], algo, "solid")], support, title,
                     subtitle, y_range, height=height)
    idx = len(fig.data) - (2 if support is not None and len(_arr(support[0])) else 1)
    fig.frames = [go.Frame(data=[go.Scatter(y=preds[s], name=f"after {s} steps")], traces=[idx],
                           name=str(s)) for s in range(len(preds))]
    fig.update_layout(
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=1.18, xanchor="left",
                          buttons=[dict(label="▶ Play", method="animate",
                                        args=[None, dict(frame=dict(duration=400, redraw=False),
                                                         fromcurrent=False, transition=dict(duration=200))])])],
        sliders=[dict(active=0, y=-0.05, currentvalue=dict(prefix="steps: "),
                      steps=[dict(label=str(s), method="animate",
                                  args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
                             for s in range(len(preds))])])
    return fig


def param_space(optima, thetas: dict, adapted: dict, labels=None, title=None, subtitle=None,
                height=520) -> go.Figure:
    """The 2-parameter linear model's plane: each task's best (slope, intercept) as a grey dot,
    each algorithm's meta-learned θ as a star, and one-step adaptation arrows θ -> θ'."""
    labels = labels or {}
    optima = np.asarray(optima, dtype=float)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=optima[:, 0], y=optima[:, 1], mode="markers",
                             name="each task's best line", marker=dict(color="#BBBBBB", size=8)))
    for algo, th in thetas.items():
        col = color(algo)
        ad = np.asarray(adapted.get(algo, np.zeros((0, 2))), dtype=float)
        xs, ys = [], []
        for p in ad:
            xs += [th[0], p[0], None]
            ys += [th[1], p[1], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=col, width=1.5),
                                 name=f"{labels.get(algo, algo)}: one step", opacity=0.7))
        fig.add_trace(go.Scatter(x=ad[:, 0] if len(ad) else [], y=ad[:, 1] if len(ad) else [],
                                 mode="markers", marker=dict(color=col, size=6, symbol="circle-open"),
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=[th[0]], y=[th[1]], mode="markers",
                                 name=f"{labels.get(algo, algo)} starting point θ",
                                 marker=dict(color=col, size=18, symbol="star",
                                             line=dict(color="black", width=1))))
    return _layout(fig, title, subtitle, "slope a", "intercept b", height=height)


# ----------------------------------------------------------------------------- classification
def decision_regions(gx, gy, classes, support_x=None, support_y=None, n_way=5, title=None,
                     subtitle=None, query_x=None, query_y=None, height=440, click=True) -> go.Figure:
    """Predicted class over the plane (heatmap) with the labelled support points."""
    n = max(int(n_way), 1)
    scale = []
    for i in range(n):
        c = _rgba(CLASS_COLORS[i % len(CLASS_COLORS)], 0.35)
        scale += [[i / n, c], [(i + 1) / n, c]]
    fig = go.Figure()
    fig.add_trace(go.Heatmap(x=_arr(gx), y=_arr(gy), z=np.asarray(classes, dtype=float),
                             zmin=-0.5 / n * n, zmax=n - 0.5, colorscale=scale, showscale=False,
                             hovertemplate="x=%{x:.2f}, y=%{y:.2f}: class %{z}<extra></extra>",
                             name="predicted class"))
    if click:  # invisible markers over the plane so that clicks register anywhere
        X, Y = np.meshgrid(_arr(gx)[::2], _arr(gy)[::2])
        fig.add_trace(go.Scatter(x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False,
                                 marker=dict(size=8, color="rgba(0,0,0,0)"), hoverinfo="x+y",
                                 name="click to add"))
    if query_x is not None and len(query_x):
        q, ql = np.asarray(query_x, float), np.asarray(query_y, int)
        fig.add_trace(go.Scatter(x=q[:, 0], y=q[:, 1], mode="markers", name="test points",
                                 marker=dict(color=[CLASS_COLORS[c % 10] for c in ql], size=5,
                                             opacity=0.6)))
    if support_x is not None and len(support_x):
        s, sl = np.asarray(support_x, float), np.asarray(support_y, int)
        fig.add_trace(go.Scatter(x=s[:, 0], y=s[:, 1], mode="markers", name="labelled examples",
                                 marker=dict(color=[CLASS_COLORS[c % 10] for c in sl], size=14,
                                             line=dict(color="black", width=2)),
                                 text=[f"class {c}" for c in sl]))
    fig = _layout(fig, title, subtitle, "x₁", "x₂", height=height)
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


# ----------------------------------------------------------------------------- reinforcement learning
def trajectories(paths, goal, algo, before=None, title=None, subtitle=None, show=5, height=520,
                 extent=0.6, click=True) -> go.Figure:
    """Rollouts of a point robot in the plane. paths: [n, H+1, 2] positions after adaptation;
    before: the same before adaptation (drawn grey); goal: (x, y), a red star."""
    fig = go.Figure()
    if click:
        g = np.linspace(-extent, extent, 25)
        X, Y = np.meshgrid(g, g)
        fig.add_trace(go.Scatter(x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False,
                                 marker=dict(size=10, color="rgba(0,0,0,0)"), hoverinfo="x+y",
                                 name="click to move the goal"))
    for label, ps, col, width in ((f"before adapting", before, "#AAAAAA", 1.5),
                                  ("after adapting", paths, color(algo), 2.5)):
        if ps is None:
            continue
        ps = np.asarray(ps, dtype=float)[:show]
        xs, ys = [], []
        for p in ps:
            xs += list(p[:, 0]) + [None]
            ys += list(p[:, 1]) + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=label,
                                 line=dict(color=col, width=width)))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", name="start",
                             marker=dict(color="black", size=10, symbol="circle")))
    fig.add_trace(go.Scatter(x=[goal[0]], y=[goal[1]], mode="markers", name="goal",
                             marker=dict(color="#D62728", size=20, symbol="star",
                                         line=dict(color="black", width=1))))
    fig = _layout(fig, title, subtitle, "x", "y", height=height)
    fig.update_xaxes(range=[-extent, extent])
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", scaleratio=1)
    return fig

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


# ----------------------------------------------------------------------------- Learn: a weight plane
AMP, PHASE = "amplitude a (height of the wave)", "phase b (shift of the wave)"


def _plane_axes(fig, amp_range, phase_range):
    fig.update_xaxes(title_text=AMP, range=list(amp_range), zeroline=False)
    fig.update_yaxes(title_text=PHASE, range=list(phase_range), zeroline=False)
    return fig


def weight_steps(optima, start, adapted, errors, algo, label, landscape=None,
                 amp_range=(0, 5.5), phase_range=(-0.6, 3.8), title=None, subtitle=None,
                 height=520) -> go.Figure:
    """The 2-weight model's plane (amplitude, phase): each task's best weights (grey dots), a
    start θ (star), each task's one-gradient-step move from it (thin line to a dot coloured by
    the error after the step) and a dotted line from there to that task's best weights (what is
    left to go). landscape: (amps, phases, z) average error after one step from each start,
    drawn as faint contour lines."""
    optima, adapted = np.asarray(optima, float)[:, :2], np.asarray(adapted, float)
    errors, col = _arr(errors), color(algo)
    fig = go.Figure()
    if landscape is not None:
        a, b, z = landscape
        fig.add_trace(go.Contour(x=_arr(a), y=_arr(b), z=np.asarray(z, float), showscale=False,
                                 contours=dict(coloring="lines", start=1, end=8, size=0.5),
                                 colorscale=[[0, "#DDDDDD"], [1, "#DDDDDD"]], line=dict(width=1),
                                 hoverinfo="skip", name="error after one step, from each start"))
    gx, gy, mx, my = [], [], [], []
    for (sa, sb), (ea, eb) in zip(optima, adapted):
        gx += [ea, sa, None]
        gy += [eb, sb, None]
        mx += [start[0], ea, None]
        my += [start[1], eb, None]
    fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", line=dict(color=col, width=1.2),
                             opacity=0.6, name="one gradient step", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", hoverinfo="skip",
                             line=dict(color="#999999", width=1.2, dash="dot"),
                             name="still to go (to the task's best)"))
    fig.add_trace(go.Scatter(x=optima[:, 0], y=optima[:, 1], mode="markers",
                             marker=dict(color="#BBBBBB", size=9, line=dict(color="#777777", width=1)),
                             name="each task's best weights",
                             hovertemplate="task's best: a = %{x:.2f}, b = %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=adapted[:, 0], y=adapted[:, 1], mode="markers", customdata=errors,
                             marker=dict(color=errors, cmin=0, cmax=6, size=9, showscale=False,
                                         colorscale=[[0, col], [1, "#D62728"]],
                                         line=dict(color="black", width=0.5)),
                             name="after one step (red = large error)",
                             hovertemplate="after one step: error %{customdata:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name=f"{label} start θ",
                             marker=dict(color=col, size=20, symbol="star",
                                         line=dict(color="black", width=1)),
                             hovertemplate="start: a = %{x:.2f}, b = %{y:.2f}<extra></extra>"))
    _layout(fig, title, subtitle, height=height)
    fig.update_layout(legend=dict(y=-0.2))
    return _plane_axes(fig, amp_range, phase_range)


def update_arrows(theta, optima, arrows: dict, labels=None, ends=None, length=1.2,
                  amp_range=(0, 5.5), phase_range=(-0.6, 3.8), title=None, subtitle=None,
                  height=480) -> go.Figure:
    """From one θ (star), the direction each algorithm moves it (arrows: algo -> (da, db)),
    drawn with the same length so that only the directions compare; the tasks' best weights as
    grey dots and, optionally, where Reptile's inner steps end on each task (open circles)."""
    labels = labels or {}
    optima = np.asarray(optima, float)[:, :2]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=optima[:, 0], y=optima[:, 1], mode="markers",
                             name="the tasks' best weights",
                             marker=dict(color="#BBBBBB", size=10, line=dict(color="#777777", width=1))))
    if ends is not None:
        e = np.asarray(ends, float)
        fig.add_trace(go.Scatter(x=e[:, 0], y=e[:, 1], mode="markers",
                                 name=f"{labels.get('reptile', 'Reptile')}: where each task's steps end",
                                 marker=dict(color=color("reptile"), size=9, symbol="circle-open",
                                             line=dict(width=2))))
    for algo, (da, db) in arrows.items():
        n = float(np.hypot(da, db)) or 1.0
        tip = (theta[0] + length * da / n, theta[1] + length * db / n)
        fig.add_trace(go.Scatter(x=[theta[0], tip[0]], y=[theta[1], tip[1]], mode="lines",
                                 line=dict(color=color(algo), width=4), name=labels.get(algo, algo),
                                 hoverinfo="skip"))
        fig.add_annotation(x=tip[0], y=tip[1], ax=theta[0], ay=theta[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.3,
                           arrowwidth=4, arrowcolor=color(algo), text="")
    fig.add_trace(go.Scatter(x=[theta[0]], y=[theta[1]], mode="markers", name="θ (the same for all)",
                             marker=dict(color="black", size=16, symbol="star")))
    _layout(fig, title, subtitle, height=height)
    return _plane_axes(fig, amp_range, phase_range)


def training_animation(its, thetas, x, true_y, before, after, support, errors, optimum=None,
                       amp_range=(0, 5.5), phase_range=(-0.6, 3.8), height=820,
                       algo="maml") -> go.Figure:
    """Meta-training as a Plotly animation (play button + slider, switched in the browser): on
    top, θ's path in the weight plane up to each snapshot; below, on one held-out task, the
    curve from that θ before (dotted) and after (solid) one step on the black points. The title
    names the meta-iteration and the errors; the controls sit above the plots and the legend
    below, so neither depends on how many rows a narrow screen's legend takes."""
    thetas, before, after = (np.asarray(v, float) for v in (thetas, before, after))
    errors, col = np.asarray(errors, float), color(algo)
    top, bottom = 165, 150                       # margins in pixels: title + controls; legend
    area = height - top - bottom
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2,
                        subplot_titles=("θ, the starting weights",
                                        "a held-out task: one step from θ"))

    def traces(i):
        return [go.Scatter(x=thetas[:i + 1, 0], y=thetas[:i + 1, 1], mode="lines+markers",
                           line=dict(color=col, width=2), marker=dict(size=4), name="θ so far",
                           showlegend=False),
                go.Scatter(x=[thetas[i, 0]], y=[thetas[i, 1]], mode="markers", name="θ",
                           marker=dict(color=col, size=18, symbol="star",
                                       line=dict(color="black", width=1))),
                go.Scatter(x=_arr(x), y=before[i], mode="lines", name="from θ, before the step",
                           line=dict(color=col, width=2, dash="dot")),
                go.Scatter(x=_arr(x), y=after[i], mode="lines", name="after one step",
                           line=dict(color=col, width=3))]

    for k, tr in enumerate(traces(0)):
        fig.add_trace(tr, row=1 if k < 2 else 2, col=1)
    if optimum is not None:
        fig.add_trace(go.Scatter(x=[optimum[0]], y=[optimum[1]], mode="markers",
                                 name="that task's best weights",
                                 marker=dict(color="#BBBBBB", size=11, line=dict(color="#777777", width=1))),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=_arr(x), y=_arr(true_y), mode="lines", name="its true curve",
                             line=TRUE), row=2, col=1)
    fig.add_trace(go.Scatter(x=_arr(support[0]), y=_arr(support[1]), mode="markers",
                             name=f"the {len(_arr(support[0]))} points it sees",
                             marker=dict(color="black", size=9, line=dict(color="white", width=1))),
                  row=2, col=1)

    def num(v):
        return f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.1g}"

    def label(i):
        return f"iteration {its[i]}: error {num(errors[i, 0])} → {num(errors[i, 1])} after a step"

    # a frame holds only what changes (Plotly merges it into traces 0-3): far less to validate
    frames = [dict(name=str(its[i]), traces=[0, 1, 2, 3], layout=dict(title=dict(text=label(i))),
                   data=[dict(type="scatter", x=thetas[:i + 1, 0], y=thetas[:i + 1, 1]),
                         dict(type="scatter", x=thetas[i:i + 1, 0], y=thetas[i:i + 1, 1]),
                         dict(type="scatter", y=before[i]), dict(type="scatter", y=after[i])])
              for i in range(len(thetas))]
    ylim = float(np.abs(np.concatenate([_arr(true_y), before.ravel(), after.ravel()])).max()) * 1.1
    _layout(fig, label(0), None, height=height)
    fig.update_xaxes(title_text=AMP, range=list(amp_range), row=1, col=1)
    fig.update_yaxes(title_text="phase b", range=list(phase_range), row=1, col=1)
    fig.update_xaxes(title_text="x", range=[float(_arr(x)[0]), float(_arr(x)[-1])], row=2, col=1)
    fig.update_yaxes(title_text="y", range=[-ylim, ylim], row=2, col=1)
    fig.update_annotations(font_size=13)
    above = 1 + 40 / area                        # just above the first subplot's title
    fig.update_layout(
        margin=dict(l=60, r=20, t=top, b=bottom), title=dict(y=1 - 12 / height, yanchor="top",
                                                            yref="container"),
        legend=dict(y=-60 / area, yanchor="top"),
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=above, xanchor="left",
                          yanchor="bottom", pad=dict(t=0, b=0),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=250, redraw=True),
                                                         fromcurrent=True, transition=dict(duration=0))])])],
        sliders=[dict(active=0, x=0.2, len=0.8, y=above, yanchor="bottom", pad=dict(t=0, b=10),
                      currentvalue=dict(visible=False),
                      steps=[dict(label=str(it), method="animate",
                                  args=[[str(it)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                             for it in its])])
    fig.frames = frames
    return fig


# ----------------------------------------------------------------------------- handwriting (Omniglot)
RIGHT, WRONG = "#009E73", "#D55E00"


def _step_slider(n_steps: int, prefix="after ", suffix=" steps", y=-0.02):
    """A Plotly slider over frames "0".."S": the browser switches frames, no server rerun."""
    return [dict(active=0, y=y, len=1.0, x=0, pad=dict(t=10, b=0),
                 currentvalue=dict(prefix=prefix, suffix=suffix, font=dict(size=13)),
                 steps=[dict(label=str(s), method="animate",
                             args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                  transition=dict(duration=0))])
                        for s in range(n_steps)])]


def handwriting_grid(support, query, true, guess, letters="ABCDEFGHIJKLMNOPQRST", title=None,
                     subtitle=None, height=520) -> go.Figure:
    """The drawings to learn from (top row, one per character, lettered) and the drawings to
    recognise (below, one column per character), each with the network's guess after each
    adaptation step: a frame per step, switched by a slider in the browser. A wrong guess is
    marked ✗ in red, a right one ✓ in green. support [N, H, W], query [Q, H, W] (Q = N·q,
    grouped by character), true [Q], guess [S+1, Q] (class indices)."""
    support, query = np.asarray(support, float), np.asarray(query, float)
    guess, true = np.asarray(guess, int), np.asarray(true, int)
    n, h, w = support.shape
    q = len(query) // n
    gap, band = 4, 10                                   # pixels between images; label band
    cw, rh = w + gap, h + band + gap
    top = h + 3 * gap + band                            # support row + separator
    canvas = np.full((top + q * rh, n * cw), np.nan)
    for j in range(n):
        canvas[:h, j * cw:j * cw + w] = support[j]
    pos = []                                            # (x, y) of each query's label
    for idx in range(len(query)):
        j, i = true[idx], idx % q
        r, c = top + i * rh, j * cw
        canvas[r:r + h, c:c + w] = query[idx]
        pos.append((c + w / 2, r + h + band / 2 + 1))
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=canvas, colorscale=[[0, "#FFFFFF"], [1, "#111111"]], zmin=0,
                             zmax=255, showscale=False, hoverinfo="skip", name="drawings"))
    fig.add_trace(go.Scatter(x=[j * cw + w / 2 for j in range(n)], y=[h + band / 2 + 2] * n,
                             mode="text", text=[f"<b>{letters[j]}</b>" for j in range(n)],
                             textfont=dict(size=15, color=[CLASS_COLORS[j % 10] for j in range(n)]),
                             hoverinfo="skip", showlegend=False, name="characters"))
    px, py = [p[0] for p in pos], [p[1] for p in pos]

    def marks(s):
        ok = guess[s] == true
        text = [f"{letters[g]} {'✓' if o else '✗'}" for g, o in zip(guess[s], ok)]
        return go.Scatter(x=px, y=py, mode="text", text=text, hoverinfo="skip", showlegend=False,
                          textfont=dict(size=13, color=[RIGHT if o else WRONG for o in ok]),
                          name=f"guesses after {s} steps")

    def score(s):
        right = int((guess[s] == true).sum())
        return go.Scatter(x=[n * cw / 2], y=[top - gap - 2], mode="text", hoverinfo="skip",
                          text=[f"after {s} step{'s' if s != 1 else ''}: {right} of {len(true)} right"],
                          textfont=dict(size=13), showlegend=False, name="score")

    fig.add_trace(marks(0))
    fig.add_trace(score(0))
    fig.frames = [go.Frame(data=[marks(s), score(s)], traces=[2, 3], name=str(s))
                  for s in range(len(guess))]
    fig = _layout(fig, title, subtitle, height=height, legend=False)
    fig.update_xaxes(visible=False, range=[-gap, n * cw], fixedrange=True)
    fig.update_yaxes(visible=False, autorange=False, range=[top + q * rh, -gap], scaleanchor="x",
                     fixedrange=True)
    fig.update_layout(margin=dict(l=10, r=10, t=80 if subtitle else 50, b=10),
                      sliders=_step_slider(len(guess)))
    return fig


def class_probabilities(series: dict, true: int, letters="ABCDEFGHIJKLMNOPQRST", title=None,
                        subtitle=None, height=380) -> go.Figure:
    """How sure each network is of each character for one drawing, after each step (a frame per
    step, slider in the browser). series: algo -> (label, probs [S+1, N]); true: the drawing's
    character (outlined)."""
    items = list(series.items())
    n_steps, n = np.asarray(items[0][1][1]).shape
    cats = [f"{letters[j]}{' (right answer)' if j == true else ''}" for j in range(n)]

    def bars(s):
        return [go.Bar(x=cats, y=np.asarray(p, float)[s], name=label, marker_color=color(algo),
                       marker_line=dict(color=["black" if j == true else "rgba(0,0,0,0)"
                                               for j in range(n)], width=2),
                       hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>")
                for algo, (label, p) in items]

    fig = go.Figure(data=bars(0))
    fig.frames = [go.Frame(data=bars(s), traces=list(range(len(items))), name=str(s))
                  for s in range(n_steps)]
    fig = _layout(fig, title, subtitle, "character", "probability", height=height)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1, x=1, xanchor="right",
                                                   yanchor="top", bgcolor="rgba(255,255,255,0.8)"),
                      sliders=_step_slider(n_steps, y=-0.25),
                      margin=dict(l=60, r=20, t=80 if subtitle else 50, b=110))
    return fig


def drawing_canvas(strokes, title=None, subtitle=None, height=360) -> go.Figure:
    """A square to draw a character in with Plotly's lasso (each drag is one pen stroke; the app
    reads the lasso's path). strokes: lists of (x, y) in [0, 1], y downwards, drawn in black.
    An invisible grid of points lies under it: Plotly reports a lasso that encloses points."""
    g = np.linspace(0.005, 0.995, 100)   # dense: a thin stroke's lasso must enclose a point
    gx, gy = np.meshgrid(g, g)
    fig = go.Figure(go.Scattergl(x=gx.ravel(), y=gy.ravel(), mode="markers", hoverinfo="none",
                                 marker=dict(size=2, color="rgba(0,0,0,0)"), showlegend=False,
                                 name="canvas"))
    xs, ys = [], []
    for s in strokes:
        pts = np.asarray(s, float).reshape(-1, 2)
        xs += list(pts[:, 0]) + [None]
        ys += list(pts[:, 1]) + [None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                             line=dict(color="#111111", width=9), name="your strokes"))
    fig = _layout(fig, title, subtitle, height=height, legend=False)
    fig.update_xaxes(range=[0, 1], visible=False, fixedrange=True)
    fig.update_yaxes(range=[1, 0], visible=False, fixedrange=True, scaleanchor="x")
    fig.update_layout(dragmode="lasso", margin=dict(l=10, r=10, t=60 if subtitle else 40, b=10),
                      shapes=[dict(type="rect", x0=0, y0=0, x1=1, y1=1,
                                   line=dict(color="#999999", width=1))])
    return fig

"""Inside the network: how far each layer moves per adaptation step, how similar each layer's
representation stays (CKA), Meta-SGD's learned step sizes as histograms, and the training
signals over meta-training. Pure functions of plain frames and dicts (views/inside.py makes
them); they import nothing of the package outside views/figures/.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import FONT, base_layout, fast_figure, rgba

LAYER_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F7F7F",
                "#000000", "#B2182B", "#6F33B8"]


def _col(i: int) -> str:
    return LAYER_COLORS[i % len(LAYER_COLORS)]


def _lines(df, value: str, ci: str, scale: float, fmt: str, hover: str) -> list:
    data = []
    for i, (layer, g) in enumerate(df.groupby("layer", sort=False)):
        g = g.sort_values("step")
        x, y = g["step"].to_numpy(), scale * g[value].to_numpy(float)
        c = scale * g[ci].to_numpy(float)
        ok = np.isfinite(y) & np.isfinite(c)
        if ok.sum() > 1:
            data.append(dict(type="scatter", x=np.concatenate([x[ok], x[ok][::-1]]),
                             y=np.concatenate([(y + c)[ok], (y - c)[ok][::-1]]), fill="toself",
                             mode="lines", line=dict(width=0), fillcolor=rgba(_col(i), 0.15),
                             hoverinfo="skip", showlegend=False, name=f"{layer} 95% CI"))
        data.append(dict(type="scatter", x=x, y=np.where(np.isfinite(y), y, np.nan),
                         mode="lines+markers", name=str(layer), line=dict(color=_col(i), width=2.5),
                         hovertemplate=f"{layer}, step %{{x}}: %{{y:{fmt}}}{hover}<extra></extra>"))
    return data


def layer_change(df, title=None, height=360) -> go.Figure:
    """diagnostics.weight_change's rows: one line per layer, ‖θ_s − θ_0‖ / ‖θ_0‖ in % against
    the step (band: 95% CI over tasks where averaged)."""
    fig = fast_figure(_lines(df, "relative", "relative_ci95", 100.0, ".3g", "% of its size"))
    fig = base_layout(fig, title, None, "adaptation step", "weight change, % of the layer's size",
                      height=height)
    if df["step"].max() <= 20:
        fig.update_xaxes(tickmode="linear", dtick=1)
    return fig


def representation(df, title=None, height=360) -> go.Figure:
    """diagnostics.representation_similarity's rows: one line per layer, linear CKA between the
    layer's output before adapting and after s steps (1: the same features)."""
    fig = fast_figure(_lines(df, "cka", "cka_ci95", 1.0, ".3f", " (CKA with step 0)"))
    fig = base_layout(fig, title, None, "adaptation step",
                      "similarity to before adapting (linear CKA)", height=height)
    fig.update_yaxes(range=[0, 1.02])
    if df["step"].max() <= 20:
        fig.update_xaxes(tickmode="linear", dtick=1)
    return fig


def step_sizes(sizes: dict, title=None, height=340) -> go.Figure:
    """diagnostics.step_sizes: one histogram per layer on common bins (overlaid), the initial α
    as a dashed line."""
    edges = np.asarray(sizes["edges"], float)
    mids, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    data = [dict(type="bar", x=mids, y=layer["counts"], width=widths, name=layer["layer"],
                 marker=dict(color=rgba(_col(i), 0.55), line=dict(color=_col(i), width=1)),
                 hovertemplate=f"{layer['layer']}: %{{y}} weights with step size near "
                               f"%{{x:.3g}}<extra></extra>")
            for i, layer in enumerate(sizes["layers"])]
    fig = fast_figure(data)
    fig = base_layout(fig, title, None, "learned step size (per weight)", "weights", height=height)
    fig.update_layout(barmode="overlay", bargap=0)
    fig.add_vline(x=sizes["initial"], line=dict(color="black", dash="dash", width=1.5),
                  annotation=dict(text=f"start α = {sizes['initial']:g}", font=FONT))
    return fig


def training_signals(sig: dict, title=None, height=420) -> go.Figure:
    """{column: (iterations, values)}: top, the meta-gradient norm (log axis); bottom, the
    support loss before and after the inner loop (log axis)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    names = {"meta_grad_norm": ("meta-gradient norm", "#0072B2", 1),
             "support_loss": ("support loss before adapting", "#9E9E9E", 2),
             "support_loss_adapted": ("support loss after the inner loop", "#D55E00", 2)}
    for col, (name, c, row) in names.items():
        if col not in sig:
            continue
        x, y = sig[col]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color=c, width=2),
                                 hovertemplate=f"{name}: %{{y:.3g}} at iteration %{{x}}"
                                               "<extra></extra>"), row=row, col=1)
    fig = base_layout(fig, title, None, None, None, height=height)
    fig.update_yaxes(type="log", title_text="meta-gradient norm", row=1, col=1)
    fig.update_yaxes(type="log", title_text="loss on support points", row=2, col=1)
    fig.update_xaxes(title_text="meta-training iteration", row=2, col=1)
    return fig

"""The Learn page's pictures: a 2-weight plane with the tasks' optima, starts and adaptation
steps, the update rules as arrows, and meta-training as an animation.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import TRUE, as_array, base_layout, color

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
    errors, col = as_array(errors), color(algo)
    fig = go.Figure()
    if landscape is not None:
        a, b, z = landscape
        fig.add_trace(go.Contour(x=as_array(a), y=as_array(b), z=np.asarray(z, float), showscale=False,
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
    base_layout(fig, title, subtitle, height=height)
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
    base_layout(fig, title, subtitle, height=height)
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
                go.Scatter(x=as_array(x), y=before[i], mode="lines", name="from θ, before the step",
                           line=dict(color=col, width=2, dash="dot")),
                go.Scatter(x=as_array(x), y=after[i], mode="lines", name="after one step",
                           line=dict(color=col, width=3))]

    for k, tr in enumerate(traces(0)):
        fig.add_trace(tr, row=1 if k < 2 else 2, col=1)
    if optimum is not None:
        fig.add_trace(go.Scatter(x=[optimum[0]], y=[optimum[1]], mode="markers",
                                 name="that task's best weights",
                                 marker=dict(color="#BBBBBB", size=11, line=dict(color="#777777", width=1))),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=as_array(x), y=as_array(true_y), mode="lines", name="its true curve",
                             line=TRUE), row=2, col=1)
    fig.add_trace(go.Scatter(x=as_array(support[0]), y=as_array(support[1]), mode="markers",
                             name=f"the {len(as_array(support[0]))} points it sees",
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
    ylim = float(np.abs(np.concatenate([as_array(true_y), before.ravel(), after.ravel()])).max()) * 1.1
    base_layout(fig, label(0), None, height=height)
    fig.update_xaxes(title_text=AMP, range=list(amp_range), row=1, col=1)
    fig.update_yaxes(title_text="phase b", range=list(phase_range), row=1, col=1)
    fig.update_xaxes(title_text="x", range=[float(as_array(x)[0]), float(as_array(x)[-1])], row=2, col=1)
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

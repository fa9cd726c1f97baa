"""The Learn page's pictures: a 2-weight plane with the tasks' optima, starts and adaptation
steps, the update rules as arrows, and meta-training as an animation.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .look import LOOK
from .style import TRUE, as_array, base_layout, color

# ----------------------------------------------------------------------------- Learn: a weight plane
AMP, PHASE = "amplitude a (height of the wave)", "phase b (shift of the wave)"
RING = "#C8C8C8"
RINGS = "grey rings: average error after one step from a start there"
# the error after a step: pale yellow (small) to dark red (large), lightness falling steadily
# (readable without colour vision); the dots have a dark outline so the palest stay visible
ERROR_SCALE = "YlOrRd"
# one look per algorithm on the Learn page's planes: colour (the app's), line dash and marker
# shape, so that the three stay apart in grey, on a projector and for colour-blind readers
def _plane_axes(fig, amp_range, phase_range):
    fig.update_xaxes(title_text=AMP, range=list(amp_range), zeroline=False)
    fig.update_yaxes(title_text=PHASE, range=list(phase_range), zeroline=False)
    return fig


def weight_steps(optima, start, adapted, errors, algo, label, landscape=None,
                 amp_range=(0, 5.5), phase_range=(-0.6, 3.8), title=None, subtitle=None,
                 height=560, err_max=None) -> go.Figure:
    """The 2-weight model's plane (amplitude, phase): each task's best weights (grey dots), a
    start θ (star), each task's one-gradient-step move from it (a line, drawn above the dots, to
    a dot coloured by the error after the step, with its colour scale) and a dotted line from
    there to that task's best weights (what is left to go). landscape: (amps, phases, z) average
    error after one step from each start, drawn as grey rings (in the legend). err_max: the top
    of the colour scale (the same for panels that are compared)."""
    optima, adapted = np.asarray(optima, float)[:, :2], np.asarray(adapted, float)
    errors, col = as_array(errors), color(algo)
    top = float(err_max if err_max is not None else errors.max())
    fig = go.Figure()
    if landscape is not None:
        a, b, z = landscape
        fig.add_trace(go.Contour(x=as_array(a), y=as_array(b), z=np.asarray(z, float),
                                 showscale=False, showlegend=True,
                                 contours=dict(coloring="lines", start=1, end=8, size=0.5),
                                 colorscale=[[0, RING], [1, RING]], line=dict(width=1),
                                 hoverinfo="skip", name=RINGS))
    gx, gy, mx, my = [], [], [], []
    for (sa, sb), (ea, eb) in zip(optima, adapted):
        gx += [ea, sa, None]
        gy += [eb, sb, None]
        mx += [start[0], ea, None]
        my += [start[1], eb, None]
    fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", hoverinfo="skip",
                             line=dict(color="#888888", width=1.2, dash="dot"),
                             name="still to go (to the task's best)"))
    fig.add_trace(go.Scatter(x=optima[:, 0], y=optima[:, 1], mode="markers",
                             marker=dict(color="#BBBBBB", size=9, line=dict(color="#777777", width=1)),
                             name="each task's best weights",
                             hovertemplate="task's best: a = %{x:.2f}, b = %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=adapted[:, 0], y=adapted[:, 1], mode="markers", customdata=errors,
                             marker=dict(color=errors, cmin=0, cmax=top, size=10,
                                         colorscale=ERROR_SCALE, showscale=True,
                                         line=dict(color="black", width=0.6),
                                         colorbar=dict(title=dict(text="error after<br>one step",
                                                                  side="top"),
                                                       thickness=12, len=0.6, y=0.6, x=1.02)),
                             name="after one step (colour: its error)",
                             hovertemplate="after one step: error %{customdata:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", line=dict(color=col, width=2),
                             opacity=0.85, name="one gradient step", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name=f"{label} start θ",
                             marker=dict(color=col, size=22, symbol="star",
                                         line=dict(color="black", width=1)),
                             hovertemplate="start: a = %{x:.2f}, b = %{y:.2f}<extra></extra>"))
    base_layout(fig, title, subtitle, height=height)
    fig.update_layout(legend=dict(y=-0.2))
    return _plane_axes(fig, amp_range, phase_range)


def update_arrows(theta, optima, arrows: dict, labels=None, ends=None, length=1.5,
                  amp_range=(0, 5.5), phase_range=(-0.6, 3.8), title=None, subtitle=None,
                  height=500) -> go.Figure:
    """From one θ (star), the direction each algorithm moves it (arrows: algo -> (da, db)),
    drawn with the same length so that only the directions compare, each in its own colour and
    dash and named at its tip (labels placed by angle so that they do not overlap); the tasks'
    best weights as grey dots and, optionally, where Reptile's inner steps end on each task."""
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
                                 marker=dict(color=color("reptile"), size=10,
                                             symbol=f"{LOOK['reptile']['symbol']}-open",
                                             line=dict(width=2))))
    # the steepest arrow's name goes above-left of its tip, the flattest's below-right
    by_angle = sorted(arrows, key=lambda k: -np.arctan2(arrows[k][1], arrows[k][0]))
    where = dict(zip(by_angle, ["top left", "top right", "bottom right"][:len(by_angle)]))
    if len(by_angle) == 2:
        where[by_angle[1]] = "bottom right"
    for algo, (da, db) in arrows.items():
        n = float(np.hypot(da, db)) or 1.0
        tip = (theta[0] + length * da / n, theta[1] + length * db / n)
        look = LOOK.get(algo, LOOK["maml"])
        fig.add_trace(go.Scatter(x=[theta[0], tip[0]], y=[theta[1], tip[1]], mode="lines+text",
                                 line=dict(color=color(algo), width=look["width"],
                                           dash=look["dash"]),
                                 name=labels.get(algo, algo), text=["", labels.get(algo, algo)],
                                 textposition=where.get(algo, "top center"), cliponaxis=False,
                                 textfont=dict(color=color(algo), size=14), hoverinfo="skip"))
        fig.add_annotation(x=tip[0], y=tip[1], ax=theta[0], ay=theta[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2,
                           arrowwidth=3, arrowcolor=color(algo), text="")
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


# ----------------------------------------------------------------------------- the variants race
PATTERN = {"maml": "", "fomaml": "/", "reptile": "."}


def race_animation(its, trails: dict, labels: dict, amp_box, phase_box, others=(),
                   landscape=None, amp_range=(0, 5.5), phase_range=(-0.6, 3.8), height=640,
                   title="Meta-training", active=-1) -> go.Figure:
    """Several algorithms meta-trained from the same θ₀ on the same tasks: each one's trail of θ
    in the weight plane up to each snapshot and where it is now, animated in the browser
    (Plotly frames, play button and slider). trails: algo -> [[a, b] per snapshot of its];
    amp_box / phase_box: where the tasks' best weights lie (a shaded box); others: [(label, (a, b),
    colour, symbol)] fixed marks (where another method ends); landscape: (amps, phases, z) grey
    rings. Each algorithm has its colour, dash and marker shape (LOOK). active: the snapshot
    shown first (default the last: the page opens on where each ends); play runs from the
    first."""
    algos = list(trails)
    T = {a: np.asarray(trails[a], float) for a in algos}
    active = range(len(its))[active]
    top, bottom = 130, 150
    fig = go.Figure()
    (a0, a1), (b0, b1) = amp_box, phase_box
    fig.add_trace(go.Scatter(x=[a0, a1, a1, a0, a0], y=[b0, b0, b1, b1, b0], mode="lines",
                             fill="toself", fillcolor="rgba(150,150,150,0.12)",
                             line=dict(color="#AAAAAA", width=1), hoverinfo="skip",
                             name="where the tasks' best weights lie"))
    if landscape is not None:
        a, b, z = landscape
        fig.add_trace(go.Contour(x=as_array(a), y=as_array(b), z=np.asarray(z, float),
                                 showscale=False, showlegend=True, hoverinfo="skip",
                                 contours=dict(coloring="lines", start=1, end=8, size=0.5),
                                 colorscale=[[0, RING], [1, RING]], line=dict(width=1),
                                 name=RINGS))
    start = T[algos[0]][0]
    fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers",
                             name="the same start θ₀ for all",
                             marker=dict(color="black", size=18, symbol="star")))
    for label, (x, y), col, symbol in others:
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name=label,
                                 marker=dict(color=col, size=16, symbol=symbol,
                                             line=dict(color=col, width=2))))
    first = len(fig.data)
    for algo in algos:
        look = LOOK.get(algo, LOOK["maml"])
        fig.add_trace(go.Scatter(x=T[algo][:active + 1, 0], y=T[algo][:active + 1, 1], mode="lines",
                                 line=dict(color=color(algo), width=3, dash=look["dash"]),
                                 name=f"{labels.get(algo, algo)}: its θ so far", showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=T[algo][active:active + 1, 0], y=T[algo][active:active + 1, 1],
                                 mode="markers",
                                 name=labels.get(algo, algo),
                                 marker=dict(color=color(algo), size=17, symbol=look["symbol"],
                                             line=dict(color="black", width=1.2)),
                                 hovertemplate=f"{labels.get(algo, algo)}: a = %{{x:.2f}}, "
                                               f"b = %{{y:.2f}}<extra></extra>"))
    moving = list(range(first, first + 2 * len(algos)))

    def frame(i):
        data = []
        for algo in algos:
            data += [dict(type="scatter", x=T[algo][:i + 1, 0], y=T[algo][:i + 1, 1]),
                     dict(type="scatter", x=T[algo][i:i + 1, 0], y=T[algo][i:i + 1, 1])]
        return dict(name=str(its[i]), traces=moving, data=data,
                    layout=dict(title=dict(text=f"{title}, iteration {its[i]:,}")))

    base_layout(fig, f"{title}, iteration {its[active]:,}", None, height=height)
    area = height - top - bottom
    above = 1 + 12 / area
    fig.update_layout(
        margin=dict(l=60, r=20, t=top, b=bottom),
        title=dict(y=1 - 12 / height, yanchor="top", yref="container"),
        legend=dict(y=-60 / area, yanchor="top"),
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=above, xanchor="left",
                          yanchor="bottom", pad=dict(t=0, b=0),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[[str(it) for it in its],
                                              dict(frame=dict(duration=120, redraw=True),
                                                   mode="immediate", transition=dict(duration=0))])])],
        sliders=[dict(active=active, x=0.2, len=0.8, y=above, yanchor="bottom", pad=dict(t=0, b=10),
                      currentvalue=dict(visible=False),
                      steps=[dict(label=str(it), method="animate",
                                  args=[[str(it)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                             for it in its])])
    fig.frames = [frame(i) for i in range(len(its))]
    fig.update_xaxes(title_text=AMP, range=list(amp_range), zeroline=False)
    fig.update_yaxes(title_text="phase b", range=list(phase_range), zeroline=False)
    return fig


def race_ends(ends: dict, trails: dict, labels: dict, middle, tail=10, height=460,
              title="Where each ends, zoomed in") -> go.Figure:
    """The end of the race up close: each algorithm's end (its marker, named beside it), its θ
    at the last `tail` snapshots (faint: how much it still moves from batch to batch), and the
    middle of the tasks' best weights (a grey cross). Every mark is named on the chart (no
    legend); a name goes above its mark, or below for the lowest end, so that names stay apart."""
    algos = list(ends)
    E = {a: np.asarray(ends[a], float) for a in algos}
    tails = {a: np.asarray(trails[a], float)[-tail:] for a in algos}
    pts = np.concatenate([*tails.values(), np.asarray([middle], float)])
    lo, hi = pts.min(0), pts.max(0)
    pad = np.maximum(0.1, 0.2 * (hi - lo))
    lowest = min(algos, key=lambda a: E[a][1])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[middle[0]], y=[middle[1]], mode="markers+text",
                             name="the middle of the tasks' best weights",
                             text=["middle of the tasks "], textposition="middle left",
                             textfont=dict(color="#666666", size=12), cliponaxis=False,
                             marker=dict(symbol="x-thin", size=16, color="#888888",
                                         line=dict(color="#888888", width=3))))
    for algo in algos:
        look, T, lab = LOOK.get(algo, LOOK["maml"]), tails[algo], labels.get(algo, algo)
        fig.add_trace(go.Scatter(x=T[:, 0], y=T[:, 1], mode="markers", opacity=0.35,
                                 name=f"{lab}: its θ at the last {tail} snapshots",
                                 marker=dict(color=color(algo), size=8, symbol=look["symbol"]),
                                 hovertemplate=f"{lab}: a = %{{x:.2f}}, b = %{{y:.2f}}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=[E[algo][0]], y=[E[algo][1]], mode="markers+text", cliponaxis=False, name=lab,
            text=[lab], textposition="bottom center" if algo == lowest else "top center",
            textfont=dict(color=color(algo), size=14),
            marker=dict(color=color(algo), size=18, symbol=look["symbol"],
                        line=dict(color="black", width=1.2)),
            hovertemplate=f"{lab} ends at a = %{{x:.2f}}, b = %{{y:.2f}}<extra></extra>"))
    base_layout(fig, title, f"faint: θ at its last {tail} snapshots", height=height, legend=False)
    fig.update_xaxes(title_text="amplitude a", range=[lo[0] - pad[0], hi[0] + pad[0]])
    fig.update_yaxes(title_text="phase b", range=[lo[1] - pad[1], hi[1] + pad[1]])
    return fig


def cost_bars(algos, operations: dict, inner_steps: dict, labels: dict, title=None,
              subtitle=None, height=300) -> go.Figure:
    """One bar per algorithm: the arithmetic operations of one meta-iteration (counted), with
    its inner steps and the cost per inner step written on the bar; colours and patterns per
    algorithm, the cheapest at the top."""
    order = sorted(algos, key=lambda a: operations[a])[::-1]       # Plotly draws bottom-up
    ops = [operations[a] for a in order]
    text = [f"{operations[a]:,}" + (f" ({operations[a] / inner_steps[a]:,.0f} per step)"
                                     if inner_steps[a] > 1 else "") for a in order]
    names = [f"{labels.get(a, a)}<br>{inner_steps[a]} inner step{'s' if inner_steps[a] != 1 else ''}"
             for a in order]
    fig = go.Figure(go.Bar(
        y=names, x=ops, orientation="h", text=text,
        textposition="outside", cliponaxis=False, name="operations per meta-iteration",
        marker=dict(color=[color(a) for a in order], line=dict(color="black", width=1),
                    pattern=dict(shape=[PATTERN.get(a, "") for a in order], fgcolor="white",
                                 size=8, solidity=0.3)),
        hovertemplate="%{x:,} operations per meta-iteration<extra></extra>"))
    base_layout(fig, title, subtitle, height=height, legend=False)
    fig.update_xaxes(title_text="arithmetic operations in one meta-iteration",
                     range=[0, max(ops) * 1.9], tickformat=",", nticks=4)
    fig.update_layout(margin=dict(l=100, r=20))
    return fig

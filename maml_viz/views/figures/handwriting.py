"""Handwriting (Omniglot) charts: the grid of guesses per step and a drawing's class
probabilities across steps. (The square to draw in is a component of the page's,
pages/_shared/drawing_pad.py: it draws in the browser.)
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .canvas import step_slider
from .style import FONT, base_layout, color

# ----------------------------------------------------------------------------- handwriting (Omniglot)
RIGHT, WRONG = "#009E73", "#D55E00"


def handwriting_grid(support, query, true, guess, letters="ABCDEFGHIJKLMNOPQRST", title=None,
                     subtitle=None, height=520, active=1) -> go.Figure:
    """The drawings to learn from (top row, one per character, lettered) and the drawings to
    recognise (below, one column per character), each with the network's guess after each
    adaptation step: a frame per step, switched by a slider in the browser. A wrong guess is
    marked ✗ in red, a right one ✓ in green. support [N, H, W], query [Q, H, W] (Q = N·q,
    grouped by character), true [Q], guess [S+1, Q] (class indices); the figure opens at step
    `active`."""
    support, query = np.asarray(support), np.asarray(query)
    guess, true = np.asarray(guess, int), np.asarray(true, int)
    n, h, w = support.shape
    q = len(query) // n
    gap, band = 4, 10                                   # pixels between images; label band
    cw, rh = w + gap, h + band + gap
    top = h + 3 * gap + band                            # support row + separator
    # uint8, 0 = paper: a tenth of the bytes of floats (the page sends two of these grids)
    canvas = np.zeros((top + q * rh, n * cw), np.uint8)
    for j in range(n):
        canvas[:h, j * cw:j * cw + w] = np.clip(support[j], 0, 255)
    pos = []                                            # (x, y) of each query's label
    for idx in range(len(query)):
        j, i = true[idx], idx % q
        r, c = top + i * rh, j * cw
        canvas[r:r + h, c:c + w] = np.clip(query[idx], 0, 255)
        pos.append((c + w / 2, r + h + band / 2 + 1))
    px, py = [p[0] for p in pos], [p[1] for p in pos]

    def marks(s):
        ok = guess[s] == true
        text = [f"{letters[g]} {'✓' if o else '✗'}" for g, o in zip(guess[s], ok)]
        return dict(type="scatter", x=px, y=py, mode="text", text=text, hoverinfo="skip",
                    showlegend=False, name=f"guesses after {s} steps",
                    textfont=dict(size=13, color=[RIGHT if o else WRONG for o in ok]))

    def score(s):
        right = int((guess[s] == true).sum())
        return dict(type="scatter", x=[n * cw / 2], y=[top - gap - 2], mode="text",
                    hoverinfo="skip", showlegend=False, name="score", textfont=dict(size=13),
                    text=[f"after {s} step{'s' if s != 1 else ''}: {right} of {len(true)} right"])

    active = int(min(max(active, 0), len(guess) - 1))
    data = [dict(type="heatmap", z=canvas, colorscale=[[0, "#FFFFFF"], [1, "#111111"]], zmin=0,
                 zmax=255, showscale=False, hoverinfo="skip", name="drawings"),
            dict(type="scatter", x=[j * cw + w / 2 for j in range(n)], y=[h + band / 2 + 2] * n,
                 mode="text", text=[f"<b>{letters[j]}</b>" for j in range(n)],
                 # neutral: green and orange below mean right and wrong
                 textfont=dict(size=15, color="#222222"), hoverinfo="skip", showlegend=False,
                 name="characters"),
            marks(active), score(active)]
    frames = [dict(data=[marks(s), score(s)], traces=[2, 3], name=str(s)) for s in range(len(guess))]
    fig = go.Figure(dict(data=data, layout={}, frames=frames), _validate=False)
    fig = base_layout(fig, title, subtitle, height=height, legend=False)
    fig.update_xaxes(visible=False, range=[-gap, n * cw], fixedrange=True)
    fig.update_yaxes(visible=False, autorange=False, range=[top + q * rh, -gap], scaleanchor="x",
                     fixedrange=True)
    fig.update_layout(margin=dict(l=10, r=10, t=80 if subtitle else 50, b=10),
                      sliders=step_slider(len(guess), active=active))
    return fig


def class_probabilities(series: dict, true: int, letters="ABCDEFGHIJKLMNOPQRST", title=None,
                        subtitle=None, height=380, active=1) -> go.Figure:
    """How sure each network is of each character for one drawing, after each step (a frame per
    step, slider in the browser, opening at step `active`). series: algo -> (label, probs
    [S+1, N]); true: the drawing's character (outlined; none if out of range)."""
    items = list(series.items())
    n_steps, n = np.asarray(items[0][1][1]).shape
    cats = [f"{letters[j]}{' (right answer)' if j == true else ''}" for j in range(n)]

    def bars(s):
        return [dict(type="bar", x=cats, y=np.asarray(p, float)[s], name=label,
                     marker=dict(color=color(algo), line=dict(
                         color=["black" if j == true else "rgba(0,0,0,0)" for j in range(n)],
                         width=2)),
                     hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>")
                for algo, (label, p) in items]

    active = int(min(max(active, 0), n_steps - 1))
    frames = [dict(data=bars(s), traces=list(range(len(items))), name=str(s))
              for s in range(n_steps)]
    # the layout as plain dicts too (base_layout's, then this chart's): the page rebuilds this
    # figure on every pen stroke, and plotly's validated update_layout cost about 15 ms of it
    title = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None, x=0.01) \
        if title else None
    layout = dict(title=title, height=height, font=FONT, showlegend=True, barmode="group",
                  margin=dict(l=60, r=20, t=80 if subtitle else 50, b=110),
                  legend=dict(orientation="h", y=1, x=1, xanchor="right", yanchor="top",
                              bgcolor="rgba(255,255,255,0.8)"),
                  xaxis=dict(title=dict(text="character")),
                  yaxis=dict(title=dict(text="probability"), range=[0, 1], tickformat=".0%"),
                  sliders=step_slider(n_steps, y=-0.25, active=active))
    fig = go.Figure(dict(data=bars(active), layout=layout, frames=frames), _validate=False)
    fig.layout.template = None      # Streamlit's theme, as base_layout leaves an unvalidated one
    return fig

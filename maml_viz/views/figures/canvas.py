"""Step figures: one Plotly figure with a frame per adaptation step and its own slider and play
button, so the browser switches steps without asking the server (every frame the same traces in
the same order, fixed axes).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import FONT, STEP_SLIDER, as_array


# ----------------------------------------------------------------------------- step frames
class Canvas:
    """A figure under construction: traces as plain dicts on panels with fixed domains, turned
    into one go.Figure at the end without plotly's per-property validation (validating the
    traces and frames of a step figure cost most of a page's render time)."""

    def __init__(self, panels: dict):
        """panels: number -> (x domain, y domain); panel 1 uses axes x / y, panel n xn / yn."""
        self.data, self.frames, self.layout = [], [], {}
        for n, (xd, yd) in panels.items():
            s = self.suffix(n)
            self.layout[f"xaxis{s}"] = dict(domain=list(xd), anchor=f"y{s}", automargin=True)
            self.layout[f"yaxis{s}"] = dict(domain=list(yd), anchor=f"x{s}", automargin=True)

    @staticmethod
    def suffix(panel: int) -> str:
        return "" if panel == 1 else str(panel)

    def add(self, panel: int = 1, **trace) -> int:
        s = self.suffix(panel)
        self.data.append({"type": "scatter", **trace, "xaxis": f"x{s}", "yaxis": f"y{s}"})
        return len(self.data) - 1

    def axis(self, panel: int, xy: str, **kw):
        self.layout[f"{xy}axis{self.suffix(panel)}"].update(kw)

    def steps(self, traces: list, per_step: list, active: int):
        """per_step[s] = one dict of trace properties per index in `traces` (the same traces in
        the same order in every frame); the figure itself shows step `active`."""
        for i, props in zip(traces, per_step[active]):
            for k, v in props.items():        # merged like plotly.js merges a frame
                if isinstance(v, dict) and isinstance(self.data[i].get(k), dict):
                    self.data[i][k] = {**self.data[i][k], **v}
                elif k != "type":
                    self.data[i][k] = v
        self.frames = [dict(name=str(s), traces=list(traces), data=list(step))
                       for s, step in enumerate(per_step)]
        self.n, self.active = len(per_step), active

    def figure(self, height: int, phone: dict | None = None, slider_y: float = -0.12,
               redraw: bool = True) -> go.Figure:
        """redraw=False: frames only move points and lines (scatter traces), which Plotly does
        without redrawing the figure, several times faster; heatmaps need redraw=True."""
        anim = dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                    transition=dict(duration=0))
        self.layout.update(
            height=height, font=FONT, margin=dict(l=55, r=15, t=60, b=120), hovermode="closest",
            legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
            # the figure's own step slider (named STEP_SLIDER) and play / pause buttons
            sliders=[dict(name=STEP_SLIDER, active=int(self.active), x=0, len=0.84, y=slider_y,
                          yanchor="top", pad=dict(t=10, b=0),
                          currentvalue=dict(prefix="steps on this task: ", font=dict(size=13)),
                          steps=[dict(label=str(s), method="animate", args=[[str(s)], anim])
                                 for s in range(self.n)])],
            # play / pause side by side at the slider's right end, level with its track (stacked
            # they reached up into the x-axis title)
            updatemenus=[dict(type="buttons", direction="left", showactive=False, x=1,
                              y=slider_y - 0.02, xanchor="right", yanchor="top", pad=dict(t=0),
                              buttons=[
                                  dict(label="▶", method="animate",
                                       args=[None, dict(frame=dict(duration=700, redraw=redraw),
                                                        fromcurrent=True, mode="immediate",
                                                        transition=dict(duration=0))]),
                                  dict(label="❚❚", method="animate",
                                       args=[[None], dict(mode="immediate", transition=dict(duration=0),
                                                          frame=dict(duration=0, redraw=False))])])])
        if phone:
            # how the figure is laid out on a phone (<= 480 px wide): panels stacked. The
            # page's script (pages/_shared/stepsync.js) applies layout.meta.phone there.
            self.layout["meta"] = dict(phone={**phone, "legend.font.size": 11, "margin.l": 45,
                                              "margin.r": 10})
        return go.Figure(dict(data=self.data, layout=self.layout, frames=self.frames),
                         _validate=False)


def marker_props(s, values, y_range):
    """The current-step marker: (x, y) clipped to the range, a triangle when off the chart,
    nothing when the value is not finite."""
    v = as_array(values)
    if s >= len(v) or not np.isfinite(v[s]):
        return dict(type="scatter", x=[], y=[])
    lo, hi = y_range
    sym = "triangle-up" if v[s] > hi else "triangle-down" if v[s] < lo else "circle"
    return dict(type="scatter", x=[s], y=[float(np.clip(v[s], lo, hi))], marker=dict(symbol=sym))


def now_marker(c, panel, col, label):
    return c.add(panel, x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                 name=f"{label} now", cliponaxis=False,
                 marker=dict(size=13, color=col, symbol="circle", line=dict(color="white", width=2)))


def step_axis(c, panel, n, title="gradient steps"):
    c.axis(panel, "x", range=[-0.4, n - 0.6], title=dict(text=title), tickmode="linear",
           dtick=1 if n <= 21 else 5)


def value_axis(c, panel, rng, title, log=False):
    if log:
        lo, hi = (float(np.log10(v)) for v in rng)
        ticks = [10.0 ** e for e in range(int(np.ceil(lo)), int(np.floor(hi)) + 1)]
        c.axis(panel, "y", type="log", range=[lo, hi], title=dict(text=title + " (log scale)"),
               tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    else:
        c.axis(panel, "y", range=list(rng), title=dict(text=title))


def step_slider(n_steps: int, prefix="steps on this task: ", suffix="", y=-0.02, active=0):
    """A Plotly slider over frames "0".."S": the browser switches frames, no server rerun."""
    return [dict(active=int(active), y=y, len=1.0, x=0, pad=dict(t=10, b=0),
                 currentvalue=dict(prefix=prefix, suffix=suffix, font=dict(size=13)),
                 steps=[dict(label=str(s), method="animate",
                             args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                  transition=dict(duration=0))])
                        for s in range(n_steps)])]

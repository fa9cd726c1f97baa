"""Plotly figure builders: pure functions from data (numpy arrays, lists, DataFrames) to
go.Figure, testable without a browser. One colour per algorithm everywhere (Okabe-Ito, safe for
colour-blind readers); classes have their own palette; the true function is black and dashed,
support points are black dots.

Step figures (`regression_steps`, `regions_steps`, `compare_regions_steps`, `navigation_steps`)
carry every adaptation step 0..S as Plotly frames, driven by the figure's own slider and play
button: moving the slider repaints in the browser, without asking the server. Every frame
updates the same traces in the same order, and the axis ranges are fixed, so the chart never
jumps. Values outside a fixed range are drawn as markers on the edge ("off the chart"), values
that are not finite as a marker labelled "diverged" with the step.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = {
    "maml": "#0072B2", "fomaml": "#56B4E9", "reptile": "#009E73", "anil": "#CC79A7",
    "metasgd": "#D55E00", "pretrained": "#E69F00", "scratch": "#7F7F7F", "oracle": "#000000",
    "support": "#555555",   # support-set curves (not an algorithm)
}
# Classes: Streamlit's named text colours (light theme, as rendered by `:red[■]` etc.), so the
# class picker's ■ swatches match the chart exactly; not the algorithms' palette. Beyond 7
# classes the colours repeat; markers also carry the class number.
CLASS_NAMES = ["red", "violet", "orange", "green", "blue", "gray", "yellow"]
CLASS_COLORS = ["#9E303B", "#6F33B8", "#9B4519", "#0C5A44", "#244FB4", "#686255", "#956B0F"]
BEFORE = "#9E9E9E"          # "before adapting" is grey everywhere
TRUE = dict(color="black", dash="dash", width=2)
FONT = dict(size=13)
STEP_SLIDER = "step"        # the name of every step slider (pages/_shared/ui.py looks for it)


def color(algo: str) -> str:
    return COLORS.get(algo, algo if str(algo).startswith("#") else "#444444")


def class_color(c: int) -> str:
    return CLASS_COLORS[int(c) % len(CLASS_COLORS)]


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig, title=None, subtitle=None, x=None, y=None, height=420, legend=True):
    t = None
    if title:
        t = dict(text=title, subtitle=dict(text=subtitle) if subtitle else None, x=0.01)
    # an unvalidated figure (_fast) would send the template's name, not the template: Streamlit's
    # own theme styles those charts (as it does every chart on the pages)
    fig.update_layout(title=t, height=height, font=FONT,
                      template="plotly_white" if fig._validate else None,
                      margin=dict(l=60, r=20, t=80 if subtitle else 50 if title else 20, b=50),
                      showlegend=legend, legend=dict(orientation="h", y=-0.18, x=0))
    if x:
        fig.update_xaxes(title_text=x)
    if y:
        fig.update_yaxes(title_text=y)
    return fig


def _fast(data: list) -> go.Figure:
    """A figure from plain trace dicts, without plotly's per-property validation (it cost most
    of a page's render time); its layout is then set through the validated API."""
    return go.Figure(dict(data=data, layout={}), _validate=False)


def _arr(v):
    return np.asarray(v, dtype=float).reshape(-1)


def _f32(v):
    return np.asarray(v, dtype=np.float32)


def _plural(n: int, word: str = "step") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# ----------------------------------------------------------------------------- honest values
def edge_points(values, lo: float, hi: float, higher_is_better: bool = False):
    """Where a curve leaves a fixed range. Returns (over, under, diverged): index arrays of the
    finite values above hi, below lo, and of the values that are not finite."""
    v = _arr(values)
    fin = np.isfinite(v)
    return (np.flatnonzero(fin & (v > hi)), np.flatnonzero(fin & (v < lo)),
            np.flatnonzero(~fin))


def _on_chart(values, y_range):
    """A line's values with those off the chart or not finite left out (the line breaks there;
    _edge_traces marks them on the edge instead of drawing a line out of the plot)."""
    v = _arr(values)
    lo, hi = y_range
    return np.where(np.isfinite(v) & (v >= lo) & (v <= hi), v, np.nan)


def _edge_traces(x, values, y_range, bad_top=True, color_="#444444", name=""):
    """Markers on the chart's edge for off-chart values (triangles, hover: the real value) and a
    labelled cross for diverged ones, at the bad edge (top for errors, bottom for scores).
    Plain trace dicts."""
    lo, hi = y_range
    x, v = _arr(x), _arr(values)
    over, under, bad = edge_points(v, lo, hi)
    out = []
    for idx, y, sym in ((over, hi, "triangle-up"), (under, lo, "triangle-down")):
        if len(idx):
            out.append(dict(
                type="scatter", x=x[idx], y=np.full(len(idx), y), mode="markers",
                showlegend=False, cliponaxis=False, customdata=v[idx], name=f"{name} off the chart",
                marker=dict(symbol=sym, size=12, color=color_, line=dict(color="white", width=1)),
                hovertemplate=f"{name}: off the chart (%{{customdata:.3g}}) at step %{{x}}<extra></extra>"))
    if len(bad):
        first = int(bad[0])
        out.append(dict(
            type="scatter", x=[x[first]], y=[hi if bad_top else lo], mode="markers+text",
            showlegend=False, name=f"{name} diverged", cliponaxis=False,
            marker=dict(symbol="x-thin", size=14, color=color_, line=dict(color=color_, width=3)),
            text=[f"diverged (step {int(x[first])})"],
            textposition="bottom center" if bad_top else "top center",
            textfont=dict(color=color_, size=12),
            hovertemplate=f"{name}: diverged at step {int(x[first])} (NaN or infinity)<extra></extra>"))
    return out


# ----------------------------------------------------------------------------- step frames
class _Canvas:
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


def _marker_props(s, values, y_range):
    """The current-step marker: (x, y) clipped to the range, a triangle when off the chart,
    nothing when the value is not finite."""
    v = _arr(values)
    if s >= len(v) or not np.isfinite(v[s]):
        return dict(type="scatter", x=[], y=[])
    lo, hi = y_range
    sym = "triangle-up" if v[s] > hi else "triangle-down" if v[s] < lo else "circle"
    return dict(type="scatter", x=[s], y=[float(np.clip(v[s], lo, hi))], marker=dict(symbol=sym))


def _now_marker(c, panel, col, label):
    return c.add(panel, x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                 name=f"{label} now", cliponaxis=False,
                 marker=dict(size=13, color=col, symbol="circle", line=dict(color="white", width=2)))


def _step_axis(c, panel, n, title="gradient steps"):
    c.axis(panel, "x", range=[-0.4, n - 0.6], title=dict(text=title), tickmode="linear",
           dtick=1 if n <= 21 else 5)


def _value_axis(c, panel, rng, title, log=False):
    if log:
        lo, hi = (float(np.log10(v)) for v in rng)
        ticks = [10.0 ** e for e in range(int(np.ceil(lo)), int(np.floor(hi)) + 1)]
        c.axis(panel, "y", type="log", range=[lo, hi], title=dict(text=title + " (log scale)"),
               tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    else:
        c.axis(panel, "y", range=list(rng), title=dict(text=title))


def regression_steps(x, curves, support=None, mine=None, true_y=None, errors=(), y_range=(-6, 6),
                     err_range=(0, 10), active=1, click_grid=None, height=520, x_title="x",
                     y_title="y", err_title="mean squared error", fixed=(),
                     err_log=False) -> go.Figure:
    """Predictions adapting step by step (left) and the errors after each step (right), one
    slider for both. curves: [(label, preds [S+1, G], algo/colour, dash)], all with the same S;
    fixed: [(label, y, colour, dash)] curves that do not move (before adapting);
    errors: [(label, values [S_total+1], algo/colour, dash)] (values may run past the shown
    steps and hold NaN/inf: those are marked); err_log: a log error axis (err_range in data
    units); click_grid: (gx, gy) invisible points so a click anywhere on the left panel
    registers. The click grid, when given, is trace 0."""
    n = len(curves[0][1])
    active = int(min(max(active, 0), n - 1))
    c = _Canvas({1: ((0, 0.56), (0, 1)), 2: ((0.7, 1), (0, 1))})
    x = _f32(x).reshape(-1)
    if click_grid is not None:
        c.add(1, x=_f32(click_grid[0]).reshape(-1), y=_f32(click_grid[1]).reshape(-1),
              mode="markers", name="click to add", showlegend=False, hoverinfo="x+y",
              marker=dict(size=9, color="rgba(0,0,0,0)"))
    if true_y is not None:
        c.add(1, x=x, y=_f32(true_y).reshape(-1), mode="lines", name="true function", line=TRUE,
              hoverinfo="skip")
    for label, y, col, dash in fixed:
        c.add(1, x=x, y=_f32(y).reshape(-1), mode="lines", name=label,
              line=dict(color=color(col), width=2.5, dash=dash),
              hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>")
    moving, per_step = [], [[] for _ in range(n)]
    for label, preds, col, dash in curves:
        preds = np.asarray(preds, dtype=np.float32)
        moving.append(c.add(1, x=x, y=preds[0], mode="lines", name=label,
                            line=dict(color=color(col), width=3, dash=dash),
                            hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>"))
        for s in range(n):
            per_step[s].append(dict(type="scatter", y=preds[s]))
    if support is not None and len(_arr(support[0])):
        sx = _arr(support[0])
        c.add(1, x=sx, y=_arr(support[1]), mode="markers", name=f"the task's {len(sx)} points",
              marker=dict(color="black", size=10, line=dict(color="white", width=1.5)))
    if mine is not None and len(_arr(mine[0])):
        mx = _arr(mine[0])
        c.add(1, x=mx, y=_arr(mine[1]), mode="markers", name=f"your {_plural(len(mx), 'point')}",
              marker=dict(color="#FFFFFF", size=12, symbol="diamond",
                          line=dict(color="black", width=2.5)))
    total = max((len(_arr(e[1])) for e in errors), default=n)
    shown = {cv[0] for cv in curves}
    for label, vals, col, dash in errors:
        v = _arr(vals)
        c.add(2, x=np.arange(len(v)), y=_on_chart(v, err_range), mode="lines",
              name=label, line=dict(color=color(col), width=2, dash=dash),
              showlegend=label not in shown,                  # Compare: one entry per run
              hovertemplate=f"{label}: %{{y:.3g}} after %{{x}} steps<extra></extra>")
        for t in _edge_traces(np.arange(len(v)), v, err_range, True, color(col), label):
            c.add(2, **t)
    for label, vals, col, _ in errors:
        moving.append(_now_marker(c, 2, color(col), label))
        for s in range(n):
            per_step[s].append(_marker_props(s, vals, err_range))
    c.steps(moving, per_step, active)
    c.axis(1, "x", range=[float(x.min()), float(x.max())], title=dict(text=x_title))
    c.axis(1, "y", range=list(y_range), title=dict(text=y_title))
    _step_axis(c, 2, total)
    _value_axis(c, 2, err_range, err_title, err_log)
    return c.figure(height, phone={"xaxis.domain": [0, 1], "yaxis.domain": [0.5, 1],
                                   "xaxis2.domain": [0, 1], "yaxis2.domain": [0, 0.27],
                                   "yaxis2.title.text": "error (log)" if err_log else "error",
                                   "xaxis.title.text": "", "height": height + 100,
                                   "margin.t": 40, "margin.b": 110}, redraw=False)


def _region_scale(n_way: int):
    n = max(int(n_way), 1)
    scale = []
    for i in range(n):
        col = _rgba(class_color(i), 0.3)
        scale += [[i / n, col], [(i + 1) / n, col]]
    return scale


def _class_points(xy, labels, name, size, opacity=1.0, outline="black", symbol="circle"):
    xy, lab = np.asarray(xy, float).reshape(-1, 2), np.asarray(labels, int).reshape(-1)
    big = size >= 12
    return dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="markers+text" if big else "markers",
                name=name, opacity=opacity, text=[str(c) for c in lab],
                textfont=dict(size=9, color="white"),
                marker=dict(color=[class_color(c) for c in lab], size=size, symbol=symbol,
                            line=dict(color=outline, width=1.5 if big else 0)),
                hovertemplate="class %{text}<extra>" + name + "</extra>")


def _heatmap(g, z, n_way, name):
    return dict(type="heatmap", x=g, y=g, z=z, zmin=-0.5, zmax=n_way - 0.5, showscale=False,
                colorscale=_region_scale(n_way), name=name,
                hovertemplate="(%{x:.1f}, %{y:.1f}): class %{z}<extra></extra>")


def regions_steps(g, classes, n_way, support, mine=None, query=None, curves=(), ranges=None,
                  active=1, height=560) -> go.Figure:
    """Classification, step by step: the predicted class over the plane before adapting (left)
    and after the chosen steps (middle, clickable), and curves after each step on the right
    (curves: [(label, values, algo/colour, dash, panel)] with panel 0 = accuracy, 1 = loss;
    ranges: {0: (lo, hi), 1: (lo, hi)}). classes: [S+1, n, n] predicted labels on the grid g.
    The click grid is trace 2."""
    classes = np.asarray(classes)
    n = len(classes)
    active = int(min(max(active, 0), n - 1))
    ranges = ranges or {0: (0, 1), 1: (0, 4)}
    c = _Canvas({1: ((0, 0.3), (0, 1)), 2: ((0.35, 0.65), (0, 1)),
                 3: ((0.76, 1), (0.6, 1)), 4: ((0.76, 1), (0, 0.4))})
    g = _f32(g).reshape(-1)
    c.add(1, **_heatmap(g, classes[0].astype(np.int8), n_way, "before adapting"))
    c.add(2, **_heatmap(g, classes[active].astype(np.int8), n_way, "predicted class"))
    X, Y = np.meshgrid(g[::2], g[::2])
    c.add(2, x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False, hoverinfo="x+y",
          marker=dict(size=8, color="rgba(0,0,0,0)"), name="click to add")
    if query is not None and len(query[0]):
        c.add(2, **_class_points(query[0], query[1], "new points of the task", 5, 0.7))
    for panel in (1, 2):
        if len(support[0]):
            c.add(panel, **_class_points(support[0], support[1], "labelled examples", 15),
                  showlegend=panel == 2)
        if mine is not None and len(mine[0]):
            c.add(panel, **_class_points(mine[0], mine[1], "your examples", 17, outline="white",
                                         symbol="diamond"), showlegend=panel == 2)
    moving = [1]
    per_step = [[dict(type="heatmap", z=classes[s].astype(np.int8))] for s in range(n)]
    panels = {0: 3, 1: 4}
    for label, vals, col, dash, which in curves:
        v = _arr(vals)
        c.add(panels[which], x=np.arange(len(v)), y=_on_chart(v, ranges[which]),
              mode="lines", name=label, line=dict(color=color(col), width=2, dash=dash),
              hovertemplate=f"{label}: %{{y:.3g}} after %{{x}} steps<extra></extra>")
        for t in _edge_traces(np.arange(len(v)), v, ranges[which], which == 1, color(col), label):
            c.add(panels[which], **t)
    for label, vals, col, dash, which in curves:
        moving.append(_now_marker(c, panels[which], color(col), label))
        for s in range(n):
            per_step[s].append(_marker_props(s, vals, ranges[which]))
    c.steps(moving, per_step, active)
    lim = [float(g.min()), float(g.max())]
    for panel, title in ((1, "before adapting"), (2, "after the chosen steps")):
        c.axis(panel, "x", range=lim, title=dict(text=f"x₁ · {title}"), constrain="domain")
        c.axis(panel, "y", range=lim, scaleanchor=f"x{c.suffix(panel)}", scaleratio=1,
               constrain="domain", title=dict(text="x₂" if panel == 1 else ""))
    total = max((len(_arr(cv[1])) for cv in curves), default=n)
    for which, panel in panels.items():
        _step_axis(c, panel, total, "gradient steps" if which == 1 else "")
        _value_axis(c, panel, ranges[which], "accuracy" if which == 0 else "loss")
    return c.figure(height, phone={"xaxis.domain": [0, 0.48], "yaxis.domain": [0.5, 1],
                                   "xaxis2.domain": [0.52, 1], "yaxis2.domain": [0.5, 1],
                                   "xaxis3.domain": [0, 0.45], "yaxis3.domain": [0, 0.3],
                                   "xaxis4.domain": [0.58, 1], "yaxis4.domain": [0, 0.3],
                                   "height": height + 120})


def compare_regions_steps(g, classes: dict, n_way, support, labels: dict, active=1, height=None,
                          cols=3) -> go.Figure:
    """One decision-region map per run (classes: key -> [S+1, n, n], NaN where it blew up), all
    moved by one slider."""
    keys = list(classes)
    n = min(len(classes[k]) for k in keys)
    active = int(min(max(active, 0), n - 1))
    cols = min(cols, len(keys))
    rows = (len(keys) + cols - 1) // cols
    w, h = 1 / cols, 1 / rows
    c = _Canvas({i + 1: ((i % cols * w + 0.02, (i % cols + 1) * w - 0.02),
                         (1 - (i // cols + 1) * h + 0.06, 1 - i // cols * h - 0.04))
                 for i in range(len(keys))})
    g = _f32(g).reshape(-1)
    per_step, heat = [[] for _ in range(n)], []
    for i, k in enumerate(keys):
        z = np.asarray(classes[k], dtype=np.float32)
        heat.append(c.add(i + 1, **_heatmap(g, z[active], n_way, labels[k])))
        for s in range(n):
            per_step[s].append(dict(type="heatmap", z=z[s]))
    for i in range(len(keys)):
        c.add(i + 1, **_class_points(support[0], support[1], "labelled examples", 13),
              showlegend=i == 0)
    c.steps(heat, per_step, active)
    lim = [float(g.min()), float(g.max())]
    notes = []
    for i, k in enumerate(keys):
        s = c.suffix(i + 1)
        c.axis(i + 1, "x", range=lim, showticklabels=False, constrain="domain")
        c.axis(i + 1, "y", range=lim, showticklabels=False, constrain="domain",
               scaleanchor=f"x{s}", scaleratio=1)
        xd, yd = c.layout[f"xaxis{s}"]["domain"], c.layout[f"yaxis{s}"]["domain"]
        notes.append(dict(text=labels[k], x=(xd[0] + xd[1]) / 2, y=yd[1] + 0.01, xref="paper",
                          yref="paper", showarrow=False, yanchor="bottom", font=dict(size=13)))
    c.layout["annotations"] = notes
    return c.figure(height or 330 * rows + 140, slider_y=-0.06 if rows > 1 else -0.1)


def navigation_steps(paths, returns, goal, algo, label, ret_range, active=1, extent=0.6, show=5,
                     height=540, click=True) -> go.Figure:
    """A point robot toward a goal, step by step. paths: [S+1, n, H+1, 2] positions of the
    rollouts at each step (step 0: before adapting, drawn grey); returns: [S+1] their mean
    return (right panel, with the current step marked). The click grid is trace 0."""
    paths = np.asarray(paths, dtype=float)
    n = len(paths)
    active = int(min(max(active, 0), n - 1))
    c = _Canvas({1: ((0, 0.52), (0, 1)), 2: ((0.66, 1), (0, 1))})
    if click:
        gg = np.linspace(-extent, extent, 25)
        X, Y = np.meshgrid(gg, gg)
        c.add(1, x=X.ravel(), y=Y.ravel(), mode="markers", showlegend=False, hoverinfo="x+y",
              marker=dict(size=10, color="rgba(0,0,0,0)"), name="click to move the goal")

    def lines(ps):
        xs, ys = [], []
        for p in np.asarray(ps)[:show]:
            xs += list(np.round(p[:, 0], 4)) + [None]
            ys += list(np.round(p[:, 1], 4)) + [None]
        return xs, ys

    bx, by = lines(paths[0])
    c.add(1, x=bx, y=by, mode="lines", name="before adapting", hoverinfo="skip",
          line=dict(color=BEFORE, width=1.5))
    adapted = c.add(1, x=[], y=[], mode="lines", name=f"{label} after adapting",
                    hoverinfo="skip", line=dict(color=color(algo), width=2.5))
    c.add(1, x=[0], y=[0], mode="markers", name="start", marker=dict(color="black", size=10))
    c.add(1, x=[goal[0]], y=[goal[1]], mode="markers", name="goal",
          marker=dict(color="#D62728", size=20, symbol="star", line=dict(color="black", width=1)))
    r = _arr(returns)
    c.add(2, x=np.arange(len(r)), y=_on_chart(r, ret_range), mode="lines",
          name="return", showlegend=False, line=dict(color=color(algo), width=2),
          hovertemplate="return %{y:.1f} after %{x} steps<extra></extra>")
    for t in _edge_traces(np.arange(len(r)), r, ret_range, False, color(algo), "return"):
        c.add(2, **t)
    marker = _now_marker(c, 2, color(algo), "return")
    per_step = []
    for s in range(n):
        ax, ay = lines(paths[s]) if s > 0 else ([], [])
        per_step.append([dict(type="scatter", x=ax, y=ay), _marker_props(s, r, ret_range)])
    c.steps([adapted, marker], per_step, active)
    c.axis(1, "x", range=[-extent, extent], title=dict(text="x"), constrain="domain")
    c.axis(1, "y", range=[-extent, extent], title=dict(text="y"), scaleanchor="x", scaleratio=1,
           constrain="domain")
    _step_axis(c, 2, len(r), "policy-gradient steps")
    _value_axis(c, 2, ret_range, "average return")
    return c.figure(height, phone={"xaxis.domain": [0, 1], "yaxis.domain": [0.42, 1],
                                   "xaxis2.domain": [0, 1], "yaxis2.domain": [0, 0.25],
                                   "height": height + 200}, redraw=False)


# ----------------------------------------------------------------------------- regression (static)
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
    """Predictions on a new task (one picture, no steps). curves: [(label, y, algo_or_color, dash)].
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
                                 line=dict(color=color(c), width=3, dash=dash)))
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
                             mode="lines", fillcolor=_rgba(col, 0.2), line=dict(width=0),
                             hoverinfo="skip", showlegend=False, name=f"{algo} 95% CI"))
        name = labels.get(algo, algo)
        line = dict(type="scatter", x=s, y=m if y_range is None else _on_chart(m, y_range),
                    mode="lines+markers", name=name, customdata=c,
                    line=dict(color=col, width=3, dash=dashes.get(algo) or "solid"),
                    hovertemplate=f"{name}, step %{{x}}: %{{y:.3f}} ± %{{customdata:.3f}}<extra></extra>")
        if bar.any():
            line["error_y"] = dict(type="data", symmetric=False, color=col, thickness=1.5,
                                   array=np.where(bar, hi_ - m, 0), arrayminus=np.where(bar, m - lo_, 0))
        data.append(line)
        if y_range is not None:
            data += _edge_traces(s, m, y_range, not hib, col, name)
    fig = _fast(data)
    ytitle = {"mse": "mean squared error on new tasks", "accuracy": "accuracy on new tasks",
              "return": "average return"}.get(metric, metric)
    fig = _layout(fig, title, subtitle, "gradient steps on the new task", ytitle, height=height)
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
                   metric="mse", colors=None) -> go.Figure:
    """histories: algo -> (iterations, meta_loss). A moving average over about 2% of training in
    the algorithm's colour, the raw values faint behind it. metric="return" (RL): the values are
    average returns after adaptation, drawn on a linear axis."""
    data = []
    labels, colors = labels or {}, colors or {}
    for algo, (it, loss) in histories.items():
        x, y = _arr(it), _arr(loss)
        col = colors.get(algo, color(algo))
        data.append(dict(type="scatter", x=x, y=y, mode="lines", showlegend=False,
                         hoverinfo="skip", line=dict(color=_rgba(col, 0.25), width=1)))
        data.append(dict(type="scatter", x=x, y=smooth(y, max(1, len(y) // 50)), mode="lines",
                         name=labels.get(algo, algo), line=dict(color=col, width=2.5)))
    fig = _fast(data)
    if metric == "return":
        return _layout(fig, title, subtitle, "meta-training iteration",
                       "average return after adaptation", height=height)
    fig = _layout(fig, title, subtitle, "meta-training iteration", "meta-loss (after adaptation)",
                  height=height)
    fig.update_yaxes(type="log", tickformat=".2~g", minor=dict(showgrid=False), dtick="D2")
    return fig


def validation_curves(curves: dict, y_range, metric="mse", labels=None, colors=None, dashes=None,
                      title=None, height=400, higher_is_better=False) -> go.Figure:
    """The common validation measure during training: key -> (iterations, values), one line per
    run; NaN values (adaptation diverged on the validation tasks) are marked at the bad edge."""
    data = []
    labels, colors, dashes = labels or {}, colors or {}, dashes or {}
    for k, (it, v) in curves.items():
        x, y = _arr(it), _arr(v)
        col = colors.get(k, color(k))
        data.append(dict(type="scatter", x=x, y=_on_chart(y, y_range), mode="lines",
                         name=labels.get(k, k),
                         line=dict(color=col, width=2.5, dash=dashes.get(k) or "solid"),
                         hovertemplate=f"{labels.get(k, k)}: %{{y:.3g}} at iteration %{{x}}<extra></extra>"))
        over, under, bad = edge_points(y, *y_range)
        if len(bad):
            data.append(dict(type="scatter", x=x[bad],
                             y=np.full(len(bad), y_range[0 if higher_is_better else 1]),
                             mode="markers", showlegend=False, name=f"{labels.get(k, k)} diverged",
                             marker=dict(symbol="x-thin", size=10, color=col,
                                         line=dict(color=col, width=2)),
                             hovertemplate="diverged at iteration %{x}<extra></extra>"))
    fig = _fast(data)
    ytitle = {"mse": "mean squared error", "accuracy": "accuracy"}.get(metric, metric)
    fig = _layout(fig, title, None, "meta-training iteration", f"{ytitle} on validation tasks",
                  height=height)
    fig.update_yaxes(range=list(y_range))
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


def _step_slider(n_steps: int, prefix="steps on this task: ", suffix="", y=-0.02, active=0):
    """A Plotly slider over frames "0".."S": the browser switches frames, no server rerun."""
    return [dict(active=int(active), y=y, len=1.0, x=0, pad=dict(t=10, b=0),
                 currentvalue=dict(prefix=prefix, suffix=suffix, font=dict(size=13)),
                 steps=[dict(label=str(s), method="animate",
                             args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                  transition=dict(duration=0))])
                        for s in range(n_steps)])]


def handwriting_grid(support, query, true, guess, letters="ABCDEFGHIJKLMNOPQRST", title=None,
                     subtitle=None, height=520, active=1) -> go.Figure:
    """The drawings to learn from (top row, one per character, lettered) and the drawings to
    recognise (below, one column per character), each with the network's guess after each
    adaptation step: a frame per step, switched by a slider in the browser. A wrong guess is
    marked ✗ in red, a right one ✓ in green. support [N, H, W], query [Q, H, W] (Q = N·q,
    grouped by character), true [Q], guess [S+1, Q] (class indices); the figure opens at step
    `active`."""
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
                             # neutral: green and orange below mean right and wrong
                             textfont=dict(size=15, color="#222222"),
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

    active = int(min(max(active, 0), len(guess) - 1))
    fig.add_trace(marks(active))
    fig.add_trace(score(active))
    fig.frames = [go.Frame(data=[marks(s), score(s)], traces=[2, 3], name=str(s))
                  for s in range(len(guess))]
    fig = _layout(fig, title, subtitle, height=height, legend=False)
    fig.update_xaxes(visible=False, range=[-gap, n * cw], fixedrange=True)
    fig.update_yaxes(visible=False, autorange=False, range=[top + q * rh, -gap], scaleanchor="x",
                     fixedrange=True)
    fig.update_layout(margin=dict(l=10, r=10, t=80 if subtitle else 50, b=10),
                      sliders=_step_slider(len(guess), active=active))
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
        return [go.Bar(x=cats, y=np.asarray(p, float)[s], name=label, marker_color=color(algo),
                       marker_line=dict(color=["black" if j == true else "rgba(0,0,0,0)"
                                               for j in range(n)], width=2),
                       hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>")
                for algo, (label, p) in items]

    active = int(min(max(active, 0), n_steps - 1))
    fig = go.Figure(data=bars(active))
    fig.frames = [go.Frame(data=bars(s), traces=list(range(len(items))), name=str(s))
                  for s in range(n_steps)]
    fig = _layout(fig, title, subtitle, "character", "probability", height=height)
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1, x=1, xanchor="right",
                                                   yanchor="top", bgcolor="rgba(255,255,255,0.8)"),
                      sliders=_step_slider(n_steps, y=-0.25, active=active),
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

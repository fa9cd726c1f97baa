"""What the Playground shows, checked against itself and against the engine (a helper module for
tests/test_browser_playground.py and tests/test_playground_view.py, not a test file).

`SNAPSHOT` reads, in a browser page, every Plotly chart the Playground drew (traces as drawn,
axes, legend entries and boxes, text labels and their boxes) and its words (title, warnings,
caption). It works on any Plotly chart of the page, so the same checks run on the page as it was
before the browser engine (one figure with frames) and as it is now. `reference` is what the
engine (views.points.support + views.adaptation.trajectory + blowup_step) gives for the page's
settings. `problems(snap, ref, ...)` lists every contradiction found, in words:

  the drawn curves, maps and error curves are the engine's (1e-4, float32);
  a baseline is never called meta-learned;
  one legend per panel (a legend's entries all belong to one plot), no two entries that look
  the same; every legend entry has a visible mark;
  every value off a fixed axis has a mark on the edge with its value written there, and the
  marks are in the legend with their values;
  the warning, the caption and the chart's ✕ name the same blow-up step (the engine's);
  no text label on a chart overlaps a legend;
  the caption's numbers are the chart's values at the step shown and at step 0, its "rises"
  sentences name the first step where the data rise (and a rise is never left unexplained),
  its over-fitting sentence appears exactly when the data show it, its general claims hold
  ("each step ... a little better", "at chance");
  an error axis holds every value drawn between two of its ticks.
"""
from __future__ import annotations

import math
import re

import numpy as np

SNAPSHOT = r"""() => {
  const num = (v) => (v === null || v === undefined || v === '' ? NaN : Number(v));
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const list = (a) => (a === undefined || a === null ? [] :
                       (Array.isArray(a) || ArrayBuffer.isView(a)) ? Array.from(a) : [a]);
  const gds = [...document.querySelectorAll('.js-plotly-plot')].filter((gd) =>
      !gd.closest('.st-key-maviz_plotly_loader') && gd._fullData && gd._fullData.length &&
      gd.getBoundingClientRect().width > 0);
  const charts = gds.map((gd) => {
    const L = gd._fullLayout, axes = {};
    for (const k of Object.keys(L)) if (/^[xy]axis\d*$/.test(k) && L[k].range) {
      const a = L[k];
      axes[k] = { type: a.type, range: a.range.map(Number), visible: a.visible !== false,
                  ticks: a.tickvals ? list(a.tickvals).map(Number)
                                    : (a._vals || []).map((v) => (a.type === 'log' ? Math.pow(10, v.x) : v.x)) };
    }
    // a legend drawn as HTML beside the plot (the Playground's), else Plotly's own
    const pbox = gd.closest('[data-box]'), html = pbox && pbox.querySelector('[data-legend]');
    const traces = gd._fullData.map((t, i) => ({
      name: t.name || '', type: t.type, mode: t.mode || '', visible: t.visible,
      xaxis: t.xaxis || 'x', yaxis: t.yaxis || 'y',
      showlegend: (html ? (gd.data[i] || {}).showlegend !== false && t.type !== 'heatmap' : !!t.showlegend)
                  && t.visible !== false,
      legend: t.legend || 'legend', legendgroup: t.legendgroup || '',
      x: t.type === 'heatmap' ? [] : list(t.x).map(num), y: t.type === 'heatmap' ? [] : list(t.y).map(num),
      z: t.type === 'heatmap' ? list(t.z).map((r) => list(r).map(num)) : null,
      text: list(t.text).map(String),
      symbol: t.marker ? list(t.marker.symbol).map(String) : [],
      size: t.marker ? Number(list(t.marker.size)[0]) : 0,
      color: (t.line && t.line.color) || (t.marker && typeof t.marker.color === 'string' ? t.marker.color : ''),
      dash: (t.line && t.line.dash) || '' }));
    const hrefs = [...gd.querySelectorAll('.imagelayer image')].map((e) =>
        e.getAttribute('href') || e.getAttribute('xlink:href'));
    for (const m of gd.__pgMaps || [])        // class maps drawn as images: their classes
      traces.push({ name: m.name, type: 'heatmap', mode: '', visible: true, xaxis: 'x', yaxis: 'y',
                    showlegend: false, legend: 'legend', legendgroup: '', x: [], y: [], text: [],
                    symbol: [], size: 0, color: '', dash: '',
                    z: [...Array(m.G).keys()].map((r) => Array.from(m.z.subarray(r * m.G, (r + 1) * m.G))) });
    return { axes: axes, traces: traces, images: hrefs,
             legendNames: html ? [...html.querySelectorAll('[data-name]')].map((e) => e.dataset.name) : null,
             legends: (html ? [html] : [...gd.querySelectorAll('.legend')]).map(box),
             labels: [...gd.querySelectorAll('.textpoint text')].filter((e) => e.textContent.trim())
               .map((e) => ({ text: e.textContent, box: box(e) })) };
  });
  const pg = document.querySelector('[data-maviz-pg]');
  const texts = (sel) => [...document.querySelectorAll(sel)].map((e) => e.innerText.trim()).filter(Boolean);
  return {
    charts: charts,
    caption: pg ? pg.querySelector('[data-caption]').innerText
                : texts('[data-testid="stMain"] [data-testid="stCaptionContainer"], [data-testid="stMain"] [data-testid="stCaption"]').join(' '),
    notes: pg ? texts('[data-maviz-pg] [data-notes] > div')
              : texts('[data-testid="stMain"] [data-testid="stAlert"]'),
    title: pg ? pg.querySelector('[data-title]').innerText
              : (texts('[data-testid="stMain"] [data-testid="stMarkdown"]').find((t) => t.includes('adapting to')) || ''),
    url: window.location.search };
}"""

NUM = r"[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?"
RISE = 1e-3                    # as pgview.js: a smaller relative change is not a rise
BASELINES = ("pretrained", "scratch")


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def close(text: str, value: float) -> bool:
    """A number written with 3 significant digits (2 in e-notation) is this value."""
    v = number(text)
    rel = 0.051 if "e" in text else 0.0051
    return abs(v - value) <= rel * abs(value) + 1e-12


def settings(url_query: str, run) -> dict:
    """The page's settings from its URL (what it draws), with the run's own where absent."""
    from urllib.parse import parse_qs
    q = {k: v[0] for k, v in parse_qs(url_query.lstrip("?")).items()}
    cfg = run.config
    steps = int(q.get("steps", run.family.eval_steps))
    pts = []
    for p in filter(None, q.get("pts", "").split(",")):
        v = [float(t) for t in p.split(":")]
        pts.append(tuple(v[:-1]) + (int(v[-1]),) if len(v) == 3 else tuple(v))
    return dict(k=int(q.get("k", cfg.k_shot)), lr=float(q["lr"]) if "lr" in q else None,
                steps=steps, step=int(q.get("step", min(max(1, cfg.inner_steps), steps))),
                task=int(q.get("task", 0)), points=pts, only=q.get("only") in ("1", "true"))


def reference(run, s: dict) -> dict:
    """What the engine gives for the settings `s` (settings()): the arrays the page must draw."""
    from maml_viz.engine.tasks import ClassificationFamily
    from maml_viz.views.adaptation import blowup_step, grid, playground_query, trajectory
    from maml_viz.views.points import support
    fam, cfg = run.family, run.config
    cls = isinstance(fam, ClassificationFamily)
    sup = support(run, s["task"], s["k"], s["points"], s["only"])
    lr = s["lr"]
    if lr is not None and cfg.algo == "metasgd" and lr == cfg.inner_lr:
        lr = None
    xg = grid(run, 60 if cls else 200)
    xq = yq = None
    if cls and sup.task is not None:
        xq, yq = playground_query(fam, sup.task, s["task"])
    tr = trajectory(run, sup.xs, sup.ys, s["steps"], lr=lr, x_grid=xg, task=sup.task, xq=xq, yq=yq)
    b = blowup_step(tr["preds"], tr["support"])
    shown = s["steps"] + 1 if b is None else b
    S = min(s["step"], shown - 1)
    out = dict(blowup=b, shown=shown, S=S, steps=s["steps"], classes=cls,
               support=tr["support"][:shown], n_classes=getattr(fam, "n_classes", None),
               baseline=run.algorithm.is_baseline)
    if cls:
        n = 60
        out["maps"] = [tr["preds"][i].argmax(-1).reshape(n, n) for i in (0, S)]
        top2 = [np.sort(tr["preds"][i], -1)[:, -2:] for i in (0, S)]   # near-ties may flip
        out["ties"] = [(t[:, 1] - t[:, 0] < 1e-3 * np.maximum(1, np.abs(t[:, 1]))).reshape(n, n)
                       for t in top2]
        if "query" in tr:
            out["accuracy"] = tr["query"][:shown]
    else:
        out["x"] = xg.reshape(-1).numpy()
        out["before"], out["after"] = tr["preds"][0, :, 0], tr["preds"][S, :, 0]
        if "grid_error" in tr:
            out["grid_error"] = tr["grid_error"][:shown]
    return out


# ----------------------------------------------------------------------------- reading the chart
AFTER = re.compile(r"after (adapting|\d+ steps?)$")


def role(t) -> str | None:
    """Which of the Playground's arrays a drawn trace is."""
    n = t["name"]
    if t["type"] == "heatmap":
        return "map"
    if "lines" not in t["mode"]:
        return None
    if n.startswith("before adapting"):
        return "before"
    if AFTER.search(n) and not n.startswith(("error", "accuracy", "loss")):
        return "after"
    return {"error on the whole true curve": "grid_error", "error on the points it sees": "support",
            "error on your points": "support", "loss on the examples": "support",
            "accuracy on new points": "accuracy", "accuracy on the new points": "accuracy"}.get(n)


def traces_of(snap, name):
    return [(c, t) for c in snap["charts"] for t in c["traces"] if role(t) == name]


def at_step(t, s):
    """The value a step curve draws at step s (NaN if it draws none there)."""
    for x, y in zip(t["x"], t["y"]):
        if x == s:
            return y
    return math.nan


def _in(v, ax):
    lo, hi = ax["range"]
    if ax["type"] == "log":
        if not v > 0:
            return False
        v = math.log10(v)
    span = hi - lo
    return lo - 1e-6 * span <= v <= hi + 1e-6 * span


def _edge(ax, side):
    lo, hi = ax["range"]
    e = hi if side > 0 else lo
    return 10 ** e if ax["type"] == "log" else e


# ----------------------------------------------------------------------------- the checks
def check_engine(snap, ref) -> list:
    """The drawn curves / maps / error curves are the engine's (1e-4). Where the engine blows
    up, float32 rounding is amplified step after step (tests/test_browser_adapt.py): there the
    steps before the second are compared (the blow-up step itself by check_blowup)."""
    out = []
    n = 2 if ref["blowup"] is not None else ref["shown"]
    for name in ("before", "after", "grid_error", "support", "accuracy"):
        if name not in ref or (name == "after" and ref["S"] >= n):
            continue
        drawn = traces_of(snap, name)
        if not drawn:
            out.append(f"no {name} curve drawn")
            continue
        _, t = drawn[0]
        want = np.asarray(ref[name], float)
        got = np.asarray(t["y"], float)
        if name in ("before", "after"):
            ok = len(got) == len(want) and np.allclose(got, want, rtol=1e-4, atol=1e-4)
        else:                   # a step curve: the finite values it draws, at their steps
            xs = np.asarray(t["x"], float)
            keep = np.isfinite(got) & (xs < min(len(want), n))
            ok = keep.any() and np.allclose(got[keep], want[xs[keep].astype(int)], rtol=1e-4, atol=1e-6)
        if not ok:
            out.append(f"the {name} curve drawn is not the engine's")
    if "maps" in ref:
        maps = [t for c in snap["charts"] for t in c["traces"] if t["type"] == "heatmap"]
        if len(maps) < 2:
            out.append("the class maps are not drawn")
        for t, want, tie in list(zip(maps[:2], ref["maps"], ref["ties"]))[:1 if ref["S"] >= n else 2]:
            z = np.asarray(t["z"], float)
            if z.shape != want.shape or ((z != want) & ~tie).any():
                out.append(f"the map '{t['name']}' is not the engine's "
                           f"({int((z != want).sum()) if z.shape == want.shape else z.shape} cells)")
    return out


def check_words_of_baselines(snap, ref) -> list:
    if not ref["baseline"]:
        return []
    words = " ".join([snap["caption"], snap["title"]] + [t["name"] for c in snap["charts"]
                                                          for t in c["traces"]])
    return (["a baseline is called meta-learned"]
            if re.search(r"(?<!not )meta-learned", words) else [])


def check_legends(snap) -> list:
    out = []
    for i, c in enumerate(snap["charts"]):
        legends = {}
        for t in c["traces"]:
            if t["showlegend"] and t["type"] != "heatmap":
                legends.setdefault(t["legend"], []).append(t)
        for lg, entries in legends.items():
            plots = {(t["xaxis"], t["yaxis"]) for t in entries}
            if len(plots) > 1:
                out.append(f"chart {i}: one legend for {len(plots)} plots "
                           f"({', '.join(t['name'] for t in entries)})")
            looks = {}
            for t in entries:
                mark = "markers" in t["mode"]
                key = ("lines" in t["mode"], t["color"].lower(), t["dash"],
                       t["symbol"][0] if t["symbol"] and mark else "", t["size"] if mark else 0)
                if key in looks:
                    out.append(f"chart {i}: legend entries '{looks[key]}' and '{t['name']}' look the same")
                looks[key] = t["name"]
            if c.get("legendNames") is not None:   # an HTML legend: each entry names a trace
                for n in c["legendNames"]:
                    if not any(t["name"] == n for t in entries):
                        out.append(f"chart {i}: the legend names '{n}', the chart has no such trace")
            for t in entries:      # every entry has a mark one can see (its curve, or its marks)
                group = [u for u in c["traces"] if u is t or (t["legendgroup"] and
                                                                u["legendgroup"] == t["legendgroup"])]
                if not any(_visible(c, u) for u in group):
                    out.append(f"chart {i}: legend entry '{t['name']}' has nothing visible")
    return out


def _visible(c, t):
    ax, ay = c["axes"].get(t["xaxis"].replace("x", "xaxis")), c["axes"].get(t["yaxis"].replace("y", "yaxis"))
    if ax is None or ay is None or t["visible"] is False:
        return False
    return any(math.isfinite(x) and math.isfinite(y) and _in(x, ax) and _in(y, ay)
               for x, y in zip(t["x"], t["y"]))


def _runs(xs, vals, ax):
    """Runs of consecutive finite values off the axis: (first x, last x, side, extreme)."""
    runs, cur = [], None
    for x, v in zip(xs, vals):
        side = 0
        if math.isfinite(v) and not _in(v, ax):
            lo, hi = ax["range"]
            lv = math.log10(v) if ax["type"] == "log" and v > 0 else (-math.inf if ax["type"] == "log" else v)
            side = 1 if lv > hi else -1
        if side and cur and cur[2] == side:
            cur[1] = x
            if side * v > side * cur[3]:
                cur[3] = v
        elif side:
            cur = [x, x, side, v]
            runs.append(cur)
        else:
            cur = None
    return runs


def _drawn(t, ref, name):
    """A curve's values as the chart holds them, the engine's where it holds none (a chart may
    leave out what lies off its axis)."""
    want = np.asarray(ref[name], float)
    if name in ("before", "after"):
        got = np.asarray(t["y"], float)
        return np.where(np.isfinite(got), got, want) if len(got) == len(want) else want
    got = np.array([at_step(t, s) for s in range(len(want))])
    return np.where(np.isfinite(got), got, want)


def check_off_chart(snap, ref) -> list:
    """Every value the engine gives that lies off its fixed axis has a mark on that edge,
    within its stretch of x, with its value written beside it."""
    out = []
    for name in ("before", "after", "grid_error", "support", "accuracy"):
        if name not in ref:
            continue
        for c, t in traces_of(snap, name)[:1]:
            ax = c["axes"].get(t["yaxis"].replace("y", "yaxis"))
            if ax is None:
                continue
            want = _drawn(t, ref, name)
            xs = ref["x"] if name in ("before", "after") else np.arange(len(want))
            dx = (xs[1] - xs[0]) if len(xs) > 1 else 1
            for x0, x1, side, extreme in _runs(xs, want, ax):
                edge = _edge(ax, side)
                marks = [(m, i) for m in c["traces"] if m is not t and m["yaxis"] == t["yaxis"]
                         for i, (mx, my) in enumerate(zip(m["x"], m["y"]))
                         if x0 - dx <= mx <= x1 + dx and math.isfinite(my)
                         and abs(my - edge) <= 0.02 * abs(edge) + 1e-9]
                if not marks:
                    out.append(f"{t['name']}: {extreme:.3g} near x={x0:.3g} is off the chart with no mark")
                elif not any(i < len(m["text"]) and re.fullmatch(NUM, m["text"][i].strip())
                             and close(m["text"][i].strip(), extreme) for m, i in marks):
                    out.append(f"{t['name']}: the mark for {extreme:.3g} near x={x0:.3g} does not "
                               f"show its value")
    return out


def check_edge_marks_named(snap) -> list:
    """Every mark on a chart's edge (a triangle) is in the legend, its values written there."""
    out = []
    for i, c in enumerate(snap["charts"]):
        names = " ".join(c["legendNames"] if c.get("legendNames") is not None
                         else [t["name"] for t in c["traces"] if t["showlegend"]])
        for t in c["traces"]:
            if not any(sym.startswith("triangle") for sym in t["symbol"]) or not len(t["x"]):
                continue
            vals = [x.strip() for x in t["text"] if re.fullmatch(NUM, x.strip())]
            if not (t["showlegend"] or any(u["showlegend"] and u["legendgroup"] == t["legendgroup"]
                                           and t["legendgroup"] for u in c["traces"])):
                out.append(f"chart {i}: the edge marks '{t['name']}' are not in the legend")
            elif not vals or not all(v in names for v in vals[:3]):
                out.append(f"chart {i}: the legend does not give the values of the edge marks "
                           f"'{t['name']}' ({vals[:3] or 'none written'})")
    return out


def check_blowup(snap, ref) -> list:
    out, b = [], ref["blowup"]
    said = [int(m) for n in snap["notes"] for m in re.findall(r"blew up at step (\d+)", n)]
    said += [int(m) for m in re.findall(r"blew up at step (\d+)", snap["caption"])]
    marked = [int(m) for c in snap["charts"] for t in c["traces"]
              for s in [t["name"]] + t["text"] for m in re.findall(r"(?:blew up at step|diverged \(step) (\d+)", s)]
    for n in said + marked:
        if n != b:
            out.append(f"a blow-up at step {n} is named, the engine's is {b}")
    if b is not None and not marked:
        out.append(f"the blow-up at step {b} has no mark on the chart")
    if b is not None and not said:
        out.append(f"the blow-up at step {b} is not said in words")
    return out


def check_overlaps(snap) -> list:
    out = []
    for i, c in enumerate(snap["charts"]):
        for lab in c["labels"]:
            a = lab["box"]
            for g in c["legends"]:
                if a[0] < g[2] - 0.5 and g[0] < a[2] - 0.5 and a[1] < g[3] - 0.5 and g[1] < a[3] - 0.5:
                    out.append(f"chart {i}: the label '{lab['text']}' overlaps the legend")
    return out


def _first_rise(a):
    for t in range(1, len(a)):
        if a[t] > a[t - 1] * (1 + RISE) + 1e-30:
            return t
    return None


def check_caption(snap, ref) -> list:
    """The caption's numbers and claims against the chart's own arrays."""
    out, cap = [], " ".join(snap["caption"].split())
    S = ref["S"]
    series = {}
    for name in ("grid_error", "support", "accuracy"):
        d = traces_of(snap, name)
        if d:                   # what the chart draws (the engine's value where it draws none)
            drawn = [at_step(d[0][1], s) for s in range(ref["shown"])]
            series[name] = [v if math.isfinite(v) or name not in ref else float(ref[name][s])
                            for s, v in enumerate(drawn)]
    sup = series.get("support", list(ref["support"]))

    def need(pattern, name, step, what):
        for m in re.finditer(pattern, cap):
            vals = series.get(name)
            if vals is None or step >= len(vals) or not close(m.group(1), vals[step]):
                out.append(f"the caption says {what} {m.group(1)}, the chart draws "
                           f"{vals[step] if vals and step < len(vals) else 'nothing'}")

    need(rf"error on the whole true curve is ({NUM}) \(before adapting", "grid_error", S,
         f"the error on the curve after {S} steps is")
    need(rf"error on the whole true curve is {NUM} \(before adapting: ({NUM})\)", "grid_error", 0,
         "the error on the curve before adapting is")
    need(rf"on the points it sees (?:is )?({NUM}) \(before", "support", S, "the error on the points is")
    need(rf"on the points it sees (?:is )?{NUM} \(before: ({NUM})\)", "support", 0,
         "the error on the points before adapting is")
    need(rf"loss on the examples is ({NUM})", "support", S, "the loss is")
    need(rf"loss on the examples is {NUM} \(before: ({NUM})\)", "support", 0,
         "the loss before adapting is")
    if S == 0:
        need(rf"Before adapting the error on the whole true curve is ({NUM})", "grid_error", 0,
             "the error on the curve is")
    for m in re.finditer(r"puts (\d+)% of the task's \d+ new points", cap):
        acc = series.get("accuracy")
        if not acc or int(m.group(1)) != round(100 * acc[S]):
            out.append(f"the caption says {m.group(1)}% correct, the chart draws {acc and acc[S]}")
    for m in re.finditer(r"after (\d+) (?:gradient )?steps?\b", cap, flags=re.I):
        if int(m.group(1)) != S:
            out.append(f"the caption speaks of step {m.group(1)}, the chart shows step {S}")
    # claims about the shape of the curves
    t = _first_rise(sup)
    said = [(int(m.group(1)), m.group(2), m.group(3)) for m in re.finditer(
        rf"At step (\d+) the (?:error on the points it sees|error on your points|loss on the "
        rf"examples) rises \(({NUM}) → ({NUM})\)", cap)]
    if t is not None and not any(s == t for s, _, _ in said):
        out.append(f"the error on the points rises at step {t} and the caption does not say so")
    for s, a, b in said:
        if s != t or not (close(a, sup[s - 1]) and close(b, sup[s]) and number(b) > number(a)):
            out.append(f"the caption says the error on the points rises at step {s} ({a} → {b}); "
                       f"the chart's first rise is at {t}")
    if re.search(r"each step[^.]*a little better", cap) and t is not None:
        out.append(f"the caption says each step fits the points a little better, but the error on "
                   f"the points rises at step {t}")
    ge = series.get("grid_error")
    if ge:
        over = next((s for s in range(1, len(ge)) if ge[s] > ge[s - 1] * (1 + RISE)
                     and sup[s] < sup[s - 1]), None)
        m = re.search(r"At step (\d+) the error on the curve rises", cap)
        if (m is None) != (over is None) or (m and int(m.group(1)) != over):
            out.append(f"over-fitting: the data show it at step {over}, the caption at "
                       f"{m and m.group(1)}")
    if "at chance" in cap and series.get("accuracy"):
        chance, a0 = 1 / ref["n_classes"], series["accuracy"][0]
        if abs(a0 - chance) > 0.1:
            out.append(f"the caption says it starts at chance ({chance:.0%}); the chart starts at {a0:.0%}")
    return out


def check_error_axes(snap, ref) -> list:
    """An error (or loss) axis holds every value drawn, between two of its ticks."""
    out = []
    for name in ("grid_error", "support"):
        if name not in ref:
            continue
        for c, t in traces_of(snap, name)[:1]:
            ax = c["axes"].get(t["yaxis"].replace("y", "yaxis"))
            v = _drawn(t, ref, name)
            v = v[np.isfinite(v) & ((v > 0) if ax["type"] == "log" else True)]
            if not len(v):
                continue
            if not all(_in(x, ax) for x in v):
                out.append(f"{t['name']}: values {v.min():.3g}..{v.max():.3g} do not fit the axis")
            ticks = [x for x in ax["ticks"] if _in(x, ax)]
            if not ticks or max(ticks) < v.max() * (1 - 1e-9) or min(ticks) > v.min() * (1 + 1e-9):
                out.append(f"{t['name']}: values {v.min():.3g}..{v.max():.3g} are not between two "
                           f"ticks of the axis ({ticks})")
    return out


def problems(snap, ref) -> list:
    """Every contradiction between the page's words, its chart and the engine."""
    return (check_engine(snap, ref) + check_words_of_baselines(snap, ref) + check_legends(snap)
            + check_off_chart(snap, ref) + check_edge_marks_named(snap) + check_blowup(snap, ref)
            + check_overlaps(snap)
            + check_caption(snap, ref) + check_error_axes(snap, ref))

/* maml-viz Playground view (window.MamlPgView): what the Playground draws and says about one
adaptation computed by adapt.js, as plain data: Plotly traces and layouts for each panel, the
title, the warnings and the caption. Pure functions of the engine's arrays (no DOM), so that
every number and claim in the words comes from the arrays the chart draws, and a test can
check one against the other (tests/test_playground_view.py, tests/test_browser_playground.py).

  build(ctx) -> {kind, panels: [{name, title, data, layout, maps?}], title, notes,
                 caption: [sentences], step, shown, blowup, facts}
  draw(box, panel, config): the one part that touches the DOM: a panel into its box (HTML title
                 and legend, the plot by Plotly.react or, when only values moved, Plotly.animate
                 without a redraw; the class maps as images)
  ctx: {payload, eng, res (eng.adapt), sup (eng.support), step, lr (number: the α used; null:
        Meta-SGD's learned per-weight sizes), label, color, phone}

Honest values: the prediction panel's y axis is fixed per family; a curve or point that leaves
it gets a triangle on the edge with its value written beside it and named in the legend. The
error panels' axes come from the data drawn (log decades that hold every value), so nothing
there is clipped; an exact zero (log axis) is a ▼ with "0". A blow-up is one step b (adapt.js,
as the engine's blowup_step): the curves stop at b − 1, the warning and the ✕ both say b.
*/
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.MamlPgView = factory();
}(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  const GREY = "#9E9E9E", SUPPORT = "#555555";
  const CLASS_COLORS = ["#9E303B", "#6F33B8", "#9B4519", "#0C5A44", "#244FB4", "#686255", "#956B0F"];
  const RISE = 1e-3;          // a change smaller than this (relative) is not called a rise

  // ------------------------------------------------------------------------- words
  /** A number as the page writes it: 3 significant digits, small ones in e-notation. */
  function fmt(v) {
    if (v === 0) return "0";
    if (!isFinite(v)) return String(v);
    const a = Math.abs(v);
    const t = a >= 1000 ? a.toFixed(0) : a >= 0.01 ? String(Number(a.toPrecision(3)))
      : a.toExponential(1).replace("e-", "e−");
    return (v < 0 ? "−" : "") + t;
  }
  const pct = (v) => Math.round(100 * v) + "%";
  const plural = (n, w) => n + " " + w + (n === 1 ? "" : "s");
  const lrText = (v) => String(Number(Number(v).toPrecision(4)));

  /** What the start is, in words a newcomer can hold (baselines are never "meta-learned"). */
  function startWords(run, label) {
    if (!run.baseline) return label + "'s meta-learned start";
    if (!run.trained) return "a randomly initialised network (never trained: the random-init baseline)";
    return "the pretrained network (trained on many tasks' points pooled together, not meta-learned)";
  }

  function stepWords(ctx) {
    return ctx.lr === null ? "with the step size Meta-SGD learned for each weight"
      : "of size α = " + lrText(ctx.lr);
  }

  /** The first step t >= 1 where a[t] rises above a[t-1] (within the n values shown), or -1. */
  function firstRise(a, n) {
    for (let t = 1; t < n; t++) if (a[t] > a[t - 1] * (1 + RISE) + 1e-30) return t;
    return -1;
  }

  /** The sentence that explains a rising error on the points where the data show one. */
  function riseSentence(ctx, a, n, what) {
    const t = firstRise(a, n);
    if (t < 0) return null;
    const run = ctx.payload.run;
    const head = "At step " + t + " the " + what + " rises (" + fmt(a[t - 1]) + " → " + fmt(a[t]) + "): ";
    if (ctx.lr === null)
      return head + "Meta-SGD learned its step size for each weight to do best in " +
        plural(run.inner_steps, "step") + " (as it was trained), and more such steps overshoot.";
    return head + "with α = " + lrText(ctx.lr) + " a step overshoots here (too large a step for " +
      "this network on these points; a smaller α would not).";
  }

  // ------------------------------------------------------------------------- honest marks
  /** Runs of consecutive values beyond [lo, hi]: one mark per run at its most extreme value
   *  (each: true, for points: one mark per point). */
  function beyond(xs, ys, lo, hi, each) {
    const out = [];
    let cur = null;
    for (let i = 0; i < ys.length; i++) {
      const v = ys[i], side = !isFinite(v) ? 0 : v > hi ? 1 : v < lo ? -1 : 0;
      if (side && cur && cur.side === side && !each) {
        if (side * v > side * cur.v) { cur.v = v; cur.x = xs[i]; }
      } else if (side) { cur = { side: side, v: v, x: xs[i] }; out.push(cur); } else cur = null;
    }
    return out;
  }

  /** Triangles on the edge for the marks of beyond(), their values written beside them and
   *  listed in the legend entry. */
  function edgeTrace(marks, lo, hi, name, color, axes) {
    const vals = marks.map((m) => (m.side > 0 ? "▲ " : "▼ ") + fmt(m.v));
    return Object.assign({
      type: "scatter", mode: "markers+text", cliponaxis: false, showlegend: true,
      name: name + " off the chart: " + vals.slice(0, 3).join(", ") + (vals.length > 3 ? ", …" : ""),
      x: marks.map((m) => m.x), y: marks.map((m) => (m.side > 0 ? hi : lo)),
      text: marks.map((m) => fmt(m.v)), customdata: marks.map((m) => m.v),
      textposition: marks.map((m) => (m.side > 0 ? "bottom center" : "top center")),
      textfont: { color: color, size: 12 },
      marker: { symbol: marks.map((m) => (m.side > 0 ? "triangle-up" : "triangle-down")), size: 12,
                color: color, line: { color: "white", width: 1 } },
      hovertemplate: "off the chart: %{customdata:.4g}<extra></extra>",
    }, axes || {});
  }

  /** A log axis from the data: whole decades that hold every positive value drawn. */
  function logAxis(values) {
    let mn = Infinity, mx = -Infinity;
    for (const v of values) if (v > 0 && isFinite(v)) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
    if (mn === Infinity) { mn = 0.1; mx = 1; }
    let lo = Math.floor(Math.log10(mn)), hi = Math.ceil(Math.log10(mx));
    if (hi - lo < 1) hi = lo + 1;
    const every = hi - lo > 12 ? 4 : hi - lo > 8 ? 3 : hi - lo > 5 ? 2 : 1, ticks = [];
    lo = hi - every * Math.ceil((hi - lo) / every);         // the lowest decade is a tick too
    for (let e = hi; e >= lo; e -= every) ticks.unshift(Math.pow(10, e));
    const pad = 0.04 * (hi - lo);
    return { type: "log", range: [lo - pad, hi + pad], tickvals: ticks,
             ticktext: ticks.map((t) => (t >= 1e-3 && t < 1e5 ? String(Number(t.toPrecision(1)))
                                                         : "1e" + Math.round(Math.log10(t)).toString().replace("-", "−"))),
             bottom: Math.pow(10, lo - pad), top: Math.pow(10, hi + pad) };
  }

  /** A linear axis from 0 to a tick at or above every value drawn (the loss on the examples). */
  function lossAxis(values, floor) {
    let mx = floor;
    for (const v of values) if (isFinite(v)) mx = Math.max(mx, v);
    const raw = mx / 3, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((d) => d >= raw);
    const n = Math.ceil(mx / step - 1e-9), ticks = [];
    for (let i = 0; i <= n; i++) ticks.push(Number((i * step).toPrecision(6)));
    const top = n * step;
    return { range: [0, top * 1.04], tickvals: ticks, bottom: 0, top: top * 1.04 };
  }

  /** The error / loss curves after each step, the step shown, zeros on a log axis, and the ✕
   *  of a blow-up: traces for one panel (axes: {xaxis, yaxis} names). */
  function stepCurves(curves, n, S, ax, blowup, axes, log) {
    const data = [], xs = [...Array(n).keys()];
    for (const c of curves) {
      const y = Array.from(c.values.slice(0, n));
      data.push(Object.assign({ type: "scatter", mode: "lines+markers", name: c.name, x: xs, y: y,
        line: { color: c.color, width: 2, dash: c.dash }, marker: { size: 5, color: c.color },
        hovertemplate: "%{y:.3g} after %{x} steps<extra></extra>" }, axes));
      const zeros = log ? xs.filter((i) => y[i] === 0) : [];
      if (zeros.length)
        data.push(Object.assign({ type: "scatter", mode: "markers+text", cliponaxis: false,
          name: c.name + " off the chart: ▼ 0 (a log axis has no 0)", x: zeros,
          y: zeros.map(() => ax.bottom), text: zeros.map(() => "0"), textposition: "top center",
          marker: { symbol: "triangle-down", size: 12, color: c.color } }, axes));
    }
    data.push(Object.assign({ type: "scatter", mode: "markers", name: "the step shown (" + S + ")",
      x: curves.map(() => S), y: curves.map((c) => c.values[S]), cliponaxis: false,
      marker: { size: 12, color: curves.map((c) => c.color), line: { color: "white", width: 2 } },
      hoverinfo: "skip" }, axes));
    if (blowup !== null)
      data.push(Object.assign({ type: "scatter", mode: "markers+text", cliponaxis: false,
        name: "✕ blew up at step " + blowup + " (too large to draw)", x: [blowup], y: [ax.top],
        text: ["blew up at step " + blowup],
        // beside the ✕ where the curves are not: they stop at the step before it
        textposition: blowup <= ax.steps - 3 ? "middle right" : "bottom left",
        textfont: { color: "#B00020", size: 12 },
        marker: { symbol: "x-thin", size: 14, color: "#B00020", line: { color: "#B00020", width: 3 } },
        hoverinfo: "skip" }, axes));
    return data;
  }

  /** Ticks outside the plot on every axis (x and y tick labels never meet in a corner). */
  function ticksOut(layout) {
    for (const k in layout) if (/^[xy]axis\d*$/.test(k))
      layout[k] = Object.assign({ ticks: "outside", ticklen: 4, tickcolor: "rgba(0,0,0,0)" }, layout[k]);
    return layout;
  }

  function baseLayout(ctx, height) {
    return { height: height, autosize: true, dragmode: false, hovermode: "closest",
             font: { size: ctx.phone ? 12 : 13, color: "rgb(49, 51, 63)",
                     family: '"Source Sans", "Source Sans Pro", sans-serif' }, paper_bgcolor: "rgba(0,0,0,0)",
             plot_bgcolor: "white", showlegend: false,
             margin: { l: ctx.phone ? 42 : 52, r: 12, t: 14, b: 46 } };
  }

  /** Each panel's title and legend are HTML around its plot (draw(), below): Plotly draws the
   *  plot alone, so a legend never covers an axis title, a mark or a label, and words change
   *  without redrawing the plot. A panel's legend: its traces with showlegend not false. */
  function finish(panels) {
    for (const p of panels) {
      p.title = p.layout.title;
      delete p.layout.title;
    }
    return panels;
  }

  const title = (text) => text;

  function commonNotes(ctx) {
    const notes = [], res = ctx.res, run = ctx.payload.run;
    if (res.blowup !== null)
      notes.push(ctx.label + ": the predictions blew up at step " + res.blowup + " (numbers too " +
        "large to draw) with step size α = " + lrText(ctx.lr === null ? ctx.payload.inner_lr : ctx.lr) +
        (ctx.lr === null ? " (learned per weight)" : "") + ". The chart shows steps 0–" +
        (res.blowup - 1) + "; lower α to see more.");
    if (ctx.onlyWithoutPoints)
      notes.push("“Use only my points” is on but you have no points yet: showing the task's.");
    if (ctx.outside) notes.push(ctx.outside);
    void run;
    return notes;
  }

  function whatItFits(sup, task, mine) {
    if (sup.task === null) return "your " + plural(sup.mineN, "point");
    return task + (sup.mineN ? " and your " + sup.mineN : "");
  }

  // ------------------------------------------------------------------------- regression
  function regression(ctx) {
    const P = ctx.payload, fam = P.family, res = ctx.res, sup = ctx.sup, eng = ctx.eng;
    const shown = res.shown, S = Math.max(0, Math.min(ctx.step, shown - 1)), col = ctx.color;
    const x = Array.from(eng.grid), [lo, hi] = fam.value_range;
    const task = sup.task === null ? null : eng.task(sup.task);
    const before = Array.from(res.preds[0]), after = Array.from(res.preds[S]);
    const afterName = ctx.label + " after " + plural(S, "step");
    const L = [];                                      // the curve panel
    if (task) L.push({ type: "scatter", mode: "lines", name: "true function", x: x, y: Array.from(task.true),
      line: { color: "black", dash: "dash", width: 2 }, hoverinfo: "skip" });
    L.push({ type: "scatter", mode: "lines", name: "before adapting (step 0)", x: x, y: before,
      line: { color: GREY, width: 2.5, dash: "dot" }, hovertemplate: "before: %{y:.2f}<extra></extra>" });
    L.push({ type: "scatter", mode: "lines", name: afterName, x: x, y: after,
      line: { color: col, width: 3 }, hovertemplate: "after: %{y:.2f}<extra></extra>" });
    const tx = [], ty = [], mx = [], my = [];
    for (let i = 0; i < sup.n; i++) {
      (i < sup.taskN ? tx : mx).push(sup.x[i]);
      (i < sup.taskN ? ty : my).push(sup.y[i]);
    }
    if (tx.length) L.push({ type: "scatter", mode: "markers", name: "the task's " + tx.length + " points",
      x: tx, y: ty, marker: { color: "black", size: 10, line: { color: "white", width: 1.5 } },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<extra>the task's</extra>" });
    if (mx.length) L.push({ type: "scatter", mode: "markers", name: "your " + plural(mx.length, "point") +
      " (drag to move)", x: mx, y: my,
      marker: { color: "#FFFFFF", size: 13, symbol: "diamond", line: { color: "black", width: 2.5 } },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<extra>yours</extra>" });
    // marks on the edge where a curve (or a point) leaves the chart: in its curve's legend group
    const edges = [["before adapting", before, GREY, "before"], [afterName, after, col, "after"],
                   ["your points", my, "black", "mine"]];
    for (const [name, ys, c, group] of edges) {
      const m = group === "mine" ? beyond(mx, ys, lo, hi, true) : beyond(x, ys, lo, hi);
      if (m.length) L.push(edgeTrace(m, lo, hi, name, c, { legendgroup: group }));
    }
    for (const t of L) if (!t.legendgroup)        // (stable: a group is part of the plot's structure)
      t.legendgroup = t.name.startsWith("before") ? "before" : t.name === afterName ? "after"
        : t.name.startsWith("your") ? "mine" : t.name.startsWith("the task's") ? "task" : "true";
    const left = Object.assign(baseLayout(ctx, ctx.phone ? 290 : 330), {
      title: title("the curve it predicts"),
      xaxis: { range: fam.x_range, title: { text: "x", standoff: 2 }, fixedrange: true, zeroline: false },
      yaxis: { range: [lo, hi], title: { text: "y", standoff: 4 }, fixedrange: true, zeroline: false } });

    // the error panel: every value drawn inside the axis (decades from the data)
    const n = shown, curves = [];
    if (res.gridError) curves.push({ name: "error on the whole true curve", values: res.gridError, color: col, dash: "solid" });
    curves.push({ name: sup.task === null ? "error on your points" : "error on the points it sees",
                  values: res.support, color: SUPPORT, dash: "dot" });
    const ax = Object.assign(logAxis([].concat(...curves.map((c) => Array.from(c.values.slice(0, n))))),
                             { steps: res.steps });
    const R = stepCurves(curves, n, S, ax, res.blowup, {}, true);
    const right = Object.assign(baseLayout(ctx, ctx.phone ? 250 : 330), {
      title: title("its error after each step"),
      xaxis: { range: [-0.4, res.steps + 0.4], title: { text: "gradient steps", standoff: 2 },
               dtick: res.steps <= 20 ? 1 : 5, fixedrange: true, zeroline: false },
      yaxis: { type: "log", range: ax.range, tickvals: ax.tickvals, ticktext: ax.ticktext,
               title: { text: ctx.phone ? "error (log)" : "mean squared error (log)", standoff: 4 },
               fixedrange: true } });

    // the words, from the same arrays
    const sp = res.support, ge = res.gridError, what = whatItFits(sup, "the task's " + plural(sup.taskN, "point"));
    const cap = ["Grey dotted: " + startWords(P.run, ctx.label) + ", before it sees anything of this task."];
    cap.push("Coloured: after " + plural(S, "gradient step") + " " + stepWords(ctx) + " to fit " + what +
      (S === 0 ? " (none yet: the same curve)" : "") + (task ? "; dashed: the true function." : "."));
    const pts = sup.task === null ? "on your points" : "on the points it sees";
    if (S === 0)
      cap.push("Before adapting the error " + (ge ? "on the whole true curve is " + fmt(ge[0]) + ", " : "is ") +
        fmt(sp[0]) + " " + pts + ".");
    else
      cap.push("After " + plural(S, "step") + " the error " + (ge ? "on the whole true curve is " + fmt(ge[S]) +
        " (before adapting: " + fmt(ge[0]) + "), " : "") + pts + (ge ? " " : " is ") + fmt(sp[S]) +
        " (before: " + fmt(sp[0]) + ").");
    const rise = riseSentence(ctx, sp, n, sup.task === null ? "error on your points" : "error on the points it sees");
    if (rise) cap.push(rise);
    if (ge) {
      for (let t = 1; t < n; t++) if (ge[t] > ge[t - 1] * (1 + RISE) && sp[t] < sp[t - 1]) {
        cap.push("At step " + t + " the error on the curve rises (" + fmt(ge[t - 1]) + " → " + fmt(ge[t]) +
          ") while the error on the points falls (" + fmt(sp[t - 1]) + " → " + fmt(sp[t]) + "): over-fitting, " +
          "learning the few points by heart instead of the curve.");
        break;
      }
    }
    if (res.blowup !== null) cap.push("The predictions blew up at step " + res.blowup + " (✕ " +
      (ctx.phone ? "below" : "on the right") + "): the chart stops at step " + (res.blowup - 1) + ".");
    if (L.some((t) => (t.name || "").includes("off the chart")))
      cap.push("Triangles on the edge of the curve's chart mark where a curve leaves it, with the value there.");
    cap.push((ctx.phone ? "Below" : "Right") + ": the error after each step (log scale). " +
      "Click or tap the curve's chart to add a point; drag your points to move them.");
    return { kind: "regression", step: S, shown: shown, blowup: res.blowup, caption: cap,
             notes: commonNotes(ctx),
             title: ctx.label + " adapting to " + (task ? "a new task · " + task.describe : "your points") +
               " · " + plural(sup.n, "point") + ", α = " + (ctx.lr === null ? "learned per weight" : lrText(ctx.lr)),
             panels: finish([{ name: "curve", data: L, layout: ticksOut(left) },
                             { name: "error", data: R, layout: ticksOut(right) }]),
             facts: { S: S, support: sp.slice(0, n), gridError: ge ? ge.slice(0, n) : null } };
  }

  // ------------------------------------------------------------------------- 2-D classes
  /** A class's colour at 30% over white (the regions under the points), as [r, g, b]. */
  function regionRGB(c) {
    const h = CLASS_COLORS[c % CLASS_COLORS.length].slice(1);
    return [0, 2, 4].map((o) => Math.round(255 - 0.3 * (255 - parseInt(h.slice(o, o + 2), 16))));
  }

  function classPoints(xy, labels, name, size, opts) {
    opts = opts || {};
    const xs = [], ys = [];
    for (let i = 0; i < labels.length; i++) { xs.push(xy[2 * i]); ys.push(xy[2 * i + 1]); }
    const big = size >= 12;
    return { type: "scatter", mode: big ? "markers+text" : "markers", name: name, x: xs, y: ys,
             text: labels.map(String), textfont: { size: 9, color: "white" }, opacity: opts.opacity || 1,
             showlegend: opts.showlegend !== false, cliponaxis: false,
             marker: { color: labels.map((c) => CLASS_COLORS[c % CLASS_COLORS.length]), size: size,
                       symbol: opts.symbol || "circle",
                       line: { color: opts.outline || "black", width: big ? 1.5 : 0 } },
             hovertemplate: "class %{text}<extra>" + name + "</extra>" };
  }

  function classes(ctx) {
    const P = ctx.payload, fam = P.family, res = ctx.res, sup = ctx.sup, eng = ctx.eng;
    const C = fam.n_classes, shown = res.shown, S = Math.max(0, Math.min(ctx.step, shown - 1));
    const g = Array.from(eng.gridAxis), G = g.length, half = (g[G - 1] - g[0]) / (G - 1) / 2;
    const split = (from, to) => {
      const xy = [], lab = [];
      for (let i = from; i < to; i++) { xy.push(sup.x[2 * i], sup.x[2 * i + 1]); lab.push(sup.y[i]); }
      return [xy, lab];
    };
    const [txy, tl] = split(0, sup.taskN), [mxy, ml] = split(sup.taskN, sup.n);
    const task = sup.task === null ? null : eng.task(sup.task);
    // the maps: before adapting (x, y) and after S steps (x2, y2), one legend for both; the
    // predicted classes are images under the points (draw() paints them from `maps`)
    const lim = [g[0] - half, g[G - 1] + half];
    const mapsZ = [{ name: "predicted class before adapting", z: eng.classesOf(res.predsAt(0)), G: G,
                     C: C, xref: "x", yref: "y" },
                   { name: "predicted class after " + plural(S, "step"), z: eng.classesOf(res.predsAt(S)),
                     G: G, C: C, xref: "x2", yref: "y2" }];
    const M = [];
    for (const ax of [{ xaxis: "x", yaxis: "y" }, { xaxis: "x2", yaxis: "y2" }]) {
      const after = ax.xaxis === "x2";
      if (after && task) {
        const Q = eng.queryN, per = Q / C, lab = [];
        for (let i = 0; i < Q; i++) lab.push(Math.floor(i / per));
        M.push(Object.assign(classPoints(task.xq, lab, "new points of the task (scored)", 6,
          { opacity: 0.75 }), ax));
      }
      if (tl.length) M.push(Object.assign(classPoints(txy, tl, "labelled examples", 15,
        { showlegend: after }), ax, { legendgroup: "task" }));
      if (ml.length) M.push(Object.assign(classPoints(mxy, ml, "your examples (drag to move)", 17,
        { outline: "white", symbol: "diamond", showlegend: after }), ax, { legendgroup: "mine" }));
    }
    const mapAxis = (dom, anchor) => ({ domain: dom, range: lim, constrain: "domain", fixedrange: true,
      zeroline: false, anchor: anchor, title: { text: "x₁", standoff: 2 } });
    const ml_ = ctx.phone ? 34 : 44, side_ = Math.round(0.47 * ((ctx.width || 460) - ml_ - 6));
    const maps = Object.assign(baseLayout(ctx, side_ + 14 + 46), {
      title: "left: before adapting · right: after " + plural(S, "step"),
      margin: { l: ml_, r: 6, t: 14, b: 46 },
      xaxis: mapAxis([0, 0.47], "y"), xaxis2: mapAxis([0.53, 1], "y2"),
      yaxis: { range: lim, scaleanchor: "x", scaleratio: 1, constrain: "domain", fixedrange: true,
               zeroline: false, anchor: "x", title: { text: "x₂", standoff: 2 } },
      yaxis2: { range: lim, scaleanchor: "x2", scaleratio: 1, constrain: "domain", fixedrange: true,
                zeroline: false, anchor: "x2" },
      images: mapsZ.map((m) => ({ xref: m.xref, yref: m.yref, x: lim[0], y: lim[1], sizex: lim[1] - lim[0],
                                  sizey: lim[1] - lim[0], xanchor: "left", yanchor: "top",
                                  sizing: "stretch", layer: "below", source: "" })) });
    // the curves: accuracy on the new points, loss on the examples (one chart and legend each)
    const n = shown, sp = res.support, acc = res.queryAccuracy || null;
    const la = Object.assign(lossAxis(Array.from(sp.slice(0, n)), 1), { steps: res.steps });
    const xr = [-0.4, res.steps + 0.4], dt = res.steps <= 20 ? 1 : 5;
    const stepsAxis = { range: xr, dtick: dt, fixedrange: true, title: { text: "gradient steps", standoff: 2 } };
    const curvePanels = [];
    if (acc) curvePanels.push({ name: "accuracy",
      data: stepCurves([{ name: "accuracy on the new points", values: acc, color: ctx.color, dash: "solid" }],
                       n, S, { bottom: 0, top: 1, steps: res.steps }, null, {}, false),
      layout: ticksOut(Object.assign(baseLayout(ctx, ctx.phone ? 150 : 140), {
        title: title("accuracy after each step"), xaxis: stepsAxis,
        yaxis: { range: [-0.03, 1.03], tickvals: [0, 0.5, 1], ticktext: ["0%", "50%", "100%"],
                 title: { text: "accuracy", standoff: 4 }, fixedrange: true } })) });
    curvePanels.push({ name: "loss",
      data: stepCurves([{ name: "loss on the examples", values: sp, color: SUPPORT, dash: "dot" }],
                       n, S, la, res.blowup, {}, false),
      layout: ticksOut(Object.assign(baseLayout(ctx, ctx.phone ? 150 : 140), {
        title: title("loss after each step"), xaxis: stepsAxis,
        yaxis: { range: la.range, tickvals: la.tickvals, title: { text: "loss", standoff: 4 },
                 fixedrange: true } })) });
    const what = whatItFits(sup, "the " + plural(sup.taskN, "labelled example"));
    const side = ctx.phone ? "below" : "on the right";
    const cap = ["Colours: the class the network predicts at each spot. Left map: " + startWords(P.run, ctx.label) +
      ", before it sees the examples; right map: after " + plural(S, "gradient step") + " " + stepWords(ctx) +
      " on " + what + "."];
    if (acc) cap.push((S === 0 ? "Before adapting it puts " + pct(acc[0])
        : "After " + plural(S, "step") + " it puts " + pct(acc[S])) + " of the task's " + eng.queryN +
      " new points (small dots) in the right class" + (S === 0 ? "" : " (before adapting: " + pct(acc[0]) + ")") +
      "; guessing would give " + pct(1 / C) + " (each task shuffles which class is which).");
    cap.push((S === 0 ? "Its loss on the examples is " + fmt(sp[0]) : "Its loss on the examples is " + fmt(sp[S]) +
      " (before: " + fmt(sp[0]) + ")") + ".");
    const rise = riseSentence(ctx, sp, n, "loss on the examples");
    if (rise) cap.push(rise);
    if (res.blowup !== null) cap.push("The predictions blew up at step " + res.blowup + " (✕ " + side + "): " +
      "the maps stop at step " + (res.blowup - 1) + ".");
    cap.push("Click or tap a map to add an example of the chosen class; drag yours to move them.");
    return { kind: "classes", step: S, shown: shown, blowup: res.blowup, caption: cap, notes: commonNotes(ctx),
             title: ctx.label + " adapting to " + (task ? "a new task · " + task.describe : "your examples") +
               " · " + plural(sup.n, "example") + ", α = " + (ctx.lr === null ? "learned per weight" : lrText(ctx.lr)),
             panels: finish([{ name: "maps", data: M, layout: ticksOut(maps), maps: mapsZ }].concat(curvePanels)),
             facts: { S: S, support: sp.slice(0, n), accuracy: acc ? acc.slice(0, n) : null } };
  }

  function build(ctx) {
    return ctx.eng.classes ? classes(ctx) : regression(ctx);
  }

  // ------------------------------------------------------------------------- drawing (DOM)
  /** A map's classes ([G*G], row r = the grid's r-th y, x fastest) as a PNG data URL. */
  function mapURL(m) {
    const cv = document.createElement("canvas"), G = m.G;
    cv.width = G; cv.height = G;
    const ctx = cv.getContext("2d"), im = ctx.createImageData(G, G), rgb = [];
    for (let c = 0; c < m.C; c++) rgb.push(regionRGB(c));
    for (let r = 0; r < G; r++) for (let q = 0; q < G; q++) {
      const o = 4 * ((G - 1 - r) * G + q), col = rgb[m.z[r * G + q]];
      im.data[o] = col[0]; im.data[o + 1] = col[1]; im.data[o + 2] = col[2]; im.data[o + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
    return cv.toDataURL("image/png");
  }

  const SVGNS = "http://www.w3.org/2000/svg";
  const PATHS = { "triangle-up": "M7,1 L13,12 L1,12 Z", "triangle-down": "M1,2 L13,2 L7,13 Z",
                  "diamond": "M7,1 L13,7 L7,13 L1,7 Z", "x-thin": "M2,2 L12,12 M12,2 L2,12" };
  /** A legend entry's picture: the trace's line (colour, dash) and/or its marker. */
  function swatch(t) {
    const svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("width", "30"); svg.setAttribute("height", "14"); svg.setAttribute("viewBox", "0 0 30 14");
    const line = t.line || {}, mk = t.marker || {};
    if ((t.mode || "").includes("lines")) {
      const l = document.createElementNS(SVGNS, "line");
      Object.entries({ x1: 1, y1: 7, x2: 29, y2: 7, stroke: line.color || "#444",
                       "stroke-width": Math.min(line.width || 2, 3),
                       "stroke-dasharray": { dot: "2,3", dash: "6,3", dashdot: "6,3,2,3" }[line.dash] || "" })
        .forEach(([k, v]) => l.setAttribute(k, v));
      svg.append(l);
    }
    if ((t.mode || "").includes("markers")) {
      const sym = [].concat(mk.symbol || "circle")[0], col = [].concat(mk.color || "#444")[0];
      const g = document.createElementNS(SVGNS, "g");
      g.setAttribute("transform", "translate(8,0)");
      let e;
      if (PATHS[sym]) { e = document.createElementNS(SVGNS, "path"); e.setAttribute("d", PATHS[sym]); }
      else { e = document.createElementNS(SVGNS, "circle"); e.setAttribute("cx", 7); e.setAttribute("cy", 7);
             e.setAttribute("r", Math.min(6, Math.max(3, (mk.size || 8) / 2.4))); }
      const outline = mk.line && mk.line.width ? mk.line.color : null;
      e.setAttribute("fill", sym === "x-thin" ? "none" : col);
      e.setAttribute("stroke", sym === "x-thin" ? col : outline || "none");
      e.setAttribute("stroke-width", sym === "x-thin" ? 2.5 : 1.5);
      g.append(e); svg.append(g);
    }
    return svg;
  }

  /** What must be redrawn from scratch when it changes: everything but the drawn values. */
  function structure(panel) {
    const skip = { x: 1, y: 1, text: 1, customdata: 1, name: 1, hovertemplate: 1 };
    const traces = panel.data.map((t) => {
      const o = {};
      for (const k in t) if (!skip[k]) o[k] = t[k];
      if (t.marker && Array.isArray(t.marker.color))       // colours per point move with them
        o.marker = Object.assign({}, t.marker, { color: "per point" });
      return o;
    });
    const L = Object.assign({}, panel.layout, { images: (panel.layout.images || []).length,
                                                 annotations: (panel.layout.annotations || []).length });
    return JSON.stringify([traces, L]);
  }

  /** Draw one panel into its box: the title and the legend as HTML, the plot with Plotly.react
   *  when its structure changed, else Plotly.animate without a redraw (the values move: several
   *  times cheaper), the class maps as images. Draws are coalesced: a panel still drawing takes
   *  the newest request when it is done. Resolves when the plot is drawn. */
  function draw(box, panel, config) {
    const plot = box.querySelector("[data-panel]");
    plot.__pgNext = panel;
    if (!plot.__pgBusy) plot.__pgBusy = (async () => {
      while (plot.__pgNext) {
        const p = plot.__pgNext;
        plot.__pgNext = null;
        await drawNow(box, plot, p, config);
      }
      plot.__pgBusy = null;
    })();
    return plot.__pgBusy;
  }

  async function drawNow(box, plot, panel, config) {
    box.querySelector("[data-ptitle]").textContent = panel.title || "";
    const legend = box.querySelector("[data-legend]");
    const entries = panel.data.filter((t) => t.showlegend !== false && t.type !== "heatmap");
    legend.replaceChildren(...entries.map((t) => {
      const e = document.createElement("span");
      e.className = "pg-entry"; e.dataset.name = t.name;
      e.append(swatch(t), document.createTextNode(t.name));
      return e;
    }));
    const L = panel.layout, urls = (panel.maps || []).map(mapURL);
    urls.forEach((u, i) => { L.images[i].source = u; });
    plot.__pgMaps = (panel.maps || []).map((m) => ({ name: m.name, z: m.z, G: m.G }));
    const key = structure(panel);
    if (plot.__pgKey !== key || !plot._fullLayout) {
      plot.style.height = L.height + "px";
      plot.__pgRedrawn = (plot.__pgRedrawn || 0) + 1;      // (counted for the tests)
      await window.Plotly.react(plot, panel.data, L, config);
      plot.__pgKey = key;
      return;
    }
    const same = (a, b) => a === b || (a && b && a.length === b.length && a.every((v, i) => v === b[i]));
    const moved = [];                              // only the traces whose values changed
    panel.data.forEach((t, i) => {
      const o = plot.data[i];
      const colors = (m) => (m && Array.isArray(m.color) ? m.color : null);
      if (!(same(t.x, o.x) && same(t.y, o.y) && same(t.text, o.text) && same(t.customdata, o.customdata)
            && same(colors(t.marker), colors(o.marker))))
        moved.push(i);
    });
    if (moved.length) {
      plot.__pgMoved = (plot.__pgMoved || 0) + 1;          // (counted for the tests)
      await window.Plotly.animate(plot, {
        data: moved.map((i) => {
          const t = panel.data[i], d = { x: t.x, y: t.y, text: t.text, customdata: t.customdata };
          if (t.marker && Array.isArray(t.marker.color)) d.marker = { color: t.marker.color };
          return d; }),
        traces: moved },
        { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" });
    }
    panel.data.forEach((t, i) => {               // names: hover labels and what tests read
      if (plot.data[i]) plot.data[i].name = t.name;
      if (plot._fullData[i]) plot._fullData[i].name = t.name;
    });
    // a new map: its picture swapped in place (a relayout would redraw the whole figure)
    const imgs = plot.querySelectorAll(".imagelayer image");
    urls.forEach((u, i) => {
      if (plot.layout.images[i].source === u) return;
      plot.layout.images[i].source = u;
      if (plot._fullLayout.images[i]) plot._fullLayout.images[i].source = u;
      if (imgs[i]) { imgs[i].setAttribute("href", u); imgs[i].setAttributeNS("http://www.w3.org/1999/xlink", "xlink:href", u); }
    });
  }

  return { build: build, draw: draw, fmt: fmt, beyond: beyond, logAxis: logAxis,
           firstRise: firstRise, CLASS_COLORS: CLASS_COLORS,
           // shared with the Compare view (cmpview.js)
           edgeTrace: edgeTrace, ticksOut: ticksOut, baseLayout: baseLayout, finish: finish,
           classPoints: classPoints, plural: plural, lrText: lrText };
}));

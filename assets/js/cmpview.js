/* maml-viz Compare view (window.MamlCmpView): Compare's one-task chart, several runs adapting to
the same new task, as plain data built from adapt.js's arrays: Plotly traces and layouts for each
panel, the heading, the warnings and the caption. Pure functions (no DOM; drawing is
MamlPgView.draw), so that every number and ranking in the words comes from the arrays drawn and
a test can check one against the other (tests/test_compare_view.py). The engine stays the
reference: the same test requires the curves, errors and counts of maml_viz/views/compare.py's
compare_task to 1e-4.

  build(ctx) -> {kind, panels: [{name, title, data, layout, maps?}], head, notes, caption,
                 step, steps, facts}
  ctx: {runs: [{key, label, color, dash, payload, eng, res}], sup (the first engine's support),
        task (eng.task of the first engine), step, phone, width (a map panel's width)}

Each run adapts with the step size it was trained with (Meta-SGD: its learned ones), as the
server's chart does. A run whose predictions blow up at step b has nothing drawn from b on; the
✕ marks b on its error curve and a warning says so.
*/
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory(require("./pgview.js"));
  else root.MamlCmpView = factory(root.MamlPgView);
}(typeof self !== "undefined" ? self : this, function (V) {
  "use strict";
  const fmt = V.fmt, plural = V.plural;
  const DASH = { solid: "solid", dash: "dash", dot: "dot", dashdot: "dashdot", longdash: "longdash" };

  function lastShown(r, S) { return Math.min(S, r.res.shown - 1); }
  const blown = (r, S) => r.res.blowup !== null && S >= r.res.blowup;

  function blowupNote(r) {
    const P = r.payload;
    return r.label + ": the predictions blew up at step " + r.res.blowup + " (numbers too large to draw) " +
      "with step size α = " + V.lrText(P.inner_lr) + (P.lrs ? " (learned per weight)" : "") +
      ". The chart shows steps 0–" + (r.res.blowup - 1) + " for it.";
  }

  /** The ✕ of a run's blow-up step, at the top of a per-step chart (y: the axis's top). */
  function blowupMark(r, y) {
    return { type: "scatter", mode: "markers", cliponaxis: false, legendgroup: r.key,
             name: "✕ " + r.label + " blew up at step " + r.res.blowup, x: [r.res.blowup], y: [y],
             marker: { symbol: "x-thin", size: 14, color: r.color, line: { color: r.color, width: 3 } },
             hoverinfo: "skip" };
  }

  /** The step shown, one dot per run still drawn (value(r): its value there). */
  function shownMark(runs, S, value) {
    return { type: "scatter", mode: "markers", name: "the step shown (" + S + ")", x: runs.map(() => S),
             y: runs.map(value), cliponaxis: false, hoverinfo: "skip",
             marker: { size: 12, color: runs.map((r) => r.color), line: { color: "white", width: 2 } } };
  }

  /** "A (0.012), B (0.5) and C (3.1)" */
  function listing(items) {
    const t = items.map((it) => it[0] + " (" + it[1] + ")");
    return t.length < 2 ? t.join("") : t.slice(0, -1).join(", ") + " and " + t[t.length - 1];
  }

  /** The step sizes, in words: true for every run drawn (the baselines use the family default). */
  function stepSizeWords(runs) {
    const base = runs.filter((r) => r.payload.run.baseline);
    return "each with the step size it was trained with" + (base.length
      ? " (" + base.map((r) => r.label).join(" and ") + ", never meta-trained, with the family's default)" : "");
  }

  // ------------------------------------------------------------------------- regression
  function regression(ctx) {
    const runs = ctx.runs, first = runs[0], fam = first.payload.family, eng = first.eng, sup = ctx.sup;
    const steps = first.res.steps, S = Math.max(0, Math.min(ctx.step, steps));
    const x = Array.from(eng.grid), [lo, hi] = fam.value_range, task = ctx.task;
    const L = [{ type: "scatter", mode: "lines", name: "true function", x: x, y: Array.from(task.true),
                 line: { color: "black", dash: "dash", width: 2 }, hoverinfo: "skip", legendgroup: "true" }];
    const edges = [];
    for (const r of runs) {
      if (blown(r, S)) continue;
      const y = Array.from(r.res.preds[S]);
      L.push({ type: "scatter", mode: "lines", name: r.label, x: x, y: y, legendgroup: r.key,
               line: { color: r.color, width: 3, dash: DASH[r.dash] || "solid" },
               hovertemplate: r.label + ": %{y:.2f}<extra></extra>" });
      const m = V.beyond(x, y, lo, hi);
      if (m.length) edges.push(V.edgeTrace(m, lo, hi, r.label, r.color, { legendgroup: r.key }));
    }
    const px = [], py = [];
    for (let i = 0; i < sup.n; i++) { px.push(sup.x[i]); py.push(sup.y[i]); }
    L.push({ type: "scatter", mode: "markers", name: "the task's " + sup.n + " points", x: px, y: py,
             legendgroup: "task", marker: { color: "black", size: 10, line: { color: "white", width: 1.5 } },
             hovertemplate: "(%{x:.2f}, %{y:.2f})<extra>the task's</extra>" });
    L.push(...edges);
    const left = Object.assign(V.baseLayout(ctx, ctx.phone ? 290 : 360), {
      title: "the curve each predicts after " + plural(S, "step"),
      xaxis: { range: fam.x_range, title: { text: "x", standoff: 2 }, fixedrange: true, zeroline: false },
      yaxis: { range: [lo, hi], title: { text: "y", standoff: 4 }, fixedrange: true, zeroline: false } });

    // the errors on the whole true curve after each step: one curve per run, log axis from data
    const shownVals = [];
    for (const r of runs) shownVals.push(...Array.from(r.res.gridError.slice(0, r.res.shown)));
    const ax = V.logAxis(shownVals), xs = [...Array(steps + 1).keys()], R = [];
    for (const r of runs) {
      const n = r.res.shown, y = Array.from(r.res.gridError.slice(0, n));
      R.push({ type: "scatter", mode: "lines+markers", name: r.label, x: xs.slice(0, n), y: y,
               legendgroup: r.key, line: { color: r.color, width: 2, dash: DASH[r.dash] || "solid" },
               marker: { size: 5, color: r.color }, hovertemplate: r.label + ": %{y:.3g} after %{x} steps<extra></extra>" });
      const zeros = xs.slice(0, n).filter((i) => y[i] === 0);
      if (zeros.length)
        R.push({ type: "scatter", mode: "markers+text", cliponaxis: false, legendgroup: r.key,
                 name: r.label + " off the chart: ▼ 0 (a log axis has no 0)", x: zeros,
                 y: zeros.map(() => ax.bottom), text: zeros.map(() => "0"), textposition: "top center",
                 marker: { symbol: "triangle-down", size: 12, color: r.color } });
      if (r.res.blowup !== null) R.push(blowupMark(r, ax.top));
    }
    const at = runs.filter((r) => !blown(r, S));
    R.push(shownMark(at, S, (r) => r.res.gridError[S]));
    const right = Object.assign(V.baseLayout(ctx, ctx.phone ? 250 : 360), {
      title: "each one's error on the whole true curve",
      margin: { l: ctx.phone ? 50 : 66, r: 12, t: 14, b: 46 },       // room for "0.001" and the title
      xaxis: { range: [-0.4, steps + 0.4], title: { text: "gradient steps", standoff: 2 },
               dtick: steps <= 20 ? 1 : 5, fixedrange: true, zeroline: false },
      yaxis: { type: "log", range: ax.range, tickvals: ax.tickvals, ticktext: ax.ticktext,
               title: { text: ctx.phone ? "error (log)" : "mean squared error (log)", standoff: 4 },
               fixedrange: true } });

    // the words, from the same arrays
    const ranked = at.map((r) => [r.label, r.res.gridError[S]]).sort((a, b) => a[1] - b[1]);
    const cap = ["Each coloured curve is one run's network after " + plural(S, "gradient step") +
      " (the slider under the chart; ▶ plays them) on the same " + plural(sup.n, "black point") + ", " +
      stepSizeWords(runs) + "; dashed: the true function."];
    if (ranked.length)
      cap.push((S === 0 ? "Before adapting" : "After " + plural(S, "step")) + ", the error on the whole " +
        "true curve (mean squared), lowest first: " + listing(ranked.map((it) => [it[0], fmt(it[1])])) + ".");
    const gone = runs.filter((r) => blown(r, S));
    if (gone.length)
      cap.push(gone.map((r) => r.label + " blew up at step " + r.res.blowup).join("; ") +
        " (✕ on the error chart): nothing of it is drawn from there on.");
    cap.push("Beside it (below it on a phone): each one's error after every step, on a log scale. The averages " +
      "below choose each run's step size on validation tasks instead.");
    return { kind: "regression", step: S, steps: steps, caption: cap,
             panels: V.finish([{ name: "curve", data: L, layout: V.ticksOut(left) },
                               { name: "error", data: R, layout: V.ticksOut(right) }]),
             facts: { S: S, ranked: ranked, gridError: runs.map((r) => Array.from(r.res.gridError.slice(0, r.res.shown))) } };
  }

  // ------------------------------------------------------------------------- 2-D classes
  /** Whether each test point is predicted right after step s ([Q] booleans). */
  function rightAt(r, task, s) {
    const eng = r.eng, Q = eng.queryN, C = eng.family.n_classes, per = Q / C;
    const p = eng.model.forward(r.res.thetas[s], task.xq, Q, null), out = [];
    for (let i = 0; i < Q; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
      out.push(best === Math.floor(i / per));
    }
    return out;
  }

  function classes(ctx) {
    const runs = ctx.runs, first = runs[0], fam = first.payload.family, eng = first.eng, sup = ctx.sup;
    const C = fam.n_classes, steps = first.res.steps, S = Math.max(0, Math.min(ctx.step, steps));
    const task = ctx.task, Q = eng.queryN, per = Q / C;
    const g = Array.from(eng.gridAxis), G = g.length, half = (g[G - 1] - g[0]) / (G - 1) / 2;
    const lim = [g[0] - half, g[G - 1] + half];
    const txy = [], tl = [];
    for (let i = 0; i < sup.n; i++) { txy.push(sup.x[2 * i], sup.x[2 * i + 1]); tl.push(sup.y[i]); }
    const qlab = [];
    for (let i = 0; i < Q; i++) qlab.push(Math.floor(i / per));
    const side = ctx.phone ? ctx.width || 340 : ctx.width || 300;
    const panels = [], counts = [];
    runs.forEach((r, i) => {
      const gone = blown(r, S), ok = gone ? null : rightAt(r, task, S);
      const n = ok ? ok.filter(Boolean).length : null;
      counts.push([r.label, n]);
      const D = [V.classPoints(task.xq, qlab, "test points of the task (coloured by their true class)", 6,
                               { opacity: 0.8, showlegend: i === 0 })];
      const wx = [], wy = [];
      if (ok) ok.forEach((good, j) => { if (!good) { wx.push(task.xq[2 * j]); wy.push(task.xq[2 * j + 1]); } });
      D.push({ type: "scatter", mode: "markers", name: "× a test point it gets wrong", x: wx, y: wy,
               showlegend: i === 0, cliponaxis: false, hoverinfo: "skip",
               marker: { symbol: "x-thin", size: 9, color: "black", line: { color: "black", width: 2 } } });
      D.push(Object.assign(V.classPoints(txy, tl, "labelled examples", 15, { showlegend: i === 0 }),
                           { legendgroup: "task" }));
      const ml = ctx.phone ? 34 : 40;
      const layout = Object.assign(V.baseLayout(ctx, Math.round(side - ml - 6) + 14 + 40), {
        title: r.label + (gone ? ": blew up at step " + r.res.blowup
          : ctx.phone ? ": " + n + "/" + Q + " right" : ": " + n + " of " + Q + " right (" + Math.round(100 * n / Q) + "%)"),
        margin: { l: ml, r: 6, t: 10, b: 40 },
        xaxis: { range: lim, constrain: "domain", fixedrange: true, zeroline: false, title: { text: "x₁", standoff: 2 } },
        yaxis: { range: lim, scaleanchor: "x", scaleratio: 1, constrain: "domain", fixedrange: true,
                 zeroline: false, title: { text: "x₂", standoff: 2 } },
        images: gone ? [] : [{ xref: "x", yref: "y", x: lim[0], y: lim[1], sizex: lim[1] - lim[0],
                               sizey: lim[1] - lim[0], xanchor: "left", yanchor: "top", sizing: "stretch",
                               layer: "below", source: "" }] });
      panels.push({ name: "map" + i, data: D, layout: V.ticksOut(layout),
                    maps: gone ? [] : [{ name: "predicted class", z: r.eng.classesOf(r.res.predsAt(S)), G: G, C: C }] });
    });
    // accuracy on the test points after each step, one curve per run
    const xs = [...Array(steps + 1).keys()], A = [];
    for (const r of runs) {
      const n = r.res.shown;
      A.push({ type: "scatter", mode: "lines+markers", name: r.label, x: xs.slice(0, n),
               y: Array.from(r.res.queryAccuracy.slice(0, n)), legendgroup: r.key,
               line: { color: r.color, width: 2, dash: DASH[r.dash] || "solid" }, marker: { size: 5, color: r.color },
               hovertemplate: r.label + ": %{y:.0%} after %{x} steps<extra></extra>" });
      if (r.res.blowup !== null) A.push(blowupMark(r, 1.03));
    }
    const at = runs.filter((r) => !blown(r, S));
    A.push(shownMark(at, S, (r) => r.res.queryAccuracy[S]));
    panels.push({ name: "accuracy", data: A, layout: V.ticksOut(Object.assign(V.baseLayout(ctx, ctx.phone ? 200 : 190), {
      title: "each one's accuracy on the " + Q + " test points after each step",
      xaxis: { range: [-0.4, steps + 0.4], dtick: steps <= 20 ? 1 : 5, fixedrange: true,
               title: { text: "gradient steps", standoff: 2 } },
      yaxis: { range: [-0.03, 1.06], tickvals: [0, 0.5, 1], ticktext: ["0%", "50%", "100%"],
               title: { text: "accuracy", standoff: 4 }, fixedrange: true } })) });

    const cap = ["Each map is one run's predicted class over the plane after " + plural(S, "gradient step") +
      " (the slider under the chart; ▶ plays them), adapting to the same " + plural(sup.n, "labelled example") +
      " (big dots), " + stepSizeWords(runs) + ". The small dots are " + Q + " test points of the same task (" +
      per + " per class, coloured by their true class): a cross marks one the run gets wrong at that step, " +
      "and each map's title counts those it gets right."];
    const scored = counts.filter((c) => c[1] !== null).sort((a, b) => b[1] - a[1]);
    if (scored.length)
      cap.push((S === 0 ? "Before adapting" : "After " + plural(S, "step")) + ", right out of " + Q +
        ", most first: " + listing(scored.map((c) => [c[0], String(c[1])])) + "; guessing would get about " +
        Math.round(Q / C) + ".");
    const gone = runs.filter((r) => blown(r, S));
    if (gone.length)
      cap.push(gone.map((r) => r.label + " blew up at step " + r.res.blowup).join("; ") +
        ": its map is empty from there on (✕ on the accuracy chart).");
    return { kind: "classes", step: S, steps: steps, caption: cap, panels: V.finish(panels),
             facts: { S: S, counts: counts, accuracy: runs.map((r) => Array.from(r.res.queryAccuracy.slice(0, r.res.shown))) } };
  }

  function build(ctx) {
    const first = ctx.runs[0];
    const view = first.eng.classes ? classes(ctx) : regression(ctx);
    view.notes = ctx.runs.filter((r) => r.res.blowup !== null).map(blowupNote);
    const sup = ctx.sup, per = first.eng.classes ? sup.n / first.eng.family.n_classes : sup.n;
    view.head = "The same new task, adapted by each · " + ctx.task.describe + " · K = " + per;
    return view;
  }

  return { build: build, rightAt: rightAt };
}));

/* maml-viz Navigation view (window.MamlNavView): the Navigation page's plane and return panel
as plain data built from navroll.js's arrays (Plotly traces and layouts, the heading, the
warnings and the story under the chart), the same figure and words as the server's
(maml_viz/views/figures/navigation.py navigation_steps, views/navigation.py goal_story,
goal_note). Pure functions (no DOM; drawing is MamlPgView.draw), so that a test can check every
number in the words against the arrays drawn (tests/test_navigation_view.py).

  build(ctx) -> {panels: [{name: "plane" | "returns", title, data, layout}], head, notes, story}
  ctx: {res: {paths, ret, n, H}, ref: {label, color, ret} | null, goal, steps, step, label, color,
        adapting, show, range: [lo, hi] (the return axis), square: [low, high] (the goals the
        policy was trained on), extent, phone}
*/
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory(require("./pgview.js"));
  else root.MamlNavView = factory(root.MamlPgView);
}(typeof self !== "undefined" ? self : this, function (V) {
  "use strict";
  const BEFORE = "#9E9E9E", GOAL = "#D62728";
  const STEPS_TITLE = "policy-gradient steps";

  /** A return as the page writes it everywhere (views/navigation.py fmt). */
  function fmt(v) { return isFinite(v) ? v.toFixed(1) : "not a number"; }
  const after = (s) => (s === 0 ? "before adapting" : "after " + s + " step" + (s !== 1 ? "s" : ""));

  function nanArgmax(r) {
    let b = -1;
    r.forEach((v, i) => { if (isFinite(v) && (b < 0 || v > r[b])) b = i; });
    return b < 0 ? 0 : b;
  }

  /** views/navigation.py goal_story: what the chart shows at this goal, from its returns. */
  function story(label, r, adapting, ref) {
    const last = r.length - 1;
    let text;
    if (!adapting) {
      const fin = r.filter(isFinite);
      text = label + " is told the goal and never adapts: its average return stays between " +
        fmt(fin.length ? Math.min(...fin) : NaN) + " and " + fmt(fin.length ? Math.max(...fin) : NaN) +
        " (its tries differ only by chance).";
    } else {
      const shown = [0, 1].concat(last > 1 ? [last] : []), best = nanArgmax(r);
      text = "At this goal " + label + "'s average return goes from " +
        shown.map((s) => fmt(r[s]) + " " + after(s)).join(", to ") + ".";
      if (!shown.includes(best)) text += " Its best is " + fmt(r[best]) + " " + after(best) + ".";
    }
    if (ref) {
      const rr = ref.ret[last];
      text += " " + ref.label + " on the same goal (dotted): " + fmt(rr) + " " + after(last) + ", " +
        (rr > r[last] ? "above" : "below") + " " + label + "'s " + fmt(r[last]) + ".";
    }
    return text;
  }

  function goalNote(goal, square) {
    const [lo, hi] = square;
    if (goal.every((v) => lo <= v && v <= hi)) return null;
    return "The goal (" + goal[0].toFixed(2) + ", " + goal[1].toFixed(2) + ") lies outside the " +
      "square the policy was trained on (" + lo + " to " + hi + " on each axis): expect it to do worse there.";
  }

  /** The first step whose return is not a number (the policy blew up), else null. */
  function blowup(r) {
    const i = r.findIndex((v) => !isFinite(v));
    return i < 0 ? null : i;
  }

  function lines(path, n, H, show) {           // path [H+1, n, 2] -> x, y with gaps
    const xs = [], ys = [];
    for (let i = 0; i < Math.min(show, n); i++) {
      for (let t = 0; t <= H; t++) {
        xs.push(Math.round(path[(t * n + i) * 2] * 1e4) / 1e4);
        ys.push(Math.round(path[(t * n + i) * 2 + 1] * 1e4) / 1e4);
      }
      xs.push(null); ys.push(null);
    }
    return [xs, ys];
  }

  /** Off-chart returns on the edge, each written as the page writes a return (one decimal). */
  function edge(marks, lo, hi, name, color) {
    const t = V.edgeTrace(marks, lo, hi, name, color), vals = marks.map((m) => (m.side > 0 ? "▲ " : "▼ ") + fmt(m.v));
    t.text = marks.map((m) => fmt(m.v));
    t.name = name + " off the chart: " + vals.slice(0, 3).join(", ") + (vals.length > 3 ? ", …" : "");
    return t;
  }

  const onChart = (r, lo, hi) => r.map((v) => (isFinite(v) && v >= lo && v <= hi ? v : null));

  function build(ctx) {
    const { res, goal, label, color, adapting, phone } = ctx, [lo, hi] = ctx.range;
    // res may hold the first steps only (the rest still rolling out): the axes are for ctx.steps
    const S = ctx.steps === undefined ? res.ret.length - 1 : ctx.steps, done = res.ret.length - 1;
    const step = Math.max(0, Math.min(ctx.step, done)), show = ctx.show || 5;
    const ex = ctx.extent || 0.6;
    const plane = [];
    if (adapting) {
      const [bx, by] = lines(res.paths[0], res.n, res.H, show);
      plane.push({ type: "scatter", mode: "lines", name: "before adapting", x: bx, y: by,
                   hoverinfo: "skip", line: { color: BEFORE, width: 1.5 } });
    }
    const [ax, ay] = step > 0 || !adapting ? lines(res.paths[step], res.n, res.H, show) : [[], []];
    plane.push({ type: "scatter", mode: "lines", x: ax, y: ay, hoverinfo: "skip",
                 name: adapting ? label + " after adapting" : label + "'s tries (never adapts)",
                 line: { color: color, width: 2.5 } });
    plane.push({ type: "scatter", mode: "markers", name: "start", x: [0], y: [0],
                 marker: { color: "black", size: 10 }, hoverinfo: "skip" });
    plane.push({ type: "scatter", mode: "markers", name: "goal", x: [goal[0]], y: [goal[1]],
                 hovertemplate: "goal (%{x:.2f}, %{y:.2f})<extra></extra>",
                 marker: { color: GOAL, size: 20, symbol: "star", line: { color: "black", width: 1 } } });
    const base = V.baseLayout({ phone: phone }, phone ? 360 : 470);
    const planeLayout = V.ticksOut(Object.assign(base, {
      title: adapting ? "Its tries before and " + after(step) : "Its tries at step " + step,
      xaxis: { range: [-ex, ex], title: { text: "x" }, constrain: "domain", fixedrange: true, zeroline: false },
      yaxis: { range: [-ex, ex], title: { text: "y" }, scaleanchor: "x", scaleratio: 1, constrain: "domain",
               fixedrange: true, zeroline: false },
      meta: { goal_plane: "nav-live", no_fade: true } }));
    const steps = Array.from({ length: S + 1 }, (_, i) => i);
    const rets = [];
    if (ctx.ref) {
      const rr = ctx.ref.ret.slice(0, S + 1);
      rets.push({ type: "scatter", mode: "lines+markers", name: ctx.ref.label + " on this goal (for comparison)",
                  x: steps.slice(0, rr.length), y: onChart(rr, lo, hi),
                  line: { color: ctx.ref.color, width: 2, dash: "dot" }, marker: { size: 6 },
                  hovertemplate: ctx.ref.label + ": return %{y:.1f} after %{x} steps<extra></extra>" });
      const m = V.beyond(steps, rr, lo, hi, true);
      if (m.length) rets.push(edge(m, lo, hi, ctx.ref.label, ctx.ref.color));
    }
    rets.push({ type: "scatter", mode: "lines+markers", name: "return", showlegend: false,
                x: steps.slice(0, res.ret.length), y: onChart(res.ret, lo, hi),
                line: { color: color, width: 2.5 }, marker: { size: 6 },
                hovertemplate: "return %{y:.1f} after %{x} steps<extra></extra>" });
    const m = V.beyond(steps, res.ret, lo, hi, true);
    if (m.length) rets.push(edge(m, lo, hi, label, color));
    const v = res.ret[step];
    rets.push({ type: "scatter", mode: "markers", name: label + " now", showlegend: false, hoverinfo: "skip",
                cliponaxis: false, x: isFinite(v) ? [step] : [], y: isFinite(v) ? [Math.min(Math.max(v, lo), hi)] : [],
                marker: { size: 13, color: color, line: { color: "white", width: 2 },
                          symbol: v > hi ? "triangle-up" : v < lo ? "triangle-down" : "circle" } });
    const retLayout = V.ticksOut(Object.assign(V.baseLayout({ phone: phone }, phone ? 260 : 470), {
      title: "Average return " + after(step) + ": " + fmt(v),
      xaxis: { range: [-0.4, S + 0.6], title: { text: STEPS_TITLE }, tickmode: "linear", dtick: 1, fixedrange: true },
      yaxis: { range: [lo, hi], title: { text: "average return" }, fixedrange: true } }));
    const notes = [];
    const gn = goalNote(goal, ctx.square);
    if (gn) notes.push(gn);
    const b = blowup(res.ret);
    if (b !== null) notes.push(label + ": the return is not a number from step " + b + " on: the policy blew up.");
    return {
      panels: V.finish([{ name: "plane", data: plane, layout: planeLayout },
                        { name: "returns", data: rets, layout: retLayout }]),
      head: label + " toward the goal (" + goal[0].toFixed(2) + ", " + goal[1].toFixed(2) + ")",
      notes: notes, step: step, steps: S,
      story: done < S || (ctx.ref && ctx.ref.ret.length <= S) ? "" : story(label, res.ret, adapting, ctx.ref),
    };
  }

  return { build: build, story: story, fmt: fmt, goalNote: goalNote };
}));

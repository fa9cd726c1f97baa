// Learn's hands-on chart (pages/_shared/learn_try.py), a Streamlit v2 component: the pretrained
// and the MAML sine networks side by side, adapting to the same points, one step slider for both.
// The reader drags the wave's height A and shift φ (both networks see K points of that wave:
// the x's of a pre-sampled task, y = A·sin(x − φ)) or clicks on a chart to place points of their
// own (then the networks adapt to those alone). Everything recomputes here with window.MamlAdapt
// (assets/js/adapt.js, loaded just before this module; tests/test_learn_try.py checks the curves
// against the Python engine) and repaints with Plotly.react: no message to the server.
// Plotly.js is Streamlit's own (window.Plotly, loaded by the page's Plotly charts).
// State lives on the host element (root.__lt) and survives reruns. Text goes through
// textContent, never innerHTML.

const ORDER = ["pretrained", "maml"];
const MAX_POINTS = 10;
const GREY = "#9E9E9E";

const q = (root, sel) => root.querySelector(sel);
const f32 = Math.fround;
const fmt = (v) => (isFinite(v) ? (Math.abs(v) >= 0.01 ? v.toFixed(2) : v.toPrecision(1)) : "∞");

export default function (component) {
  const { data, parentElement } = component;
  const root = q(parentElement, "[data-maviz-try]");
  const runs = data.runs, sig = ORDER.map((a) => runs[a].run.key).join("|");
  let st = root.__lt;
  if (!st || st.sig !== sig) {                     // new data: start from what Python says
    const engs = {};
    for (const a of ORDER) engs[a] = MamlAdapt.load(runs[a]);
    const params = MamlAdapt.decodeF32(runs.maml.tasks.params);
    const P = params.length / engs.maml.nTasks;
    st = root.__lt = { sig: sig, engs: engs, task: data.task, k: data.k, steps: data.steps,
                       step: data.step, amp: params[data.task * P], phase: params[data.task * P + 1],
                       points: [], res: {}, sup: null, truth: null };
  }
  const fam = runs.maml.family, big = !!data.big;
  const el = { amp: q(root, "[data-amp]"), ampv: q(root, "[data-ampv]"),
               phase: q(root, "[data-phase]"), phasev: q(root, "[data-phasev]"),
               step: q(root, "[data-step]"), stepv: q(root, "[data-stepv]"),
               note: q(root, "[data-note]"), clear: q(root, "[data-clear]"),
               charts: Object.fromEntries(ORDER.map((a) => [a, q(root, `[data-chart="${a}"]`)])) };
  el.amp.min = String(data.amp_range[0]); el.amp.max = String(data.amp_range[1]);
  el.phase.min = String(data.phase_range[0]); el.phase.max = String(data.phase_range[1]);
  el.step.max = String(st.steps);

  /** The points both networks adapt to: the reader's, else K points of the wave A, φ. */
  function support() {
    const e = st.engs.maml;
    if (st.points.length) return e.support(0, 1, st.points, true);
    const t = e.task(st.task), n = st.k, x = new Float32Array(n), y = new Float32Array(n);
    for (let i = 0; i < n; i++) { x[i] = t.xs[i]; y[i] = f32(st.amp * Math.sin(f32(x[i] - st.phase))); }
    return { x: x, y: y, n: n, task: null, taskN: n, mineN: 0 };
  }

  function adapt() {
    const t0 = performance.now();
    st.sup = support();
    const e = st.engs.maml, G = e.gridN;
    st.truth = null;
    if (!st.points.length) {
      st.truth = new Float32Array(G);
      for (let i = 0; i < G; i++) st.truth[i] = f32(st.amp * Math.sin(f32(e.grid[i] - st.phase)));
    }
    for (const a of ORDER) {
      const res = st.engs[a].adapt(st.sup, { steps: st.steps });
      res.error = res.preds.map((p, s) => (st.truth && p ? MamlAdapt.MSE.loss(p, st.truth, G, 1) : res.support[s]));
      st.res[a] = res;
    }
    st.ms = performance.now() - t0;
  }

  function draw() {
    const x = Array.from(st.engs.maml.grid), sup = st.sup, mine = st.points.length > 0;
    const what = mine ? "on your points" : "on the whole wave";
    for (const a of ORDER) {
      const res = st.res[a], s = Math.min(st.step, res.shown - 1), col = data.colors[a];
      const traces = [
        { x: x, y: st.truth ? Array.from(st.truth) : [], mode: "lines", name: "the wave",
          line: { color: "black", dash: "dash", width: 2 }, hoverinfo: "skip" },
        { x: x, y: Array.from(res.preds[0]), mode: "lines", name: "before any step",
          line: { color: GREY, width: 2.5, dash: "dot" } },
        { x: x, y: Array.from(res.preds[s]), mode: "lines",
          name: "after " + s + " step" + (s === 1 ? "" : "s"), line: { color: col, width: 3.5 } },
        { x: Array.from(sup.x), y: Array.from(sup.y), mode: "markers",
          name: mine ? "your " + sup.n + " point" + (sup.n === 1 ? "" : "s") : "the " + sup.n + " points it sees",
          marker: mine ? { color: "#FFFFFF", size: 13, symbol: "diamond", line: { color: "black", width: 2.5 } }
                       : { color: "black", size: 11, line: { color: "white", width: 1.5 } } },
      ];
      const layout = {
        height: big ? 470 : 380, margin: { l: 45, r: 10, t: big ? 60 : 50, b: 40 }, dragmode: false,
        hovermode: "closest", showlegend: true,
        font: { size: big ? 18 : 13, family: getComputedStyle(root).fontFamily },
        title: { text: data.labels[a] + ": error " + what + " " + fmt(res.error[0]) + " → " + fmt(res.error[s]),
                 x: 0.01, font: { size: big ? 20 : 15 } },
        legend: { orientation: "h", yref: "container", y: 0, yanchor: "bottom" },
        xaxis: { range: fam.x_range, title: { text: "x" }, fixedrange: true, zeroline: false },
        yaxis: { range: fam.value_range, title: { text: "y" }, fixedrange: true, zeroline: false },
      };
      layout.margin.b = big ? 130 : 110;
      Plotly.react(el.charts[a], traces, layout, { displayModeBar: false, responsive: true });
    }
    const s = Math.min(st.step, st.res.maml.shown - 1);
    el.step.value = String(s); el.stepv.textContent = String(s);
    el.amp.value = String(st.amp); el.ampv.textContent = st.amp.toFixed(2);
    el.phase.value = String(st.phase); el.phasev.textContent = st.phase.toFixed(2);
    el.amp.disabled = el.phase.disabled = mine;
    el.clear.disabled = !mine;
    el.note.textContent = mine
      ? "Adapting to your " + sup.n + " point" + (sup.n === 1 ? "" : "s") + " alone (no true wave: the error is on your points). "
        + (sup.n >= MAX_POINTS ? "That is the most points this chart takes. " : "") + "Clear them to go back to the wave."
      : "Both adapt to " + sup.n + " points of the wave A = " + st.amp.toFixed(2) + ", φ = " + st.phase.toFixed(2)
        + ". Click on either chart to place your own points instead.";
    root.dataset.ms = st.ms.toFixed(2);
  }

  function update() { adapt(); draw(); }
  const on = (node, ev, f) => { node.addEventListener(ev, f); return () => node.removeEventListener(ev, f); };
  const click = (gd) => (ev) => {                  // a click inside the plot area adds a point
    const L = gd._fullLayout;
    if (!L || st.points.length >= MAX_POINTS) return;
    const xa = L.xaxis, ya = L.yaxis, bb = gd.getBoundingClientRect();
    const px = ev.clientX - bb.left - xa._offset, py = ev.clientY - bb.top - ya._offset;
    if (px < 0 || px > xa._length || py < 0 || py > ya._length) return;
    const r3 = (v) => Math.round(v * 1000) / 1000;
    st.points.push([r3(xa.p2l(px)), r3(ya.p2l(py))]);
    update();
  };
  const offs = [
    on(el.step, "input", () => { st.step = Number(el.step.value); draw(); }),
    on(el.amp, "input", () => { st.amp = f32(Number(el.amp.value)); update(); }),
    on(el.phase, "input", () => { st.phase = f32(Number(el.phase.value)); update(); }),
    on(q(root, "[data-other]"), "click", () => {
      st.task = (st.task + 1) % st.engs.maml.nTasks; st.points = []; update(); }),
    on(el.clear, "click", () => { st.points = []; update(); }),
    ...ORDER.map((a) => on(el.charts[a], "click", click(el.charts[a]))),
  ];

  window.mavizWhenPlotly(120000).then(() => { update(); root.dataset.ready = "1"; })
    .catch((e) => { el.note.textContent = "The chart could not be drawn: " + e.message; });
  return () => offs.forEach((off) => off());
}

// The Playground's chart as a Streamlit v2 component (pages/_shared/adapt_component.py), for the
// regression families: K, step size α, steps, the step shown, New task, clicks that add points,
// Clear and "Use only my points" all recompute in this page with window.MamlAdapt (adapt.js,
// loaded just before this module) and repaint with Plotly.react: no message to the server.
// Plotly.js is Streamlit's own (window.Plotly, loaded by the page's hidden Plotly chart).
// State (settings, points) lives on the component's host element and survives reruns; a new
// run (payload) starts from the settings Python passes.
// Every text drawn from data goes through textContent (never innerHTML).

const COLORS = { before: "#9E9E9E", support: "#555555" };

function whenPlotly(timeoutMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    (function poll() {
      if (window.Plotly) return resolve(window.Plotly);
      if (performance.now() - t0 > timeoutMs) return reject(new Error("Plotly.js did not load"));
      setTimeout(poll, 25);
    })();
  });
}

function q(root, sel) { return root.querySelector(sel); }

export default function (component) {
  const { data, parentElement } = component;
  const root = q(parentElement, "[data-maviz-pg]");
  const P = data.payload, fam = P.family;
  let st = root.__pg;
  if (!st || st.runKey !== P.run.key) {          // a new run: start from what Python says
    st = root.__pg = { runKey: P.run.key, eng: MamlAdapt.load(P), k: data.k, lr: data.lr,
                       steps: data.steps, step: data.step, task: data.task % P.tasks.n,
                       points: [], only: false, res: null };
  }
  const eng = st.eng, chart = q(root, "[data-chart]");
  const el = { k: q(root, "[data-k]"), kv: q(root, "[data-kv]"), lr: q(root, "[data-lr]"),
               steps: q(root, "[data-steps]"), step: q(root, "[data-step]"),
               stepv: q(root, "[data-stepv]"), only: q(root, "[data-only]"),
               title: q(root, "[data-title]"), note: q(root, "[data-note]") };
  el.k.max = String(P.tasks.pool_k);
  el.lr.step = String(P.inner_lr / 2);

  function adapt() {
    const t0 = performance.now();
    const sup = eng.support(st.task, st.k, st.points, st.only);
    // Meta-SGD at its trained α uses its learned per-weight step sizes (as the page does)
    const lr = (P.lrs && st.lr === P.inner_lr) ? undefined : st.lr;
    st.sup = sup;
    st.res = eng.adapt(sup, { steps: st.steps, lr: lr });
    st.ms = performance.now() - t0;
  }

  function draw() {
    const res = st.res, sup = st.sup, shown = res.shown;
    const s = Math.min(st.step, shown - 1);
    const x = Array.from(eng.grid), col = data.color, task = eng.task(st.task);
    const er = fam.metric_range, elo = er[1] / 1e4;
    const clip = (v) => (isFinite(v) ? Math.min(Math.max(v, elo), er[1]) : er[1]);
    const steps = [...Array(res.steps + 1).keys()];
    const tx = [], ty = [], mx = [], my = [];
    for (let i = 0; i < sup.n; i++) {
      (i < sup.taskN ? tx : mx).push(sup.x[i]);
      (i < sup.taskN ? ty : my).push(sup.y[i]);
    }
    const traces = [
      { x: x, y: sup.task === null ? [] : Array.from(task.true), mode: "lines", name: "true function",
        line: { color: "black", dash: "dash", width: 2 }, hoverinfo: "skip" },
      { x: x, y: Array.from(res.preds[0]), mode: "lines", name: "before adapting (step 0)",
        line: { color: COLORS.before, width: 2.5, dash: "dot" } },
      { x: x, y: Array.from(res.preds[s]), mode: "lines", name: data.label + " after adapting",
        line: { color: col, width: 3 } },
      { x: tx, y: ty, mode: "markers", name: "the task's " + tx.length + " points",
        marker: { color: "black", size: 10, line: { color: "white", width: 1.5 } } },
      { x: mx, y: my, mode: "markers", name: "your " + mx.length + " point" + (mx.length === 1 ? "" : "s"),
        marker: { color: "#FFFFFF", size: 12, symbol: "diamond", line: { color: "black", width: 2.5 } } },
      { x: steps, y: res.support.map(clip), xaxis: "x2", yaxis: "y2", mode: "lines",
        name: "error on the points it sees", line: { color: COLORS.support, width: 2, dash: "dot" } },
    ];
    if (res.gridError) traces.push({ x: steps, y: res.gridError.map(clip), xaxis: "x2", yaxis: "y2",
      mode: "lines", name: "error on the whole true curve", line: { color: col, width: 2 } });
    traces.push({ x: [s], y: [clip((res.gridError || res.support)[s])], xaxis: "x2", yaxis: "y2",
      mode: "markers", name: "now", showlegend: false, marker: { color: col, size: 11 } });
    const layout = {
      height: 480, margin: { l: 50, r: 10, t: 10, b: 90 }, dragmode: false, hovermode: "closest",
      font: { size: 13 }, legend: { orientation: "h", y: -0.18 },
      xaxis: { domain: [0, 0.56], range: fam.x_range, title: { text: "x" } },
      yaxis: { range: fam.value_range, title: { text: "y" } },
      xaxis2: { domain: [0.7, 1], anchor: "y2", range: [0, res.steps], title: { text: "steps" } },
      yaxis2: { anchor: "x2", type: "log", range: [Math.log10(elo), Math.log10(er[1])],
                title: { text: "mean squared error" } },
    };
    Plotly.react(chart, traces, layout, { displayModeBar: false, responsive: true });
    el.title.textContent = data.label + " adapting to " + (sup.task === null ? "your points"
      : "a new task · " + task.describe) + " · " + sup.n + " points, α = " + st.lr;
    el.step.max = String(shown - 1); el.step.value = String(s); el.stepv.textContent = String(s);
    el.k.value = String(st.k); el.kv.textContent = String(st.k);
    el.lr.value = String(st.lr); el.steps.value = String(st.steps); el.only.checked = st.only;
    el.note.textContent = res.blowup === null ? "" : (data.label + ": the predictions blew up at step "
      + res.blowup + " (numbers too large to draw) with step size α = " + st.lr + ". The chart shows steps 0–"
      + (res.blowup - 1) + "; lower α to see more.");
    root.dataset.ms = st.ms.toFixed(2);
  }

  function update() { adapt(); draw(); }
  const num = (v, lo, hi) => { const n = Number(v); return isFinite(n) && n >= lo && n <= hi ? n : null; };

  const on = (node, ev, f) => { node.addEventListener(ev, f); return () => node.removeEventListener(ev, f); };
  const offs = [
    on(el.k, "input", () => { st.k = Number(el.k.value); update(); }),
    on(el.lr, "change", () => { const v = num(el.lr.value, 1e-9, 10); if (v === null) { el.lr.value = String(st.lr); return; } st.lr = v; update(); }),
    on(el.steps, "change", () => { const v = num(el.steps.value, 1, 50); if (v === null || !Number.isInteger(v)) { el.steps.value = String(st.steps); return; } st.steps = v; update(); }),
    on(el.step, "input", () => { st.step = Number(el.step.value); draw(); }),
    on(q(root, "[data-new]"), "click", () => { st.task = (st.task + 1) % P.tasks.n; st.points = []; update(); }),
    on(q(root, "[data-clear]"), "click", () => { st.points = []; update(); }),
    on(el.only, "change", () => { st.only = el.only.checked; update(); }),
    on(chart, "click", (ev) => {                     // a click on the left panel adds a point
      const L = chart._fullLayout;
      if (!L) return;
      const xa = L.xaxis, ya = L.yaxis, bb = chart.getBoundingClientRect();
      const px = ev.clientX - bb.left - xa._offset, py = ev.clientY - bb.top - ya._offset;
      if (px < 0 || px > xa._length || py < 0 || py > ya._length) return;
      const r3 = (v) => Math.round(v * 1000) / 1000;
      st.points.push([r3(xa.p2l(px)), r3(ya.p2l(py))]);
      update();
    }),
  ];

  whenPlotly(120000).then(() => { update(); root.dataset.ready = "1"; })
    .catch((e) => { el.note.textContent = "The chart could not be drawn: " + e.message; });
  return () => offs.forEach((off) => off());
}

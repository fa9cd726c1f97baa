// Compare's one-task chart as a Streamlit v2 component (pages/_shared/compare_component.py):
// several runs adapting to the same new task, computed in the page. "Another task", the step
// slider and ▶ answer here with no message to the server: window.MamlAdapt (adapt.js) adapts
// every run, window.MamlCmpView (cmpview.js) turns the arrays into traces and words,
// MamlPgView.draw (pgview.js) paints. K and the number of steps are the page's own widgets
// (they also drive the averaged chart): this script draws a change committed there at once,
// then the rerun of the chart's fragment hands it the same values with the same payloads.
//
// State per browser tab and family (window.__mavizCmp): the task and the step shown. A value the
// server hands over that differs from the one it handed last time (a link, or the URL this
// script wrote) wins; the same value again is ignored (a rerun that raced this script's URL
// write). The URL follows the state (history.replaceState). Text from data goes in with
// textContent, never innerHTML.

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector("[data-maviz-cmp]");
  const store = window.__mavizCmp || (window.__mavizCmp = { fam: {}, engines: new Map() });
  const P0 = data.payloads[0], fam = P0.family, n = P0.tasks.n, first = P0.tasks.first_seed;
  const fs = store.fam[fam.name] || (store.fam[fam.name] = {});

  // one engine per run and batch of tasks; every run adapts to the first payload's tasks
  const runs = data.payloads.map((P, i) => {
    const ek = P.run.key + "@" + P0.run.key + "@" + first;     // the tasks are the first run's
    let eng = store.engines.get(ek);
    if (!eng) {
      eng = MamlAdapt.load(Object.assign({}, P, { tasks: P0.tasks }));
      store.engines.set(ek, eng);
      if (store.engines.size > 24) store.engines.delete(store.engines.keys().next().value);
    }
    return { key: P.run.key, label: data.labels[i], color: data.colors[i], dash: data.dashes[i],
             payload: P, eng: eng, res: null };
  });

  // the server's values win when they changed since it last handed them over
  for (const k of ["task", "step"]) {
    if (fs["seen_" + k] !== data[k]) { fs[k] = data[k]; fs["seen_" + k] = data[k]; }
  }
  const st = { k: data.k, steps: data.steps, task: fs.task ?? data.task, step: fs.step ?? data.step };
  if (st.task < first || st.task >= first + n) st.task = first + (((st.task - first) % n) + n) % n;
  st.step = Math.max(0, Math.min(st.step, st.steps));

  const q = (s) => root.querySelector(s);
  const el = { head: q("[data-head]"), notes: q("[data-notes]"), panels: q("[data-panels]"),
               caption: q("[data-caption]"), step: q("[data-step]"), stepv: q("[data-stepv]"),
               play: q("[data-play]"), newt: q("[data-new]") };
  const kind = runs[0].eng.classes ? "classes" : "regression";
  const names = kind === "classes" ? runs.map((_, i) => "map" + i).concat(["accuracy"]) : ["curve", "error"];
  if (root.__names !== names.join()) {                 // the boxes: a title, the plot, its legend
    el.panels.replaceChildren();
    el.panels.className = "cmp-panels cmp-" + kind;
    for (const name of names) {
      const box = document.createElement("div"), t = document.createElement("div");
      const div = document.createElement("div"), lg = document.createElement("div");
      box.className = "cmp-box" + (name === "accuracy" ? " cmp-wide" : ""); box.dataset.box = name;
      t.className = "pg-ptitle"; t.dataset.ptitle = "";
      div.className = "pg-panel"; div.dataset.panel = name;
      lg.className = "pg-legend"; lg.dataset.legend = name;
      box.append(t, div, lg);
      el.panels.append(box);
    }
    root.__names = names.join();
  }
  const boxes = {};
  el.panels.querySelectorAll("[data-box]").forEach((d) => { boxes[d.dataset.box] = d; });

  let sup = null, view = null;
  const phone = () => window.innerWidth <= 640;

  function adapt() {
    const t0 = performance.now();
    sup = runs[0].eng.support(st.task - first, st.k, [], false);
    for (const r of runs) r.res = r.eng.adapt(sup, { steps: st.steps, grid: kind === "classes" ? "lazy" : true });
    root.dataset.ms = (performance.now() - t0).toFixed(2);
  }

  function draw() {
    const width = (boxes.map0 || boxes.curve).clientWidth;
    view = MamlCmpView.build({ runs: runs, sup: sup, task: runs[0].eng.task(st.task - first), step: st.step,
                               phone: phone(), width: width });
    const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false };
    root.dataset.drawn = "0";
    const serial = (root.__serial = (root.__serial || 0) + 1);
    Promise.all(view.panels.map((p) => MamlPgView.draw(boxes[p.name], p, config))).then(() => {
      if (root.__serial === serial) root.dataset.drawn = "1";     // tests wait on it
    });
    el.head.textContent = view.head;
    el.notes.replaceChildren(...view.notes.map((t) => { const e = document.createElement("div"); e.textContent = t; return e; }));
    el.caption.replaceChildren(...view.caption.map((t) => { const e = document.createElement("p"); e.textContent = t; return e; }));
    el.step.max = String(view.steps); el.step.value = String(view.step);
    el.stepv.textContent = "after " + view.step + " step" + (view.step === 1 ? "" : "s");
    root.__cmp = { st: st, sup: sup, runs: runs, view: view };
    root.dataset.ready = "1";
    fs.task = st.task; fs.step = st.step;
    writeUrl();
  }

  function update() { adapt(); draw(); }

  // ------------------------------------------------------------------ the URL
  const url = mavizUrl(root, () => [["task", String(st.task)], ["step", String(st.step)]]);
  const writeUrl = url.write;

  // ------------------------------------------------------------------ controls
  const ac = new AbortController(), on = (node, ev, f) => node.addEventListener(ev, f, { signal: ac.signal, capture: true });
  const player = mavizPlayer(el.play, root, st, draw, { signal: ac.signal }), stopPlay = player.stop;
  on(el.step, "input", () => { stopPlay(); st.step = Number(el.step.value); draw(); });
  on(el.newt, "click", () => { stopPlay(); st.task = first + ((st.task - first + 1) % n); update(); });
  // K and the number of steps are the page's own widgets: a change committed there (a − / +
  // press, Enter, leaving the box) is drawn here at once, before the server's rerun hands the
  // same values over (and reruns the averages)
  function fromWidgets() {
    const k = mavizNumber(data.k_label, P0.tasks.pool_k), steps = mavizNumber(data.steps_label, 50);
    if ((k === null || k === st.k) && (steps === null || steps === st.steps)) return;
    stopPlay();
    if (k !== null) st.k = k;
    if (steps !== null) { st.steps = steps; st.step = Math.min(st.step, steps); }
    update();
  }
  mavizOnCommit(fromWidgets, ac.signal);

  let resizeTimer = null;
  on(window, "resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { if (sup) draw(); }, 150); });

  window.mavizWhenPlotly(120000).then(() => { if (!ac.signal.aborted) update(); })
    .catch((e) => { el.notes.textContent = "The chart could not be drawn: " + e.message; });
  return () => { ac.abort(); stopPlay(); url.stop(); };
}

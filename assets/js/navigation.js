// The Navigation plane as a Streamlit v2 component (pages/_shared/nav_component.py): a policy's
// tries toward a goal before and after each policy-gradient step, computed in the page. A click
// or tap on the plane, "Random goal", the step slider and ▶ answer here with no message to the
// server: window.MamlNav (navroll.js) rolls the policy out with the engine's maths and noise,
// window.MamlNavView (navview.js) turns the arrays into traces and words, MamlPgView.draw paints.
// The chosen run and the run drawn dotted for comparison are rolled out side by side in two
// Web Workers (the page stays responsive; on the 2-core machine both finish in about the time of
// one), and the next "Random goal" is rolled out ahead while the page is idle.
//
// State per browser tab and family (window.__mavizNav): the goal, the seed of the tries and the
// step shown; a value the server hands over that differs from the one it handed last time (a
// link) wins. The URL follows (history.replaceState). Text goes in with textContent only.

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector("[data-maviz-nav]");
  const store = window.__mavizNav || (window.__mavizNav = { fam: {}, results: new Map(), workers: null, jobs: new Map(), id: 0 });
  const P = data.run, R = data.ref, F = P.family, fs = store.fam[F.name] || (store.fam[F.name] = {});
  for (const k of ["goal", "seed", "step"]) {
    const v = JSON.stringify(data[k]);
    if (fs["seen_" + k] !== v) { fs[k] = data[k]; fs["seen_" + k] = v; }
  }
  const st = { goal: fs.goal, seed: fs.seed, step: fs.step, steps: data.steps };
  const q = (s) => root.querySelector(s);
  const el = { head: q("[data-head]"), notes: q("[data-notes]"), story: q("[data-story]"), caption: q("[data-caption]"),
               step: q("[data-step]"), stepv: q("[data-stepv]"), play: q("[data-play]"), rand: q("[data-random]"),
               plane: q('[data-box="plane"]'), returns: q('[data-box="returns"]') };
  el.caption.textContent = data.caption;

  // ------------------------------------------------------------------ rolling out
  function workers() {
    if (store.workers !== null) return store.workers;
    try {
      const src = data.worker_js + "\nconst E = new Map();\nself.onmessage = (m) => { const d = m.data;" +
        " let e = E.get(d.payload.run.key); if (!e) { e = MamlNav.load(d.payload); E.set(d.payload.run.key, e); }" +
        " const r = MamlNav.trajectories(e, d.goal, d.steps, d.seed, d.n); self.postMessage({ id: d.id, r: r }); };";
      const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      store.workers = [new Worker(url), new Worker(url)].map((w) => {
        w.onmessage = (m) => { const j = store.jobs.get(m.data.id); store.jobs.delete(m.data.id); if (j) j(m.data.r); };
        return w;
      });
    } catch (e) { store.workers = []; }          // no workers: roll out on the page itself
    return store.workers;
  }
  /** The tries of run `p` toward `goal` (cached per run, goal, steps and seed). */
  function trajectories(p, goal, steps, seed, lane) {
    const key = [p.run.key, goal[0], goal[1], steps, seed].join("|");
    let r = store.results.get(key);
    if (!r) {
      const ws = workers();
      if (ws.length) {
        r = new Promise((resolve) => {
          const id = ++store.id;
          store.jobs.set(id, resolve);
          ws[lane % ws.length].postMessage({ id: id, payload: p, goal: goal, steps: steps, seed: seed, n: data.n });
        });
      } else {
        const eng = MamlNav.load(p);
        r = Promise.resolve(MamlNav.trajectories(eng, goal, steps, seed, data.n));
      }
      store.results.set(key, r);
      if (store.results.size > 40) store.results.delete(store.results.keys().next().value);
    }
    return r;
  }
  const nextGoal = (seed) => MamlNav.randomGoal(seed, F.goal_low, F.goal_high);

  // ------------------------------------------------------------------ drawing
  const phone = () => window.innerWidth <= 640;
  let res = null, ref = null, serial = 0, playing = null, urlTimer = null;
  function draw() {
    if (!res) return;
    const view = MamlNavView.build({ res: res, ref: ref && { label: data.ref_label, color: data.ref_color, ret: ref.ret },
      goal: st.goal, step: st.step, label: data.label, color: data.color, adapting: data.adapting, show: data.show,
      range: F.metric_range, square: [F.goal_low, F.goal_high], extent: data.extent, phone: phone() });
    st.step = view.step;
    const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false };
    const s = ++serial;
    root.dataset.drawn = "0";
    const plot = el.plane.querySelector("[data-panel]");
    if (plot.__faded) { plot.__pgKey = null; plot.__faded = false; }     // a click faded the old tries
    Promise.all([MamlPgView.draw(el.plane, view.panels[0], config), MamlPgView.draw(el.returns, view.panels[1], config)])
      .then(() => { if (s === serial) { root.dataset.drawn = "1"; root.dataset.refDrawn = ref ? "1" : "0"; } });
    el.head.textContent = view.head;
    el.notes.replaceChildren(...view.notes.map((t) => { const e = document.createElement("div"); e.textContent = t; return e; }));
    el.story.textContent = view.story;
    el.step.max = String(view.steps); el.step.value = String(view.step);
    el.stepv.textContent = st.step === 0 ? "before adapting" : "after " + st.step + " step" + (st.step === 1 ? "" : "s");
    root.__nav = { st: st, res: res, ref: ref, view: view };
    fs.goal = st.goal; fs.seed = st.seed; fs.step = st.step;
    writeUrl();
  }

  /** Roll out for the current goal and seed, draw the chosen run as soon as it is ready and the
   *  comparison when it is; then roll the next random goal out ahead. */
  function update() {
    const want = JSON.stringify([st.goal, st.seed, st.steps]), t0 = performance.now();
    root.dataset.want = want;
    root.dataset.ready = "0"; root.dataset.drawn = "0";       // (tests wait for the new tries)
    const a = trajectories(P, st.goal, st.steps, st.seed, 0);
    const b = R ? trajectories(R, st.goal, st.steps, st.seed, 1) : Promise.resolve(null);
    a.then((r) => {
      if (root.dataset.want !== want) return;
      res = r; ref = null; draw();
      root.dataset.ms = (performance.now() - t0).toFixed(1);
      root.dataset.ready = "1";
      return b.then((x) => { if (x && root.dataset.want === want) { ref = x; draw(); } });
    }).then(() => {
      if (root.dataset.want !== want) return;
      const g = nextGoal(st.seed + 1);               // what "Random goal" will ask next
      trajectories(P, g, st.steps, st.seed + 1, 0);
      if (R) trajectories(R, g, st.steps, st.seed + 1, 1);
    });
  }

  // ------------------------------------------------------------------ the URL
  const path = window.location.pathname;
  function applyUrl() {
    if (!root.isConnected || window.location.pathname !== path) return;
    const u = new URL(window.location.href);
    let changed = false;
    for (const [k, v] of [["goal", st.goal[0] + "," + st.goal[1]], ["seed", String(st.seed)], ["step", String(st.step)]])
      if (u.searchParams.get(k) !== v) { u.searchParams.set(k, v); changed = true; }
    if (changed) window.history.replaceState(window.history.state, "", u);
    root.dataset.url = "1";
  }
  function writeUrl() { root.dataset.url = "0"; clearTimeout(urlTimer); urlTimer = setTimeout(applyUrl, 150); }
  const keeper = setInterval(applyUrl, 500);       // a rerun may have rewritten the query string

  // ------------------------------------------------------------------ controls
  const ac = new AbortController(), on = (node, ev, f) => node.addEventListener(ev, f, { signal: ac.signal, capture: true });
  const stopPlay = () => { if (playing) { clearInterval(playing); playing = null; el.play.textContent = "▶"; } };
  on(el.step, "input", () => { stopPlay(); st.step = Number(el.step.value); draw(); });
  on(el.play, "click", () => {
    if (playing) return stopPlay();
    if (st.step >= st.steps) { st.step = 0; draw(); }
    el.play.textContent = "❚❚";
    playing = setInterval(() => {
      if (!root.isConnected || st.step >= st.steps) return stopPlay();
      st.step += 1; draw();
    }, 700);
  });
  on(el.rand, "click", () => { stopPlay(); st.seed += 1; st.goal = nextGoal(st.seed); update(); });
  // a click or tap on the plane (pages/_shared/goal_click.js finds the plane coordinates, moves
  // the star at once and fades the old tries) hands the goal to this function
  window.__mavizGoalSend = window.__mavizGoalSend || {};
  window.__mavizGoalSend[data.target] = (v) => {
    stopPlay();
    el.plane.querySelector("[data-panel]").__faded = true;
    st.goal = [v.x, v.y]; update();
  };
  let resizeTimer = null;
  on(window, "resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 150); });

  window.mavizWhenPlotly(120000).then(() => { if (!ac.signal.aborted) update(); })
    .catch((e) => { el.notes.textContent = "The chart could not be drawn: " + e.message; });
  return () => { ac.abort(); stopPlay(); clearInterval(keeper); clearTimeout(urlTimer); applyUrl(); };
}

// The Navigation plane as a Streamlit v2 component (pages/_shared/nav_component.py): a policy's
// tries toward a goal before and after each policy-gradient step, computed in the page. A click
// or tap on the plane, "Random goal", the step slider and ▶ answer here with no message to the
// server: window.MamlNav (navroll.js) rolls the policy out with the engine's maths and noise,
// window.MamlNavView (navview.js) turns the arrays into traces and words, MamlPgView.draw paints.
// The chosen run and the run drawn dotted for comparison are rolled out side by side in two
// Web Workers (the page stays responsive), step by step: the chart is drawn as soon as the step
// shown is done and grows as the later steps arrive (the story under it, which compares the
// last steps, waits for them); the next "Random goal" is rolled out ahead while the page is idle.
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
        " let e = E.get(d.payload.run.weights); if (!e) { e = MamlNav.load(d.payload); E.set(d.payload.run.weights, e); }" +
        " MamlNav.trajectories(e, d.goal, d.steps, d.seed, d.n, (s, path, ret) =>" +
        " self.postMessage({ id: d.id, s: s, path: path, ret: ret, H: e.fam.horizon })); };";
      const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
      store.workers = [new Worker(url), new Worker(url)].map((w) => {
        w.onmessage = (m) => { const j = store.jobs.get(m.data.id); if (j) j(m.data); };
        return w;
      });
    } catch (e) { store.workers = []; }          // no workers: roll out on the page itself
    return store.workers;
  }
  /** The tries of run `p` toward `goal`, step by step (cached per weights, goal, steps, seed):
   *  {paths, ret, n, H, done, listeners}; each listener is called as a step's tries arrive. */
  function job(p, goal, steps, seed, lane) {
    const key = [p.run.weights, goal[0], goal[1], steps, seed].join("|");
    let J = store.results.get(key);
    if (J) return J;
    J = { paths: [], ret: [], n: data.n, H: p.family.horizon, steps: steps, done: false, listeners: new Set() };
    const arrive = (s, path, ret) => {
      J.paths[s] = path; J.ret[s] = ret;
      if (s === steps) J.done = true;
      for (const f of Array.from(J.listeners)) f();
    };
    const ws = workers();
    if (ws.length) {
      const id = ++store.id;
      store.jobs.set(id, (m) => { arrive(m.s, m.path, m.ret); if (m.s === steps) store.jobs.delete(id); });
      const w = ws[lane % ws.length], has = w.__has || (w.__has = new Set());
      w.postMessage({ id: id, payload: has.has(p.run.weights) ? { run: p.run } : p,   // weights once
                      goal: goal, steps: steps, seed: seed, n: data.n });
      has.add(p.run.weights);
    } else {
      setTimeout(() => MamlNav.trajectories(MamlNav.load(p), goal, steps, seed, data.n, arrive), 0);
    }
    store.results.set(key, J);
    if (store.results.size > 40) store.results.delete(store.results.keys().next().value);
    return J;
  }
  const nextGoal = (seed) => MamlNav.randomGoal(seed, F.goal_low, F.goal_high);

  // ------------------------------------------------------------------ drawing
  const phone = () => window.innerWidth <= 640;
  let res = null, ref = null, serial = 0;
  function draw() {
    if (!res) return;
    const complete = res.done && (!R || (ref && ref.done));
    const view = MamlNavView.build({ res: res, ref: R ? { label: data.ref_label, color: data.ref_color, ret: ref ? ref.ret : [] } : null,
      goal: st.goal, steps: st.steps, step: st.step, label: data.label, color: data.color, adapting: data.adapting,
      show: data.show, range: F.metric_range, square: [F.goal_low, F.goal_high], extent: data.extent, phone: phone() });
    const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false };
    const s = ++serial;
    root.dataset.drawn = "0";
    const drawn = Promise.all([MamlPgView.draw(el.plane, view.panels[0], config), MamlPgView.draw(el.returns, view.panels[1], config)]);
    drawn
      .then(() => { if (s === serial && complete) root.dataset.drawn = "1"; });     // tests wait on it
    el.head.textContent = view.head;
    el.notes.replaceChildren(...view.notes.map((t) => { const e = document.createElement("div"); e.textContent = t; return e; }));
    el.story.textContent = view.story;
    el.step.max = String(view.steps); el.step.value = String(st.step);
    el.stepv.textContent = st.step === 0 ? "before adapting" : "after " + st.step + " step" + (st.step === 1 ? "" : "s");
    root.__nav = { st: st, res: res, ref: ref, view: view, P: P, R: R };
    fs.goal = st.goal; fs.seed = st.seed; fs.step = st.step;
    writeUrl();
    return drawn;
  }

  /** Roll out for the current goal and seed; draw as soon as the chosen run's tries at the step
   *  shown are done, again as more steps (and the comparison run's) arrive; then roll the next
   *  random goal out ahead. */
  function update() {
    const want = JSON.stringify([st.goal, st.seed, st.steps]), t0 = performance.now();
    root.dataset.want = want;
    root.dataset.ready = "0"; root.dataset.drawn = "0";       // (tests wait for the new tries)
    st.step = Math.min(st.step, st.steps);
    // the comparison run starts once the chosen run's step shown is drawn (two rollouts and
    // the page's drawing at once would slow that first answer on two cores)
    const a = job(P, st.goal, st.steps, st.seed, 0);
    let b = null, first = null;
    const listen = () => {
      if (root.dataset.want !== want) { a.listeners.delete(listen); if (b) b.listeners.delete(listen); return; }
      if (a.ret.length <= st.step) return;                   // the step shown is not done yet
      res = a; ref = b;
      const drawn = draw();
      if (R && !first) first = drawn.then(() => {
        if (root.dataset.want !== want) return;
        b = job(R, st.goal, st.steps, st.seed, 1); b.listeners.add(listen); listen();
      });
      if (a.done && (!R || (b && b.done))) {
        a.listeners.delete(listen); if (b) b.listeners.delete(listen);
        root.dataset.ms = (performance.now() - t0).toFixed(1);
        root.dataset.ready = "1";
        const g = nextGoal(st.seed + 1);               // what "Random goal" will ask next
        job(P, g, st.steps, st.seed + 1, 0);
        if (R) job(R, g, st.steps, st.seed + 1, 1);
      }
    };
    a.listeners.add(listen);
    listen();
  }

  // ------------------------------------------------------------------ the URL
  const url = mavizUrl(root, () => [["goal", st.goal[0] + "," + st.goal[1]], ["seed", String(st.seed)],
                                    ["step", String(st.step)]]);
  const writeUrl = url.write;

  // ------------------------------------------------------------------ controls
  const ac = new AbortController(), on = (node, ev, f) => node.addEventListener(ev, f, { signal: ac.signal, capture: true });
  const player = mavizPlayer(el.play, root, st, draw, { signal: ac.signal, ready: (s) => !!res && res.ret.length > s });
  const stopPlay = player.stop;
  on(el.step, "input", () => {
    stopPlay(); st.step = Number(el.step.value);
    if (res && res.ret.length > st.step) draw();              // else drawn when that step is done
  });
  on(el.rand, "click", () => { stopPlay(); st.seed += 1; st.goal = nextGoal(st.seed); update(); });
  // a click or tap on the plane (pages/_shared/goal_click.js finds the plane coordinates and
  // moves the star at once) hands the goal to this function
  window.__mavizGoalSend = window.__mavizGoalSend || {};
  window.__mavizGoalSend[data.target] = (v) => {
    stopPlay();
    st.goal = [v.x, v.y]; update();
  };
  let resizeTimer = null;
  on(window, "resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 150); });

  window.mavizWhenPlotly(120000).then(() => { if (!ac.signal.aborted) update(); })
    .catch((e) => { el.notes.textContent = "The chart could not be drawn: " + e.message; });
  return () => { ac.abort(); stopPlay(); url.stop(); };
}

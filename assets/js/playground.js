// The Playground as a Streamlit v2 component (pages/_shared/adapt_component.py): its controls,
// the pointer on its charts and the URL. Every control answers here, with no message to the
// server: window.MamlAdapt (adapt.js) adapts, window.MamlPgView (pgview.js) turns the arrays
// into Plotly traces and words, Plotly.react repaints (Plotly.js is Streamlit's own: the page
// draws a hidden chart so that window.Plotly exists).
//
// State: per browser tab in window.__mavizPg (it outlives reruns and visits to other pages):
// K, the task, the points, "only mine" and the class per family; α per run; steps and the
// step shown for the page. A link's values (data.link: [url text, value], those the server saw
// change in the URL) win over it, unless they are what this script wrote there itself. The URL
// follows the state (history.replaceState, debounced: Chrome throttles frequent calls).
// Text from data is set with textContent, never innerHTML.

const KEYS = ["k", "lr", "steps", "step", "task", "pts", "only"];
const URL_POINTS = 200;          // more points than this stay out of the URL (they stay here)

function tabStore() {
  return window.__mavizPg || (window.__mavizPg = { fam: {}, run: {}, page: {}, written: {},
                                                   engines: new Map() });
}

const r3 = (v) => Math.round(v * 1000) / 1000;
const ptsText = (pts) => pts.map((p) => p.map((v) => String(v)).join(":")).join(",");

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector("[data-maviz-pg]");
  const P = data.payload, fam = P.family, n = P.tasks.n, first = P.tasks.first_seed;
  // controls a link's ?hide= names (the same keys as the server's widgets: pg_k, pg_lr, ...)
  for (const el of root.querySelectorAll("[data-ctl]"))
    el.style.display = (data.hide || []).some((k) => el.dataset.ctl === k) ? "none" : "";
  const store = tabStore();
  const fs = store.fam[fam.name] || (store.fam[fam.name] = {});
  const rs = store.run[P.run.key] || (store.run[P.run.key] = {});
  const ps = store.page;
  const ek = P.run.key + "@" + first;
  let eng = store.engines.get(ek);
  if (!eng) {
    eng = MamlAdapt.load(P);
    store.engines.set(ek, eng);
    if (store.engines.size > 8) store.engines.delete(store.engines.keys().next().value);
  }

  // a link's values win, unless this script wrote them itself
  const link = data.link || {};
  for (const k of KEYS) {
    if (!(k in link) || link[k][0] === store.written[k]) continue;
    const v = link[k][1];
    if (k === "k" || k === "task" || k === "only") fs[k] = k === "only" ? !!v : v;
    else if (k === "pts") fs.points = v.map((p) => p.slice());
    else if (k === "lr") rs.lr = v;
    else ps[k] = v;
  }
  if (data.upload && data.upload.sig !== fs.uploadSig) {     // a CSV's points: used alone
    fs.uploadSig = data.upload.sig;
    fs.points = data.upload.points.map((p) => p.slice());
    fs.only = true;
  }
  const d = data.defaults;
  const st = {
    k: Math.min(Math.max(fs.k ?? d.k, 1), P.tasks.pool_k), lr: rs.lr ?? d.lr,
    steps: ps.steps ?? d.steps, step: ps.step ?? d.step, task: fs.task ?? d.task,
    points: fs.points || [], only: !!fs.only, cls: fs.cls ?? 0,
  };
  if (st.task < first || st.task >= first + n) st.task = first + (((st.task - first) % n) + n) % n;
  fs.points = st.points;
  const save = () => { fs.k = st.k; rs.lr = st.lr; ps.steps = st.steps; ps.step = st.step;
                       fs.task = st.task; fs.points = st.points; fs.only = st.only; fs.cls = st.cls; };

  const q = (s) => root.querySelector(s);
  const el = { k: q("[data-k]"), kv: q("[data-kv]"), lr: q("[data-lr]"), lrlabel: q("[data-lrlabel]"),
               steps: q("[data-steps]"), step: q("[data-step]"), stepv: q("[data-stepv]"),
               only: q("[data-only]"), clear: q("[data-clear]"), play: q("[data-play]"),
               title: q("[data-title]"), notes: q("[data-notes]"), caption: q("[data-caption]"),
               panels: q("[data-panels]"), classes: q("[data-classes]"), newt: q("[data-new]") };
  el.k.max = String(P.tasks.pool_k);
  el.lr.step = String(P.inner_lr / 2);
  el.lrlabel.title = "How big each gradient step is; it was trained with " + P.inner_lr +
    (P.lrs ? " (Meta-SGD learned its own size for each weight, used at that value: change it to override)" : "");

  // the class of added points (2-D classes): a radio per class, in the class's colour
  el.classes.replaceChildren();
  if (eng.classes) {
    el.classes.append("Class of the points you add: ");
    for (let c = 0; c < fam.n_classes; c++) {
      const lab = document.createElement("label"), inp = document.createElement("input"), sw = document.createElement("span");
      inp.type = "radio"; inp.name = "pg-class"; inp.value = String(c); inp.dataset.cls = String(c);
      inp.checked = c === st.cls;
      sw.textContent = "■"; sw.style.color = MamlPgView.CLASS_COLORS[c % MamlPgView.CLASS_COLORS.length];
      lab.append(inp, " ", sw, " class " + c);
      el.classes.append(lab);
    }
  }

  // the panels: one Plotly div each, in two columns (built once per kind of view)
  const kind = eng.classes ? "classes" : "regression";
  const COLUMNS = eng.classes ? [["maps"], ["accuracy", "loss"]] : [["curve"], ["error"]];
  if (root.__kind !== kind) {
    el.panels.replaceChildren();
    el.panels.classList.toggle("pg-classes3", eng.classes);
    for (const names of COLUMNS) {
      const col = document.createElement("div");
      col.className = "pg-col";
      for (const name of names) {                // a title, the plot, its legend
        const box = document.createElement("div"), t = document.createElement("div");
        const div = document.createElement("div"), lg = document.createElement("div");
        box.className = "pg-box"; box.dataset.box = name;
        t.className = "pg-ptitle"; t.dataset.ptitle = "";
        div.className = "pg-panel" + (name === "maps" || name === "curve" ? " pg-click" : "");
        div.dataset.panel = name;
        lg.className = "pg-legend"; lg.dataset.legend = name;
        box.append(t, div, lg);
        col.append(box);
      }
      el.panels.append(col);
    }
    root.__kind = kind;
  }
  const divs = {}, boxes = {};
  el.panels.querySelectorAll("[data-panel]").forEach((d) => { divs[d.dataset.panel] = d; });
  el.panels.querySelectorAll("[data-box]").forEach((d) => { boxes[d.dataset.box] = d; });

  let sup = null, res = null, view = null, playing = null, urlTimer = null;
  const phone = () => window.innerWidth <= 640;

  function outsideNote() {
    const [lo, hi] = fam.x_range, D = fam.in_dim;
    const out = st.points.filter((p) => p.slice(0, D).some((v) => v < lo || v > hi));
    if (!out.length) return null;
    return out.length + " of your points lie outside the inputs this network was trained on (" + lo +
      " to " + hi + "). Expect poor predictions there; they are " + (D === 1 ? "off the chart." : "outside the map.");
  }

  function adapt() {
    const t0 = performance.now();
    sup = eng.support(st.task - first, st.k, st.points, st.only);
    const learned = P.lrs && st.lr === P.inner_lr;        // Meta-SGD at its trained α: its own sizes
    res = eng.adapt(sup, { steps: st.steps, lr: learned ? undefined : st.lr });
    root.dataset.ms = (performance.now() - t0).toFixed(2);
  }

  function draw() {
    const t0 = performance.now();
    const learned = P.lrs && st.lr === P.inner_lr;
    view = MamlPgView.build({ payload: P, eng: eng, res: res, sup: sup, step: st.step,
                              lr: learned ? null : st.lr, label: data.label, color: data.color,
                              phone: phone(), outside: outsideNote(),
                              width: (divs.maps || divs.curve).clientWidth,
                              onlyWithoutPoints: st.only && !st.points.length });
    const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false };
    const t1 = performance.now();
    const drawn = new Set(view.panels.map((p) => p.name));
    for (const name in boxes) boxes[name].style.display = drawn.has(name) ? "" : "none";
    root.dataset.drawn = "0";
    const serial = (root.__serial = (root.__serial || 0) + 1);
    Promise.all(view.panels.map((p) => MamlPgView.draw(boxes[p.name], p, config))).then(() => {
      if (root.__serial === serial) root.dataset.drawn = "1";  // tests wait on it
    });
    const t2 = performance.now();
    el.title.textContent = view.title;
    el.notes.replaceChildren(...view.notes.map((t) => { const e = document.createElement("div"); e.textContent = t; return e; }));
    el.caption.replaceChildren(...view.caption.map((t) => { const e = document.createElement("p"); e.textContent = t; return e; }));
    el.step.max = String(view.shown - 1); el.step.value = String(view.step);
    el.stepv.textContent = "after " + view.step + " step" + (view.step === 1 ? "" : "s");
    if (document.activeElement !== el.k) el.k.value = String(st.k);
    el.kv.textContent = String(st.k);
    if (document.activeElement !== el.lr) el.lr.value = String(st.lr);
    if (document.activeElement !== el.steps) el.steps.value = String(st.steps);
    el.only.checked = st.only;
    el.clear.disabled = !st.points.length;
    root.__pg = { st: st, sup: sup, res: res, view: view, eng: eng,
                  ms: { adapt: Number(root.dataset.ms), build: t1 - t0, plot: t2 - t1 } };
    root.dataset.ready = "1";
    save();
    writeUrl();
  }

  function update() { adapt(); draw(); }

  // ------------------------------------------------------------------ the URL
  function urlValues() {
    return { k: String(st.k), lr: st.lr === P.inner_lr ? null : String(st.lr), steps: String(st.steps),
             step: String(st.step), task: String(st.task),
             pts: st.points.length && st.points.length <= URL_POINTS ? ptsText(st.points) : null,
             only: st.only ? "1" : null };
  }
  const path = window.location.pathname;
  function applyUrl() {
    if (!root.isConnected || window.location.pathname !== path) return;
    const want = urlValues(), u = new URL(window.location.href);
    let changed = false;
    for (const k of KEYS) {
      const v = want[k];
      if (v === null ? u.searchParams.has(k) : u.searchParams.get(k) !== v) {
        changed = true;
        if (v === null) u.searchParams.delete(k); else u.searchParams.set(k, v);
      }
    }
    store.written = want;
    if (changed) window.history.replaceState(window.history.state, "", u);
    root.dataset.url = "1";                      // the URL holds what is drawn (tests wait on it)
  }
  function writeUrl() { root.dataset.url = "0"; clearTimeout(urlTimer); urlTimer = setTimeout(applyUrl, 150); }
  const keeper = setInterval(applyUrl, 500);       // a rerun may have rewritten the query string

  // ------------------------------------------------------------------ controls
  const ac = new AbortController(), on = (node, ev, f, opt) => node.addEventListener(ev, f, Object.assign({ signal: ac.signal }, opt || {}));
  const stopPlay = () => { if (playing) { clearInterval(playing); playing = null; el.play.textContent = "▶"; } };
  const num = (v) => (String(v).trim() === "" ? NaN : Number(v));
  function lrError(msg) {
    const e = document.createElement("div");
    e.className = "pg-err"; e.textContent = msg;
    el.notes.replaceChildren(e);
  }
  on(el.k, "input", () => { stopPlay(); st.k = Number(el.k.value); update(); });
  on(el.lr, "input", () => {
    stopPlay();
    const v = num(el.lr.value);
    if (!(isFinite(v) && v > 0 && v <= 10)) {
      lrError("The step size must be a number above 0 and at most 10 (with 0 the network never changes). " +
              "The value it was trained with is " + P.inner_lr + ".");
      return;
    }
    st.lr = v; update();
  });
  on(el.lr, "change", () => { if (!(num(el.lr.value) > 0 && num(el.lr.value) <= 10)) { el.lr.value = String(st.lr); update(); } });
  on(el.steps, "input", () => {
    stopPlay();
    const v = num(el.steps.value);
    if (!(Number.isInteger(v) && v >= 1 && v <= 50)) return;
    st.steps = v; update();
  });
  on(el.steps, "change", () => { el.steps.value = String(st.steps); });
  on(el.step, "input", () => { stopPlay(); st.step = Number(el.step.value); draw(); });
  on(el.play, "click", () => {
    if (playing) return stopPlay();
    if (st.step >= res.shown - 1) { st.step = 0; draw(); }
    el.play.textContent = "❚❚";
    playing = setInterval(() => {
      if (!root.isConnected || st.step >= res.shown - 1) return stopPlay();
      st.step += 1; draw();
    }, 700);
  });
  on(el.newt, "click", () => { stopPlay(); st.task = first + ((st.task - first + 1) % n); st.points = []; update(); });
  on(el.clear, "click", () => { stopPlay(); st.points = []; update(); });
  on(el.only, "change", () => { stopPlay(); st.only = el.only.checked; update(); });
  on(el.classes, "change", (ev) => { if (ev.target.dataset.cls !== undefined) { st.cls = Number(ev.target.dataset.cls); save(); } });

  // ------------------------------------------------------------------ the pointer
  // A press (mouse, pen) on empty chart adds a point there and drags it while held; a press on
  // one of your points drags it; a finger adds a point with a tap (a swipe scrolls the page)
  // and drags one of your points when it lands on it.
  function at(div, ev, only) {
    const L = div._fullLayout;
    if (!L || !L.xaxis || !L.yaxis) return null;
    const bb = div.getBoundingClientRect();
    let best = null;
    for (const [xn, yn] of (only ? [only] : [["xaxis", "yaxis"], ["xaxis2", "yaxis2"]])) {
      const xa = L[xn], ya = L[yn];
      if (!xa || !ya || !xa._length) continue;
      const px = ev.clientX - bb.left - xa._offset, py = ev.clientY - bb.top - ya._offset;
      const c = { inside: px >= 0 && px <= xa._length && py >= 0 && py <= ya._length, axes: [xn, yn],
                  x: xa.p2l(Math.min(Math.max(px, 0), xa._length)), y: ya.p2l(Math.min(Math.max(py, 0), ya._length)),
                  px: px, py: py, xa: xa, ya: ya };
      if (!best || (c.inside && !best.inside)) best = c;
    }
    return best;
  }
  function hit(c, touch) {
    let best = -1, bd = touch ? 24 : 14;
    st.points.forEach((p, i) => {
      const dx = c.xa.l2p(p[0]) - c.px, dy = c.ya.l2p(p[1]) - c.py, dd = Math.hypot(dx, dy);
      if (dd < bd) { bd = dd; best = i; }
    });
    return best;
  }
  const newPoint = (c) => (eng.classes ? [r3(c.x), r3(c.y), st.cls] : [r3(c.x), r3(c.y)]);
  let drag = null, tap = null, frame = null;
  function moveTo(c) {
    if (!drag) return;
    const p = st.points[drag.i];
    p[0] = r3(c.x); p[1] = r3(c.y);
    if (frame === null) frame = requestAnimationFrame(() => { frame = null; update(); });
  }
  function bindPointer(div) {
    on(div, "pointerdown", (ev) => {
      if (ev.pointerType === "mouse" && ev.button !== 0) return;
      const c = at(div, ev);
      if (!c || !c.inside) return;
      stopPlay();
      const i = hit(c, ev.pointerType === "touch");
      if (i >= 0) {
        drag = { i: i, id: ev.pointerId, axes: c.axes };
      } else if (ev.pointerType === "touch") {
        tap = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, c: c };
        return;
      } else {
        st.points.push(newPoint(c));
        drag = { i: st.points.length - 1, id: ev.pointerId, axes: c.axes };
        update();
      }
      try { div.setPointerCapture(ev.pointerId); } catch (e) { /* capture is a nicety */ }
      ev.preventDefault();
    }, { capture: true });
    on(div, "pointermove", (ev) => {
      if (drag && ev.pointerId === drag.id) { const c = at(div, ev, drag.axes); if (c) moveTo(c); }
      else if (tap && ev.pointerId === tap.id && Math.hypot(ev.clientX - tap.x, ev.clientY - tap.y) > 10) tap = null;
    }, { capture: true });
    on(div, "pointerup", (ev) => {
      if (drag && ev.pointerId === drag.id) { drag = null; writeUrl(); }
      else if (tap && ev.pointerId === tap.id) { st.points.push(newPoint(tap.c)); tap = null; update(); }
    }, { capture: true });
    on(div, "pointercancel", () => { drag = null; tap = null; }, { capture: true });
    // a finger on one of your points drags it instead of scrolling the page
    on(div, "touchstart", (ev) => {
      const t = ev.touches[0], c = t && at(div, t);
      if (c && c.inside && hit(c, true) >= 0) ev.preventDefault();
    }, { passive: false, capture: true });
  }

  let resizeTimer = null;
  on(window, "resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (res) draw(); }, 150);
  });

  window.mavizWhenPlotly(120000).then(() => {
    if (ac.signal.aborted) return;
    update();
    bindPointer(divs[eng.classes ? "maps" : "curve"]);
  }).catch((e) => { el.notes.textContent = "The chart could not be drawn: " + e.message; });
  return () => { ac.abort(); stopPlay(); clearInterval(keeper); clearTimeout(urlTimer); applyUrl(); };
}

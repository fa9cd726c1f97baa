// A square to draw in with the mouse, a finger or a pen, and the guesses for the drawing beside
// it (pages/_shared/drawing_pad.py, a Streamlit v2 component). Each stroke is drawn under the
// pointer as it moves (on a 2D canvas, in the event itself: no server round trip) and sent to
// Python when it ends, with every stroke so far, as lists of [x, y] in [0, 1] (y downwards).
// "Clear" empties it. What Python last knew (data.strokes) is redrawn when the component is
// mounted again. data.chart (Plotly JSON, made by Python for these strokes) is drawn beside the
// square with the page's Plotly in Streamlit's look (plotly_theme.js, THEME prepended by the
// Python side); with none, data.note is shown there instead (as text, never as HTML).
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector("[data-maviz-pad]");
  const canvas = root.querySelector("canvas"), clear = root.querySelector("[data-clear]");
  const ctx = canvas.getContext("2d");
  const MAX_POINTS = data.max_points || 400, MAX_STROKES = data.max_strokes || 40;
  let st = root.__pad;
  if (!st) st = root.__pad = { strokes: Array.isArray(data.strokes) ? data.strokes : [], cur: null };

  function size() {                               // device pixels for a sharp line
    const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const px = Math.max(1, Math.round(r.width * dpr));
    if (canvas.width !== px || canvas.height !== px) { canvas.width = px; canvas.height = px; }
    return px;
  }
  function pen(px) {
    ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
    ctx.lineWidth = Math.max(2, px * (data.pen || 0.05));
  }
  function redraw() {
    const px = size();
    ctx.clearRect(0, 0, px, px);
    pen(px);
    for (const s of st.strokes.concat(st.cur ? [st.cur] : [])) {
      if (!s.length) continue;
      ctx.beginPath();
      ctx.moveTo(s[0][0] * px, s[0][1] * px);
      for (const p of s.length > 1 ? s.slice(1) : [s[0]]) ctx.lineTo(p[0] * px, p[1] * px);
      ctx.stroke();
    }
    clear.disabled = !st.strokes.length;
    root.dataset.strokes = String(st.strokes.length);
  }
  function at(ev) {
    const r = canvas.getBoundingClientRect(), c = (v) => Math.min(1, Math.max(0, v));
    const r4 = (v) => Math.round(v * 1e4) / 1e4;
    return [r4(c((ev.clientX - r.left) / r.width)), r4(c((ev.clientY - r.top) / r.height))];
  }
  function down(ev) {
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    if (st.strokes.length >= MAX_STROKES) return;
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    st.cur = [at(ev)];
    redraw();
  }
  function move(ev) {
    if (!st.cur) return;
    ev.preventDefault();
    const px = size(), last = st.cur[st.cur.length - 1], p = at(ev);
    if (st.cur.length >= MAX_POINTS) return;
    st.cur.push(p);
    pen(px);                                       // draw the new segment now, under the pen
    ctx.beginPath();
    ctx.moveTo(last[0] * px, last[1] * px);
    ctx.lineTo(p[0] * px, p[1] * px);
    ctx.stroke();
  }
  function up(ev) {
    if (!st.cur) return;
    const s = st.cur;
    st.cur = null;
    st.strokes = st.strokes.concat([s]);
    redraw();
    root.dataset.sent = String((Number(root.dataset.sent) || 0) + 1);
    setStateValue("strokes", st.strokes);
  }
  const offs = [["pointerdown", down], ["pointermove", move], ["pointerup", up],
                ["pointercancel", up]].map(([e, f]) => {
    canvas.addEventListener(e, f);
    return () => canvas.removeEventListener(e, f);
  });
  const onClear = () => { st.strokes = []; st.cur = null; redraw(); setStateValue("strokes", []); };
  clear.addEventListener("click", onClear);
  offs.push(() => clear.removeEventListener("click", onClear));
  function guesses() {          // the chart beside the square, or the note where there is none
    const box = root.querySelector(".pad-guess"), note = root.querySelector("[data-note]");
    const plot = root.querySelector("[data-plot]");
    note.textContent = data.chart ? "" : (data.note || "");
    if (!data.chart) {
      root.__padChart = "";
      if (plot._fullLayout && window.Plotly) window.Plotly.purge(plot);
      const fresh = document.createElement("div");       // no chart left behind to be read
      fresh.dataset.plot = "";
      box.replaceChild(fresh, plot);
      return;
    }
    plot.style.minHeight = (data.height || 340) + "px";
    const spec = data.chart;
    root.__padChart = spec;
    const fw = window.mavizFollowWidth([plot]);
    offs.push(() => fw.disconnect());
    window.mavizWhenPlotly(120000).then((Plotly) => {
      if (root.__padChart !== spec) return;              // a later run's chart came meanwhile
      const fig = window.mavizLook(THEME, JSON.parse(spec),
                                   Math.round(plot.getBoundingClientRect().width) || 400,
                                   data.height || 340);
      const config = { displayModeBar: false, displaylogo: false, responsive: false };
      return Plotly.react(plot, Object.assign(fig, { config: config }));
    }).catch(() => { note.textContent = "The chart could not be drawn: Plotly.js did not load."; });
  }
  const ro = new ResizeObserver(() => redraw());
  ro.observe(canvas);
  offs.push(() => ro.disconnect());
  if (root.__padOff) root.__padOff();             // this script's listeners from a previous run
  root.__padOff = () => offs.forEach((f) => f());
  redraw();
  guesses();
  root.dataset.ready = "1";
  return root.__padOff;
}

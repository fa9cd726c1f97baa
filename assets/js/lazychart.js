/* maml-viz: a Plotly chart drawn when the reader can see it (pages/_shared/lazy_chart.py, a
Streamlit v2 component). A chart on the first screen is drawn as soon as Plotly.js is there; one
further down waits for the page to be idle (one chart per idle moment, the nearest first) or for
the reader to scroll near it, whichever comes first; one in a hidden container (the Learn page's
phone-only gallery on a wide screen) is never drawn until it shows. Drawing every chart of a
long page at once kept the first screen waiting for charts nobody could see yet.
Looks like Streamlit's own st.plotly_chart (plotly_theme.js, with THEME: Streamlit's template,
prepended to this file by the Python side). */
export default function (component) {
  const { data, parentElement } = component;
  const W = window, root = parentElement.querySelector("[data-maviz-lazy]");
  const S = W.__mavizLazy || (W.__mavizLazy = { waiting: new Set(), idle: null, asked: false });
  root.style.minHeight = data.height + "px";
  const drawn = root.dataset.want === data.id && root.dataset.drawn === data.id;   // a rerun
  root.dataset.want = data.id;
  if (!W.Plotly && data.chunk && !S.asked) {     // Plotly.js: the copy Streamlit itself loads
    S.asked = true;
    import(new URL(data.chunk, document.baseURI)).catch(() => {});
  }
  let gone = false;
  const job = { root: root, draw: draw };

  function shown() {
    const r = root.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function near() {
    const r = root.getBoundingClientRect();
    return shown() && r.top < W.innerHeight + 200 && r.bottom > -200;
  }
  function draw() {
    S.waiting.delete(job);
    if (gone || root.dataset.want !== data.id || !shown()) return;
    const fig = W.mavizLook(THEME, JSON.parse(data.spec),
                            Math.round(root.getBoundingClientRect().width), data.height);
    const config = Object.assign({ displaylogo: false, responsive: false },
                                 JSON.parse(data.config || "{}"));
    W.Plotly.newPlot(root, Object.assign(fig, { config: config }))
      .then(() => { if (root.dataset.want === data.id) root.dataset.drawn = data.id; });
  }
  function idle() {                  // one waiting chart per idle moment, the nearest first
    S.idle = null;
    let best = null, bestD = Infinity;
    for (const j of S.waiting) {
      const r = j.root.getBoundingClientRect();
      if (r.width === 0) continue;                 // hidden: drawn when it shows
      const d = Math.abs(r.top);
      if (d < bestD) { best = j; bestD = d; }
    }
    if (best) best.draw();
    schedule();
  }
  function schedule() {
    if (S.idle === null && [...S.waiting].some((j) => j.root.getBoundingClientRect().width > 0))
      S.idle = (W.requestIdleCallback || ((f) => setTimeout(f, 50)))(idle, { timeout: 4000 });
  }

  const io = new IntersectionObserver((es) => {
    if (es.some((e) => e.isIntersecting) && S.waiting.has(job)) draw();
  }, { rootMargin: "400px 0px" });
  let width = drawn ? Math.round(root.getBoundingClientRect().width) : 0;
  const ro = new ResizeObserver(() => {   // the container's width, as Streamlit's charts do
    const w = Math.round(root.getBoundingClientRect().width);
    if (root.dataset.drawn === data.id && w > 0 && Math.abs(w - width) > 1 && root._fullLayout)
      W.Plotly.relayout(root, { width: w });
    if (w > 0) width = w;
    if (w > 0 && S.waiting.has(job)) schedule();
  });
  if (!drawn) W.mavizWhenPlotly(120000).then(() => {
    if (gone) return;
    if (near()) draw();
    else { S.waiting.add(job); io.observe(root); schedule(); }
  }).catch(() => {});
  ro.observe(root);
  return () => { gone = true; S.waiting.delete(job); io.disconnect(); ro.disconnect(); };
}

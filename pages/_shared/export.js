// Figures out: under every Plotly chart whose Streamlit key starts with one of the registered
// prefixes (the Compare page's "cmp_", the Inside page's "in_"), two buttons save the chart as it
// is shown (the step the slider is at) as PNG and as SVG at publication size with readable fonts,
// drawn by Plotly.js in this tab (Streamlit's window.Plotly): no server, no extra dependency.
// Installed once per tab; each page adds its prefixes; buttons Streamlit removes are put back.
// __EXPORT__ and __PREFIXES__ are filled in by pages/_shared/paper_ui.py.
(function () {
  const w = window;
  const state = w.__mavizExport || (w.__mavizExport = { prefixes: new Set(), cfg: null });
  state.cfg = __EXPORT__;
  __PREFIXES__.forEach((p) => state.prefixes.add(p));

  function keyOf(el) {
    const c = Array.from(el.classList).find((x) => x.startsWith("st-key-"));
    return c ? c.slice(7) : null;
  }
  function wanted(key) {
    return key && Array.from(state.prefixes).some((p) => key.startsWith(p));
  }
  function publication(gd) {
    const E = state.cfg;
    const layout = JSON.parse(JSON.stringify(gd.layout || {}));
    delete layout.sliders;                       // the step shown is what is saved
    delete layout.updatemenus;
    layout.width = E.width;
    layout.height = E.height;
    layout.font = Object.assign({}, layout.font || {}, { size: E.font, color: "#222" });
    layout.paper_bgcolor = "white";
    layout.plot_bgcolor = "white";
    Object.keys(gd._fullLayout || {}).filter((k) => /^[xy]axis\d*$/.test(k)).forEach((k) => {
      const ax = (layout[k] = layout[k] || {});     // the app's grey axis text: dark for print
      ax.tickfont = Object.assign({}, ax.tickfont || {}, { size: E.font - 2, color: "#222" });
      const title = typeof ax.title === "string" ? { text: ax.title } : (ax.title || {});
      title.font = Object.assign({}, title.font || {}, { size: E.font, color: "#222" });
      ax.title = title;
    });
    layout.legend = Object.assign({}, layout.legend || {}, { font: { size: E.font, color: "#222" } });
    return { data: gd.data, layout };
  }
  async function save(gd, key, fmt) {
    const E = state.cfg;
    const url = await w.Plotly.toImage(publication(gd), {
      format: fmt, width: E.width, height: E.height, scale: fmt === "png" ? E.scale : 1 });
    const a = document.createElement("a");
    a.href = url;
    a.download = `maml-viz-${key}.${fmt}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function button(text, title, onclick) {
    const b = document.createElement("button");
    b.textContent = text;
    b.title = title;
    b.style.cssText = "margin:0 0.4rem 0 0;padding:0.1rem 0.6rem;border:1px solid " +
      "rgba(49,51,63,0.25);border-radius:0.4rem;background:white;cursor:pointer;font-size:0.8rem";
    b.addEventListener("click", onclick);
    return b;
  }
  function scan() {
    document.querySelectorAll('[class*="st-key-"]').forEach((box) => {
      const key = keyOf(box);
      if (!wanted(key)) return;
      const gd = box.querySelector(".js-plotly-plot");
      if (!gd || box.querySelector("[data-maviz-export]")) return;
      const bar = document.createElement("div");
      bar.dataset.mavizExport = key;
      bar.style.cssText = "margin:0.1rem 0 0.4rem 0";
      const E = state.cfg;
      const size = `${E.width}×${E.height} px`;
      bar.appendChild(button("⬇ PNG", `This chart as a PNG image (${size} at ${E.scale}×, fonts ` +
        `${E.font} px), as shown now`, () => save(box.querySelector(".js-plotly-plot"), key, "png")));
      bar.appendChild(button("⬇ SVG", `This chart as an SVG vector image (${size}, fonts ` +
        `${E.font} px), as shown now`, () => save(box.querySelector(".js-plotly-plot"), key, "svg")));
      box.appendChild(bar);
    });
  }
  if (!state.timer) state.timer = setInterval(scan, 700);
  scan();
})();

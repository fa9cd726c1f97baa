/* maml-viz: Streamlit's look for a Plotly figure that the page's own script draws (the Learn
page's charts, Compare's averaged chart): Streamlit's template for a plotly_white figure (THEME,
captured in streamlit_plotly_template.json; its type sized by the page's root font, as Streamlit
does in rem: presenter mode's is bigger), bold titles, the container's width, the figure's
height. window.mavizLook(theme, fig, width, height) -> {data, layout, frames};
window.mavizFollowWidth(plots) -> a ResizeObserver that relayouts each drawn plot of `plots` to
its own width when that changes (disconnect() it when the chart goes). */
(function (root) {
  "use strict";
  function themed(theme) {
    const k = parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1;
    if (k === 1) return theme;
    const t = JSON.parse(JSON.stringify(theme));
    (function walk(o, pad) {
      for (const key in o) {
        const v = o[key];
        if (typeof v === "number") {
          if (pad || key === "size" || key === "standoff" || key === "xpad" || key === "pad")
            o[key] = v * k;
        } else if (v && typeof v === "object") walk(v, key === "pad");
      }
    })(t.layout, false);
    return t;
  }
  root.mavizFollowWidth = function (plots) {
    const widths = new Map();
    const ro = new ResizeObserver(() => {        // the container's width, as Streamlit's do
      for (const plot of plots) {
        const w = Math.round(plot.getBoundingClientRect().width);
        if (w > 0 && Math.abs(w - (widths.get(plot) || 0)) > 1 && plot._fullLayout)
          root.Plotly.relayout(plot, { width: w });
        if (w > 0) widths.set(plot, w);
      }
    });
    plots.forEach((p) => ro.observe(p));
    return ro;
  };
  root.mavizLook = function (theme, fig, width, height) {
    const layout = Object.assign({}, fig.layout);
    layout.template = themed(theme);
    layout.width = width;
    layout.height = height;
    if (layout.title && layout.title.text)
      layout.title = Object.assign({}, layout.title, { text: "<b>" + layout.title.text + "</b>" });
    return { data: fig.data, layout: layout, frames: fig.frames || [] };
  };
}(typeof self !== "undefined" ? self : this));

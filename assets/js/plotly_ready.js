/* maml-viz: wait for Streamlit's own Plotly.js (window.Plotly exists only once the page has drawn a
Plotly chart). Shared by the in-browser components (Playground, Compare, Learn's hands-on chart):
window.mavizWhenPlotly(timeoutMs) resolves with window.Plotly, or rejects after the timeout. */
(function (root) {
  "use strict";
  root.mavizWhenPlotly = root.mavizWhenPlotly || function (timeoutMs) {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      (function poll() {
        if (root.Plotly) return resolve(root.Plotly);
        if (performance.now() - t0 > timeoutMs) return reject(new Error("Plotly.js did not load"));
        setTimeout(poll, 20);
      })();
    });
  };
}(typeof self !== "undefined" ? self : this));

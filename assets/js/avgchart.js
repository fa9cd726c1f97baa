/* maml-viz: Compare's averaged chart (error against steps over held-out tasks) and its caption,
drawn by the page (pages/_shared/avg_chart.py, a Streamlit v2 component). The server hands it
the chart at the page's K and, once they are computed (services/evals.py computes the first
estimates at K ± 1, ± 2 and ± 3 ahead), the charts there, in this component's data or later through
its feeder (hold.js). A K committed in the page's K box is drawn here at once
from those charts, before the server's rerun hands the same chart over; a K with no chart here
waits for the server. Looks like Streamlit's own charts (plotly_theme.js).

Per tab (window.__mavizAvg): charts by set (data.sig: the runs, the steps and the rest of what a
chart depends on, except K) and K; log: [{k, from: "page" | "server"}] of every chart drawn
(tests read it). The caption is set with textContent, never as HTML. */
export default function (component) {
  const { data, parentElement } = component;
  const W = window;
  const set = W.mavizHold("__mavizAvg", data.sig, JSON.parse(data.charts), 24);   // {K: chart}
  const S = W.__mavizAvg;
  const root = parentElement.querySelector("[data-maviz-avg]");
  const plot = root.querySelector("[data-plot]"), cap = root.querySelector("[data-caption]");
  const ac = new AbortController();
  plot.style.minHeight = data.height + "px";
  root.dataset.sig = data.sig;

  function draw(k, from) {
    const c = set.get(k);
    if (!c || !W.Plotly || ac.signal.aborted) return false;
    if (root.dataset.shown === data.sig + "@" + c.id) return true;      // already drawn
    root.dataset.shown = data.sig + "@" + c.id;
    root.dataset.k = String(k);
    cap.textContent = c.caption;
    const fig = W.mavizLook(THEME, JSON.parse(c.spec), Math.round(plot.getBoundingClientRect().width),
                            data.height);
    const config = { displaylogo: false, responsive: false, displayModeBar: false };
    W.Plotly.react(plot, Object.assign(fig, { config: config }));
    S.log.push({ k: k, from: from, id: c.id });
    if (S.log.length > 200) S.log.shift();
    return true;
  }
  function wanted() {          // the K box's value where it differs from the server's K and the
    const k = mavizNumber(data.k_label, 50);                     // number of steps is the same
    const steps = mavizNumber(data.steps_label, 50);
    return k !== null && k !== data.k && steps === data.steps && set.has(k) ? k : data.k;
  }
  mavizOnCommit(() => { const k = wanted(); if (k !== data.k) draw(k, "page"); }, ac.signal);

  const ro = W.mavizFollowWidth([plot]);
  W.mavizWhenPlotly(120000).then(() => {
    const k = wanted();
    draw(k, k === data.k ? "server" : "page");
  }).catch(() => { cap.textContent = "The chart could not be drawn: Plotly.js did not load."; });
  return () => { ac.abort(); ro.disconnect(); };
}

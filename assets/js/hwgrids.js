/* maml-viz: Handwriting's two grids (pages/_shared/hw_grids.py, a Streamlit v2 component), each
a Plotly figure with its own step slider, and the caption under each. The server hands it the
grids of the drawings shown and, at the end of the page's run, those of the next drawings (its
feeder: hold.js). A press on the page's "Other drawings" button
(data.button: its key) draws the next drawings' grids here at once, before the server's rerun
hands the same grids over; drawings not held here wait for the server. Looks like Streamlit's
own charts (plotly_theme.js).

Per tab (window.__mavizHw): grids by set (data.sig: the runs, characters and steps) and drawings
number; log: [{draw, from: "page" | "server", id}] of every pair drawn (tests read it). A grid's
image may say "first": the first grid's drawings. Captions are set with textContent. */
export default function (component) {
  const { data, parentElement } = component;
  const W = window;
  const set = W.mavizHold("__mavizHw", data.sig, JSON.parse(data.charts), 8);    // {draw: grids}
  const S = W.__mavizHw;
  const root = parentElement.querySelector("[data-maviz-hw]");
  const boxes = Array.from(root.querySelectorAll("[data-box]"));
  const ac = new AbortController();
  root.dataset.sig = data.sig;
  boxes.forEach((b) => { b.querySelector("[data-plot]").style.minHeight = data.height + "px"; });

  function draw(n, from) {
    const c = set.get(n);
    if (!c || !W.Plotly || ac.signal.aborted) return false;
    if (root.dataset.shown === data.sig + "@" + c.id) return true;          // already drawn
    root.dataset.shown = data.sig + "@" + c.id;
    root.dataset.draw = String(n);
    const figs = c.specs.map((s) => JSON.parse(s));
    figs.forEach((fig, i) => {
      if (fig.data[0].z === "first") fig.data[0].z = figs[0].data[0].z;
      const box = boxes[i], plot = box.querySelector("[data-plot]");
      const look = W.mavizLook(THEME, fig, Math.round(plot.getBoundingClientRect().width), data.height);
      W.Plotly.react(plot, Object.assign(look, { config: { displaylogo: false, responsive: false,
                                                           displayModeBar: false } }));
      box.querySelector("[data-caption]").textContent = c.captions[i] || "";
    });
    S.log.push({ draw: n, from: from, id: c.id });
    if (S.log.length > 200) S.log.shift();
    return true;
  }
  document.addEventListener("click", (ev) => {        // the page's "Other drawings" button
    if (ev.target.closest && ev.target.closest(".st-key-" + data.button + " button"))
      draw(Number(root.dataset.draw ?? data.draw) + 1, "page");
  }, { capture: true, signal: ac.signal });

  const ro = W.mavizFollowWidth(boxes.map((b) => b.querySelector("[data-plot]")));
  W.mavizWhenPlotly(120000).then(() => {
    // the server's drawings, unless the page has gone on to the next ones since (a press
    // this rerun does not know yet)
    const ahead = Number(root.dataset.draw) === data.draw + 1 && set.has(data.draw + 1);
    draw(ahead ? data.draw + 1 : data.draw, ahead ? "page" : "server");
  }).catch(() => { boxes[0].querySelector("[data-caption]").textContent =
                     "The grids could not be drawn: Plotly.js did not load."; });
  return () => { ac.abort(); ro.disconnect(); };
}

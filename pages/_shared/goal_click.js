// A click or a tap anywhere on a chart's plane, as plane coordinates, sent to the page's Python
// (pages/_shared/goal_click.py, a Streamlit v2 component). The chart says which plane is a
// target with layout.meta.goal_plane = <name> (maml_viz/views/figures/navigation.py); one
// listener on the document (capture phase, pointer events: mouse, touch and pen alike) finds
// the chart under the pointer, converts the pixel to axis coordinates with Plotly's own axes,
// sends {x, y, n} to the component mounted for that name and moves the chart's "goal" marker
// at once (the new rollouts follow; the old ones fade unless layout.meta.no_fade). Plotly's own
// click events fire only on trace points and not at all for a tap: this does not depend on them.
export default function (component) {
  const { data, setTriggerValue } = component;
  const w = window;
  w.__mavizGoalSend = w.__mavizGoalSend || {};
  w.__mavizGoalSend[data.target] = (v) => setTriggerValue("goal", v);
  if (w.__mavizGoalClick) return;
  w.__mavizGoalClick = { n: 0, down: null };
  const S = w.__mavizGoalClick;

  function planeAt(ev) {
    const gd = ev.target && ev.target.closest && ev.target.closest(".js-plotly-plot");
    const meta = gd && gd.layout && gd.layout.meta;
    if (!meta || !meta.goal_plane || !gd._fullLayout) return null;
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, bb = gd.getBoundingClientRect();
    const px = ev.clientX - bb.left - xa._offset, py = ev.clientY - bb.top - ya._offset;
    if (px < 0 || px > xa._length || py < 0 || py > ya._length) return null;
    const r3 = (v) => Math.round(v * 1000) / 1000;
    return { gd: gd, name: meta.goal_plane, x: r3(xa.p2l(px)), y: r3(ya.p2l(py)) };
  }
  document.addEventListener("pointerdown", (ev) => {
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    const p = planeAt(ev);          // at the press: Plotly covers the page while a mouse is down
    S.down = p && { p: p, id: ev.pointerId, cx: ev.clientX, cy: ev.clientY, t: performance.now() };
  }, true);
  document.addEventListener("pointerup", (ev) => {
    const d = S.down;
    S.down = null;
    if (!d || d.id !== ev.pointerId || performance.now() - d.t > 1500) return;
    if (Math.hypot(ev.clientX - d.cx, ev.clientY - d.cy) > 12) return;   // a drag or a scroll
    const p = d.p, send = w.__mavizGoalSend[p.name];
    if (!send) return;
    p.gd.dataset.goalSent = String(++S.n);
    send({ x: p.x, y: p.y, n: S.n });           // first: the new tries start computing now
    const goal = (p.gd._fullData || []).findIndex((t) => t.name === "goal");
    if (goal >= 0 && w.Plotly) {                // the star moves now; the old tries fade
      w.Plotly.restyle(p.gd, { x: [[p.x]], y: [[p.y]] }, [goal]);
      const old = p.gd._fullData.map((t, i) => (t.xaxis === "x" && t.mode === "lines" ? i : -1))
        .filter((i) => i >= 0);       // (a plane computed in the page redraws them at once)
      if (old.length && !p.gd.layout.meta.no_fade) w.Plotly.restyle(p.gd, { opacity: 0.3 }, old);
    }
  }, true);
}

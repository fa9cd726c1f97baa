/* maml-viz: what the in-browser charts' controls share (Compare's one-task chart, the Navigation
plane): the URL kept in step with the chart's state, and ▶ stepping through the chart's steps.

  mavizUrl(host, entries) -> {write, stop}
    entries(): [[name, text], ...] the chart's state as query parameters. write() applies them
    150 ms later (history.replaceState: no navigation, no rerun); they are applied again every
    500 ms (a server rerun may have rewritten the query string) and once more by stop().
    host.dataset.url is "0" until they are in the URL, then "1" (tests wait on it).
  mavizPlayer(button, host, st, draw, {signal, ready}) -> {stop}
    ▶ on `button` steps st.step from its value (from 0 when at the end) to st.steps, one step
    every 700 ms, calling draw() after each; ready(s), if given, says whether step s can be
    drawn yet (not yet: wait for the next tick). The button reads ❚❚ while playing.
  mavizNumber(label, hi) -> the page's number input of that aria-label as an integer in 1..hi,
    or null; mavizOnCommit(f, signal): f() two frames after a value is committed in one of the
    page's number inputs (a − / + press, Enter, leaving the box), before the server's rerun:
    the in-page charts that follow Compare's K draw the new value at once.
*/
(function (root) {
  "use strict";
  root.mavizUrl = function (host, entries) {
    const path = root.location.pathname;
    let timer = null;
    function apply() {
      if (!host.isConnected || root.location.pathname !== path) return;
      const u = new URL(root.location.href);
      let changed = false;
      for (const [k, v] of entries()) if (u.searchParams.get(k) !== v) { u.searchParams.set(k, v); changed = true; }
      if (changed) root.history.replaceState(root.history.state, "", u);
      host.dataset.url = "1";
    }
    const keeper = setInterval(apply, 500);
    return {
      write() { host.dataset.url = "0"; clearTimeout(timer); timer = setTimeout(apply, 150); },
      stop() { clearInterval(keeper); clearTimeout(timer); apply(); },
    };
  };

  root.mavizNumber = function (label, hi) {
    const i = Array.from(document.querySelectorAll('input[type="number"]'))
      .find((x) => x.getAttribute("aria-label") === label);
    const v = i ? Number(i.value) : NaN;
    return Number.isInteger(v) && v >= 1 && v <= hi ? v : null;
  };

  root.mavizOnCommit = function (f, signal) {
    const on = (type, g) => document.addEventListener(type, g, { signal: signal, capture: true });
    const later = () => requestAnimationFrame(() => requestAnimationFrame(f));
    for (const type of ["pointerdown", "click"])      // the press moves the value; the click too
      on(type, (ev) => {
        if (ev.target.closest && ev.target.closest('[data-testid="stNumberInputStepUp"], ' +
                                                   '[data-testid="stNumberInputStepDown"]')) later();
      });
    on("keydown", (ev) => { if (ev.key === "Enter" && ev.target.type === "number") later(); });
    on("focusout", (ev) => { if (ev.target.type === "number") later(); });
  };

  root.mavizPlayer = function (button, host, st, draw, opts) {
    const ready = (opts && opts.ready) || (() => true);
    let playing = null;
    const stop = () => { if (playing) { clearInterval(playing); playing = null; button.textContent = "▶"; } };
    button.addEventListener("click", () => {
      if (playing) return stop();
      if (st.step >= st.steps) { st.step = 0; draw(); }
      button.textContent = "❚❚";
      playing = setInterval(() => {
        if (!host.isConnected || st.step >= st.steps) return stop();
        if (!ready(st.step + 1)) return;                  // that step is not done yet
        st.step += 1; draw();
      }, 700);
    }, { signal: opts && opts.signal, capture: true });
    return { stop: stop };
  };
}(typeof self !== "undefined" ? self : this));

// The step slider lives in the browser: a Plotly slider named "step" (maml_viz/figures.py)
// switches the chart's frames without asking the server. This script, installed once per tab,
// keeps the chosen step where a user expects it, still without a message to the server:
//  - in the address bar (history.replaceState), so that a copied link opens the same step;
//  - across reruns (the server redraws the chart with the step it last knew: we move it back)
//    and across visits to other pages (remembered per page path in this tab).
// On a phone (<= 480 px wide) it also stacks a step figure's panels (layout.meta.phone).
(function () {
  const w = window;
  if (w.__mavizSteps) return;
  const chosen = {};                                  // page path -> step label
  w.__mavizSteps = chosen;

  function slider(gd) {
    return ((gd._fullLayout || {}).sliders || []).find((s) => s.name === "step");
  }
  function writeUrl(label) {
    const u = new URL(w.location.href);
    if (u.searchParams.get("step") === String(label)) return;
    u.searchParams.set("step", label);
    w.history.replaceState(w.history.state, "", u);
  }
  function sync() {
    document.querySelectorAll(".js-plotly-plot").forEach((gd) => {
      const sl = slider(gd);
      if (!sl || !sl.steps || !sl.steps.length) return;
      if (!gd.__mavizStep) {
        gd.__mavizStep = true;
        gd.on("plotly_sliderchange", (e) => {
          chosen[w.location.pathname] = e.step.label;
          writeUrl(e.step.label);
        });
        gd.on("plotly_afterplot", () => setTimeout(sync, 0));
      }
      const phone = ((gd.layout || {}).meta || {}).phone;
      if (phone && w.innerWidth <= 480 && w.Plotly) {
        const h = phone.height + "px";                  // Streamlit sizes the boxes around it
        for (let el = gd.parentElement; el; el = el.parentElement) {
          if (el.style.height !== h) { el.style.height = h; el.style.flexBasis = h; }
          if (el.getAttribute("data-testid") === "stElementContainer") break;
        }
        if (gd._fullLayout.height !== phone.height) w.Plotly.relayout(gd, phone);
      }
      const labels = sl.steps.map((s) => s.label);
      let want = chosen[w.location.pathname];
      if (want === undefined) want = labels[sl.active];
      if (!labels.includes(want)) want = labels[labels.length - 1];
      if (labels[sl.active] !== want && w.Plotly && !gd._mavizMoving) {
        gd._mavizMoving = true;
        w.Plotly.animate(gd, [want], {mode: "immediate", frame: {duration: 0, redraw: true},
                                      transition: {duration: 0}})
          .finally(() => { gd._mavizMoving = false; });
      }
      writeUrl(want);
    });
  }
  function bindCopy() {
    document.querySelectorAll("button[data-maviz-copy]").forEach((b) => {
      if (b.__maviz) return;
      b.__maviz = true;
      b.addEventListener("click", () => w.mavizCopyLink(b));
    });
  }
  w.__mavizSync = sync;
  setInterval(bindCopy, 250);
  setInterval(sync, 250);
  sync();
})();

// "Copy link": the address bar already holds every setting of the page (and the step).
window.mavizCopyLink = function (button) {
  const url = window.location.href;
  const done = () => {
    button.textContent = "Link copied";
    setTimeout(() => { button.textContent = "Copy link to this view"; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(done, () => window.prompt("Copy this link:", url));
  } else {
    window.prompt("Copy this link:", url);
  }
};

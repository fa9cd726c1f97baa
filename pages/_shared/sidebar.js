// On a phone the sidebar lies over the page: once a page is chosen in it, close it (Streamlit
// closes it only for its own page list, not for st.page_link). Installed once per tab by
// pages/_shared/ui.py's setup(); a narrow window is Streamlit's own breakpoint for the overlay.
(function () {
  const w = window;
  if (w.__mavizSidebarClose) return;
  w.__mavizSidebarClose = true;
  // and on a phone a chart's toolbar (full screen) covers the chart's top: leave it out there
  const style = document.createElement("style");
  style.textContent = "@media (max-width: 640px) { [data-testid='stElementContainer']:has(" +
    ".stPlotlyChart) [data-testid='stElementToolbar'] { display: none; } }";
  document.head.appendChild(style);
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest && ev.target.closest('[data-testid="stSidebar"] a');
    if (!link || w.innerWidth > 768) return;
    const close = (tries) => {
      const bar = document.querySelector('[data-testid="stSidebar"]');
      if (!bar || bar.getAttribute("data-collapsed") === "true") return;
      const b = bar.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (b) b.click();
      else if (tries > 0) setTimeout(() => close(tries - 1), 100);
    };
    setTimeout(() => close(20), 0);
  }, true);
})();

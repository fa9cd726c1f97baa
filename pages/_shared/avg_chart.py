"""Compare's averaged chart drawn by the page (issue 21; a Streamlit v2 component, its script
assets/js/avgchart.js): the chart at the page's K with its caption and, once computed, the charts
at K ± 1, ± 2 and ± 3, so that a K ± press redraws the chart and its caption in the page at once;
the server's rerun then hands the same chart over (and the numbers under it). `feed` hands the
charts ahead over later, as the background computes them (the page's progress poll).
Streamlit's look: plotly_theme.js with Streamlit's template, as pages/_shared/lazy_chart.py."""
from __future__ import annotations

import hashlib
import json

import streamlit as st

from pages._shared.lazy_chart import caption_css, feeder, themed_js

JS = themed_js("chart_controls.js", "hold.js", "avgchart.js")
HTML = '<div data-maviz-avg><div data-plot></div><div class="maviz-caption" data-caption></div></div>'
CSS = "[data-maviz-avg] { width: 100%; }\n" + caption_css("[data-maviz-avg]")
_component = st.components.v2.component("maml_viz.avg_chart", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)
feed = feeder("maml_viz.avg_feed", "__mavizAvg", 24, key="cmp_ahead")
"""feed(sig, {K: entry()}): hand the page charts of set `sig` ahead, drawing nothing."""


def entry(figure, caption: str) -> dict:
    """One chart as the page holds it: its Plotly JSON, its caption, an id for the pair."""
    spec = figure.to_json()
    return {"spec": spec, "caption": caption,
            "id": hashlib.sha1((spec + caption).encode()).hexdigest()[:16]}


def chart(sig: str, k: int, steps: int, charts: dict, height: int, k_label: str,
          steps_label: str, key: str) -> None:
    """Draw the chart at K = k (charts[k]); charts: {K: entry()} (k and those ahead);
    sig: what the charts depend on besides K (the page redraws only a chart of the same sig)."""
    _component(data={"sig": sig, "k": int(k), "steps": int(steps), "height": int(height),
                     "charts": json.dumps({str(x): c for x, c in charts.items()}),
                     "k_label": k_label, "steps_label": steps_label}, key=key)

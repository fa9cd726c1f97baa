"""Handwriting's two grids (MAML's and the pretrained network's guesses for the same drawings)
drawn by the page (issue 21; a Streamlit v2 component, its script assets/js/hwgrids.js), each
with the caption under it. The page's "Other drawings" button redraws them in the page at once
from the next drawings' grids, computed ahead and handed over by `feed` at the end of the page's
run; the server's rerun then hands the same grids over (and redraws the rest of the page).
Streamlit's look: plotly_theme.js with Streamlit's template, as pages/_shared/lazy_chart.py."""
from __future__ import annotations

import hashlib
import json

import streamlit as st

from pages._shared.lazy_chart import caption_css, feeder, themed_js

JS = themed_js("hold.js", "hwgrids.js")
HTML = """<div data-maviz-hw>
<div class="hw-box" data-box><div data-plot></div><div class="maviz-caption" data-caption></div></div>
<div class="hw-box" data-box><div data-plot></div><div class="maviz-caption" data-caption></div></div>
</div>"""
CSS = """[data-maviz-hw] { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 1rem; width: 100%; }
[data-maviz-hw] .hw-box { min-width: 0; }
@media (max-width: 640px) { [data-maviz-hw] { grid-template-columns: minmax(0, 1fr); } }
""" + caption_css("[data-maviz-hw]")
_component = st.components.v2.component("maml_viz.hw_grids", html=HTML, css=CSS, js=JS,
                                        isolate_styles=False)
feed = feeder("maml_viz.hw_feed", "__mavizHw", 8, key="hw_next")
"""feed(sig, {draw: entry()}): hand the page grids of set `sig` ahead, drawing nothing."""


def entry(figures: list, captions: list) -> dict:
    """One episode's grids as the page holds them: each figure's Plotly JSON (the drawings,
    the same in every grid, sent once: a later grid's image says "the first grid's"), the
    captions, an id for all of it."""
    specs = [json.loads(f.to_json()) for f in figures]
    for s in specs[1:]:
        if s["data"][0].get("z") == specs[0]["data"][0].get("z"):
            s["data"][0]["z"] = "first"
    text = [json.dumps(s, separators=(",", ":")) for s in specs]
    return {"specs": text, "captions": list(captions),
            "id": hashlib.sha1("\n".join(text + list(captions)).encode()).hexdigest()[:16]}


def grids(sig: str, draw: int, current: dict, height: int, button_key: str, key: str) -> None:
    """Draw `current` (entry()) as the grids of drawings number `draw`; sig: what the grids
    depend on besides the drawings (the page redraws only grids of the same sig); button_key:
    the page's "Other drawings" button (a press draws drawings draw + 1 at once if held)."""
    _component(data={"sig": sig, "draw": int(draw), "height": int(height), "button": button_key,
                     "charts": json.dumps({str(draw): current})}, key=key)

"""Plotly charts that the browser draws when the reader can see them (a Streamlit v2 component;
its script is assets/js/lazychart.js): the charts on the first screen at once, the ones further
down while the page is idle or when the reader scrolls near them, a chart in a hidden container
only when it shows. The Learn page draws its stored figures this way: Streamlit's st.plotly_chart
draws every chart of the page as it arrives, and the first screen of a fresh server waited about
a second longer for charts below it. The look is Streamlit's (its Plotly template, captured in
assets/js/streamlit_plotly_template.json; bold titles; the container's width). Where Streamlit
has no Plotly chunk to load (CHUNK: none found), st.plotly_chart draws instead."""
from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import streamlit as st

JS_DIR = Path(__file__).resolve().parents[2] / "assets" / "js"
# Streamlit's own Plotly.js chunk (4.7 MB): importing the URL the app itself would import gives
# the same module, so the page holds one Plotly (window.Plotly, which the in-page components
# also use) and Streamlit's own charts find it loaded
_ST_JS = Path(st.__file__).parent / "static" / "static" / "js"
CHUNK = next(iter(sorted(p.name for p in _ST_JS.glob("PlotlyChart.*.js"))), None)
THEME = (JS_DIR / "streamlit_plotly_template.json").read_text()


def themed_js(*files) -> str:
    """The script of a component that draws with the page's Plotly in Streamlit's look:
    Streamlit's chart template as THEME, plotly_ready.js and plotly_theme.js, then `files`
    (names in assets/js, or absolute paths)."""
    return "\n".join(["const THEME = " + THEME + ";"] + [(JS_DIR / f).read_text() for f in (
        "plotly_ready.js", "plotly_theme.js", *files)])


def caption_css(root: str) -> str:
    """The CSS of a caption under (or beside) an in-page chart, as Streamlit's st.caption looks,
    for the elements of class maviz-caption inside `root` (a CSS selector)."""
    return (f"{root} .maviz-caption {{ font-size: 0.875rem; color: rgba(49, 51, 63, 0.6);\n"
            "  line-height: 1.5; margin-top: 0.25rem; overflow-wrap: break-word; }")


JS = themed_js("lazychart.js")
_component = st.components.v2.component(
    "maml_viz.lazy_chart", html="<div data-maviz-lazy></div>", js=JS,
    css="[data-maviz-lazy] {\n  width: 100%;\n}\n", isolate_styles=False)


def feeder(name: str, store: str, max_kept: int, key: str):
    """feed(sig, charts): hand charts ({key: chart}, keys numbers) of set `sig` over to the
    page's store window[store] (assets/js/hold.js) without drawing anything, from a component
    (element `key`, hidden) whose script is only that."""
    js = (JS_DIR / "hold.js").read_text() + (
        "\nexport default function (c) {\n  window.mavizHold(%s, c.data.sig, "
        "JSON.parse(c.data.charts), %d);\n}\n" % (json.dumps(store), int(max_kept)))
    component = st.components.v2.component(name, html="<div></div>", js=js,
                                            css=f".st-key-{key} {{ display: none; }}",
                                            isolate_styles=False)

    def feed(sig: str, charts: dict) -> None:
        component(data={"sig": sig, "charts": json.dumps({str(x): c for x, c in charts.items()})},
                  key=key)
    return feed


def chart(spec: str, height: int, key: str, where=st, config: dict | None = None):
    """Draw one figure (its Plotly JSON, `height` pixels tall) in `where`."""
    config = dict(config or {})
    if CHUNK is None:
        import plotly.graph_objects as go
        where.plotly_chart(go.Figure(json.loads(spec), _validate=False), key=key, config=config)
        return
    with contextlib.nullcontext() if where is st else where:
        # every value a string or a number: Streamlit checks a dict or list value for a
        # dataframe, which imports pandas (half a second on a fresh server)
        _component(data={"spec": spec, "height": int(height), "config": json.dumps(config),
                         "id": hashlib.sha1(spec.encode()).hexdigest()[:16],
                         "chunk": f"static/js/{CHUNK}"}, key=key)

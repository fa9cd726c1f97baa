"""A click or a tap anywhere on a chart's plane, as plane coordinates (a Streamlit v2 component
with no visible part; its script is pages/_shared/goal_click.js). The chart marks its plane
with layout.meta.goal_plane = name; `goal_click(name)` returns the (x, y) the person clicked or
tapped during this run, else None. Used by the Navigation page to place the goal."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

_component = st.components.v2.component(
    "maml_viz.goal_click", js=(Path(__file__).parent / "goal_click.js").read_text(),
    css=".st-key-maviz_goal_click { display: none; }", isolate_styles=False)


def goal_click(name: str) -> tuple | None:
    with st.container(key="maviz_goal_click"):
        res = _component(data={"target": name}, key=f"maviz_goal_click_{name}",
                         on_goal_change=lambda: None)
    v = getattr(res, "goal", None)
    try:
        return (float(v["x"]), float(v["y"]))
    except (TypeError, KeyError, ValueError):
        return None

"""The Handwriting page's episode charts (pages/5_Handwriting.py): each network's guesses on the
new drawings step by step, and the class probabilities of one drawing the person picks. `out`:
{algo: hw.guesses(...)} for the episode `ep` (views/handwriting.py)."""
from __future__ import annotations

import streamlit as st

from maml_viz.views import handwriting as hw
from maml_viz.views.figures.handwriting import class_probabilities, handwriting_grid

ALGOS, NO_BAR = ("maml", "pretrained"), {"displayModeBar": False}


def grids(ep, out: dict, label: dict, steps: int, alpha: float):
    true = ep["yq"][0].numpy()
    proto = f"right of {len(true)} new drawings · 1 example each · step size α = {alpha:g}"
    cols = st.columns(2)
    for col, a in zip(cols, ALGOS):
        acc = out[a]["accuracy"]
        col.plotly_chart(handwriting_grid(
            ep["support_img"], ep["query_img"], true, out[a]["guess"],
            title=f"{label[a]}: {acc[0]:.0%} → {acc[-1]:.0%} after {steps} steps",
            subtitle=proto, height=560), key=f"hw_grid_{a}", config=NO_BAR)
    cols[0].caption(hw.grid_caption(steps))
    cols[1].caption(hw.pretrained_caption(label, {a: out[a]["correct"] for a in ALGOS}))


def probabilities(ep, out: dict, label: dict, steps: int):
    true = ep["yq"][0].numpy()
    st.subheader("How sure is it? One drawing, step by step")
    q = len(true) // len(ep["support_img"])
    pick = st.selectbox(
        "Drawing to inspect", range(len(true)), key="hw_pick",
        format_func=lambda i: f"a drawing of {hw.LETTERS[true[i]]} (#{i % q + 1})",
        help="One of the new drawings above: its bars show each network's probability for A–E.")
    st.plotly_chart(class_probabilities(
        {a: (label[a], out[a]["probs"][:, pick]) for a in ALGOS}, int(true[pick]),
        title=f"Probabilities for a drawing of {hw.LETTERS[true[pick]]}",
        subtitle=f"after 0..{steps} steps on the five examples · bars outlined: the right answer"),
        key="hw_probs", config=NO_BAR)
    st.caption(hw.probabilities_caption(label, {a: out[a]["probs"][:, pick] for a in ALGOS},
                                        int(true[pick])))

"""The Playground's server path, for runs the browser cannot adapt (views.browser raises
BrowserUnsupported: a model or family adapt.js does not have). Streamlit widgets for K, α, the
steps, New task, Clear points, "Use only my points" and the class of added points; the engine
adapts and views.playground draws one Plotly figure with a frame per step; a click reruns the
page to add a point. (The small families run in the browser: pages/_shared/adapt_component.py.)"""
from __future__ import annotations

import streamlit as st

from maml_viz.views.figures.style import CLASS_NAMES
from maml_viz.views.playground import playground
from maml_viz.views.points import click_classes, clicked, support
from pages._shared import ui


def controls(view, family: str, algo: str, cfg, run) -> dict:
    """The widgets for what the browser would otherwise answer; returns the settings."""
    ss = st.session_state
    k = st.slider("Examples per task (K)", 1, 50, key=view.seed("k", cfg.k_shot, scope=family),
                  help="How many points of the new task it adapts to (per class for classes)")
    lr = st.number_input("Step size α", 0.0, 10.0, step=cfg.inner_lr / 2, format="%.4f",
                         key=view.seed("lr", float(cfg.inner_lr), scope=cfg.key()),
                         help=f"How big each gradient step is; it was trained with {cfg.inner_lr:g}"
                              + (" (Meta-SGD learned its own: change it to override)"
                                 if algo == "metasgd" else ""))
    fam_default = ui.family_class(family).eval_steps
    steps = st.number_input("Adaptation steps to show", 1, 50, key=view.seed("steps", fam_default),
                            help=f"The chart's step slider goes from 0 to this many gradient steps "
                                 f"(the evaluation protocol uses {fam_default})")
    task = view.take("task", 0)
    points = ss.setdefault("pg_points", {}).setdefault(family, [])
    b1, b2 = st.columns(2)
    if b1.button("New task", help="Draw another task from the family", width="stretch"):
        task, points[:] = task + 1, []
    if b2.button("Clear points", width="stretch", disabled=not points,
                 help="Remove the points you added"):
        points[:] = []
    if ss.pop("pg_only_next", False):           # a file was just loaded: use its points alone
        ss.pg_only = True
    only = st.toggle("Use only my points", key="pg_only", help="Adapt to your points alone "
                     "instead of adding them to the task's K points")
    classes = click_classes(run.family)
    if classes:
        st.radio("Class of the points you add", classes, horizontal=True, key="pg_class",
                 format_func=lambda c: f":{CLASS_NAMES[c % 7]}[■] class {c}",
                 help="A click on the middle map adds an example of this class")
    return dict(k=k, lr=lr, steps=int(steps), task=task, points=points, only=only)


def use_upload(family: str, sig, new: list):
    """A new CSV's points replace the user's points and are used alone (reruns the page)."""
    ss = st.session_state
    if ss.get("pg_upload_sig") != sig:
        ss.pg_upload_sig, ss.pg_only_next = sig, True
        ss.setdefault("pg_points", {})[family] = list(new)
        st.rerun()


def chart(view, run, cfg, algo: str, s: dict) -> dict:
    """The engine's step figure; a click adds a point (rerun). Returns the settings to publish."""
    ss = st.session_state
    override = None if (algo == "metasgd" and s["lr"] == cfg.inner_lr) else s["lr"]
    if s["lr"] <= 0:
        st.error("The step size must be greater than 0: with 0 the network never changes. "
                 f"The value it was trained with is {cfg.inner_lr:g}.")
        st.stop()
    sup = support(run, s["task"], s["k"], s["points"], s["only"])
    step = view.take("step", min(max(1, cfg.inner_steps), s["steps"]))
    fig = playground(run, sup, s["steps"], lr=override, active=step, label=ui.label(algo),
                     seed=s["task"])
    st.text(f"{ui.label(algo)} adapting to "
            f"{'your points' if sup.task is None else 'a new task'}"
            + (f" · {run.family.describe_task(sup.task[0])}" if sup.task is not None else ""))
    for note in fig.notes:
        st.warning(note)
    sel = st.plotly_chart(fig.figure, key="pg_chart", on_select="rerun",
                          selection_mode="points", config={"displayModeBar": False})
    st.caption(fig.caption)
    pt = clicked(run.family, sel, fig.click_trace, ss.get("pg_class", 0))
    if pt is not None and ss.get("pg_last_click") != pt:       # clicks add points
        ss.pg_last_click = pt
        s["points"].append(pt)
        st.rerun()
    return dict(k=s["k"], lr=s["lr"] if s["lr"] != cfg.inner_lr else None, steps=s["steps"],
                step=min(step, fig.steps), task=s["task"])

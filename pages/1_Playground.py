"""Playground: adapt a meta-learned network to a new task, step by step. Pick the family,
algorithm and run, K and the step size; move the chart's own step slider (it repaints in the
browser); click the chart to add your own points or upload a CSV. Settings live in the URL."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views.figures.style import CLASS_NAMES
from maml_viz.views.links import float_in, int_in, one_of
from maml_viz.views.playground import playground
from maml_viz.views.points import (MAX_POINTS, click_classes, clicked, point_columns,
                                   points_from_upload, support)
from maml_viz.views.uploads import UploadError
from pages._shared import ui

ui.setup("Playground", "🎛️")
st.title("Playground")
ss = st.session_state
FAMILIES = ui.families(supervised=True)
view = ui.View("pg", {"family": one_of(FAMILIES), "algo": str, "run": str,
                      "k": int_in(1, 50), "lr": float_in(0, 10),
                      "steps": int_in(1, 50), "step": int_in(0, 50),
                      "task": int_in(0, 10**9)})
if "run" in view.fresh:                       # a run given by the link decides family and algorithm
    found = ui.find_run(view.fresh["run"])
    if found is None:
        st.warning(f"The link's run {ui.esc(view.fresh.pop('run'))} is not stored here (deleted, or "
                   f"trained elsewhere): showing the default run instead.")
    else:
        view.fresh.update(family=found["config"].family, algo=found["config"].algo)
chart_col, ctl = st.columns([3, 1], gap="medium")     # on a phone the chart comes first

with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="The kind of task: sine waves, straight lines or 2D point classes")
    algos = ui.algos(family=family)
    algo = st.selectbox("Algorithm", algos, format_func=ui.label, key=view.seed("algo", algos[0], algos),
                        help="How the starting network was meta-trained (or a baseline)")
    labels, cfgs = ui.run_choices(family, [algo])
    keys = list(labels)
    run_key = st.selectbox("Run", keys, format_func=labels.get, key=view.seed("run", keys[0], keys),
                           help="Which trained network to use: the bundled one or one you trained "
                                "on the Train page (K, iterations, seed, when)")
    cfg = cfgs[run_key]
    k = st.slider("Examples per task (K)", 1, 50, key=view.seed("k", cfg.k_shot, scope=family),
                  help="How many points of the new task it adapts to (per class for classes)")
    lr = st.number_input("Step size α", 0.0, 10.0, step=cfg.inner_lr / 2, format="%.4f",
                         key=view.seed("lr", float(cfg.inner_lr), scope=run_key),
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
    run = ui.open_runs([cfg], f"pg-{run_key}").get(run_key)
    if run is None:
        st.stop()
    classes = click_classes(run.family)
    if classes:
        cls = st.radio("Class of the points you add", classes, horizontal=True, key="pg_class",
                       format_func=lambda c: f":{CLASS_NAMES[c % 7]}[■] class {c}",
                       help="A click on the middle map adds an example of this class")
    ui.share_link()
    with st.expander("Use your own data (CSV)"):
        cols = point_columns(run.family)
        st.markdown(f"A CSV file with a header line naming the columns **{', '.join(cols)}** "
                    f"and one point per line, at most {MAX_POINTS:,} points.")
        up = st.file_uploader("CSV file", type=["csv", "txt"], key="pg_upload",
                              help="Your points replace the task's (“Use only my points”)")
        pasted = st.text_area("…or paste the points here", key="pg_paste", height=100,
                              placeholder=",".join(cols), help="The same format as the file")

# ----------------------------------------------------------------------------- uploads
source = (up.name, up.getvalue(), up.file_id) if up is not None else \
    ("the pasted text", pasted.encode(), "paste:" + pasted) if pasted.strip() else None
if source is not None:
    name, raw, sig = source
    try:
        new, notes = points_from_upload(run.family, raw)
        if ss.get("pg_upload_sig") != sig:
            ss.pg_upload_sig, points[:], ss.pg_only_next = sig, new, True
            st.rerun()
        ctl.success(f"Using {len(new)} points from {ui.esc(name)}.")
        for note in notes:
            ctl.warning(ui.esc(note))
    except UploadError as e:
        ctl.error(f"Could not use {ui.esc(name)}: {ui.esc(e)}")

# ----------------------------------------------------------------------------- the chart
override = None if (algo == "metasgd" and lr == cfg.inner_lr) else lr
with chart_col:
    ui.partial_warning(run)
    if lr <= 0:
        st.error("The step size must be greater than 0: with 0 the network never changes. "
                 f"The value it was trained with is {cfg.inner_lr:g}.")
        st.stop()
    sup = support(run, task, k, points, only)
    step = view.take("step", min(max(1, cfg.inner_steps), steps))
    chart = playground(run, sup, int(steps), lr=override, active=step,
                       label=ui.label(algo), seed=task)
    st.markdown(f"**{ui.label(algo)} adapting to "
                f"{'your points' if sup.task is None else 'a new task'}** · "
                f"{run.family.describe_task(sup.task[0]) if sup.task is not None else ''}")
    for note in chart.notes:
        st.warning(note)
    sel = st.plotly_chart(chart.figure, key="pg_chart", on_select="rerun",
                          selection_mode="points", config={"displayModeBar": False})
    st.caption(chart.caption)
view.publish(family=family, algo=algo, run=run_key, k=k, lr=lr if lr != cfg.inner_lr else None,
             steps=int(steps), step=min(step, chart.steps), task=task)

# clicks add points (never replace the task's: see "Use only my points")
pt = clicked(run.family, sel, chart.click_trace, ss.get("pg_class", 0))
if pt is not None and ss.get("pg_last_click") != pt:
    ss.pg_last_click = pt
    points.append(pt)
    st.rerun()

"""Navigation (RL): a point robot learns to reach a hidden goal. Place the goal (click or tap the
plane, or "Random goal"), move the step slider to watch the policy wander before adapting and
head for the goal after policy-gradient steps; compare algorithms by return. For the bundled
runs the plane is computed in the browser (pages/_shared/nav_component.py: no server round trip);
other runs' rollouts are kept per (run, goal, steps) and the next random goal's computed ahead."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import pandas as pd
import streamlit as st

from maml_viz.runs.evaluate import from_json
from maml_viz.views import compare_stats
from maml_viz.views import navigation as nav
from maml_viz.views.adaptation import metric_range
from maml_viz.views.figures.curves import loss_histories
from maml_viz.views.figures.navigation import GOAL_PLANE, return_curves
from maml_viz.views.figures.paper import add_marks
from maml_viz.views.links import int_in, one_of
from pages._shared import nav_component, ui
from pages._shared.goal_click import goal_click

ui.setup("Navigation (RL)", "🧭")
st.title("Navigation: learning to reach a hidden goal")
st.markdown(
    "A point robot starts in the middle of the plane and must reach a goal it cannot see; each "
    "step it is told only how far it still is (as a penalty). A task is one goal. The "
    "meta-learned policy has never seen *this* goal: it explores first, then one policy-gradient "
    f"step on its own {nav.N} tries (reinforcement learning: no correct answers, only rewards) "
    "points it at the goal.")
FAMILIES = ui.families(supervised=False)
view = ui.View("nav", {"family": one_of(FAMILIES), "algo": str, "run": str,
                       "goal": nav.goal_cast, "steps": int_in(1, 5),
                       "step": int_in(0, 5), "seed": int_in(0, 10**9)})
ss = st.session_state


def default_goal(family: str) -> tuple:
    keys = [ui.config_for(family, a).key() if a in ui.algos(family=family) else None
            for a in ("maml", "pretrained")]
    return nav.story_goal(*keys)


@st.fragment
def plane():
    ui.one_thread()
    chart_col, ctl = st.columns([3, 1], gap="medium")      # on a phone the chart comes first
    with ctl:
        family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                              key=view.seed("family", FAMILIES[0], FAMILIES),
                              help="Reinforcement-learning task families")
        if ss.get("nav_bottom_family", family) != family:
            st.rerun()                                      # the charts below change too
        algos = ui.algos(family=family)
        algo = st.selectbox("Algorithm", algos, format_func=ui.label,
                            key=view.seed("algo", algos[0], algos),
                            help="How the starting policy was meta-trained (or a baseline; the "
                                 "oracle is told the goal)")
        labels, cfgs = ui.run_choices(family, [algo])
        keys = list(labels)
        run_key = st.selectbox("Run", keys, format_func=labels.get,
                               key=view.seed("run", keys[0], keys),
                               help="Which trained policy: the bundled one or one you trained")
        fam_cls = ui.family_class(family)
        steps = int(st.number_input(
            "Adaptation steps to show", 1, 5, key=view.seed("steps", fam_cls.eval_steps),
            help=f"Policy-gradient steps from 0 to this (the protocol uses {fam_cls.eval_steps}); "
                 f"each costs {nav.N} more rollouts"))
        goal, seed = view.take("goal", None), view.take("seed", 0)
        run = ui.open_runs([cfgs[run_key]], f"nav-{run_key}").get(run_key)
        ref_algo = nav.reference_algo(algo, algos)
        ref_run = ui.get_run(ui.config_for(family, ref_algo)) if ref_algo else None
        live = run is not None and nav_component.supported(run, ref_run)   # in the browser
        if not live and st.button("Random goal", width="stretch",
                                  help="Put the goal somewhere else at random"):
            seed += 1
            goal = nav.random_goal(fam_cls, seed)
        ui.share_link()
        goal = (None if live else goal_click(GOAL_PLANE)) or goal or default_goal(family)
    if run is None:
        return family
    memo, goal = ui.memo("nav"), tuple(goal)
    step = min(view.take("step", 1), steps)
    if live:
        with chart_col:
            ui.partial_warning(run)
            nav_component.plane(run, ref_run, label=ui.label(algo), goal=goal, seed=seed,
                                ref_label=ui.label(ref_algo) if ref_run else None, steps=steps,
                                step=step, adapting=nav.adapts(run), n=nav.N, show=nav.SHOW,
                                caption=nav.plane_caption(run, ui.label(algo)))
        view.publish(family=family, algo=algo, run=run_key, goal=goal, steps=steps, step=step,
                     seed=seed)
        return family

    def job(r, g, s):                     # the rollouts of run r toward goal g with seed s
        return (r.key, g, steps, s), lambda: nav.rollouts(r, g, steps, s)

    if ref_run is not None:
        memo.warm(*job(ref_run, goal, seed))                # the worker, beside this thread
    ro = memo.get(*job(run, goal, seed))
    ref = (ui.label(ref_algo), ref_algo, memo.get(*job(ref_run, goal, seed))[1]) if ref_run else None
    chart = nav.navigation(run, goal, steps, seed, step, ui.label(algo), rollout=ro, reference=ref)
    with chart_col:
        ui.partial_warning(run)
        st.markdown(f"**{ui.label(algo)} toward the goal ({goal[0]:.2f}, {goal[1]:.2f})**")
        for note in chart.notes:
            st.warning(note)
        st.plotly_chart(chart.figure, key="nav_chart", config={"displayModeBar": False})
        st.markdown(nav.goal_story(ui.label(algo), ro[1], nav.adapts(run),
                                   ref[::2] if ref else None))
        st.caption(chart.caption)
    view.publish(family=family, algo=algo, run=run_key, goal=goal, steps=steps,
                 step=step, seed=seed)
    for s in (seed + 2, seed + 1):          # what "Random goal" will ask next (newest first)
        for r in (ref_run, run):
            if r is not None:
                memo.warm(*job(r, nav.random_goal(fam_cls, s), s))
    return family


family = plane()
ss.nav_bottom_family = family

# ----------------------------------------------------------------------------- all algorithms
st.subheader("All algorithms on held-out goals")
frames, hist, runs = [], {}, {}
for a in ui.algos(family=family):
    r = ui.get_run(ui.config_for(family, a))
    if r is None or not r.metrics:
        continue
    runs[a] = r
    frames.append(from_json(r.metrics).assign(algo=a))
    if r.history["iteration"]:
        hist[a] = (r.history["iteration"], r.history["meta_loss"])
if frames:
    df = pd.concat(frames, ignore_index=True)
    names = {a: ui.label(a) for a in runs}
    y_range = metric_range(next(iter(runs.values())).family, averaged=True)
    marks = compare_stats.paper_marks(runs, int(df["k_shot"].iloc[0]), int(df["step"].max()),
                                      y_range)                 # the MAML paper's Table 4
    st.plotly_chart(add_marks(return_curves(df, names, y_range), marks), key="nav_curves",
                    config={"displayModeBar": False})
    st.caption(ui.esc(nav.curves_caption(df, names, {a: nav.role(r) for a, r in runs.items()},
                                          y_range, frames[0].attrs.get("protocol", {}))
                      + " " + compare_stats.marks_sentence(marks)))
    if hist:
        fig = loss_histories(hist, metric="return", labels=names)
        fig.update_yaxes(title_text="average return of its tries")    # not all adapt
        st.plotly_chart(fig, key="nav_hist", config={"displayModeBar": False})
        st.caption(nav.history_caption(hist, names, {a: r.algorithm for a, r in runs.items()}))
else:
    st.info("No stored navigation runs with metrics yet: train some on the Train page.")

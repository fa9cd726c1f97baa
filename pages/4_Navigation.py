"""Navigation (RL): a point robot learns to reach a hidden goal. Place the goal, move the chart's
own step slider (it repaints in the browser) to watch the meta-learned policy wander before
adapting and head for the goal after policy-gradient steps; compare algorithms by return."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import numpy as np
import pandas as pd
import streamlit as st

from maml_viz.runs.evaluate import from_json
from maml_viz.views.adaptation import metric_range
from maml_viz.views.figures.curves import error_vs_steps, loss_histories
from maml_viz.views.links import int_in, one_of
from maml_viz.views.navigation import goal_cast, navigation
from maml_viz.views.points import clicked
from pages._shared import ui

ui.setup("Navigation (RL)", "🧭")
st.title("Navigation: learning to reach a hidden goal")
st.markdown(
    "A point robot starts in the middle of the plane and must reach a goal it cannot see; each "
    "step it is told only how far it still is (as a penalty). A task is one goal. The "
    "meta-learned policy has never seen *this* goal: it explores first, then one policy-gradient "
    "step on its own 20 tries (reinforcement learning: no correct answers, only rewards) "
    "points it at the goal.")
FAMILIES = ui.families(supervised=False)
view = ui.View("nav", {"family": one_of(FAMILIES), "algo": str, "run": str,
                       "goal": goal_cast, "steps": int_in(1, 5),
                       "step": int_in(0, 5), "seed": int_in(0, 10**9)})
chart_col, ctl = st.columns([3, 1], gap="medium")     # on a phone the chart comes first

with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="Reinforcement-learning task families")
    algos = ui.algos(family=family)
    algo = st.selectbox("Algorithm", algos, format_func=ui.label, key=view.seed("algo", algos[0], algos),
                        help="How the starting policy was meta-trained (or a baseline; the oracle "
                             "is told the goal)")
    labels, cfgs = ui.run_choices(family, [algo])
    keys = list(labels)
    run_key = st.selectbox("Run", keys, format_func=labels.get, key=view.seed("run", keys[0], keys),
                           help="Which trained policy: the bundled one or one you trained")
    fam_cls = ui.family_class(family)
    steps = st.number_input("Adaptation steps to show", 1, 5, key=view.seed("steps", fam_cls.eval_steps),
                            help=f"Policy-gradient steps from 0 to this (the protocol uses "
                                 f"{fam_cls.eval_steps}); each costs 20 more rollouts")
    goal, seed = view.take("goal", (0.3, -0.25)), view.take("seed", 0)
    if st.button("Random goal", width="stretch", help="Put the goal somewhere else at random"):
        seed += 1
        goal = tuple(round(float(v), 3) for v in np.random.default_rng(seed).uniform(-0.5, 0.5, 2))
    ui.share_link()

cfg = cfgs[run_key]
run = ui.open_runs([cfg], f"nav-{run_key}").get(run_key)
if run is None:
    st.stop()


@st.cache_data(show_spinner="Rolling out the policy…", max_entries=64)
def chart_for(run_key: str, goal: tuple, seed: int, steps: int, active: int, label: str):
    return navigation(run, goal, steps, seed, active, label)


step = view.take("step", 1)
chart = chart_for(run_key, tuple(goal), seed, int(steps), min(step, int(steps)), ui.label(algo))
with chart_col:
    ui.partial_warning(run)
    st.markdown(f"**{ui.label(algo)} toward the goal ({goal[0]:.2f}, {goal[1]:.2f})**")
    for note in chart.notes:
        st.warning(note)
    sel = st.plotly_chart(chart.figure, key="nav_chart", on_select="rerun",
                          selection_mode="points", config={"displayModeBar": False})
    st.caption(chart.caption)
view.publish(family=family, algo=algo, run=run_key, goal=goal, steps=int(steps),
             step=min(step, chart.steps), seed=seed)
pt = clicked(run.family, sel, chart.click_trace)
if pt is not None and st.session_state.get("nav_last_click") != pt:
    st.session_state.nav_last_click = pt
    view.publish(family=family, algo=algo, run=run_key, goal=pt, steps=int(steps),
                 step=min(step, chart.steps), seed=seed)
    st.rerun()

# ----------------------------------------------------------------------------- all algorithms
st.subheader("All algorithms on held-out goals")
frames, hist = [], {}
for a in algos:
    r = ui.get_run(ui.config_for(family, a))
    if r is None or not r.metrics:
        continue
    frames.append(from_json(r.metrics).assign(algo=a))
    if r.history["iteration"]:
        hist[a] = (r.history["iteration"], r.history["meta_loss"])
if frames:
    df = pd.concat(frames, ignore_index=True)
    proto = frames[0].attrs.get("protocol", {})
    names = {a: ui.label(a) for a in df["algo"].unique()}
    st.plotly_chart(error_vs_steps(df, "return", labels=names,
                                   y_range=metric_range(run.family, averaged=True)),
                    key="nav_curves")
    st.caption(f"Average return against policy-gradient steps: {ui.esc(proto.get('tasks', 40))} held-out "
               f"goals · {ui.esc(proto.get('query_points', ''))} · α then α/2 · shaded: 95% CI. Higher is "
               f"better. The oracle is told the goal and never adapts: the ceiling. MAML climbs "
               f"toward it within a step or two. A random policy climbs slowly, and one pretrained "
               f"on all goals was never shaped for a step this big: it overshoots and drifts off "
               f"the plane (marked at the bottom edge with its value).")
    if hist:
        st.plotly_chart(loss_histories(hist, metric="return", labels=names),
                        key="nav_hist")
        st.caption("Meta-training: the average return after the inner policy-gradient step, per "
                   "meta-iteration, the same measure for every algorithm: it should rise as the "
                   "meta-policy learns to adapt.")
else:
    st.info("No stored navigation runs with metrics yet: train some on the Train page.")

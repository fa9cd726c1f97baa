"""Navigation (RL): a point robot learns to reach a hidden goal. Place the goal, watch the
meta-learned policy wander before adapting and head for the goal after one or two
policy-gradient steps; compare algorithms by return."""
import numpy as np
import pandas as pd
import streamlit as st

from maml_viz import figures
from maml_viz.evaluate import from_json
from pages._shared import ui

b = ui.setup("Navigation (RL)", "🧭")
st.title("Navigation: learning to reach a hidden goal")
st.markdown(
    "A point robot starts in the middle of the plane and must reach a goal it cannot see; each "
    "step it is told only how far it still is (as a penalty). A task is one goal. The "
    "meta-learned policy has never seen *this* goal: it explores first, then one policy-gradient "
    "step on its own 20 tries (reinforcement learning: no correct answers, only rewards) "
    "points it at the goal.")
ss = st.session_state
ss.setdefault("nav_goal", (0.3, -0.25))
ss.setdefault("nav_seed", 0)

c1, c2, c3 = st.columns([1.3, 1.5, 1])
algo = c1.selectbox("Algorithm", ui.algos(family="navigation"), format_func=ui.label, key="nav_algo")
step = c2.slider("Policy-gradient steps on this goal", 0, 3, 1, key="nav_step")
if c3.button("Random goal", width="stretch"):
    rng = np.random.default_rng(ss.nav_seed + 1)
    ss.nav_seed += 1
    ss.nav_goal = tuple(float(v) for v in rng.uniform(-0.5, 0.5, 2))

cfg = ui.config_for("navigation", algo)
runs = ui.runs_or_train([cfg], f"nav-{cfg.key()}")
run = runs.get(algo)
if run is None:
    st.stop()
ui.partial_warning(run)


@st.cache_data(show_spinner="Rolling out the policy…", max_entries=64)
def rollouts(run_key: str, goal: tuple, seed: int):
    from maml_viz import rl
    r = ui.backend().store.get(run.config)
    return rl.goal_trajectories(r, goal, steps=3, n=20, seed=seed)


goal = ss.nav_goal
pos, ret = rollouts(run.key, goal, ss.nav_seed)
left, right = st.columns([3, 2])
fig = figures.trajectories(pos[step], goal, algo, before=pos[0] if step > 0 else None,
                           title=f"{ui.label(algo)} after {step} step{'s' if step != 1 else ''}: "
                                 f"average return {ret[step]:.1f}",
                           subtitle=f"5 of 20 rollouts · goal ({goal[0]:.2f}, {goal[1]:.2f}) · "
                                    f"α = {cfg.inner_lr:g}, then {cfg.inner_lr / 2:g}")
sel = left.plotly_chart(fig, key="nav_chart", on_select="rerun", selection_mode="points")
left.caption("Grey: the policy before it adapts to this goal. Coloured: after the chosen number "
             "of policy-gradient steps. Click anywhere to move the goal (the red star).")
right.plotly_chart(figures.loss_vs_steps({"average return on this goal": (ret, algo)}, current=step,
                                         metric="return", title="Return after each step",
                                         height=380), key="nav_ret")
right.caption("Return = minus the summed distance to the goal over the 100 moves (closer to 0 is "
              "better; reaching the goal ends the episode).")

points = ((sel or {}).get("selection") or {}).get("points") or []
click = next((p for p in points if "x" in p and "y" in p), None)
if click is not None:
    g = (round(float(click["x"]), 3), round(float(click["y"]), 3))
    if max(abs(g[0]), abs(g[1])) > 0.5:
        st.warning("Goals of this family lie within ±0.5 on each axis; the policy was never "
                   "trained beyond that, so expect it to do worse there.")
    if ss.get("nav_last_click") != g:
        ss.nav_last_click = g
        ss.nav_goal = g
        st.rerun()

# ----------------------------------------------------------------------------- all algorithms
st.subheader("All algorithms on held-out goals")
frames, hist = [], {}
for a in ui.algos(family="navigation"):
    r = ui.get_run(ui.config_for("navigation", a))
    if r is None or not r.metrics:
        continue
    frames.append(from_json(r.metrics).assign(algo=a))
    if r.history["iteration"]:
        hist[a] = (r.history["iteration"], r.history["meta_loss"])
if frames:
    df = pd.concat(frames, ignore_index=True)
    proto = frames[0].attrs.get("protocol", {})
    labels = {a: ui.label(a) for a in df["algo"].unique()}
    st.plotly_chart(figures.error_vs_steps(
        df, "return", title="Average return against policy-gradient steps",
        subtitle=f"{proto.get('tasks', 40)} held-out goals · {proto.get('query_points', '')} · "
                 f"α then α/2 · shaded: 95% CI", labels=labels), key="nav_curves")
    st.caption("Higher is better. The oracle is told the goal and never adapts: the ceiling. "
               "MAML climbs toward it within a step or two. A random policy climbs slowly, and "
               "one pretrained on all goals was never shaped for a step this big: it overshoots "
               "and drifts off the plane (its curve leaves the chart at the bottom).")
    if hist:
        st.plotly_chart(figures.loss_histories(hist, metric="return", labels=labels,
                                               title="Meta-training: return after adaptation"),
                        key="nav_hist")
        st.caption("The average return after the inner policy-gradient step, per meta-iteration: "
                   "it should rise as the meta-policy learns to adapt.")
else:
    st.info("No stored navigation runs with metrics yet: train some on the Train page.")

"""Train: meta-train one or several algorithms with your settings, in the background, with live
progress and a queue everyone can see; browse, open, download, delete and restore stored runs."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import time

import pandas as pd
import streamlit as st

from maml_viz.engine.config import ConfigError, parse_hidden
from maml_viz.services.jobs import run_label, submitted_message
from maml_viz.views.training import live_training_charts, run_rows
from pages._shared import formula_ui, runs_ui, ui

b = ui.setup("Train", "🏋️")
me, ss = ui.session_id(), st.session_state
st.title("Train")
st.markdown("Meta-train with your own settings, in the background (one job at a time for everyone "
            "using this app): move widgets or visit other pages meanwhile, and come back to watch.")
formula_ui.page_top()                                 # plugins not loaded; a link's formula
family = st.selectbox("Task family", ui.families(), format_func=ui.family_label, key="tr_family",
                      help="The kind of tasks to learn from (the settings start from its defaults)")
d = ui.config_for(family, "maml")                     # the family's default settings
typed = formula_ui.fields(family)                     # the formula family's fields and preview
with st.form(f"train_form_{family}"):
    chosen = st.multiselect("Algorithms", ui.algos(family=family), default=["maml"],
                            format_func=ui.label, help="Each one is trained as its own job.")
    c1, c2, c3, c4, c5 = st.columns(5)
    iterations = c1.number_input("Meta-iterations", 1, 1_000_000, d.iterations, step=100,
                                 help="How many batches of tasks to learn from. More takes longer.")
    k_shot = c2.number_input("Examples per task (K)", 1, 1000, d.k_shot,
                             help="How many examples of a new task the model gets to adapt to it"
                                  " (per class for classification; trajectories for navigation).")
    meta_batch = c3.number_input("Tasks per iteration", 1, 10_000, d.meta_batch,
                                 help="How many tasks are averaged in each learning step.")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0,
                           help="Picks the random tasks and starting weights: the same seed and "
                                "settings give the same run.")
    n_seeds = c5.number_input("Seeds (a sweep)", 1, 10, 1,
                              help="Train each algorithm this many times, with seeds Seed, Seed+1, "
                                   "…: each one is its own job. Compare then shows the mean over "
                                   "the seeds with a between-seed 95% interval.")
    c1, c2, c3, c4 = st.columns(4)
    inner_steps = c1.number_input("Inner steps", 0, 100, None, placeholder="algorithm's default",
                                  help="Gradient steps taken on each task while learning (blank: "
                                       "each algorithm's own default).")
    inner_lr = c2.number_input("Inner step size α", 0.0, 10.0, None, format="%.4f",
                               placeholder="default", help="How big those steps are (blank: "
                                                           "default).")
    outer_lr = c3.number_input("Outer step size", 0.0, 10.0, None, format="%.4f",
                               placeholder="default", help="How fast the shared starting point "
                                                           "moves (blank: default).")
    hidden = c4.text_input("Hidden layers", ",".join(map(str, d.hidden)),
                           help="Sizes of the network's hidden layers, e.g. 40,40. Empty: a "
                                "linear model.")
    start = st.form_submit_button("Start training", type="primary",
                                  help="Queue one training job per algorithm and seed.")

if start and not (chosen and typed.ok):
    st.error("Fix the formula above first: nothing was queued." if chosen else
             "Pick at least one algorithm to train.")
elif start:
    try:
        cfgs = [ui.config_for(family, a, family_options=typed.options, k_shot=int(k_shot),
                              iterations=int(iterations), meta_batch=int(meta_batch),
                              seed=int(seed) + i, inner_lr=inner_lr, outer_lr=outer_lr,
                              inner_steps=None if inner_steps is None else int(inner_steps),
                              hidden=parse_hidden(hidden))
                for a in chosen for i in range(int(n_seeds))]
        t_start = time.time()
        queued, refused = b.jobs.submit_many(cfgs, owner=me)
    except ConfigError as e:
        ui.config_error(e)
    else:
        if refused:
            st.error(f"{ui.esc(refused)}. Press Start again later to queue the rest: what is trained or "
                     f"waiting already is not repeated.")
        if queued:
            st.toast(submitted_message(queued, t_start))


@st.fragment(run_every=1.0)
def live():
    jobs = b.jobs.jobs()
    if not jobs:
        st.caption("No training yet: start one above.")
        return
    st.subheader("Trainings (everyone's)")
    for j in reversed(jobs):
        cols = st.columns([6, 1])
        text = b.jobs.describe(j, me)
        if j.status == "failed":
            cols[0].error(ui.esc(text))
        else:
            cols[0].progress(j.fraction, text=ui.esc(text))
        if b.jobs.can_stop(j, me):
            cols[1].button("Cancel" if j.status == "queued" else "Stop", key=f"stop-{j.key}",
                           on_click=b.jobs.stop, args=(j.key, me), help="Stop now and keep what "
                           "was learned so far (a waiting job is cancelled; during the "
                           "evaluation, the trained run is kept without it).")
        if j.status in ("done", "stopped") and j.run is not None:
            same = [x.key for x in jobs if x.run is not None and x.status in ("done", "stopped")
                    and formula_ui.same_tasks(x.config, j.config)]
            runs_ui.open_links([j.key] + [k for k in same if k != j.key], st.container())
    finished = sorted(j.key for j in jobs if not j.active)
    if ss.setdefault("train_finished", finished) != finished:   # a job ended: refresh the runs
        ss.train_finished = finished
        st.rerun()
    with st.expander("Advanced: speed and estimates"):
        st.dataframe(pd.DataFrame([{"run": j.key, "status": j.status,
                                    "it/s": j.progress.its_per_s if j.progress else None,
                                    "seconds": j.progress.elapsed if j.progress else None,
                                    "estimate": j.estimate.describe() if j.estimate else None}
                                   for j in jobs]), hide_index=True)
    for key, fig, caption in live_training_charts([j for j in jobs if j.active]):
        st.plotly_chart(fig, key=key)
        st.caption(caption)

live()

# ----------------------------------------------------------------------------- stored runs
st.subheader("Stored runs")
runs = b.store.list()
main, tech = run_rows(runs)
damaged = [r for r in runs if r["error"]]
if damaged:
    st.warning(f"{len(damaged)} stored run(s) are damaged and not used: " + "; ".join(
        f"{ui.esc(r['key'])}: {ui.esc(r['error'])}" for r in damaged[:3]) + ". Training the same settings "
        "again replaces a damaged run; or delete it below.")
if not runs:
    st.caption("No stored runs yet.")
else:
    st.dataframe(pd.DataFrame(main), hide_index=True, width="stretch")
    st.caption("Every run stored on disk: its settings, and its score on new tasks (mean squared "
               "error, accuracy, or return for navigation) before and after one step of "
               "adaptation: its mean over the held-out test tasks it was evaluated on when it was "
               "saved ('test tasks'), with the test-time step size either chosen on as many "
               "separate validation tasks (the same rule for every run: 'validated') or the one "
               "it was trained with ('as trained'). 'trained' is when the run itself says it was "
               "trained; bundled runs that do not say are marked 'bundled'. Bundled runs come "
               "with the app and are read-only.")
    with st.expander("Advanced: run folders, devices and speed"):
        st.dataframe(pd.DataFrame(tech), hide_index=True, width="stretch")
    names = {r["path"]: ("⚠ damaged: " if r["error"] else "") + (run_label(r["config"]) if
             r["config"] else r["key"]) + (" · bundled" if r["read_only"] else "") for r in runs}
    pick = st.selectbox("Run", list(names), format_func=names.get, key="train_pick",
                        help="Pick a stored run to open, download or delete.")
    runs_ui.actions(b, next(x for x in runs if x["path"] == pick), names[pick])
runs_ui.trash(b)
if b.store.foreign():
    st.caption(f"Left alone (not runs): {ui.esc(', '.join(b.store.foreign()[:10]))}")

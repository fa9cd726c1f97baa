"""Compare: 2-5 algorithms on the same family, K and seed: the same new task adapted by each,
error against steps with 95% CI bands, training curves, and a table of final numbers."""
import numpy as np
import pandas as pd
import streamlit as st
import torch

from maml_viz import explore, figures
from maml_viz.evaluate import evaluate, from_json
from pages._shared import ui

b = ui.setup("Compare", "⚖️")
st.title("Compare algorithms")

c1, c2, c3, c4 = st.columns([1.2, 2.5, 1, 1])
family = c1.selectbox("Task family", ui.families(supervised=True), format_func=ui.family_label, key="cmp_family")
fam_cls = ui.family_class(family)
chosen = c2.multiselect("Algorithms (2 to 5)", ui.algos(family=family),
                        default=["maml", "fomaml", "reptile", "pretrained", "scratch"],
                        format_func=ui.label, key="cmp_algos")
k = c3.number_input("K (examples per task" + (" per class" if fam_cls.metric == "accuracy" else "") + ")",
                    1, 50, fam_cls.config_defaults.get("k_shot", 10), key=f"cmp_k_{family}")
seed = c4.number_input("Training seed", 0, 2**31 - 1, 0, key="cmp_seed")

if len(chosen) < 2:
    st.warning("Pick at least two algorithms to compare.")
    st.stop()
if len(chosen) > 5:
    st.warning(f"You picked {len(chosen)} algorithms; the charts stay readable with at most 5. "
               f"Showing the first 5.")
    chosen = chosen[:5]

cfgs = [ui.config_for(family, a, seed=int(seed)) for a in chosen]
runs = ui.runs_or_train(cfgs, f"cmp-{family}-{seed}")
runs = {a: runs[a] for a in chosen if a in runs}
if len(runs) < 2:
    st.stop()
labels = {a: ui.label(a) for a in runs}
metric = fam_cls.metric
N_TASKS = 500


@st.cache_data(show_spinner="Evaluating on held-out tasks…", max_entries=256)
def curve(run_key: str, k: int, steps: int, n_tasks: int) -> pd.DataFrame:
    run = next(r for r in runs.values() if r.key == run_key)
    stored = run.metrics
    if stored and stored.get("protocol", {}).get("k_shot") == [k] and \
            stored["protocol"].get("steps") == steps:
        return from_json(stored).assign(algo=run.config.algo)
    return evaluate(run, k_shots=(k,), steps=steps, n_tasks=n_tasks)


# ----------------------------------------------------------------------------- (a) one task
st.subheader("The same new task, adapted by each")
step = st.slider("Gradient steps on the new task", 0, 10, 1, key="cmp_step")
first = next(iter(runs.values()))
task, xs, ys = explore.sample_task(first, st.session_state.get("cmp_task", 0), int(k))
if st.button("Another task", key="cmp_new"):
    st.session_state.cmp_task = st.session_state.get("cmp_task", 0) + 1
    st.rerun()
if fam_cls.metric == "mse":
    xg = explore.grid(first, 200)
    curves, true = [], None
    for a, run in runs.items():
        tr = explore.trajectory(run, xs, ys, step, x_grid=xg, task=task)
        true = tr["true"]
        curves.append((f"{labels[a]} (error {tr['grid_error'][step]:.2f})", tr["preds"][step, :, 0], a, "solid"))
    y_lim = (-6, 6) if family == "sinusoid" else (-15, 15)
    st.plotly_chart(figures.adaptation(xg.reshape(-1), true, curves, (xs.reshape(-1), ys.reshape(-1)),
                                       title=f"After {step} step{'s' if step != 1 else ''} on {int(k)} points",
                                       subtitle=first.family.describe_task(task[0]), y_range=y_lim),
                    key="cmp_task_chart")
    st.caption("Each coloured curve is one algorithm's network after the same number of steps on "
               "the same black points; the closest to the dashed truth wins.")
else:
    n = 50
    g = torch.linspace(*first.family.x_range(), n)
    xg = explore.grid(first, n)
    cols = st.columns(len(runs))
    for col, (a, run) in zip(cols, runs.items()):
        tr = explore.trajectory(run, xs, ys, step, x_grid=xg)
        col.plotly_chart(figures.decision_regions(g.numpy(), g.numpy(),
                                                  tr["preds"][step].argmax(-1).reshape(n, n),
                                                  xs[0].numpy(), ys[0].numpy(), first.family.n_way,
                                                  title=labels[a], height=300, click=False),
                         key=f"cmp_regions_{a}")
    st.caption("Predicted class over the plane for each algorithm after the same steps on the "
               "same labelled examples (big dots).")

# ----------------------------------------------------------------------------- (b) error vs steps
st.subheader("Error against adaptation steps, averaged over new tasks")
frames = [curve(run.key, int(k), 10, N_TASKS) for run in runs.values()]
df = pd.concat(frames, ignore_index=True)
proto = frames[0].attrs.get("protocol", {})
n_used = sorted({f.attrs.get("protocol", {}).get("tasks", N_TASKS) for f in frames})
subtitle = (f"{'/'.join(map(str, n_used))} held-out tasks · K = {int(k)} · "
            f"{proto.get('query_points', '')} query points · SGD with each run's trained α · "
            f"shaded: 95% CI")
st.plotly_chart(figures.error_vs_steps(df, metric, title="The MAML paper's Figure 3 view",
                                       subtitle=subtitle, labels=labels), key="cmp_curves")
st.caption(("Lower is better. " if metric == "mse" else "Higher is better. ") +
           "Meta-learned starting points should win after one step and stay ahead; the bands "
           "show how sure we are of each average.")

# ----------------------------------------------------------------------------- (c) histories
hist = {a: (r.history["iteration"], r.history["meta_loss"]) for a, r in runs.items()
        if r.history["iteration"]}
if hist:
    st.subheader("Meta-training")
    st.plotly_chart(figures.loss_histories(hist, title="Meta-loss during training", labels=labels,
                                           subtitle="error after adaptation on each batch of training tasks"),
                    key="cmp_hist")
    st.caption("How the training error of each algorithm fell over the iterations (log scale). "
               "The random init has no curve: it is never trained.")

# ----------------------------------------------------------------------------- (d) table
st.subheader("Numbers")
rows = []
for a, run in runs.items():
    g = df[df["algo"] == a].set_index("step")
    rows.append({"algorithm": labels[a], f"{metric} step 0": g.loc[0, "mean"],
                 f"{metric} step 1": g.loc[1, "mean"], "± (95% CI, step 1)": g.loc[1, "ci95"],
                 f"{metric} step 10": g.loc[10, "mean"],
                 "iterations": run.info.get("iterations_done"),
                 "train s": run.info.get("train_seconds"), "it/s": run.info.get("its_per_s"),
                 "device": run.info.get("device"), "partial": bool(run.info.get("partial"))})
table = pd.DataFrame(rows)
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f")
                            for c in table.columns if metric in c or "CI" in c})
st.caption(f"Protocol: {subtitle}.")
st.download_button("Download table (CSV)", table.to_csv(index=False).encode(),
                   file_name=f"compare-{family}-K{int(k)}.csv", mime="text/csv")

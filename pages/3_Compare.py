"""Compare: 2-5 stored runs of one family on the same new task, moved by one step slider in the
browser; error against steps on held-out tasks, with 95% CI bands over tasks, or, where several
training seeds of a config are stored, the mean over seeds with a between-seed interval; the
common validation measure during training; a table. Settings live in the URL (runs=<key>,...)."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import pandas as pd
import streamlit as st

from maml_viz.engine.validation import validation_steps
from maml_viz.views import adaptation, compare, links, points
from maml_viz.views.figures import curves
from pages._shared import ui

ui.setup("Compare", "⚖️")
st.title("Compare algorithms")
FAMILIES = ui.families(supervised=True)
view = ui.View("cmp", {"family": links.one_of(FAMILIES), "runs": links.key_list,
                       "k": links.int_in(1, 50), "steps": links.int_in(1, 50),
                       "step": links.int_in(0, 50), "task": links.int_in(0, 10**9)})
if "runs" in view.fresh:                       # runs given by the link decide the family
    found = [r for k in view.fresh["runs"] if (r := ui.find_run(k)) is not None]
    if len(found) < len(view.fresh["runs"]):
        st.warning("Some of the link's runs are not stored here (deleted, or trained elsewhere).")
    if found:
        view.fresh["family"] = found[0]["config"].family
chart_col, ctl = st.columns([3, 1], gap="medium")     # on a phone the chart comes first

with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="The kind of task all the runs were trained on")
    algos = ui.algos(family=family)
    labels, cfgs = ui.run_choices(family, algos)
    meta = ui.algos(include_baselines=False, family=family)[:3]
    default = [ui.config_for(family, a).key() for a in meta + [a for a in algos if a not in
                                                               ui.algos(False, family)]][:5]
    chosen = st.multiselect("Runs to compare (2 to 5)", list(labels), format_func=labels.get,
                            key=view.seed("runs", default, list(labels)), max_selections=5,
                            help="Any stored run of this family: bundled ones and those you "
                                 "trained on the Train page (K, iterations, seed, when)")
    fam_cls = ui.family_class(family)
    k = st.number_input("Examples per task (K)", 1, 50, key=view.seed(
        "k", fam_cls.config_defaults.get("k_shot", 10), scope=family),
        help="How many points (per class for classes) every run adapts to")
    steps = st.number_input("Adaptation steps to show", 1, 50,
                            key=view.seed("steps", fam_cls.eval_steps),
                            help=f"Gradient steps from 0 to this (the protocol uses "
                                 f"{fam_cls.eval_steps}); the averaged chart uses as many")
    task = view.take("task", 0)
    if st.button("Another task", width="stretch", help="Draw another new task for the top chart"):
        task += 1
    ui.share_link()

runs = ui.open_runs([cfgs[c] for c in chosen], f"cmp-{family}")
if len(runs) < 2:
    chart_col.warning("Pick at least two runs to compare.")
    st.stop()
names, colors, dashes = links.styles(runs, ui.label)
first = next(iter(runs.values()))
fam, metric, step = first.family, first.family.metric, view.take("step", 1)

with chart_col:
    sup = points.support(first, task, int(k))
    chart = compare.compare_task(runs, sup, int(steps), min(step, int(steps)), names, colors, dashes)
    st.markdown(f"**The same new task, adapted by each** · {fam.describe_task(sup.task[0])} · "
                f"K = {int(k)}")
    for note in chart.notes:
        st.warning(note)
    st.plotly_chart(chart.figure, key="cmp_task_chart", config={"displayModeBar": False})
    st.caption(chart.caption)
view.publish(family=family, runs=list(runs), k=int(k), steps=int(steps), step=min(step, chart.steps),
             task=task)


groups = compare.seed_groups(runs, ui.stored_runs(family))
most = max(len(v) for v in groups.values())
by_seed = ctl.toggle("Mean over training seeds", value=most > 1, disabled=most < 2, key="cmp_seeds",
                     help="Where a run's settings were also trained with other seeds (Train page: "
                          "Seeds), draw the mean over those seeds with a 95% interval over seeds "
                          "(how much another training would differ); off: each run alone, with a "
                          "95% interval over the held-out tasks.")
pool = {**runs, **{c.key(): r for cs in groups.values() for c in cs if by_seed
                   and c.key() not in runs and (r := ui.get_run(c)) is not None}}

# ----------------------------------------------------------------------------- averages
st.subheader("Error against adaptation steps, averaged over new tasks")
curve = ui.evaluations(pool, int(k), int(steps))     # estimated, shared, bounded per request
if curve is None:
    st.stop()
parts = {key: curve[key] for key in runs}
df = pd.concat([d.assign(algo=key, run=key) for key, d in parts.items()], ignore_index=True)
proto = next(iter(parts.values())).attrs.get("protocol", {})
n_used = sorted({d.attrs.get("protocol", {}).get("tasks", 500) for d in parts.values()})
protocol = (f"{'/'.join(map(str, n_used))} held-out tasks · K = {int(k)} · "
            f"{proto.get('query_points', '')} query points · steps 0–{int(steps)} of plain SGD, "
            f"each run's step size chosen on validation tasks (the same rule for every run) · "
            f"shaded: 95% CI over tasks")
if by_seed:
    frames = {key: {c.seed: curve[c.key()] for c in cs if c.key() in pool}
              for key, cs in groups.items()}
    df, legend, table, per_seed = compare.seed_curves(frames, names, metric)
    protocol = protocol.replace("shaded: 95% CI over tasks", compare.SEEDS_NOTE)
st.plotly_chart(curves.error_vs_steps(df, metric, labels=legend if by_seed else names,
                                      colors=colors, dashes=dashes,
                                      y_range=adaptation.metric_range(fam, averaged=True),
                                      higher_is_better=fam.higher_is_better),
                key="cmp_curves")
st.caption(("Lower is better. " if not fam.higher_is_better else "Higher is better. ") +
           "Meta-learned starting points should win after one step and stay ahead; the bands show "
           "how sure we are of each average. Every run is on the same fixed axis: a curve that "
           "leaves it is marked on the edge, a diverged one with a cross. " + protocol)

# ----------------------------------------------------------------------------- training
val = compare.validation_histories(runs)
st.subheader("During training: the same measure for every run")
if val:
    st.plotly_chart(curves.validation_curves(
        val, adaptation.metric_range(fam, averaged=True), metric, names, colors, dashes,
        higher_is_better=fam.higher_is_better), key="cmp_val")
    st.caption(f"Every few iterations the trainer measured each run the same way: {metric} on "
               f"fixed held-out validation tasks after {validation_steps(fam)} plain "
               f"step(s) with the run's α. Runs without a curve were trained before this was "
               f"recorded: " + (", ".join(names[k] for k in runs if k not in val) or "none") + ".")
else:
    st.info("None of these runs recorded the common validation measure (they were trained "
            "before it existed); train them again on the Train page to see it.")
hist = {key: (r.history["iteration"], r.history["meta_loss"]) for key, r in runs.items()
        if r.history["iteration"]}
if hist:
    with st.expander("Raw meta-loss (not comparable between algorithms)"):
        st.plotly_chart(curves.loss_histories(
            hist, labels={key: compare.loss_label(names[key], runs[key]) for key in hist},
            colors=colors), key="cmp_hist")
        st.caption("Each algorithm's own training loss on its batches, measured after its own "
                   "number of inner steps (in the legend): Reptile's after 5 steps looks lower "
                   "than MAML's after 1 without being better. Use the chart above to compare.")

# ----------------------------------------------------------------------------- table
st.subheader("Numbers")
table = table if by_seed else compare.summary_table(df, runs, names, metric)
st.dataframe(table, hide_index=True, width="stretch")
st.caption(f"Mean ± 95% CI; “diverged” means the adaptation produced NaN or infinity. "
           f"Protocol: {protocol}.")
st.download_button("Download " + ("every seed's numbers" if by_seed else "table") + " (CSV)",
                   (per_seed if by_seed else table).to_csv(index=False).encode(),
                   file_name=f"compare-{family}-K{int(k)}{'-seeds' * by_seed}.csv",
                   mime="text/csv", help="As a CSV file: with seeds, one row per run, seed and "
                                         "step (each seed's mean and 95% CI over the tasks)")

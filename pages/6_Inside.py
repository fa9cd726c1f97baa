"""Inside: what adaptation changes inside one run's network, on one held-out task or averaged over
many (the ANIL paper's "rapid learning or feature reuse?"): how far each layer's weights move per
step, how similar each layer's representation stays (linear CKA), Meta-SGD's learned step sizes,
and the meta-gradient norm and inner-loop loss recorded over meta-training; one sentence says
what the numbers show. Every chart downloads as PNG and SVG, the table as CSV and LaTeX.
Settings live in the URL (family, run, k, steps, task)."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import inside, links
from maml_viz.views.compare_notes import esc
from maml_viz.views.figures import inside as figs
from pages._shared import paper_ui, ui

ui.setup("Inside the network", "🔬")
st.title("Inside the network: what adaptation changes")
st.markdown("When a meta-learned network adapts to a new task, does it change its features "
            "(*rapid learning*) or keep them and only re-weigh them in its last layer (*feature "
            "reuse*)? Pick a run and watch each layer.")
FAMILIES = ui.families(supervised=True)
view = ui.View("in", {"family": links.one_of(FAMILIES), "run": str, "k": links.int_in(1, 50),
                      "steps": links.int_in(1, 50), "task": links.int_in(-1, 10**6)})
chart_col, ctl = st.columns([3, 1], gap="medium")
with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="Supervised task families (reinforcement learning adapts on its "
                               "own rollouts)")
    labels, cfgs = ui.run_choices(family, ui.algos(family=family))
    keys = list(labels)
    default = next((x for x in keys if cfgs[x].algo == "maml"), keys[0])
    run_key = st.selectbox("Run", keys, format_func=labels.get,
                           key=view.seed("run", default, keys, scope=family),
                           help="Which trained network: a bundled one or one you trained")
    fam_cls = ui.family_class(family)
    k = st.number_input("Examples per task (K)", 1, 50, key=view.seed(
        "k", fam_cls.config_defaults.get("k_shot", 10), scope=family),
        help="How many points (per class for classes) it adapts to")
    steps = st.number_input("Adaptation steps", 1, 50, key=view.seed("steps", fam_cls.eval_steps),
                            help="Plain gradient steps at the run's trained step size")
    task = st.number_input("Task (−1: average over many)", -1, 10**6,
                           key=view.seed("task", -1),
                           help="One held-out task of the evaluation protocol by number, or −1 "
                                "for the average over the first held-out tasks (with 95% bands)")
run = ui.open_runs([cfgs[run_key]], f"in-{run_key}").get(run_key)
if run is None:
    chart_col.info("This run is not trained yet: train it above, or pick another run.")
    st.stop()
ui.partial_warning(run)
name = ui.label(run.config.algo)
sig = (run_key, int(k), int(steps), int(task))
if st.session_state.get("_in_sig") != sig:
    with chart_col, st.spinner("Adapting on the held-out tasks…"):
        try:
            st.session_state._in = inside.inside(run, name, int(k), int(steps),
                                                 None if task < 0 else int(task))
        except ValueError as e:
            st.error(esc(e))
            st.stop()
    st.session_state._in_sig = sig
data = st.session_state._in
where = ("on one held-out task" if task >= 0 else
         f"averaged over {data.tasks} held-out tasks (bands: 95% intervals over them)")
with chart_col:
    st.info(esc(data.sentence))
    st.subheader("How far each layer moves")
    st.plotly_chart(figs.layer_change(data.change), key="in_change",
                    config={"displayModeBar": False})
    st.caption(esc(f"Each line: one layer's weights (and biases), ‖θ_step − θ_0‖ / ‖θ_0‖ in % "
                   f"of the layer's size, while {name} adapts to K = {k} examples, {where}. A "
                   f"layer that stays at 0% is not adapted at all."))
    st.subheader("How similar each layer's features stay")
    st.plotly_chart(figs.representation(data.cka), key="in_cka",
                    config={"displayModeBar": False})
    st.caption(esc(f"Linear CKA between each layer's outputs on the task's query inputs before "
                   f"adapting and after each step, {where}: 1 means the same features (up to "
                   f"rotation and scale), lower means adaptation changed them. The last layer "
                   f"is the prediction itself."))
table = inside.change_table(data.change, data.cka)
st.dataframe(table, hide_index=True, width="stretch")
paper_ui.table_downloads(table, f"inside-{run_key}-K{k}", f"What adaptation changes per layer: "
                         f"{name}, {family}, K = {k}, {where}", "in_table")
if data.step_sizes is not None:
    st.subheader("Meta-SGD's learned step sizes")
    st.plotly_chart(figs.step_sizes(data.step_sizes), key="in_lr",
                    config={"displayModeBar": False})
    lay = data.step_sizes["layers"]
    st.caption(esc("Meta-SGD learns one step size per weight, starting from α = "
                   f"{data.step_sizes['initial']:g}. Per layer, median: " + "; ".join(
                       f"{x['layer']} {x['median']:.3g} ({100 * x['negative']:.0f}% negative)"
                       for x in lay) + "."))
st.subheader("During meta-training")
if data.signals is None:
    st.info(esc(" ".join(data.notes)))
else:
    st.plotly_chart(figs.training_signals(data.signals), key="in_signals",
                    config={"displayModeBar": False})
    g = data.signals.get("meta_grad_norm")
    st.caption(esc("Top: the size of the meta-gradient the algorithm followed, measured on a "
                   "fixed batch of training tasks (a norm that falls towards zero: the "
                   "meta-learner has stalled). Bottom: the loss on those tasks' support points "
                   "before and after the inner loop." + (
                       f" Meta-gradient norm: {g[1][0]:.3g} at iteration {g[0][0]}, "
                       f"{g[1][-1]:.3g} at {g[0][-1]}." if g else "")))
paper_ui.export_charts("in_")
view.publish(family=family, run=run_key, k=int(k), steps=int(steps), task=int(task))

"""Compare: stored runs of one family on the same new task (adapted in the browser for the small
families: pages/_shared/compare_component.py); error against steps on held-out tasks (95% bands
over tasks, or over training seeds; drawn by the page, K ± at once: pages/_shared/avg_chart.py);
the numbers; the common validation measure during training. The runs are ticked in a table. A new
K shows a first estimate at once, refined in the background (progress at the top). Only the charts
a control affects are redrawn (fragments). Settings live in the URL."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views import compare, links, run_picker
from pages._shared import compare_component as live
from pages._shared import compare_ui, formula_ui, ui

ui.setup("Compare", "⚖️")
st.title("Compare algorithms")
top = st.container()                                  # progress of long work: at the top
ss, FAMILIES = st.session_state, ui.families(supervised=True)
K_LABEL, STEPS_LABEL = "Examples per task (K)", "Adaptation steps to show"
view = ui.View("cmp", {"family": links.one_of(FAMILIES), "runs": links.key_list,
                       "k": links.int_in(1, 50), "steps": links.int_in(1, 50),
                       "step": links.int_in(0, 50), "task": links.int_in(0, 10**9),
                       "formula": formula_ui.cast})
if "runs" in view.fresh:                       # runs given by the link decide the family
    found = [r for k in view.fresh["runs"] if (r := ui.find_run(k)) is not None]
    if len(found) < len(view.fresh["runs"]):
        st.warning("Some of the link's runs are not stored here (deleted, or trained elsewhere).")
    if found:
        view.fresh.update(family=found[0]["config"].family, **formula_ui.link_of(found[0]["config"]))
    compare_ui.reset_picker()
chart_col, ctl = st.columns([3, 1], gap="medium")     # on a phone the chart comes first
pick_box = st.container()


def redraw_charts():          # K or steps: only the charts they change (the in-page one-task
    st.rerun(([] if ss.get("_cmp_live") else ["cmp_task"]) + ["cmp_avg", "cmp_progress"])
    # chart reads them from the page itself: not sending it its payloads again saves 250 kB)


with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="The kind of task all the runs were trained on")
    fam_cls = ui.family_class(family)
    formula = formula_ui.pick(view, family)
    k_key = view.seed("k", fam_cls.config_defaults.get("k_shot", 10), scope=family)
    st.number_input(K_LABEL, 1, 50, key=k_key, on_change=redraw_charts,
                    help="How many points (per class for classes) every run adapts to")
    steps_key = view.seed("steps", fam_cls.eval_steps)
    st.number_input(STEPS_LABEL, 1, 50, key=steps_key, on_change=redraw_charts,
                    help=f"Gradient steps from 0 to this (the protocol uses {fam_cls.eval_steps})"
                         f"; the averaged chart uses as many")

algos = ui.algos(family=family)
labels, cfgs = ui.run_choices(family, algos, formula)
meta = ui.algos(include_baselines=False, family=family)[:3]
default = [ui.config_for(family, a, family_options=formula).key()
           for a in meta + [a for a in algos if a not in ui.algos(False, family)]][:5]
if "runs" in view.fresh:
    view.kept[f"runs@{family}"] = view.fresh.pop("runs")
view.scopes["runs"] = f"runs@{family}"                 # each family keeps its own ticks
ticked = compare_ui.ticks(view, family, list(cfgs),
                         [x for x in view.kept.get(f"runs@{family}", default) if x in labels])
with pick_box:
    runs = ui.open_runs([cfgs[c] for c in run_picker.drawn(ticked)], f"cmp-{family}")
names, colors, dashes = links.styles(runs, ui.label)
with pick_box:
    st.subheader("Runs to compare")
    st.caption("Tick a row to compare that run (any stored run of this family: bundled ones and "
               "those trained on the Train page). The charts draw the first five you ticked: "
               "the rows with a line, drawn as in the charts; untick one to draw another.")
    compare_ui.picker(family, compare_ui.entries(family, labels, cfgs), ticked, list(runs),
                      colors, dashes, labels)
if len(runs) < 2:
    chart_col.warning("Tick at least two runs in the table below to compare them.")
    st.stop()
first = next(iter(runs.values()))
fam, metric = first.family, first.family.metric
groups = compare.seed_groups(runs, ui.stored_runs(family))
most = max(len(v) for v in groups.values())
ctl.toggle("Mean over training seeds", value=most > 1, disabled=most < 2, key="cmp_seeds",
           on_change=lambda: st.rerun(["cmp_avg", "cmp_progress"]),
           help="Where a run's settings were also trained with other seeds (Train page: Seeds), "
                "draw the mean over those seeds with a 95% interval over seeds (how much another "
                "training would differ); off: each run alone, with a 95% interval over tasks.")
with ctl:
    ui.share_link()
pool = {**runs, **{c.key(): r for cs in groups.values() for c in cs
                   if c.key() not in runs and (r := ui.get_run(c)) is not None}}


def publish(k, steps):                               # the URL: this view's settings
    view.publish(family=family, runs=ticked, k=k, steps=steps, task=view.take("task", 0),
                 step=min(view.take("step", 1), steps),
                 formula=formula_ui.link_of(first.config).get("formula"))


@st.fragment(key="cmp_task")
def task_view():
    k, steps, task = int(ss[k_key]), int(ss[steps_key]), view.take("task", 0)
    step = min(view.take("step", 1), steps)
    ss["_cmp_live"] = live.supported(runs)
    if ss["_cmp_live"]:
        live.task_chart(runs, k=k, steps=steps, task=task, step=step, labels=names,
                        colors=colors, dashes=dashes, k_label=K_LABEL, steps_label=STEPS_LABEL)
    else:                                     # (in the browser: task and step live there)
        compare_ui.server_task_chart(view, runs, first, k, steps, task, step, names, colors,
                                     dashes)
    publish(k, steps)


with chart_col:
    task_view()


def keys_and_settings():
    """The runs the averaged chart needs (with seeds: every seed's), K, steps, the seed groups."""
    by_seed = bool(ss.get("cmp_seeds")) and most > 1
    keys = [c.key() for cs in groups.values() for c in cs if c.key() in pool] if by_seed else runs
    return list(keys), int(ss[k_key]), int(ss[steps_key]), groups if by_seed else None


@st.fragment(key="cmp_avg")
def averages():
    keys, k, steps, g = keys_and_settings()
    if ss.get("_cmp_live"):                   # K, steps: the one-task fragment did not rerun
        publish(k, steps)
    compare_ui.averages_section(keys, runs, pool, g, names, colors, dashes, fam, k, steps,
                                family, (K_LABEL, STEPS_LABEL))


def progress_live():      # polls while curves are refined, or computed ahead (K ± 1..3)
    keys, k, steps, g = keys_and_settings()
    busy = compare_ui.progress(keys, pool, k, steps)
    if not compare_ui.feed_ahead(keys, runs, pool, g, names, colors, dashes, fam, k, steps) \
            and not busy:
        st.rerun()                  # all final (or every chart ahead handed over): redraw


@st.fragment(key="cmp_progress")
def progress():
    keys, k, steps, _ = keys_and_settings()
    ahead = compare_ui.waiting_ahead(keys, pool, k, steps)
    if compare_ui.pending(keys, pool, k, steps) or ahead:
        st.fragment(run_every=0.3 if ahead else 1.0)(progress_live)()


averages()
with top:                                             # after the averages asked for their curves
    progress()
compare_ui.training_section(runs, names, colors, dashes, fam)

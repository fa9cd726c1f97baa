"""Playground: adapt a meta-learned network (or a baseline) to a new task, step by step. Pick the
family, algorithm and run here (those rerun the page); K, the step size, the steps, the step
shown, New task and your own points (click, tap, drag) answer in the browser, which adapts the
small families itself (pages/_shared/adapt_component.py); a CSV's points go to it too. Runs the
browser cannot adapt keep the server's chart (pages/_shared/playground_server.py). Settings live
in the URL."""
import pages._shared.preload  # noqa: F401  (first: imports, one session at a time)
import streamlit as st

from maml_viz.views.links import flag, float_in, int_in, one_of, point_list
from maml_viz.views.points import MAX_POINTS, point_columns, points_from_upload
from maml_viz.views.uploads import UploadError
from pages._shared import adapt_component as live
from pages._shared import formula_ui
from pages._shared import playground_server as server
from pages._shared import ui

ui.setup("Playground", "🎛️")
st.title("Playground")
FAMILIES = ui.families(supervised=True)
CASTS = {"family": one_of(FAMILIES), "algo": str, "run": str, "k": int_in(1, 50),
         "lr": float_in(0, 10), "steps": int_in(1, 50), "step": int_in(0, 50),
         "task": int_in(0, 10**9), "pts": point_list, "only": flag, "formula": formula_ui.cast}
view = ui.View("pg", CASTS)
if "run" in view.fresh:                       # a run given by the link decides family and algorithm
    found = ui.find_run(view.fresh["run"])
    if found is None:
        st.warning(f"The link's run {ui.esc(view.fresh.pop('run'))} is not stored here "
                   f"(deleted, or trained elsewhere): showing the default run instead.")
    else:
        view.fresh.update(family=found["config"].family, algo=found["config"].algo,
                          **formula_ui.link_of(found["config"]))   # a formula family's formula
chart_col, ctl = st.columns([3, 1], gap="medium")     # on a phone the chart comes first

with ctl:
    family = st.selectbox("Task family", FAMILIES, format_func=ui.family_label,
                          key=view.seed("family", FAMILIES[0], FAMILIES),
                          help="The kind of task: sine waves, straight lines or 2D point classes")
    formula = formula_ui.pick(view, family)
    algos = ui.algos(family=family)
    algo = st.selectbox("Algorithm", algos, format_func=ui.label, key=view.seed("algo", algos[0], algos),
                        help="How the starting network was meta-trained (or a baseline)")
    labels, cfgs = ui.run_choices(family, [algo], formula)
    keys = list(labels)
    run_key = st.selectbox("Run", keys, format_func=labels.get, key=view.seed("run", keys[0], keys),
                           help="Which trained network to use: the bundled one or one you trained "
                                "on the Train page (K, iterations, seed, when)")
    cfg = cfgs[run_key]
    run = ui.open_runs([cfg], f"pg-{run_key}").get(run_key)
    if run is None:
        st.stop()
    in_browser = live.supported(run)
    settings = None if in_browser else server.controls(view, family, algo, cfg, run)
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
upload = None
source = (up.name, up.getvalue(), up.file_id) if up is not None else \
    ("the pasted text", pasted.encode(), "paste:" + pasted) if pasted.strip() else None
if source is not None:
    name, raw, sig = source
    try:
        new, notes = points_from_upload(run.family, raw)
        if in_browser:
            upload = (sig, [list(p) for p in new])
        else:
            server.use_upload(family, sig, new)
        ctl.success(f"Using {len(new)} points from {ui.esc(name)}.")
        for note in notes:
            ctl.warning(ui.esc(note))
    except UploadError as e:
        ctl.error(f"Could not use {ui.esc(name)}: {ui.esc(e)}")

# ----------------------------------------------------------------------------- the chart
with chart_col:
    ui.partial_warning(run)
    if in_browser:
        defaults, link, shown = live.from_url(view, CASTS, run, cfg)
        live.playground(run, defaults=defaults, link=link, upload=upload, label=ui.label(algo),
                        hide=ui.present.hidden("Playground"))
    else:
        shown = server.chart(view, run, cfg, algo, settings)
view.publish(family=family, algo=algo, run=run_key, **shown,
             formula=formula_ui.link_of(cfg).get("formula"))

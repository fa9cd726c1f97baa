"""Playground: adapt a meta-learned network to a new task, step by step. Pick the algorithm,
K, steps and step size; click the chart to add your own points or upload a CSV."""
import io
import json

import numpy as np
import pandas as pd
import streamlit as st
import torch

from maml_viz import explore, figures
from pages._shared import ui

b = ui.setup("Playground", "🎛️")
st.title("Playground")
ss = st.session_state
ss.setdefault("pg_seed", 0)
ss.setdefault("pg_points", [])          # user's own points: [(x, y)] or [(x1, x2, label)]

c1, c2, c3, c4 = st.columns([1.2, 1.2, 1, 1])
family = c1.selectbox("Task family", ui.families(supervised=True), format_func=ui.family_label, key="pg_family")
algo = c2.selectbox("Algorithm", ui.algos(family=family), format_func=ui.label, key="pg_algo")
fam_cls = ui.family_class(family)
is_cls = fam_cls.metric == "accuracy"
k = c3.slider("Examples the model sees (K)" + (" per class" if is_cls else ""), 1, 50,
              fam_cls.config_defaults.get("k_shot", 10), key=f"pg_k_{family}")
steps = c4.slider("Gradient steps at test time", 0, 20, 10 if not is_cls else 5, key="pg_steps")

cfg = ui.config_for(family, algo)
runs = ui.runs_or_train([cfg], f"pg-{cfg.key()}")
run = runs.get(algo)
if run is None:
    st.stop()
ui.partial_warning(run)

trained_lr = cfg.inner_lr
lr_label = "Step size α" + (" (Meta-SGD learned its own; set one to override)" if algo == "metasgd" else "")
d1, d2, d3 = st.columns([1.2, 1, 1])
lr = d1.number_input(lr_label, min_value=0.0, max_value=10.0, value=float(trained_lr),
                     step=trained_lr / 2, format="%.4f", key=f"pg_lr_{family}_{algo}")
override = None if (algo == "metasgd" and lr == trained_lr) else lr
if lr <= 0:
    st.error("The step size must be greater than 0: with 0 the network never changes. "
             f"The value it was trained with is {trained_lr:g}.")
    st.stop()
if d2.button("New task", help="Draw another task from the family", width="stretch"):
    ss.pg_seed += 1
    ss.pg_points = []
if d3.button("Clear my points", width="stretch", disabled=not ss.pg_points):
    ss.pg_points, ss.pg_replace = [], False

# ----------------------------------------------------------------------------- support set
task, xs, ys = explore.sample_task(run, ss.pg_seed, k)
ss.setdefault("pg_replace", False)   # True: the user's points are the whole task (CSV, or clicks
custom = bool(ss.pg_points)          # in regression); False: clicked examples join the task's
extra = custom and is_cls and not ss.pg_replace
if extra:
    pts = np.asarray(ss.pg_points, dtype=float)
    xs = torch.cat([xs, torch.tensor(pts[:, :2], dtype=torch.float32).reshape(1, -1, 2)], 1)
    ys = torch.cat([ys, torch.tensor(pts[:, 2], dtype=torch.long).reshape(1, -1)], 1)
    custom = False
if custom:
    pts = np.asarray(ss.pg_points, dtype=float)
    if is_cls:   # K counts per class: keep the first K examples of each class
        keep = np.concatenate([np.flatnonzero(pts[:, 2] == c)[:k] for c in np.unique(pts[:, 2])])
        if len(keep) < len(pts):
            st.warning(f"You gave more than K = {k} examples for some class: using the first {k} "
                       f"of each class. Raise K to use them all.")
        pts = pts[np.sort(keep)]
    elif len(pts) > k:
        st.warning(f"You gave {len(pts)} points but K = {k}: using the first {k}. "
                   f"Raise K to use them all.")
        pts = pts[:k]
    if is_cls:
        xs = torch.tensor(pts[:, :2], dtype=torch.float32).reshape(1, -1, 2)
        ys = torch.tensor(pts[:, 2], dtype=torch.long).reshape(1, -1)
    else:
        xs = torch.tensor(pts[:, 0], dtype=torch.float32).reshape(1, -1, 1)
        ys = torch.tensor(pts[:, 1], dtype=torch.float32).reshape(1, -1, 1)
    task = None

n_grid = 200 if not is_cls else 60
xg = explore.grid(run, n_grid)
xq = yq = None
if is_cls and task is not None:
    xq, yq = run.family.sample_points(task, 15, explore.task_generator(10_000 + ss.pg_seed))
tr = explore.trajectory(run, xs, ys, steps, lr=override, x_grid=xg, task=task, xq=xq, yq=yq)
if not np.isfinite(tr["preds"]).all() or not np.isfinite(tr["support"]).all():
    st.error("The predictions blew up (NaN or infinity): the step size is too large for this "
             f"network. Lower it, e.g. back to {trained_lr:g}.")
    st.stop()

trained_steps = max(1, cfg.inner_steps)
step = st.slider("Show the prediction after this many steps", 0, steps, min(trained_steps, steps),
                 key=f"pg_step_{family}", help=f"This run was trained to adapt in {trained_steps} "
                 f"step{'s' if trained_steps != 1 else ''}") if steps > 0 else 0

# ----------------------------------------------------------------------------- the pictures
left, right = st.columns([3, 2] if not is_cls else [2, 1])
sel = None
if not is_cls:
    x1 = xg.reshape(-1).numpy()
    lo, hi = run.family.x_range()
    y_lim = (-6, 6) if family == "sinusoid" else (-15, 15)
    gx, gy = np.meshgrid(np.linspace(lo, hi, 41), np.linspace(*y_lim, 25))
    fig = figures.adaptation(
        x1, tr.get("true"), support=(xs.reshape(-1).numpy(), ys.reshape(-1).numpy()),
        curves=[("before adapting (step 0)", tr["preds"][0, :, 0], "#999999", "dot"),
                (f"after {step} step{'s' if step != 1 else ''}", tr["preds"][step, :, 0], algo, "solid")],
        title=f"{ui.label(algo)} adapting to {'your points' if custom else 'a new task'}",
        subtitle=(run.family.describe_task(task[0]) if task is not None else f"{len(ss.pg_points)} points of yours")
        + f" · {xs.shape[1]} examples · α = {lr:g}", y_range=y_lim, click_grid=(gx.ravel(), gy.ravel()))
    sel = left.plotly_chart(fig, key="pg_chart", on_select="rerun", selection_mode="points")
    if steps > 0 and left.toggle("Animate all the steps", key="pg_animate"):
        left.plotly_chart(figures.adaptation_animation(
            x1, tr.get("true"), tr["preds"][:, :, 0], (xs.reshape(-1).numpy(), ys.reshape(-1).numpy()),
            algo, title="Press play to watch the steps", y_range=y_lim), key="pg_anim")
    left.caption("Grey dotted: the meta-learned network before it sees anything of this task. "
                 "Coloured: after the chosen number of steps on the black points. "
                 "Click anywhere on the chart to add your own point.")
    series = {"error on the support points": (tr["support"], "support")}
    if "grid_error" in tr:
        series["error on the whole true curve"] = (tr["grid_error"], algo)
    right.plotly_chart(figures.loss_vs_steps(series, current=step, metric="mse",
                                             title="Error after each step", height=400),
                       key="pg_loss")
    right.caption("Both errors should fall with the steps; if the support error falls but the "
                  "curve error rises, the network is over-fitting the few points.")
else:
    n_way = run.family.n_way
    st.radio("Class of the points you add by clicking", list(range(n_way)), horizontal=True,
                    format_func=lambda c: f"class {c}", key="pg_class")
    g = torch.linspace(*run.family.x_range(), n_grid).numpy()
    classes = [tr["preds"][s].argmax(-1).reshape(n_grid, n_grid) for s in (0, step)]
    ca, cb = left.columns(2)
    sup_x, sup_y = xs[0].numpy(), ys[0].numpy()
    ca.plotly_chart(figures.decision_regions(g, g, classes[0], sup_x, sup_y, n_way,
                                             title="Before adapting", height=380, click=False),
                    key="pg_regions0", config={"displayModeBar": False})
    qx, qy = (xq[0].numpy(), yq[0].numpy()) if xq is not None else (None, None)
    sel = cb.plotly_chart(figures.decision_regions(g, g, classes[1], sup_x, sup_y, n_way,
                                                   title=f"After {step} step{'s' if step != 1 else ''}",
                                                   height=380, query_x=qx, query_y=qy),
                          key="pg_regions", on_select="rerun", selection_mode="points",
                          config={"displayModeBar": False})
    left.caption("Colours show which class the network predicts at each spot; big dots are the "
                 "labelled examples it learns from, small dots new points of the same task. Click "
                 "the right-hand map to add an example of the chosen class and watch the regions move.")
    series = {"loss on the labelled examples (support)": (tr["support"], "support")}
    if "query" in tr:
        series["accuracy on new points of this task"] = (tr["query"], algo)
    right.plotly_chart(figures.loss_vs_steps(series, current=step, metric="loss / accuracy",
                                             title="Loss and accuracy after each step", height=400),
                       key="pg_loss")
    right.caption("Accuracy on fresh points of the same task should rise after a step or two; "
                  "before adapting it is at chance, because the class labels are shuffled per task.")

# clicks -> new points
if sel is not None:
    points = (sel.get("selection") or {}).get("points") or []
    click = next((p for p in points if "x" in p and "y" in p), None)
    if click is not None:
        sig = (round(float(click["x"]), 4), round(float(click["y"]), 4))
        if ss.get("pg_last_click") != sig:
            ss.pg_last_click = sig
            if not ss.pg_points:
                ss.pg_replace = not is_cls
            ss.pg_points = list(ss.pg_points) + [(sig[0], sig[1], ss.get("pg_class", 0))
                                                 if is_cls else sig]
            st.rerun()

# ----------------------------------------------------------------------------- upload
with st.expander("Use your own data (CSV)"):
    cols = ("x1", "x2", "label") if is_cls else ("x", "y")
    st.markdown(f"A CSV file with a header line naming the columns **{', '.join(cols)}** and one "
                f"point per line, at most 1,000 points" + (f"; labels are 0 to {run.family.n_way - 1}." if is_cls else "."))
    up = st.file_uploader("CSV file", type=["csv", "txt"], key="pg_upload")
    pasted = st.text_area("…or paste the points here", key="pg_paste", height=100,
                          placeholder=",".join(cols) + "\n" + ("1.0,2.0,0" if is_cls else "-1.5,0.3"))
    source = (up.name, up.getvalue(), up.file_id) if up is not None else \
        ("the pasted text", pasted.encode(), "paste:" + pasted) if pasted.strip() else None
    if source is not None:
        name, raw, sig = source
        try:
            df = pd.read_csv(io.BytesIO(raw))
            if is_cls:
                a_, b_ = explore.parse_points(df, columns=("x1", "x2"))
                _, lab = explore.parse_points(df, columns=("x1", "label"))
                if not np.all((lab == np.round(lab)) & (lab >= 0) & (lab < run.family.n_way)):
                    raise ValueError(f"labels must be whole numbers from 0 to {run.family.n_way - 1}")
                new = [(float(p), float(q), int(l)) for p, q, l in zip(a_, b_, lab)]
            else:
                xv, yv = explore.parse_points(df)
                new = [(float(p), float(q)) for p, q in zip(xv, yv)]
            if ss.get("pg_upload_sig") != sig:
                ss.pg_upload_sig = sig
                ss.pg_points, ss.pg_replace = new, True
                st.rerun()
            st.success(f"Using {len(new)} points from {name}.")
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            msg = str(e) if not isinstance(e, pd.errors.EmptyDataError) else \
                "it is empty: give a header line and at least one point"
            st.error(f"Could not use {name}: {msg}")

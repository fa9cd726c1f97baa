"""Train: meta-train one or several algorithms with your settings, in the background, with live
progress; browse, download and delete stored runs."""
import io
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from maml_viz import figures
from maml_viz.config import ConfigError, parse_hidden
from pages._shared import ui

b = ui.setup("Train", "🏋️")
st.title("Train")
st.markdown("Meta-train with your own settings. Training runs in the background: you can move "
            "widgets or visit other pages meanwhile, and come back here to watch it.")

with st.form("train_form"):
    c1, c2 = st.columns(2)
    family = c1.selectbox("Task family", ui.families(), format_func=ui.family_label)
    chosen = c2.multiselect("Algorithms", ui.algos(), default=["maml"], format_func=ui.label)
    d = ui.family_class(family).config_defaults
    c1, c2, c3, c4 = st.columns(4)
    iterations = c1.number_input("Meta-iterations", 1, 200_000, 2000, step=500)
    k_shot = c2.number_input("Examples per task (K)", 1, 100, d.get("k_shot", 10))
    meta_batch = c3.number_input("Tasks per iteration", 1, 500, d.get("meta_batch", 25))
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0)
    c1, c2, c3, c4 = st.columns(4)
    inner_steps = c1.number_input("Inner steps (blank: algorithm's default)", 0, 50, None)
    inner_lr = c2.number_input("Inner step size α (blank: default)", 0.0, 10.0, None, format="%.4f")
    outer_lr = c3.number_input("Outer step size (blank: default)", 0.0, 10.0, None, format="%.4f")
    hidden = c4.text_input("Hidden layers", ",".join(map(str, d.get("hidden", (40, 40)))),
                           help="Comma-separated sizes, e.g. 40,40. Empty: a linear model.")
    start = st.form_submit_button("Start training", type="primary")

if start:
    if not chosen:
        st.error("Pick at least one algorithm to train.")
    else:
        try:
            cfgs = [ui.config_for(family, a, iterations=int(iterations), k_shot=int(k_shot),
                                  meta_batch=int(meta_batch), seed=int(seed),
                                  inner_steps=None if inner_steps is None else int(inner_steps),
                                  inner_lr=inner_lr, outer_lr=outer_lr, hidden=parse_hidden(hidden))
                    for a in chosen]
        except ConfigError as e:
            ui.config_error(e)
        else:
            for c in cfgs:
                b.jobs.submit(c)
            st.session_state.setdefault("train_keys", [])
            st.session_state.train_keys = list(dict.fromkeys(
                st.session_state.train_keys + [c.key() for c in cfgs]))
            st.toast(f"Started {len(cfgs)} training job(s)")


@st.fragment(run_every=1.0)
def live():
    keys = st.session_state.get("train_keys", []) + [j.key for j in b.jobs.active()]
    jobs = [b.jobs.get(k) for k in dict.fromkeys(keys)]
    jobs = [j for j in jobs if j is not None]
    if not jobs:
        st.caption("No training in this session yet.")
        return
    st.subheader("Training")
    for j in jobs:
        c = j.config
        p = j.progress
        name = f"{ui.label(c.algo)} on {ui.family_label(c.family)} (K={c.k_shot}, seed {c.seed})"
        cols = st.columns([5, 1])
        if j.status == "failed":
            cols[0].error(f"{name}: {j.error}")
            continue
        if p is not None and p.its_per_s:
            eta = f" · about {p.eta:.0f} s left" if j.active else ""
            text = (f"{name}: {j.status} · {p.iteration:,}/{p.total:,} · {p.its_per_s:.0f} it/s"
                    f"{eta} · meta-loss {p.loss:.3f}")
        else:
            text = f"{name}: {j.status}" + (" (was already trained)" if j.status == "done" else "")
        cols[0].progress(min(max(j.fraction, 0.0), 1.0), text=text)
        if j.active and cols[1].button("Stop", key=f"stop-{j.key}",
                                      help="Stop now and keep what was learned so far"):
            j.stop()
    finished = sorted(j.key for j in jobs if not j.active)
    if st.session_state.get("train_finished") != finished:   # refresh the run list below
        st.session_state.train_finished = finished
        st.rerun()
    for metric in ("mse", "accuracy", "return"):   # one chart per measure (the family's metric)
        hist = {j.config.algo: (j.history["iteration"], j.history["meta_loss"]) for j in jobs
                if j.history["iteration"] and ui.family_class(j.config.family).metric == metric}
        if not hist:
            continue
        rl = metric == "return"
        st.plotly_chart(figures.loss_histories(
            hist, title="Meta-loss while training" if not rl else "Return while training",
            labels={a: ui.label(a) for a in hist}, metric="return" if rl else "mse"),
            key=f"train_live_chart_{metric}")
        st.caption("The error after adaptation, averaged over each batch of tasks: it should go "
                   "down as the starting point gets better. (Log scale.)" if not rl else
                   "The average return after adaptation per meta-iteration: it should go up.")


live()

# ----------------------------------------------------------------------------- stored runs
st.subheader("Stored runs")
runs = b.store.list()
if not runs:
    st.caption("No stored runs yet.")
else:
    rows = []
    for r in runs:
        c, t, ev = r["config"], r["training"], r["evaluation"] or {}
        own = [x for x in ev.get("results", []) if c is None or x.get("k_shot") in (c.k_shot, None)]
        res = {x["step"]: x["mean"] for x in own or ev.get("results", [])}
        metric = (ev.get("protocol") or {}).get("metric")
        rows.append({
            "run": r["key"], "family": c.family if c else "?", "algorithm": ui.label(c.algo) if c else "?",
            "K": c.k_shot if c else None, "iterations": t.get("iterations_done"),
            "partial": bool(t.get("partial")), "device": t.get("device"),
            "train s": t.get("train_seconds"), "it/s": t.get("its_per_s"),
            "metric": metric, "before": res.get(0), "after 1 step": res.get(1),
            "bundled": r.get("read_only", False), "problem": r["error"] or "",
        })
    df = pd.DataFrame(rows)
    st.dataframe(df, hide_index=True, width="stretch")
    st.caption("Every run stored on disk: its settings, where and how fast it trained, and its "
               "score on new tasks (MSE, accuracy or return) before and after one step (the "
               "protocol is in metrics.json).")
    pick = st.selectbox("Run", [r["key"] for r in runs], key="train_pick")
    r = next(x for x in runs if x["key"] == pick)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(Path(r["path"]).iterdir()):
            if f.is_file():
                z.write(f, arcname=f"{pick}/{f.name}")
    c1, c2 = st.columns(2)
    c1.download_button("Download (zip)", buf.getvalue(), file_name=f"{pick}.zip",
                       mime="application/zip", width="stretch")
    if r.get("read_only"):
        c2.button("Delete", disabled=True, help="Bundled runs are read-only",
                  width="stretch")
    elif c2.button("Delete", key="train_delete", width="stretch"):
        b.store.delete(pick)
        b.jobs.forget(pick)
        st.rerun()

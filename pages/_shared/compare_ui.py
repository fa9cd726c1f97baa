"""The Compare page's Streamlit parts: the shared background evaluations, the run list (a table
with a tick per run, the drawn runs' lines in their chart colours), and the progress line at the
top of the page while curves are being refined. (Not a page: Streamlit lists only .py files
directly inside pages/.)"""
from __future__ import annotations

import hashlib

import streamlit as st

from maml_viz.runs import stats
from maml_viz.services.evals import AHEAD, K_MAX, run_version
from maml_viz.views import adaptation, compare, compare_notes, compare_stats, run_picker
from maml_viz.views.compare_notes import esc
from maml_viz.views.figures import curves
from pages._shared import avg_chart, paper_ui, ui


@st.cache_resource(show_spinner=False)
def evaluations():
    """One Evaluations per server: every session's curves, computed once, in one thread."""
    from maml_viz.services.evals import Evaluations
    store = ui.backend().store
    return Evaluations(locate=lambda run: store.find(run.config))


# ----------------------------------------------------------------------------- the run list
def entries(family: str, labels: dict, cfgs: dict) -> list:
    """The picker's rows: every run `ui.run_choices` offers, with what the table shows."""
    listing = {r["key"]: r for r in ui.stored_runs(family)}
    out = []
    for key, cfg in cfgs.items():
        r = listing.get(key)
        out.append({"key": key, "config": cfg, "info": (r or {}).get("training"),
                    "default": ui.config_for(family, cfg.algo), "bundled": bool(r and r["read_only"]),
                    "when": (r or {}).get("when"), "label": ui.label(cfg.algo),
                    "trained": r is not None})
    return out


def picker_key(family: str, keys: list) -> str:
    """The run table's widget key: per family and list of rows (and a version a link bumps), so
    that a tick always means the row it was made on."""
    sig = hashlib.sha1(",".join(keys).encode()).hexdigest()[:8]
    return f"cmp_pick_{family}_{sig}_{st.session_state.get('_cmp_pick_version', 0)}"


def ticks(view, family: str, keys: list, ticked: list) -> list:
    """The ticked runs after the table's last change: those still ticked in the order they were
    ticked, then the newly ticked ones in table order (kept in the page's settings)."""
    state = st.session_state.get(picker_key(family, keys))
    if state is None:
        return ticked
    now = [keys[i] for i in sorted(state["selection"]["rows"]) if i < len(keys)]
    kept = [k for k in ticked if k in now] + [k for k in now if k not in ticked]
    view.kept[f"runs@{family}"] = kept
    return kept


def picker(family: str, rows: list, ticked: list, drawn: list, colors: dict, dashes: dict,
           names: dict) -> None:
    """The run table: tick a row to compare it; the rows drawn show their line as the charts
    draw it."""
    df = run_picker.table(rows, drawn, colors, dashes)
    keys = list(df["key"])
    st.dataframe(df, key=picker_key(family, keys), on_select="rerun", selection_mode="multi-row",
                 hide_index=True,
                 selection_default={"selection": {"rows": [keys.index(k) for k in ticked
                                                           if k in keys]}},
                 column_order=["line", "algorithm"] + (["task"] if df["task"].any() else [])
                 + ["K", "iterations", "seed", "other settings", "origin"],
                 column_config={"line": st.column_config.ImageColumn(
                     "line", help="How the charts draw this run (only the runs drawn have one)"),
                     "origin": st.column_config.TextColumn(
                         "trained", help="When the run was trained, from its own record"),
                     "other settings": st.column_config.TextColumn(
                         "other settings", help="What differs from the family's default settings")},
                 width="stretch")
    note = run_picker.drawn_note(ticked, drawn, names)
    if note:
        st.info(esc(note))


def reset_picker():
    """The ticks changed from outside the table (a link): draw the table afresh."""
    st.session_state["_cmp_pick_version"] = st.session_state.get("_cmp_pick_version", 0) + 1


# ----------------------------------------------------------------------------- progress
def pending(keys, pool, k: int, steps: int) -> bool:
    """Whether a curve of these runs at (k, steps) is still being evaluated; shows failures."""
    work = evaluations().work([pool[x] for x in keys], k, steps)
    for w in (w for w in work if w.status == "failed"):
        st.error(esc(f"The full evaluation of {ui.label(w.key[0][0].split('-')[1])} at K = {k} "
                     f"failed ({w.error}); its curve stays the first estimate."))
    return any(w.status in ("waiting", "running") for w in work)


def progress(keys, pool, k: int, steps: int) -> bool:
    """The line at the top of the page while curves are refined in the background: what is
    computed and how far it is. Returns whether some evaluation is still waiting or running."""
    ev = evaluations()
    work = ev.work([pool[x] for x in keys], k, steps)
    left = [w for w in work if w.status in ("waiting", "running")]
    if not left:
        return False
    frac = sum(w.fraction for w in work) / len(work)
    done = sum(w.status == "done" for w in work)
    st.progress(frac, text=esc(
        f"Evaluating each run at K = {k}, steps 0–{steps}, on {ev.full_tasks} held-out tasks "
        f"(in the background, {done} of {len(work)} runs done, {100 * frac:.0f}%): the averaged "
        f"curves below are a first estimate on {ev.first_tasks} tasks until then."))
    return True


# ----------------------------------------------------------------------------- sections
def server_task_chart(view, runs, first, k: int, steps: int, task: int, step: int, names,
                      colors, dashes) -> None:
    """The one-task chart computed on the server, for runs the browser cannot adapt (its step
    slider is the figure's own; "Another task" reruns the fragment)."""
    from maml_viz.views import points
    ss = st.session_state
    head, button = st.columns([4, 1], vertical_alignment="bottom")
    button.button("Another task", width="stretch", on_click=view.kept.__setitem__,
                  args=("task", task + 1), help="Draw another new task for this chart")
    sig = (tuple(runs), task, k, steps, step)
    if ss.get("_cmp_task", (None,))[0] != sig:          # the same view again: nothing to compute
        sup = points.support(first, task, k)
        ss._cmp_task = (sig, sup, compare.compare_task(runs, sup, steps, step, names, colors,
                                                       dashes, seed=task))
    _, sup, chart = ss._cmp_task
    head.markdown(f"**The same new task, adapted by each** · "
                  f"{esc(first.family.describe_task(sup.task[0]))} · K = {k}")
    for note in chart.notes:
        st.warning(esc(note))
    st.plotly_chart(chart.figure, key="cmp_task_chart", config={"displayModeBar": False})
    st.caption(esc(chart.caption))


def _sig(keys, runs, pool, groups, names, colors, dashes, fam, steps) -> str:
    """What the averaged chart depends on besides K (the page redraws a chart of the same sig)."""
    parts = (fam.name, tuple(keys), tuple(runs), int(steps), sorted(
        (x, tuple(c.key() for c in cs)) for x, cs in (groups or {}).items()),
        [(x, names.get(x), str(colors.get(x)), dashes.get(x)) for x in runs],
        [run_version(pool[x]) for x in keys])
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def _chart(sig, est, runs, groups, names, colors, dashes, fam, k, steps):
    """(compare.AveragedChart, avg_chart.entry) of these estimates, built once per session."""
    cache = st.session_state.setdefault("_cmp_avg_built", {})
    ck = (sig, int(k), tuple((x, e.source, e.tasks) for x, e in est.items()))
    if ck not in cache:
        ch = compare.averaged_chart(est, runs, groups, names, colors, dashes, fam, k, steps)
        cache[ck] = (ch, avg_chart.entry(ch.figure, ch.caption))
        while len(cache) > 12:
            cache.pop(next(iter(cache)))
    return cache[ck]


def _ahead(sig, keys, runs, pool, groups, names, colors, dashes, fam, k, steps) -> dict:
    """{K ± 1, ± 2, ± 3: avg_chart.entry} for those whose every curve is kept now (computed
    ahead)."""
    out = {}
    for kk in (k + d for d in AHEAD):
        if 1 <= kk <= K_MAX:
            est = {x: evaluations().peek(pool[x], kk, steps) for x in keys}
            if all(e is not None for e in est.values()):
                out[kk] = _chart(sig, est, runs, groups, names, colors, dashes, fam, kk, steps)[1]
    return out


def _unsent(sig: str, charts: dict) -> dict:
    """The charts this session's page does not hold yet (and from now on, does)."""
    sent = st.session_state.setdefault("_cmp_avg_sent", set())
    new = {kk: c for kk, c in charts.items() if (sig, kk, c["id"]) not in sent}
    sent.update((sig, kk, c["id"]) for kk, c in new.items())
    return new


def waiting_ahead(keys, pool, k: int, steps: int) -> bool:
    """Whether a curve at K ± 1, ± 2 or ± 3 is still being computed ahead."""
    ev = evaluations()
    return any(ev.computing_ahead(pool[x], k + d, steps) for x in keys for d in AHEAD)


def feed_ahead(keys, runs, pool, groups, names, colors, dashes, fam, k, steps) -> bool:
    """Hand the page the averaged charts at K ± 1, ± 2 and ± 3 computed since it was drawn (the
    progress poll); returns whether some are still being computed."""
    waiting = waiting_ahead(keys, pool, k, steps)
    sig = _sig(keys, runs, pool, groups, names, colors, dashes, fam, steps)
    avg_chart.feed(sig, _unsent(sig, _ahead(sig, keys, runs, pool, groups, names, colors, dashes,
                                            fam, k, steps)))
    return waiting


def averages_section(keys, runs, pool, groups, names, colors, dashes, fam, k, steps,
                     family, labels) -> bool:
    """The averaged chart (the curves of `keys`: a first estimate where the full evaluation is
    not done yet), its caption and the numbers. groups: {run key: seed configs} to draw the mean
    over seeds, or None; labels: the page's K and steps inputs' labels (the chart follows a K
    committed there at once where the chart at that K is ready). Returns whether every curve is
    final."""
    est = {key: evaluations().estimate(pool[key], k, steps) for key in keys}
    sig = _sig(keys, runs, pool, groups, names, colors, dashes, fam, steps)
    ch, now = _chart(sig, est, runs, groups, names, colors, dashes, fam, k, steps)
    av, marks = ch.averages, ch.marks
    # every chart ready ahead (a feed may have been lost to a rerun), and the one it draws
    charts = {**_ahead(sig, keys, runs, pool, groups, names, colors, dashes, fam, k, steps), k: now}
    _unsent(sig, charts)
    st.subheader("Error against adaptation steps, averaged over new tasks")
    avg_chart.chart(sig, k, steps, charts, ch.figure.layout.height or 440, *labels,
                    key="cmp_curves")
    robust = paper_ui.robust_stats(est, groups, names, fam, k, steps) if groups else {}
    st.subheader("Numbers")
    table = compare_stats.with_iqm(av.table, list(groups), robust) if groups else av.table
    table = compare_stats.with_paper_rows(table, marks, fam.metric)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(esc("Mean ± 95% interval; “diverged”: the adaptation produced NaN or infinity. "
                   "The same tasks and protocol as the chart above." + (
                       " " + stats.READ_IQM + "." if any(r.iqm for r in robust.values()) else "")))
    paper_ui.table_downloads(table, f"compare-{family}-K{k}", f"{fam.metric} on held-out tasks, "
                             f"{family}, K = {k}" + (" (over training seeds)" if groups else ""),
                             "cmp_table", note=av.protocol)
    if groups:
        st.download_button("Download every seed's numbers (CSV)",
                           av.csv.to_csv(index=False).encode(), key="cmp_csv",
                           file_name=f"compare-{family}-K{k}-seeds.csv", mime="text/csv",
                           help="As a CSV file: one row per run, seed and step (each seed's mean "
                                "and 95% interval over the tasks)")
        paper_ui.robust_section(robust, names, family, k)
    paper_ui.export_charts("cmp_")
    return av.final


def training_section(runs, names, colors, dashes, fam):
    """The common validation measure during training, what it says, and the raw meta-loss."""
    from maml_viz.engine.validation import validation_steps
    val = compare.validation_histories(runs)
    st.subheader("During training: the same measure for every run")
    y_range = adaptation.metric_range(fam, averaged=True)
    if val:
        st.plotly_chart(curves.validation_curves(val, y_range, fam.metric, names, colors, dashes,
                                                 higher_is_better=fam.higher_is_better),
                        key="cmp_val", config={"displayModeBar": False})
    st.caption(esc(" ".join(compare_notes.validation_notes(
        runs, val, names, fam.metric, validation_steps(fam), y_range, fam.higher_is_better))))
    hist = {key: (r.history["iteration"], r.history["meta_loss"]) for key, r in runs.items()
            if r.history["iteration"]}
    if hist:
        with st.expander("Raw meta-loss (not comparable between algorithms)"):
            st.plotly_chart(curves.loss_histories(
                hist, labels={key: compare.loss_label(names[key], runs[key]) for key in hist},
                colors=colors), key="cmp_hist", config={"displayModeBar": False})
            st.caption("Each algorithm's own training loss on its batches, measured after its "
                       "own number of inner steps (in the legend): a loss after 5 steps looks "
                       "lower than one after 1 without being better. Use the chart above to "
                       "compare.")

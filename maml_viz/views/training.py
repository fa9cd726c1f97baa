"""The Train page as data: the live charts of the measure every running job records, drawn while
it trains, and the tables of stored runs.
"""
from __future__ import annotations

import functools
import os

from ..engine.algorithms import get_algorithm
from ..engine.config import ConfigError
from ..engine.tasks import RLFamily, SupervisedFamily, get_family, make_family
from .figures.curves import loss_histories
from .links import origin


# ----------------------------------------------------------------------------- live training
@functools.singledispatch
def training_measure(family) -> dict:
    """What a family's training history ("meta_loss") holds: chart title, measure, caption."""
    raise NotImplementedError(f"no training measure for {type(family).__name__}")


@training_measure.register
def _(family: SupervisedFamily):
    return {"title": "Meta-loss while training", "metric": "mse",
            "caption": "The error after adaptation, averaged over each batch of tasks: it should "
                       "go down as the starting point gets better."}


@training_measure.register
def _(family: RLFamily):
    return {"title": "Return while training", "metric": "return",
            "caption": "The average return after adaptation per meta-iteration: it should go up."}


def live_training_charts(jobs) -> list:
    """Charts of the jobs' histories, one per kind of measure: [(key, figure, caption)]."""
    groups = {}
    for j in jobs:
        if j.history["iteration"]:
            m = training_measure(make_family(j.config.family, j.config.family_options))
            groups.setdefault(m["title"], (m, {}))[1][j.config.algo] = (
                j.history["iteration"], j.history["meta_loss"])
    return [(f"train_live_{m['metric']}", loss_histories(
                hist, title=title, labels={a: get_algorithm(a).label for a in hist},
                metric=m["metric"]), m["caption"]) for title, (m, hist) in groups.items()]


# ----------------------------------------------------------------------------- stored runs
def _label(lookup, name: str) -> str:
    try:
        return lookup(name).label
    except ConfigError:                     # a damaged run's folder may name anything
        return name


def _family_label(name: str, options: dict | None) -> str:
    """The family's label; a formula family's is its formula and ranges (options_label)."""
    try:
        cls = get_family(name)
    except ConfigError:                     # a damaged run's folder may name anything
        return name
    return (options is not None and cls.options_label(options)) or cls.label


def run_rows(entries: list) -> tuple:
    """The Train page's tables of stored runs (RunStore.list() entries): (rows for everyone,
    rows of technical details). A damaged run has a row saying why."""
    main, tech = [], []
    for e in entries:
        c, t, ev = e["config"], e["training"] or {}, e["evaluation"] or {}
        res, metric = {}, (ev.get("protocol") or {}).get("metric")
        if c is not None:
            own = [x for x in ev.get("results", []) if x.get("k_shot") in (c.k_shot, None)]
            res = {x["step"]: x["mean"] for x in own or ev.get("results", [])}
        # when it was trained: the run's own record, never its files' time (a bundled run's
        # files date from when the app was installed)
        when = origin(t, bool(e.get("read_only")), os.path.getmtime(e["path"])
                      if os.path.exists(e["path"]) else None).removeprefix("trained ") or None
        fam, algo = (c.family, c.algo) if c else e["key"].split("-")[:2]   # damaged: its name
        main.append({
            "health": "damaged: " + e["error"] if e["error"] else
            "partial (stopped early)" if t.get("partial") else "ok",
            "algorithm": _label(get_algorithm, algo),
            "family": _family_label(fam, c.family_options if c else None),   # a formula: itself
            "K": c.k_shot if c else None, "iterations": t.get("iterations_done"),
            "seed": c.seed if c else None, "metric": metric,
            "before": res.get(0), "after 1 step": res.get(1),
            "test tasks": (ev.get("protocol") or {}).get("tasks"),
            "step size": None if not ev else "validated"
            if ((ev.get("protocol") or {}).get("version") or 1) >= 2 else "as trained",
            "trained": when,
            "bundled": bool(e.get("read_only"))})
        tech.append({"run": e["key"], "device": t.get("device"), "train s": t.get("train_seconds"),
                     "it/s": t.get("its_per_s"), "partial": bool(t.get("partial")),
                     "threads": t.get("threads"), "path": e["path"]})
    return main, tech

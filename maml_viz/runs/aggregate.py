"""What several training seeds of several algorithms say, as a methods paper reports it: beside the
mean ± between-seed t-interval (seeds.py), the interquartile mean over seeds × held-out tasks
with a bootstrap 95% interval and the probability of improvement of every algorithm over every
other (stats.py, Agarwal et al. 2021), per (K, step) shown; as text lines and as JSON.

A *group* is one config up to the seed (an algorithm at one grid point), given as
    {"label", "config" (a TrainConfig), "protocol" (its evaluation's), "frames" {seed: frame},
     "scores" {seed: scores.TaskScores or None}, "keys" {seed: run folder name}}
(summary.load_results builds them from a runs folder). Robust statistics need every seed's
per-task scores; a run evaluated before they were stored has none (`sweep` evaluates such runs
again, without training). Probabilities of improvement pair tasks, so they are computed only
between groups evaluated on the same tasks (same family and options, K, tasks and evaluation
seed); other groups get a matrix of their own.
"""
from __future__ import annotations

import json
import math
import platform

import numpy as np
import torch

from .. import __version__
from ..engine.tasks import make_family
from . import paper, stats
from .evaluate import PROTOCOL_VERSION

BOOTSTRAP = {"reps": stats.REPS, "level": stats.LEVEL, "seed": 0, "design": "crossed"}


def seed_matrix(group: dict, k: int, step: int):
    """[seeds, tasks] scores of a group at (K, step), seeds in order; None if a seed has no
    per-task scores at that K (or they do not cover that step)."""
    rows = []
    for seed in sorted(group["frames"]):
        sc = (group.get("scores") or {}).get(seed)
        if not sc or k not in sc or sc[k].shape[1] <= step:
            return None
        rows.append(sc[k][:, step])
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    return np.stack(rows)


def comparable_key(group: dict, k: int) -> str:
    """Groups with equal keys were evaluated on the same held-out tasks (paired by index)."""
    cfg, p = group["config"], group.get("protocol") or {}
    return json.dumps([cfg.family, cfg.family_options, int(k), p.get("tasks"), p.get("seed"),
                       str(p.get("query_points"))], sort_keys=True, default=str)


def higher_is_better(group: dict) -> bool:
    cfg = group["config"]
    return bool(make_family(cfg.family, cfg.family_options).higher_is_better)


def robust(groups: list, ks: dict, steps: list, bootstrap: dict | None = None) -> dict:
    """Robust statistics of groups (list, see the module doc) at their own K (ks: label -> K)
    and the given steps: {'iqm': {label: {step: Estimate}}, 'poi': [{'k_shot', 'step', 'algos',
    'value', 'low', 'high', 'note'}], 'missing': [labels without per-task scores]}."""
    b = dict(BOOTSTRAP, **(bootstrap or {}))
    out = {"iqm": {}, "poi": [], "missing": []}
    sets: dict = {}
    for g in groups:
        k, label = ks[g["label"]], g["label"]
        hib = higher_is_better(g)
        out["iqm"][label] = {}
        for step in steps:
            m = seed_matrix(g, k, step)
            if m is None:
                if label not in out["missing"]:
                    out["missing"].append(label)
                continue
            out["iqm"][label][step] = stats.iqm_interval(
                m, hib, reps=b["reps"], level=b["level"], seed=b["seed"], design=b["design"])
        sets.setdefault(comparable_key(g, k), []).append(g)
    for members in sets.values():
        if len(members) < 2:
            continue
        k, hib = ks[members[0]["label"]], higher_is_better(members[0])
        for step in steps:
            mats = {g["label"]: seed_matrix(g, k, step) for g in members}
            mats = {name: m for name, m in mats.items() if m is not None}
            if len(mats) < 2:
                continue
            poi = stats.poi_matrix(mats, hib, reps=b["reps"], level=b["level"], seed=b["seed"])
            out["poi"].append({"k_shot": int(k), "step": int(step), **poi})
    return out


# ------------------------------------------------------------------ text
def text_lines(groups: list, result: dict, steps: list, poi_steps=None, width: int = 24) -> list:
    """The IQM table and the probability-of-improvement matrices (at poi_steps; default: step 1
    and the last step shown) as lines of text."""
    lines = [f"interquartile mean over training seeds × held-out tasks [95% bootstrap interval, "
             f"seeds and tasks resampled, {stats.REPS} replicates]; diverged tasks count as the "
             f"worst",
             f"{'algorithm':<{width}}{'seeds':>6}" + "".join(f"{'step ' + str(s):>24}"
                                                             for s in steps)]
    for g in groups:
        label = g["label"]
        cells = [result["iqm"].get(label, {}).get(s) for s in steps]
        n = len(g["frames"])
        lines.append(f"{label:<{width}}{n:>6}" + "".join(
            f"{(e.text() if e is not None else 'no per-task scores'):>24}" for e in cells))
    if any(len(g["frames"]) < stats.MIN_SEEDS for g in groups):
        lines.append(f"n/a: {stats.too_few(min(len(g['frames']) for g in groups))}")
    if result["missing"]:
        lines.append("no per-task scores for some seeds of: " + ", ".join(result["missing"]) +
                     " (evaluated before they were kept, or on other tasks; `sweep` again "
                     "evaluates them anew without training)")
    positive = [s for s in steps if s > 0]
    want = poi_steps if poi_steps is not None else {(positive or steps)[0], steps[-1]}
    for m in result["poi"]:
        if m["step"] not in want:
            continue
        lines.append(f"probability of improvement at step {m['step']} (K = {m['k_shot']}): "
                     f"{stats.READ_POI}")
        names = m["algos"]
        short = [n[:14] for n in names]
        lines.append(f"{'row better than →':<{width}}" + "".join(f"{s:>20}" for s in short))
        for i, name in enumerate(names):
            cells = []
            for j in range(len(names)):
                v, lo, hi = m["value"][i][j], m["low"][i][j], m["high"][i][j]
                cells.append("—" if i == j else "n/a" if v is None else
                             f"{v:.2f} [{lo:.2f}, {hi:.2f}]")
            lines.append(f"{name:<{width}}" + "".join(f"{c:>20}" for c in cells))
        if m.get("note"):
            lines.append(f"n/a: {m['note']}")
    for t in targets(groups, steps):
        lines.append(f"reference: {t.label} {t.value:g}" + (f" ± {t.ci95:g}" if t.ci95 else "") +
                     f" at step {t.step}, K = {t.k_shot} ({t.source}; protocol differs: "
                     f"{t.caveat})")
    return lines


def targets(groups: list, steps: list) -> list:
    """The MAML paper's figures (paper.py) for the groups' family, options and K, at the steps
    shown, once each."""
    out = []
    for g in groups:
        for t in paper.targets_for_config(g["config"], g.get("k"), steps):
            if t not in out:
                out.append(t)
    return out


# ------------------------------------------------------------------ JSON
def versions() -> dict:
    return {"maml_viz": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "protocol_version": PROTOCOL_VERSION}


def to_json(groups: list, ks: dict, steps: list, rows: dict, result: dict) -> dict:
    """The sweep's summary as strict JSON: per group its config (without the seed), seeds and
    run folders, its evaluation protocol, and per step shown the between-seed t-interval row
    (rows: label -> {step: row}) with `iqm` {value, ci95: [low, high], ...}; the
    probability_of_improvement matrices; the bootstrap settings and the versions."""
    out_groups = []
    for g in groups:
        label, cfg = g["label"], g["config"]
        d = cfg.to_dict()
        d.pop("seed", None)
        per_step = []
        for step in steps:
            r = rows.get(label, {}).get(step)
            if r is None:
                continue
            e = result["iqm"].get(label, {}).get(step)
            per_step.append({**{k: _clean(v) for k, v in r.items() if k not in ("group", "algo")},
                             "iqm": e.to_dict() if e is not None else
                             {"value": None, "ci95": None, "note": "no per-task scores"}})
        proto = dict(g.get("protocol") or {})
        proto.pop("reproduce", None)                 # per seed below
        out_groups.append({"label": label, "algo": cfg.algo, "config": d,
                           "seeds": sorted(int(s) for s in g["frames"]),
                           "runs": {str(s): g["keys"][s] for s in sorted(g.get("keys", {}))},
                           "evaluated_with": {str(s): _evaluated_with(f)
                                              for s, f in sorted(g["frames"].items())},
                           "k_shot": int(ks[label]), "protocol": proto, "steps": per_step})
    poi = [{**m, "value": _clean(m["value"]), "low": _clean(m["low"]), "high": _clean(m["high"]),
            "read": stats.READ_POI} for m in result["poi"]]
    return {"groups": out_groups, "probability_of_improvement": poi,
            "paper_targets": [t.to_dict() for t in targets(groups, steps)],
            "statistics": {"iqm": stats.READ_IQM, "bootstrap": BOOTSTRAP,
                           "min_seeds": stats.MIN_SEEDS,
                           "t_interval": "mean ± t(0.975, n-1)·sd/√n over seeds, each seed = its "
                                         "mean over the tasks"},
            "versions": versions(), "missing_task_scores": result["missing"]}


def _evaluated_with(frame) -> dict:
    """The versions, device and command a seed's stored evaluation records (protocol 'reproduce';
    older evaluations have none)."""
    rep = (frame.attrs.get("protocol") or {}).get("reproduce") or {}
    return {k: rep[k] for k in ("maml_viz", "torch", "numpy", "python", "protocol_version",
                                "device", "command") if k in rep}


def _clean(v):
    """Strict JSON: non-finite floats -> None, numpy scalars -> Python."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v

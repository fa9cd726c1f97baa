"""A sweep's stored results as tables: per config group (the algorithm and the grid values), the
mean ± between-seed 95% t-interval per step at each run's own K, followed by the robust
statistics of runs.aggregate (IQM and probability of improvement); `summary_json` is the same as
JSON. Reads only the runs store: `sweep --summary` and the sweep's own closing table use it.
"""
from __future__ import annotations

import math

import pandas as pd

from . import aggregate
from .evaluate import from_json
from .files import StoreError
from .seeds import across_seeds, group_key
from .store import RunStore


def load_results(configs, runs_dir) -> dict:
    """{group_key: {'config': first config, 'protocol': its evaluation protocol,
    'frames': {seed: evaluation frame}, 'scores': {seed: per-task scores or None},
    'keys': {seed: run folder}}} for the configs stored under runs_dir (configs not stored, or
    unreadable, are left out)."""
    store = RunStore(runs_dir)
    groups: dict = {}
    for cfg in configs:
        try:
            run = store.get(cfg)
        except StoreError:
            continue
        if run is None or not run.metrics:
            continue
        g = groups.setdefault(group_key(cfg), {"config": cfg, "frames": {}, "scores": {},
                                               "keys": {},
                                               "protocol": run.metrics.get("protocol", {})})
        g["frames"][cfg.seed] = from_json(run.metrics)
        g["scores"][cfg.seed] = g["frames"][cfg.seed].attrs.get("task_scores")
        g["keys"][cfg.seed] = cfg.key()
    return groups


def summary(configs, runs_dir, max_steps_shown: int = 5, bootstrap: dict | None = None) -> tuple:
    """(text table, long frame) of mean ± between-seed 95% t-interval per config group and step,
    at each run's own K, followed by the robust statistics (aggregate.py). The frame has one row
    per (group, k_shot, step), with iqm / iqm_low / iqm_high where estimated."""
    s = _summarise(configs, runs_dir, max_steps_shown, bootstrap)
    if s is None:
        return "no stored results to summarise", pd.DataFrame()
    groups, rows, table, steps, robust = s
    first = groups[0]
    proto = first["protocol"]
    header = ["algorithm", "seeds"] + [f"step {st}" for st in steps]
    body = []
    for label, s in table:
        by_step = {int(r["step"]): r for r in s.to_dict(orient="records")}
        n = max((r["n_seeds"] for r in by_step.values()), default=0)
        body.append([label, str(n)] + [_cell(by_step.get(st)) for st in steps])
    # every column as wide as its widest cell, two spaces apart: nothing runs together
    width = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]

    def fmt(row):
        return "  ".join(c.ljust(width[0]) if i == 0 else c.rjust(width[i])
                         for i, c in enumerate(row)).rstrip()
    lines = [f"{proto.get('metric', 'metric')} on {proto.get('tasks', '?')} held-out tasks, "
             f"{k_label(first['config'], proto)}: mean ± 95% t-interval "
             f"over training seeds (each seed = its mean over the tasks)", fmt(header)]
    lines += [fmt(row) for row in body]
    notes = [f"{r['group']} step {r['step']}: {int(r['diverged_tasks'])} of {int(r['tasks'])}"
             for r in rows if (r.get("diverged_tasks") or 0) > 0]   # NaN > 0 is False
    if notes:
        lines.append("tasks whose adaptation diverged (all seeds): " + "; ".join(notes))
    lines += aggregate.text_lines(groups, robust, steps)
    for r in rows:
        e = robust["iqm"].get(r["group"], {}).get(int(r["step"]))
        if e is not None and e.estimated:
            r.update(iqm=e.value, iqm_low=e.low, iqm_high=e.high)
    return "\n".join(lines), pd.DataFrame(rows)


def summary_json(configs, runs_dir, max_steps_shown: int = 5, bootstrap: dict | None = None):
    """The summary as strict JSON (aggregate.to_json), or None if nothing is stored."""
    s = _summarise(configs, runs_dir, max_steps_shown, bootstrap)
    if s is None:
        return None
    groups, rows, _, steps, robust = s
    by = {}
    for r in rows:
        by.setdefault(r["group"], {})[int(r["step"])] = r
    return aggregate.to_json(groups, {g["label"]: g["k"] for g in groups}, steps, by, robust)


def _summarise(configs, runs_dir, max_steps_shown, bootstrap):
    groups = list(load_results(configs, runs_dir).values())
    if not groups:
        return None
    varying = _varying_fields([g["config"] for g in groups])
    rows, table, all_steps = [], [], set()
    for g in groups:
        cfg = g["config"]
        s = across_seeds(g["frames"])
        g["k"] = evaluated_k(cfg, s["k_shot"])
        s = s[s["k_shot"] == g["k"]]
        g["label"] = label = cfg.algo + "".join(f" {k}={v}" for k, v in _fields(cfg, varying))
        for r in s.to_dict(orient="records"):
            rows.append({"group": label, "algo": cfg.algo, **r})
        all_steps |= set(int(x) for x in s["step"])
        table.append((label, s))
    steps = sorted(all_steps)
    if len(steps) > max_steps_shown:
        keep = {steps[0], steps[-1], 1, 2, 5}
        steps = [s for s in steps if s in keep]
    robust = aggregate.robust(groups, {g["label"]: g["k"] for g in groups}, steps, bootstrap)
    return groups, rows, table, steps, robust


def evaluated_k(cfg, ks) -> int:
    """The K a run's summary row shows: its own k_shot where it was evaluated at it; otherwise
    (RL: the protocol's trajectories per adaptation step, not the training's k_shot) the first K
    of its evaluation."""
    ks = [int(k) for k in dict.fromkeys(ks)]
    return cfg.k_shot if cfg.k_shot in ks else ks[0]


def k_label(cfg, protocol: dict) -> str:
    """'K = 10' for a supervised run; where the protocol's K is not the config's own (RL) it says
    what it counts, e.g. 'K = 40 trajectories per goal at each step (trained with 20)'."""
    ks = protocol.get("k_shot") or ["?"]
    k = evaluated_k(cfg, ks) if ks != ["?"] else "?"
    if k == cfg.k_shot or k == "?":
        return f"K = {k}"
    what = protocol.get("query_points")
    what = what if isinstance(what, str) else f"{k} per task"
    return f"K = {what} at each step (trained with {cfg.k_shot})"


def _num(v: float) -> str:
    """A value in at most about 10 characters: 0.123, 12.345, 1.23e+12."""
    return f"{v:.3f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.3g}"


def _cell(r) -> str:
    if r is None:
        return "-"
    if r["n_diverged"]:
        return f"diverged {r['n_diverged']}/{r['n_seeds']}"
    if math.isnan(r["ci95"]):                      # one seed: no between-seed spread
        return _num(r["mean"])
    return f"{_num(r['mean'])} ± {_num(r['ci95'])}"


def diverged_seeds(frame: pd.DataFrame) -> int:
    """How many seeds' adaptation diverged (the table's 'diverged n/m' cells): per config group,
    the most at any step; summed over groups."""
    if frame.empty or "n_diverged" not in frame:
        return 0
    return int(frame.groupby("group")["n_diverged"].max().sum())


def _varying_fields(configs) -> list:
    """Settings that differ between config groups of the same algorithm (the grid's axes);
    what differs between algorithms only (their own defaults) is not repeated in labels."""
    by_algo: dict = {}
    for c in configs:
        d = c.to_dict()
        by_algo.setdefault(c.algo, []).append(
            {**{k: v for k, v in d.items() if k not in ("family_options", "algo", "seed")},
             **c.family_options})
    names = set()
    for flat in by_algo.values():
        for k in {k for f in flat for k in f}:
            if len({str(f.get(k)) for f in flat}) > 1:
                names.add(k)
    return sorted(names)


def _fields(cfg, names) -> list:
    d = {**cfg.to_dict(), **cfg.family_options}
    return [(k, d.get(k)) for k in names]

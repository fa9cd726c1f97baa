"""Several training seeds of one config: the mean curve with a between-seed 95% confidence interval.

A single run's evaluation gives, per (K, step), the mean of the metric over held-out tasks and a
CI over *tasks*. That CI says nothing about how much a second training would differ. Here each
training seed contributes ONE number per (K, step), its mean over the held-out tasks, and the
interval is Student's t over those numbers:

    mean ± t(0.975, n-1) · sd / √n        (n = number of seeds, sd with n-1)

Pure functions over pandas frames (no torch, no Streamlit), so pages, the sweep command and the
README tables all compute it the same way:

- `t_quantile(p, df)`: Student's t quantile (exact CDF for integer df, inverted by bisection);
- `t_interval(values)`: (mean, half-width, n);
- `seed_rows(frames)`: per-seed rows (seed, k_shot, step, mean, ci95 over tasks, ...);
- `across_seeds(frames)`: per (k_shot, step): mean, ci95 (between seeds), median (of the seeds'
  means), sd, n_seeds, n_diverged (seeds); and, when the frames carry them (protocol 2),
  task_median (the seeds' median over tasks, averaged) and diverged_tasks / tasks (summed);
- `group_key(config)` / `group_by_config(runs)` / `seeds_of(entries, config)`: which runs are
  seeds of the same config;
- `stored_frames(runs)`: {seed: the stored evaluation frame} of several runs;
- `compare(frames_by_algo)`: for a Compare page, the curves of several algorithms (mean over
  seeds, between-seed CI, n_seeds) and the per-seed rows for its CSV, in one call.

A seed whose mean is not finite (its adaptation diverged) is counted in `n_diverged`; the mean and
CI of that (K, step) are then NaN (an average that includes a divergence is not a number), the
median over seeds is still given.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

import pandas as pd

from .evaluate import from_json

CI_LABEL = "95% t-interval over training seeds, t(0.975, n-1)·sd/√n, each seed = its mean over tasks"


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with integer df (Abramowitz & Stegun 26.7.3-4: finite sums)."""
    if df < 1 or int(df) != df:
        raise ValueError(f"df must be an integer >= 1 (got {df!r})")
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:                      # odd: 1/2 + (θ + sinθ cosθ (1 + 2/3 cos² + 2·4/(3·5) cos⁴ …))/π
        total, term = 0.0, 1.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= (2 * k) / (2 * k + 1) * c * c
        a = theta + (s * c * total if df > 1 else 0.0)
        return 0.5 + a / math.pi
    total, term = 0.0, 1.0               # even: 1/2 + sinθ (1 + 1/2 cos² + 1·3/(2·4) cos⁴ …)/2
    for k in range(1, df // 2 + 1):
        total += term
        term *= (2 * k - 1) / (2 * k) * c * c
    return 0.5 + 0.5 * s * total


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with integer df >= 1 (e.g. t_quantile(0.975, 4) = 2.776)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1) (got {p!r})")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def t_interval(values: Iterable[float], level: float = 0.95) -> tuple:
    """(mean, half-width, n) of a t-interval. n = 1 gives a NaN half-width (no spread to measure);
    any non-finite value makes mean and half-width NaN."""
    v = [float(x) for x in values]
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), 0
    if not all(math.isfinite(x) for x in v):
        return float("nan"), float("nan"), n
    mean = sum(v) / n
    if n == 1:
        return mean, float("nan"), 1
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1))
    return mean, t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n), n


def _median(v: list) -> float:
    """Median that tolerates ±inf/NaN (NaN counts as +inf: a diverged seed is the worst case for
    a loss; for a score the caller can negate)."""
    if not v:
        return float("nan")
    s = sorted(float("inf") if math.isnan(x) else x for x in v)
    n = len(s)
    m = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return m


def seed_rows(frames: Mapping) -> pd.DataFrame:
    """Per-seed rows from {seed: evaluation frame}; each frame has k_shot, step, mean (the mean
    over held-out tasks; NaN/None = diverged) and usually ci95 (over tasks). Returns a frame with
    a `seed` column first, sorted by seed, k_shot, step (the CSV a user downloads)."""
    parts = []
    for seed, df in frames.items():
        if df is None or len(df) == 0:
            continue
        d = pd.DataFrame(df).copy()
        for col in ("k_shot", "step", "mean"):
            if col not in d.columns:
                raise ValueError(f"an evaluation frame needs the column {col!r} (seed {seed})")
        d["mean"] = pd.to_numeric(d["mean"], errors="coerce").astype(float)
        d.insert(0, "seed", int(seed))
        parts.append(d)
    if not parts:
        return pd.DataFrame(columns=["seed", "k_shot", "step", "mean"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["seed", "k_shot", "step"], kind="stable").reset_index(drop=True)


def across_seeds(frames: Mapping, level: float = 0.95) -> pd.DataFrame:
    """The mean curve over training seeds with a between-seed t-interval.

    frames: {seed: evaluation frame} (see seed_rows). Returns one row per (k_shot, step):
    mean, ci95 (half-width), median, sd, n_seeds, n_diverged, and .attrs['ci'] saying what the
    interval is. Seeds missing a (k_shot, step) simply do not count there (n_seeds says how many
    did)."""
    rows = seed_rows(frames)
    out = []
    for (k, step), g in rows.groupby(["k_shot", "step"], sort=True):
        vals = g["mean"].tolist()
        finite = [x for x in vals if math.isfinite(x)]
        mean, half, n = t_interval(vals, level)
        sd = (math.sqrt(sum((x - mean) ** 2 for x in finite) / (n - 1))
              if n > 1 and len(finite) == n else float("nan"))
        row = {"k_shot": int(k), "step": int(step), "mean": mean, "ci95": half,
               "median": _median(vals), "sd": sd, "n_seeds": n, "n_diverged": n - len(finite)}
        # what the seeds' evaluations say about single tasks (protocol 2 rows carry it)
        if "median" in g.columns:
            row["task_median"] = float(pd.to_numeric(g["median"], errors="coerce").mean())
        if "diverged" in g.columns and "tasks" in g.columns:
            row["diverged_tasks"] = int(pd.to_numeric(g["diverged"]).fillna(0).sum())
            row["tasks"] = int(pd.to_numeric(g["tasks"]).fillna(0).sum())
        out.append(row)
    cols = ["k_shot", "step", "mean", "ci95", "median", "sd", "n_seeds", "n_diverged"]
    extra = [c for c in ("task_median", "diverged_tasks", "tasks") if any(c in r for r in out)]
    df = pd.DataFrame(out, columns=cols + extra)
    df.attrs["ci"] = CI_LABEL if level == 0.95 else CI_LABEL.replace("95%", f"{level:.0%}")
    df.attrs["seeds"] = sorted(int(s) for s in frames)
    return df


def group_key(config) -> str:
    """What identifies 'the same config up to the seed': the config's fields without `seed`, as a
    stable string. Accepts a TrainConfig (anything with to_dict) or a plain dict."""
    d = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    d.pop("seed", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)


def group_by_config(runs: Iterable) -> dict:
    """{group_key: [runs sorted by seed]} for anything with a `.config` (Run objects)."""
    groups: dict = {}
    for r in runs:
        groups.setdefault(group_key(r.config), []).append(r)
    return {k: sorted(v, key=lambda r: r.config.seed) for k, v in groups.items()}


def seeds_of(entries: Iterable, config) -> list:
    """Seeds stored for `config` up to the seed: entries are RunStore.list() rows (dicts with a
    'config', None for unreadable runs) or anything with a `.config`."""
    key, seeds = group_key(config), set()
    for e in entries:
        cfg = e.get("config") if isinstance(e, Mapping) else getattr(e, "config", None)
        if cfg is not None and group_key(cfg) == key:
            seeds.add(int(cfg.seed))
    return sorted(seeds)


def stored_frames(runs: Iterable) -> dict:
    """{seed: evaluation frame} from runs' stored evaluations (runs without one are left out)."""
    return {int(r.config.seed): from_json(r.metrics) for r in runs if r.metrics}


def compare(frames_by_algo: Mapping, level: float = 0.95) -> tuple:
    """{algo: {seed: evaluation frame}} -> (curves, per_seed):
    curves: algo, k_shot, step, mean, ci95 (between seeds; NaN with one seed), n_seeds, ... (the
    columns figures.error_vs_steps reads); per_seed: algo, seed, k_shot, step, mean, ci95 (over
    tasks), ... (one row per seed and step: the CSV). curves.attrs: 'ci', 'seeds' {algo: [seeds]}."""
    curves, rows, seeds = [], [], {}
    for algo, frames in frames_by_algo.items():
        c = across_seeds(frames, level)
        c.insert(0, "algo", algo)
        curves.append(c)
        r = seed_rows(frames)
        r = r.drop(columns=["algo"], errors="ignore")
        r.insert(0, "algo", algo)
        rows.append(r)
        seeds[algo] = c.attrs["seeds"]
    out = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    per_seed = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    out.attrs["ci"] = CI_LABEL if level == 0.95 else CI_LABEL.replace("95%", f"{level:.0%}")
    out.attrs["seeds"] = seeds
    return out, per_seed

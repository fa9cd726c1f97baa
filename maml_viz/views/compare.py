"""The Compare page as data: several runs on the same task, their curves averaged over held-out
tasks under the evaluation protocol, the summary table, several training seeds of a config
(mean curve, between-seed interval), and the validation histories of training.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch

from ..engine.tasks import ClassificationFamily, RegressionFamily
from ..engine.train import Run
from ..runs import budget, seeds
from ..runs.evaluate import PROTOCOL_VERSION, evaluate, from_json
from .adaptation import Chart, blowup_note, blowup_step, grid, metric_range, trajectory, value_range
from .figures.classes import compare_regions_steps
from .figures.regression import regression_steps
from .points import Support


def compare_task(runs: dict, sup: Support, steps: int, active: int = 1, labels=None, colors=None,
                 dashes=None) -> Chart:
    """Compare's one-task figure: every run adapting to the same points, one slider for all.
    runs: key -> Run, all of the same family."""
    first = next(iter(runs.values()))
    return _compare_task(first.family, runs, sup, steps, active, labels or {k: k for k in runs},
                         colors or {k: r.config.algo for k, r in runs.items()}, dashes or {})


@functools.singledispatch
def _compare_task(family, runs, sup, steps, active, labels, colors, dashes):
    raise NotImplementedError(f"no Compare view for {type(family).__name__}")


@_compare_task.register
def _(family: RegressionFamily, runs, sup, steps, active, labels, colors, dashes):
    first = next(iter(runs.values()))
    xg = grid(first, 200)
    curves, errors, notes, true = [], [], [], None
    for k, run in runs.items():
        tr = trajectory(run, sup.xs, sup.ys, steps, x_grid=xg, task=sup.task)
        true = tr.get("true")
        preds = tr["preds"][:, :, 0].astype(float)
        b = blowup_step(tr["preds"])
        if b is not None:
            preds[b:] = np.nan
            notes.append(blowup_note(labels[k], b, run.config.inner_lr))
        curves.append((labels[k], preds, colors[k], dashes.get(k, "solid")))
        errors.append((labels[k], tr.get("grid_error", tr["support"]), colors[k],
                       dashes.get(k, "solid")))
    er = metric_range(family)
    fig = regression_steps(xg.reshape(-1).numpy(), curves, support=sup.task_points,
                           true_y=true, errors=errors, y_range=value_range(family),
                           err_range=(er[1] / 1e4, er[1]), err_log=True, active=active)
    caption = ("Each coloured curve is one run's network after the same number of gradient steps "
               "(the slider under the chart; ▶ plays them) on the same black points, each with the "
               "step size it was trained with (the baselines, pretrained and random init, with "
               "the family's default); the closest to the dashed truth wins. Right: each one's "
               "error on the whole curve after each step (log scale). The averages below choose "
               "each run's step size on validation tasks instead.")
    return Chart(fig, caption, notes, None, steps)


@_compare_task.register
def _(family: ClassificationFamily, runs, sup, steps, active, labels, colors, dashes):
    first, n_grid = next(iter(runs.values())), 50
    xg = grid(first, n_grid)
    maps, notes = {}, []
    for k, run in runs.items():
        tr = trajectory(run, sup.xs, sup.ys, steps, x_grid=xg)
        z = tr["preds"].argmax(-1).reshape(steps + 1, n_grid, n_grid).astype(np.float32)
        b = blowup_step(tr["preds"])
        if b is not None:
            z[b:] = np.nan
            notes.append(blowup_note(labels[k], b, run.config.inner_lr))
        maps[k] = z
    g = torch.linspace(*family.x_range(), n_grid).numpy()
    fig = compare_regions_steps(g, maps, family.n_classes, sup.task_points, labels,
                                active=active)
    caption = ("Predicted class over the plane for each run after the same number of steps (the "
               "slider under the chart; ▶ plays them) on the same labelled examples (big dots).")
    return Chart(fig, caption, notes, None, steps)


# ----------------------------------------------------------------------------- Compare: averages
def fmt(mean, ci=None, digits=3) -> str:
    """A table cell: "0.370 ± 0.029", or "diverged" when the value is not a number."""
    if mean is None or not np.isfinite(mean):
        return "diverged"
    s = f"{mean:.{digits}f}"
    if ci is not None and np.isfinite(ci):
        s += f" ± {ci:.{digits}f}"
    return s


def summary_table(df: pd.DataFrame, runs: dict, labels: dict, metric: str, steps=(0, 1)) -> pd.DataFrame:
    """One row per run: the metric (mean ± 95% CI) at the given steps and the last one, and how it
    was trained. Diverged values read "diverged", not NaN."""
    last = int(df["step"].max())
    rows = []
    for k, run in runs.items():
        g = df[df["run"] == k].set_index("step")
        row = {"run": labels[k]}
        for s in dict.fromkeys([*steps, last]):
            if s in g.index:
                row[f"{metric} after {s} step{'s' if s != 1 else ''}"] = fmt(g.loc[s, "mean"],
                                                                             g.loc[s, "ci95"])
        info, cfg = run.info, run.config
        row.update({"K (trained)": cfg.k_shot, "inner steps (trained)": cfg.inner_steps,
                    "iterations": info.get("iterations_done"), "train s": info.get("train_seconds"),
                    "device": info.get("device"),
                    "stopped early": "yes" if info.get("partial") else "no"})
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- training seeds
def stored_evaluation(run: Run, k: int, steps: int) -> bool:
    """Whether the run's stored evaluation already gives its curve at this K and number of steps
    (under the current protocol): then `evaluation` costs nothing."""
    p = (run.metrics or {}).get("protocol") or {}
    return (p.get("version", 1) >= PROTOCOL_VERSION and k in (p.get("k_shot") or [])
            and p.get("steps") == steps)


def evaluation_cost(run: Run, k: int, steps: int, n_tasks: int = 500, device="cpu"):
    """The estimate (runs.budget) of `evaluation(run, k, steps, n_tasks)`, or None when its
    stored evaluation is used."""
    if stored_evaluation(run, k, steps):
        return None
    return budget.eval_estimate(run.config, (k,), steps, n_tasks, device)


def evaluation(run: Run, k: int, steps: int, n_tasks: int = 500) -> pd.DataFrame:
    """A run's error-against-steps curve at K = k: its stored evaluation when that one followed
    the current protocol at this K and number of steps, else a fresh one on n_tasks held-out
    tasks, so that every curve a page shows follows the same rule (step size chosen on
    validation tasks)."""
    m = run.metrics or {}
    if stored_evaluation(run, k, steps):
        df = from_json(m)
        out = df[df["k_shot"] == k].reset_index(drop=True)
        out.attrs = df.attrs
        return out
    return evaluate(run, k_shots=(k,), steps=steps, n_tasks=n_tasks)


def seed_groups(runs: dict, entries) -> dict:
    """{run key: [configs of every stored training seed of that run's config, by seed]} for the
    runs a page shows. entries: the store's listing (dicts with 'config' and 'training'); runs
    stopped early do not count as seeds (the run itself always does). A config picked twice
    (two seeds of it) is listed once, under the first of its runs."""
    out, seen = {}, set()
    for key, run in runs.items():
        g = seeds.group_key(run.config)
        if g in seen:
            continue
        seen.add(g)
        found = {run.config.seed: run.config}
        for e in entries:
            c = e.get("config")
            if c is not None and not (e.get("training") or {}).get("partial") \
                    and seeds.group_key(c) == g:
                found.setdefault(c.seed, c)
        out[key] = [found[s] for s in sorted(found)]
    return out


SEEDS_NOTE = ("curves: the mean over training seeds (how many: in the legend) · shaded: 95% "
              "t-interval over seeds, t(0.975, n−1)·sd/√n, each seed counting with its mean over "
              "the tasks (none with one seed)")


def seed_curves(frames: dict, labels: dict, metric: str, steps=(0, 1)) -> tuple:
    """frames {run key: {seed: evaluation frame at one K}} -> (curves, legend, table, per_seed):
    curves: the mean over seeds per run and step with the between-seed 95% t-interval (columns
    algo = run = run key, step, mean, ci95, n_seeds, ...: what figures.error_vs_steps reads);
    legend: {run key: label with the number of seeds}; table: one row per run (seeds, the metric
    after the given steps and the last one as mean ± between-seed CI); per_seed: one row per run,
    seed and step (mean and CI over tasks, median, diverged tasks, step size): the CSV."""
    curves, per_seed = seeds.compare(frames)
    curves["run"] = curves["algo"]
    n = {k: len(v) for k, v in frames.items()}
    legend = {k: f"{labels[k]} · {n[k]} seed{'s' if n[k] != 1 else ''}" for k in frames}
    last = int(curves["step"].max()) if len(curves) else 0
    rows = []
    for k in frames:
        g = curves[curves["run"] == k].set_index("step")
        row = {"run": labels[k], "seeds": ", ".join(map(str, sorted(frames[k])))}
        for s in dict.fromkeys([*steps, last]):
            if s in g.index:
                row[f"{metric} after {s} step{'s' if s != 1 else ''}"] = fmt(g.loc[s, "mean"],
                                                                             g.loc[s, "ci95"])
        rows.append(row)
    per_seed = per_seed.rename(columns={"algo": "run"})
    per_seed["run"] = per_seed["run"].map(labels)
    per_seed = per_seed.rename(columns={"ci95": "ci95 over tasks"})
    return curves, legend, pd.DataFrame(rows), per_seed


def validation_histories(runs: dict) -> dict:
    """key -> (iterations, values) of the common validation measure, for runs that recorded it."""
    out = {}
    for k, run in runs.items():
        h = run.history
        vals = h.get("val_metric") or []
        pts = [(i, v) for i, v in zip(h.get("iteration", []), vals)
               if v is not None and math.isfinite(v)]
        if pts:
            it, v = zip(*pts)
            out[k] = (list(it), [float(x) for x in v])
    return out


def loss_label(label: str, run: Run) -> str:
    """A meta-loss legend entry that says after how many inner steps the loss was measured."""
    s = run.config.inner_steps
    return f"{label} (after {s} inner step{'s' if s != 1 else ''})"

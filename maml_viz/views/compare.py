"""The Compare page as data: several runs on the same task, their curves averaged over held-out
tasks under the evaluation protocol, the summary table, several training seeds of a config
(mean curve, between-seed interval), and the validation histories of training.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..engine.tasks import ClassificationFamily, RegressionFamily
from ..engine.train import Run
from ..runs import budget, seeds
from ..runs.evaluate import PROTOCOL_VERSION, evaluate, from_json
from . import compare_notes, compare_stats
from .adaptation import (Chart, blowup_note, blowup_step, grid, metric_range, playground_query,
                         trajectory, value_range)
from .figures.classes import compare_regions_steps
from .figures.curves import error_vs_steps
from .figures.paper import add_marks
from .figures.regression import regression_steps
from .points import Support


def compare_task(runs: dict, sup: Support, steps: int, active: int = 1, labels=None, colors=None,
                 dashes=None, seed: int = 0) -> Chart:
    """Compare's one-task figure: every run adapting to the same points, one slider for all.
    runs: key -> Run, all of the same family; seed: the task's (its test points, for classes)."""
    first = next(iter(runs.values()))
    return _compare_task(first.family, runs, sup, steps, active, labels or {k: k for k in runs},
                         colors or {k: r.config.algo for k, r in runs.items()}, dashes or {},
                         seed)


@functools.singledispatch
def _compare_task(family, runs, sup, steps, active, labels, colors, dashes, seed):
    raise NotImplementedError(f"no Compare view for {type(family).__name__}")


@_compare_task.register
def _(family: RegressionFamily, runs, sup, steps, active, labels, colors, dashes, seed):
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
               "the family's default); the closest to the dashed truth wins. Beside it (below it "
               "on a phone): each one's error on the whole curve after each step (log scale). The "
               "averages below choose each run's step size on validation tasks instead.")
    return Chart(fig, caption, notes, None, steps)


@_compare_task.register
def _(family: ClassificationFamily, runs, sup, steps, active, labels, colors, dashes, seed):
    first, n_grid = next(iter(runs.values())), 50
    xg = grid(first, n_grid)
    xq, yq = playground_query(family, sup.task, int(seed))
    maps, right, notes = {}, {}, []
    for k, run in runs.items():
        tr = trajectory(run, sup.xs, sup.ys, steps, x_grid=torch.cat([xg, xq], 1))
        preds = tr["preds"]
        z = preds[:, :n_grid * n_grid].argmax(-1).reshape(steps + 1, n_grid, n_grid)
        z = z.astype(np.float32)
        ok = preds[:, n_grid * n_grid:].argmax(-1) == yq[0].numpy()[None]
        b = blowup_step(preds)
        if b is not None:
            z[b:] = np.nan
            ok[b:] = False
            notes.append(blowup_note(labels[k], b, run.config.inner_lr))
        maps[k], right[k] = z, ok
    g = torch.linspace(*family.x_range(), n_grid).numpy()
    fig = compare_regions_steps(g, maps, family.n_classes, sup.task_points, labels,
                                active=active, query=(xq[0].numpy(), yq[0].numpy()), right=right)
    n_q = int(yq.shape[1])
    caption = (f"Each map is one run's predicted class over the plane after the same number of "
               f"steps (the slider under the chart; ▶ plays them), adapting to the same labelled "
               f"examples (big dots). The small dots are {n_q} test points of the same task "
               f"({n_q // family.n_classes} per class, coloured by their true class): a cross marks "
               f"one the run gets wrong at that step, and each map's title counts those it gets "
               f"right. The most right wins.")
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
def stored_evaluation(run: Run, k: int, steps: int) -> pd.DataFrame | None:
    """A run's stored curve at K = k (metrics.json) when it followed the current protocol at
    this K and number of steps, else None."""
    m = run.metrics or {}
    p = m.get("protocol") or {}
    if not (isinstance(p, dict) and p.get("version", 1) >= PROTOCOL_VERSION
            and k in (p.get("k_shot") or []) and p.get("steps") == steps):
        return None
    df = from_json(m)
    out = df[df["k_shot"] == k].reset_index(drop=True)
    if out.empty:
        return None
    out.attrs = df.attrs
    return out


def evaluation_cost(run: Run, k: int, steps: int, n_tasks: int = 500, device="cpu"):
    """The estimate (runs.budget) of `evaluation(run, k, steps, n_tasks)`, or None when its
    stored evaluation is used."""
    if stored_evaluation(run, k, steps) is not None:
        return None
    return budget.eval_estimate(run.config, (k,), steps, n_tasks, device)


def evaluation(run: Run, k: int, steps: int, n_tasks: int = 500) -> pd.DataFrame:
    """A run's error-against-steps curve at K = k: its stored evaluation when that one followed
    the current protocol at this K and number of steps, else a fresh one on n_tasks held-out
    tasks, so that every curve a page shows follows the same rule (step size chosen on
    validation tasks)."""
    stored = stored_evaluation(run, k, steps)
    if stored is not None:
        return stored
    return evaluate(run, k_shots=(k,), steps=steps, n_tasks=n_tasks)


@dataclass
class Averages:
    """The averaged chart and the table under it, as data, with what the page says about them."""
    df: pd.DataFrame              # algo = run key, step, mean, ci95 (what error_vs_steps draws)
    legend: dict                  # run key -> legend label
    y_range: tuple
    caption: str
    protocol: str
    table: pd.DataFrame
    csv: pd.DataFrame
    final: bool                   # False while some curve is a first estimate


def averages(estimates: dict, runs: dict, groups: dict | None, names: dict, family, k: int,
             steps: int) -> Averages:
    """estimates: {run key: services.evals.Estimate-like (frame, tasks, final)} for the runs (and,
    with groups, every seed of each: {run key: [configs]}). The curves, the legend, the caption
    computed from the curves, the protocol in words and the table."""
    metric, hib = family.metric, family.higher_is_better
    y_range = metric_range(family, averaged=True)
    frames = {key: e.frame for key, e in estimates.items()}
    proto = next(iter(frames.values())).attrs.get("protocol", {})
    first = min((e.tasks for e in estimates.values() if not e.final), default=None)
    protocol = compare_notes.protocol_text(frames, k, steps, proto, first)
    if groups:
        per = {key: {c.seed: frames[c.key()] for c in cs if c.key() in frames}
               for key, cs in groups.items()}
        df, legend, table, csv = seed_curves(per, names, metric)
        band = "Curves: the mean over training seeds (how many: in the legend); shaded: its " \
               "95% t-interval over seeds, each seed counting with its mean over the tasks."
    else:
        df = pd.concat([d.assign(algo=key, run=key) for key, d in frames.items() if key in runs],
                       ignore_index=True)
        legend, table = names, summary_table(df, runs, names, metric)
        csv = table
        band = "Shaded: the 95% confidence interval of each average over the tasks."
    caption = compare_notes.averages_caption(df, legend, y_range, hib, band)
    return Averages(df, legend, y_range, caption + " " + protocol, protocol, table, csv,
                    all(e.final for e in estimates.values()))


@dataclass
class AveragedChart:
    """The averaged chart at one K: the figure, its caption (computed from the curves drawn and
    the paper's marks on it), the data behind both and the marks."""
    figure: object
    caption: str
    averages: Averages
    marks: list


def averaged_chart(estimates: dict, runs: dict, groups: dict | None, names: dict, colors: dict,
                   dashes: dict, family, k: int, steps: int) -> AveragedChart:
    """Error against adaptation steps averaged over held-out tasks (averages() of `estimates`),
    with the MAML paper's figures at this K as reference marks."""
    av = averages(estimates, runs, groups, names, family, k, steps)
    marks = compare_stats.paper_marks(runs, k, steps, av.y_range)
    fig = add_marks(error_vs_steps(av.df, family.metric, labels=av.legend, colors=colors,
                                   dashes=dashes, y_range=av.y_range,
                                   higher_is_better=family.higher_is_better), marks)
    caption = " ".join(x for x in (av.caption, compare_stats.marks_sentence(marks)) if x)
    return AveragedChart(fig, caption, av, marks)


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

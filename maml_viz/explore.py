"""What the exploration pages show, as data: tasks and the points a network adapts to, the
whole adaptation trajectory (steps 0..S, computed once with the same inner loop as training),
fixed axis ranges per family, where a curve blows up, the step figures, run labels and the
settings a URL carries. Pure functions (torch in, numpy / figures / strings out), tested without
Streamlit; the pages only assemble widgets around them.

What differs between kinds of family (points as (x, y) or (x1, x2, label), curves or decision
regions, errors or returns) is a `functools.singledispatch` on the family's type, never a
test of a kind string.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from . import figures, rl, seeds, uploads
from .config import stream_seed
from .algorithms import get_algorithm
from .evaluate import PROTOCOL_VERSION, evaluate, from_json
from .tasks import (ClassificationFamily, RegressionFamily, RLFamily, SupervisedFamily,
                    get_family, make_family)
from .train import Run
from .validation import validation_steps  # noqa: F401  (the Compare page states it)

BLOWUP = 1e6          # |prediction| beyond this counts as blown up (the chart cannot show it)
MAX_POINTS = 1000     # a user's own points


# ----------------------------------------------------------------------------- tasks
def task_generator(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device).manual_seed(stream_seed("app", seed))


def sample_task(run: Run, seed: int, k: int):
    """A new task (held-out stream) and k support points: (task [1,P], xs [1,k,D], ys)."""
    fam = run.family
    gen = task_generator(seed)
    task = fam.sample_tasks(1, gen)
    xs, ys = fam.sample_points(task, k, gen)
    return task, xs, ys


def grid(run: Run, n: int = 200):
    lo, hi = run.family.x_range()
    if run.family.in_dim == 1:
        return torch.linspace(lo, hi, n).reshape(1, n, 1)
    g = torch.linspace(lo, hi, n)
    X, Y = torch.meshgrid(g, g, indexing="xy")
    return torch.stack([X.reshape(-1), Y.reshape(-1)], -1).reshape(1, n * n, 2)


@functools.singledispatch
def _against_truth(family, task, x_grid, preds) -> dict:
    """The true function on the grid and each step's error against it, where the family has
    one (regression); nothing otherwise."""
    return {}


@_against_truth.register
def _(family: RegressionFamily, task, x_grid, preds):
    true = family.target(task, x_grid)[0]
    return {"true": true.cpu().numpy(),
            "grid_error": np.array([((p - true) ** 2).mean().item() for p in preds])}


@torch.no_grad()
def trajectory(run: Run, xs, ys, steps: int, lr=None, x_grid=None, task=None, xq=None, yq=None):
    """Adapt to (xs, ys) for `steps` steps. Returns numpy arrays:
    preds [S+1, G, out] on x_grid; support [S+1]; grid_error [S+1] (MSE against the true
    function on the grid, if `task` is given and the family is regression); query [S+1] (metric on
    xq, yq if given)."""
    fam, model, algo, cfg = run.family, run.model, run.algorithm, run.config
    dev = next(iter(run.params.values())).device
    xs, ys = xs.to(dev), ys.to(dev)
    traj = algo.adapt(model, fam, run.params, xs, ys, steps, cfg, trajectory=True, lr=lr)
    out = {"support": np.array([fam.loss(model(p, xs), ys).item() for p in traj])}
    if x_grid is not None:
        xg = x_grid.to(dev)
        preds = [model(p, xg)[0] for p in traj]
        out["preds"] = torch.stack(preds).cpu().numpy()
        if task is not None:
            out.update(_against_truth(fam, task.to(dev), xg, preds))
    if xq is not None:
        xq, yq = xq.to(dev), yq.to(dev)
        out["query"] = np.array([fam.score(model(p, xq), yq).item() for p in traj])
    return out


# ----------------------------------------------------------------------------- fixed ranges
@functools.lru_cache(maxsize=64)
def _target_stats(family: RegressionFamily, n_tasks: int = 2000, n: int = 200):
    """(min, max) of the true functions over many tasks, and each task's mean squared target
    (what a prediction of zero would score): the family's scale, from a fixed random stream."""
    gen = torch.Generator().manual_seed(stream_seed("ranges", 0))
    tasks = family.sample_tasks(n_tasks, gen)
    lo, hi = family.x_range()
    x = torch.linspace(lo, hi, n).reshape(1, n, 1).expand(n_tasks, n, 1)
    y = family.target(tasks, x)
    return float(y.min()), float(y.max()), (y ** 2).mean(dim=(1, 2)).numpy()


def value_range(family: RegressionFamily) -> tuple:
    """The y axis of a regression family's prediction charts: the range of its true functions
    over the task distribution, with a margin. The same for every algorithm, seed and step."""
    lo, hi, _ = _target_stats(family)
    pad = 0.1 * (hi - lo)
    return (math.floor(2 * (lo - pad)) / 2, math.ceil(2 * (hi + pad)) / 2)


@functools.singledispatch
def metric_range(family, averaged: bool = False) -> tuple:
    """The fixed axis of a family's metric. averaged=True: a mean over many tasks (the Compare
    and validation charts); False: one task (the Playground's side panel)."""
    raise NotImplementedError(f"no metric range for {type(family).__name__}")


@metric_range.register
def _(family: RegressionFamily, averaged=False):
    _, _, msq = _target_stats(family)
    # a network that predicts zero scores the mean squared target: the top of a useful chart
    return (0.0, round(float(1.15 * (msq.mean() if averaged else np.quantile(msq, 0.99))), 1))


@metric_range.register
def _(family: ClassificationFamily, averaged=False):
    return (0.0, 1.0)


@metric_range.register
def _(family: RLFamily, averaged=False):
    # standing still at the start scores -horizon * distance: the worst sensible return
    goals = family.sample_tasks(2000, torch.Generator().manual_seed(stream_seed("ranges", 0)))
    far = float(goals.norm(dim=-1).max())
    return (-float(round(1.2 * getattr(family, "horizon", 100) * far, 0)), 0.0)


def loss_range(family: ClassificationFamily) -> tuple:
    """Cross-entropy axis: twice the loss of a uniform guess."""
    return (0.0, round(2 * math.log(family.n_classes), 1))


def blowup_step(*series, limit: float = BLOWUP):
    """The first step at which any of the arrays (leading axis = steps) holds a value that is not
    finite or beyond ±limit, or None."""
    first = None
    for s in series:
        a = np.asarray(s, dtype=float).reshape(len(s), -1)
        bad = ~np.isfinite(a).all(1) | (np.abs(np.nan_to_num(a)) > limit).any(1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            first = i if first is None else min(first, i)
    return first


# ----------------------------------------------------------------------------- points
@dataclass
class Support:
    """What a network adapts to: the task's own points (unless "use only my points") and the
    user's, as tensors [1, M, D] / [1, M(, 1)], plus both parts separately for drawing."""
    xs: torch.Tensor
    ys: torch.Tensor
    task: torch.Tensor | None                   # None: only the user's points (no true function)
    task_points: tuple = ((), ())
    my_points: tuple = ((), ())
    notes: list = field(default_factory=list)   # warnings to show (points out of range, ...)


def point_columns(family) -> tuple:
    """The columns of a user's point (CSV header, click)."""
    return uploads.columns_for(family)


@functools.singledispatch
def click_classes(family) -> list:
    """The classes a click can add (empty: a click adds a plain (x, y) point)."""
    return []


@click_classes.register
def _(family: ClassificationFamily):
    return list(range(family.n_classes))


def support(run: Run, seed: int, k: int, mine=(), only_mine: bool = False) -> Support:
    """The task of `seed` with k points (per class for classification), joined by the user's
    points `mine` (tuples in point_columns order); only_mine: the user's points alone."""
    fam = run.family
    task, xs, ys = sample_task(run, seed, k)
    mine = np.asarray(mine, dtype=float).reshape(-1, len(point_columns(fam)))
    notes = [n for n in [outside_note(fam, mine)] if n]
    mx, my = _as_tensors(fam, mine)
    tp = (xs[0].numpy(), _labels(ys[0].numpy()))
    mp = (mx[0].numpy(), _labels(my[0].numpy()))
    if only_mine and len(mine):
        return Support(mx, my, None, ((), ()), mp, notes)
    if only_mine:
        notes.append("“Use only my points” is on but you have no points yet: showing the task's.")
    return Support(torch.cat([xs, mx.to(xs.dtype)], 1), torch.cat([ys, my.to(ys.dtype)], 1), task,
                   tp, mp, notes)


def _labels(y):
    return y[:, 0] if y.ndim > 1 else y


@functools.singledispatch
def _as_tensors(family, pts):
    raise NotImplementedError


@_as_tensors.register
def _(family: RegressionFamily, pts):
    return (torch.tensor(pts[:, :1], dtype=torch.float32).reshape(1, -1, 1),
            torch.tensor(pts[:, 1:2], dtype=torch.float32).reshape(1, -1, 1))


@_as_tensors.register
def _(family: ClassificationFamily, pts):
    return (torch.tensor(pts[:, :2], dtype=torch.float32).reshape(1, -1, 2),
            torch.tensor(pts[:, 2], dtype=torch.long).reshape(1, -1))


def outside_note(family, pts) -> str | None:
    """A warning when user points lie outside the inputs the family was trained on."""
    pts = np.asarray(pts, dtype=float)
    if not len(pts):
        return None
    lo, hi = family.x_range()
    d = family.in_dim
    out = pts[((pts[:, :d] < lo) | (pts[:, :d] > hi)).any(1)]
    if not len(out):
        return None
    where = ", ".join("(" + ", ".join(f"{v:g}" for v in p[:d]) + ")" for p in out[:3])
    more = f" and {len(out) - 3} more" if len(out) > 3 else ""
    return (f"{len(out)} of your points lie outside the inputs this network was trained on "
            f"({lo:g} to {hi:g}): {where}{more}. Expect poor predictions there; they are "
            f"{'off the chart' if d == 1 else 'outside the map'}.")


def clicked(family, selection, click_trace: int, cls: int = 0):
    """The point a chart click adds (a tuple in point_columns order), or None. Only clicks on
    the chart's invisible click grid count (not on the side panel's markers)."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    p = next((p for p in points if p.get("curve_number") == click_trace and "x" in p and "y" in p),
             None)
    if p is None:
        return None
    x, y = round(float(p["x"]), 3), round(float(p["y"]), 3)
    return (x, y, int(cls)) if click_classes(family) else (x, y)


def points_from_upload(family, raw) -> tuple:
    """A user's CSV of points for `family` (bytes or text, any usual encoding) -> (list of tuples
    in point_columns order, warnings). uploads.UploadError says what is wrong and what to do."""
    pts = uploads.parse_upload(raw, family, MAX_POINTS)
    rows = [tuple(float(v) for v in x) + ((int(y),) if click_classes(family) else (float(y),))
            for x, y in zip(pts.x, pts.y)]
    return rows, pts.warnings


# ----------------------------------------------------------------------------- step charts
@dataclass
class Chart:
    """A step figure and what the page says about it."""
    figure: object
    caption: str
    notes: list = field(default_factory=list)      # warnings (blow-ups, points out of range)
    click_trace: int | None = None                 # the trace a click must hit to add a point
    steps: int = 0                                 # the last step the slider offers


def _blowup_note(who: str, b: int, lr) -> str:
    return (f"{who}: the predictions blew up at step {b} (numbers too large to draw) with step "
            f"size α = {lr:g}. The chart shows steps 0–{b - 1}; lower α to see more.")


def playground(run: Run, sup: Support, steps: int, lr=None, active: int = 1, label: str = "",
               seed: int = 0) -> Chart:
    """The Playground's one figure: the network adapting to `sup` step by step."""
    return _playground(run.family, run, sup, steps, lr, active, label or run.config.algo, seed)


@functools.singledispatch
def _playground(family, run, sup, steps, lr, active, label, seed):
    raise NotImplementedError(f"no Playground view for {type(family).__name__}")


@_playground.register
def _(family: RegressionFamily, run, sup, steps, lr, active, label, seed):
    algo = run.config.algo
    xg = grid(run, 200)
    tr = trajectory(run, sup.xs, sup.ys, steps, lr=lr, x_grid=xg, task=sup.task)
    b = blowup_step(tr["preds"], tr["support"])
    n = steps + 1 if b is None else b
    yr, er = value_range(family), metric_range(family)
    lo, hi = family.x_range()
    gx, gy = np.meshgrid(np.linspace(lo, hi, 41), np.linspace(*yr, 25))
    errors = [("error on the points it sees", tr["support"], "support", "dot")]
    if "grid_error" in tr:
        errors.append(("error on the whole true curve", tr["grid_error"], algo, "solid"))
    preds = tr["preds"][:n, :, 0]
    fig = figures.regression_steps(
        xg.reshape(-1).numpy(), [(f"{label} after adapting", preds, algo, "solid")],
        support=sup.task_points, mine=sup.my_points, true_y=tr.get("true"),
        fixed=[("before adapting (step 0)", preds[0], figures.BEFORE, "dot")],
        errors=errors, y_range=yr, err_range=(er[1] / 1e4, er[1]), err_log=True,
        active=active, click_grid=(gx.ravel(), gy.ravel()))
    notes = list(sup.notes) + ([_blowup_note(label, b, _lr(run, lr))] if b is not None else [])
    n_pts = len(sup.xs[0])
    parts = ([f"the task's {len(sup.task_points[0])} points"] if sup.task is not None else []) \
        + ([f"your {len(sup.my_points[0])}"] if len(sup.my_points[0]) else [])
    what = " and ".join(parts) + (" points" if parts == [parts[-1]] and len(sup.my_points[0])
                                  else "")
    caption = (f"Grey dotted: the meta-learned network before it sees anything of this task. "
               f"Coloured: after the steps chosen with the slider under the chart (▶ plays them), "
               f"each step nudging the weights to fit {what}"
               + (f" ({n_pts} points)" if len(parts) > 1 else "")
               + f" a little better (a gradient step of size α = {_lr(run, lr):g}). "
               + ("Dashed: the true function. " if sup.task is not None else "")
               + "Right: the error after each step (log scale); if the error on the points falls "
               "but the error on the curve rises, the network is over-fitting: learning the few "
               "points by heart instead of the curve. "
               "Click the chart to add a point.")
    return Chart(fig, caption, notes, 0, n - 1)


@_playground.register
def _(family: ClassificationFamily, run, sup, steps, lr, active, label, seed):
    algo, n_grid = run.config.algo, 60
    xq = yq = None
    if sup.task is not None:
        xq, yq = family.sample_points(sup.task, 15, task_generator(10_000 + seed))
    tr = trajectory(run, sup.xs, sup.ys, steps, lr=lr, x_grid=grid(run, n_grid), xq=xq, yq=yq)
    b = blowup_step(tr["preds"], tr["support"])
    n = steps + 1 if b is None else b
    classes = tr["preds"][:n].argmax(-1).reshape(n, n_grid, n_grid)
    g = torch.linspace(*family.x_range(), n_grid).numpy()
    curves = [("loss on the examples", tr["support"], "support", "dot", 1)]
    if "query" in tr:
        curves.insert(0, ("accuracy on new points", tr["query"], algo, "solid", 0))
    fig = figures.regions_steps(g, classes, family.n_classes, sup.task_points, sup.my_points,
                                (xq[0].numpy(), yq[0].numpy()) if xq is not None else None,
                                curves, {0: metric_range(family), 1: loss_range(family)},
                                active=active)
    notes = list(sup.notes) + ([_blowup_note(label, b, _lr(run, lr))] if b is not None else [])
    caption = ("Colours show which class the network predicts at each spot, before adapting "
               "(left) and after the steps chosen with the slider (middle; ▶ plays them); big "
               "dots are the labelled examples it learns from, small dots new points of the same "
               "task. Right: accuracy on the new points (before adapting it is at chance: labels "
               "are shuffled per task) and the loss on the examples after each step. Click the "
               "middle map to add an example of the chosen class.")
    return Chart(fig, caption, notes, 2, n - 1)


def _lr(run: Run, lr):
    return run.config.inner_lr if lr is None else lr


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
            notes.append(_blowup_note(labels[k], b, run.config.inner_lr))
        curves.append((labels[k], preds, colors[k], dashes.get(k, "solid")))
        errors.append((labels[k], tr.get("grid_error", tr["support"]), colors[k],
                       dashes.get(k, "solid")))
    er = metric_range(family)
    fig = figures.regression_steps(xg.reshape(-1).numpy(), curves, support=sup.task_points,
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
            notes.append(_blowup_note(labels[k], b, run.config.inner_lr))
        maps[k] = z
    g = torch.linspace(*family.x_range(), n_grid).numpy()
    fig = figures.compare_regions_steps(g, maps, family.n_classes, sup.task_points, labels,
                                        active=active)
    caption = ("Predicted class over the plane for each run after the same number of steps (the "
               "slider under the chart; ▶ plays them) on the same labelled examples (big dots).")
    return Chart(fig, caption, notes, None, steps)


def navigation(run: Run, goal, steps: int = 3, seed: int = 0, active: int = 1, label: str = "",
               n: int = 20, show: int = 5) -> Chart:
    """The Navigation page's figure: rollouts toward `goal` before and after each
    policy-gradient step, and the return after each step, one slider for both."""
    cfg, fam = run.config, run.family
    pos, ret = rl.goal_trajectories(run, goal, steps=steps, n=n, seed=seed)
    fig = figures.navigation_steps(pos, ret, goal, cfg.algo, label or cfg.algo,
                                   metric_range(fam), active=active, show=show)
    notes = [goal_note(fam, goal)] if goal_note(fam, goal) else []
    b = blowup_step(ret[:, None])
    if b is not None:
        notes.append(f"{label}: the return is not a number from step {b} on: the policy blew up.")
    caption = (f"Grey: {show} of the {n} rollouts of the policy before it adapts to this goal. "
               f"Coloured: after the policy-gradient steps chosen with the slider under the chart "
               f"(▶ plays them; α = {cfg.inner_lr:g}, then {cfg.inner_lr / 2:g}), each on its own "
               f"{n} tries. Right: the average return after each step (minus the summed distance "
               f"to the goal over the {getattr(fam, 'horizon', 100)} moves: closer to 0 is "
               f"better). Click anywhere to move the goal (the red star).")
    return Chart(fig, caption, notes, 0, steps)


def goal_note(family, goal) -> str | None:
    lo, hi = getattr(family, "goal_low", -0.5), getattr(family, "goal_high", 0.5)
    if all(lo <= v <= hi for v in goal):
        return None
    return (f"The goal ({goal[0]:.2f}, {goal[1]:.2f}) lies outside the square the policy was "
            f"trained on ({lo:g} to {hi:g} on each axis): expect it to do worse there.")


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
def evaluation(run: Run, k: int, steps: int, n_tasks: int = 500) -> pd.DataFrame:
    """A run's error-against-steps curve at K = k: its stored evaluation when that one followed
    the current protocol at this K and number of steps, else a fresh one on n_tasks held-out
    tasks, so that every curve a page shows follows the same rule (step size chosen on
    validation tasks)."""
    m = run.metrics or {}
    p = m.get("protocol") or {}
    if (p.get("version", 1) >= PROTOCOL_VERSION and k in (p.get("k_shot") or [])
            and p.get("steps") == steps):
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
    return [(f"train_live_{m['metric']}", figures.loss_histories(
                hist, title=title, labels={a: get_algorithm(a).label for a in hist},
                metric=m["metric"]), m["caption"]) for title, (m, hist) in groups.items()]


# ----------------------------------------------------------------------------- runs
def run_label(cfg, info: dict | None = None, default=None, bundled: bool = False,
              when: float | None = None, algo_label: str | None = None) -> str:
    """A plain label: algorithm, K, iterations, seed, what differs from the default settings,
    and where it came from ("bundled", or when it was trained)."""
    info = info or {}
    done = info.get("iterations_done", cfg.iterations)
    parts = [algo_label or cfg.algo, f"K={cfg.k_shot}", f"{cfg.iterations:,} it", f"seed {cfg.seed}"]
    what = get_family(cfg.family).options_label(cfg.family_options)   # a formula family's formula
    if what:
        parts.insert(1, what)
    if default is not None:
        for f, name in (("inner_lr", "α"), ("inner_steps", "steps"), ("outer_lr", "outer lr"),
                        ("meta_batch", "batch"), ("hidden", "hidden"), ("k_query", "query")):
            v = getattr(cfg, f)
            if v != getattr(default, f):
                parts.append(f"{name} {','.join(map(str, v)) if isinstance(v, tuple) else f'{v:g}'}")
    if info.get("partial"):
        parts.append(f"stopped at {done:,}")
    if bundled:
        parts.append("bundled")
    elif when:
        parts.append("trained " + time.strftime("%d %b %H:%M", time.localtime(when)))
    return " · ".join(parts)


def styles(runs: dict, algo_label=lambda a: a) -> tuple[dict, dict, dict]:
    """(labels, colours, dashes) per run key for charts that show several runs: the algorithm's
    colour; a second run of the same algorithm gets a dashed line and its seed / K / iterations
    in its label."""
    labels, colors, dashes, seen = {}, {}, {}, {}
    for k, run in runs.items():
        c = run.config
        n = seen[c.algo] = seen.get(c.algo, 0) + 1
        repeated = sum(r.config.algo == c.algo for r in runs.values()) > 1
        labels[k] = algo_label(c.algo) + (f" (K={c.k_shot}, seed {c.seed}, {c.iterations:,} it)"
                                          if repeated else "")
        colors[k] = figures.color(c.algo)
        dashes[k] = ["solid", "dash", "dot", "dashdot", "longdash"][(n - 1) % 5]
    return labels, colors, dashes


# ----------------------------------------------------------------------------- URL settings
def read_query(params: dict, casts: dict) -> tuple[dict, list]:
    """Settings from a URL's query parameters: casts maps a name to a function from the text to
    the value (raising ValueError when the text is not allowed). Returns (values, problems):
    the values that parsed, and one plain sentence per parameter that did not."""
    values, problems = {}, []
    for name, cast in casts.items():
        if name not in params:
            continue
        text = params[name]
        try:
            values[name] = cast(text)
        except (ValueError, TypeError, KeyError) as e:
            problems.append(f"The link's {name}={text!r} was ignored ({e or 'not allowed'}).")
    return values, problems


def int_in(lo: int, hi: int):
    def cast(text):
        v = int(str(text).strip())
        if not lo <= v <= hi:
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        return v
    return cast


def float_in(lo: float, hi: float):
    def cast(text):
        v = float(str(text).strip())
        if not (math.isfinite(v) and lo < v <= hi):
            raise ValueError(f"must be a number above {lo:g} and at most {hi:g}")
        return v
    return cast


def one_of(options):
    options = list(options)

    def cast(text):
        if text not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options[:8]))}")
        return text
    return cast


def key_list(text):
    keys = [k for k in str(text).split(",") if k]
    if not keys or len(keys) > 10:
        raise ValueError("must be 1 to 10 run names separated by commas")
    return keys


def goal_cast(text):
    x, y = (float(v) for v in str(text).split(","))
    if not all(math.isfinite(v) and -10 <= v <= 10 for v in (x, y)):
        raise ValueError("must be two numbers like 0.3,-0.25")
    return (x, y)

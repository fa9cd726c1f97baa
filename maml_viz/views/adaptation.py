"""One run on one task, as data: the task and its points, the whole adaptation trajectory
(steps 0..S, computed once with the same inner loop as training), the fixed axis ranges of each
family and metric, where a curve blows up, and the `Chart` every step view returns.

Pure functions (torch in, numpy out), tested without Streamlit. What differs between kinds of
family is a `functools.singledispatch` on the family's type, never a test of a kind string.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine.config import stream_seed
from ..engine.tasks import ClassificationFamily, RegressionFamily, RLFamily
from ..engine.train import Run

BLOWUP = 1e6          # |prediction| beyond this counts as blown up (the chart cannot show it)


# ----------------------------------------------------------------------------- tasks
def task_generator(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device).manual_seed(stream_seed("app", seed))


POOL_K = 50           # a task's K points are the first K of a pool this big (per class)


def sample_task(run: Run, seed: int, k: int):
    """A new task (held-out stream) and k support points: (task [1,P], xs [1,k,D], ys).
    The points are the first k (per class) of a pool of max(k, POOL_K) drawn once per seed, so a
    larger K adds points and keeps the others (and the browser engine, sent the pool, draws the
    same points for any K: views/browser.py)."""
    fam = run.family
    gen = task_generator(seed)
    task = fam.sample_tasks(1, gen)
    xs, ys = fam.sample_points(task, max(k, POOL_K), gen)
    return (task, *first_k(fam, xs, ys, k))


@functools.singledispatch
def first_k(family, xs, ys, k: int):
    """The first k points of a pool (regression: along the points)."""
    return xs[:, :k], ys[:, :k]


@first_k.register
def _(family: ClassificationFamily, xs, ys, k):
    """The first k points of each class of a class-major pool ([class 0's, class 1's, ...])."""
    t, m, c = xs.shape[0], xs.shape[1] // family.n_classes, family.n_classes
    return (xs.reshape(t, c, m, -1)[:, :, :k].reshape(t, c * k, -1),
            ys.reshape(t, c, m)[:, :, :k].reshape(t, c * k))


def playground_query(family, task, seed: int, n: int = 15):
    """The Playground's query points for a classification task (n per class): its own stream."""
    return family.sample_points(task, n, task_generator(10_000 + seed))


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


# ----------------------------------------------------------------------------- step charts
@dataclass
class Chart:
    """A step figure and what the page says about it."""
    figure: object
    caption: str
    notes: list = field(default_factory=list)      # warnings (blow-ups, points out of range)
    click_trace: int | None = None                 # the trace a click must hit to add a point
    steps: int = 0                                 # the last step the slider offers


def blowup_note(who: str, b: int, lr) -> str:
    return (f"{who}: the predictions blew up at step {b} (numbers too large to draw) with step "
            f"size α = {lr:g}. The chart shows steps 0–{b - 1}; lower α to see more.")


def inner_lr_of(run: Run, lr):
    return run.config.inner_lr if lr is None else lr

"""Inside the network: what adaptation changes, for one run, on one held-out task or averaged over
many (the ANIL paper's "rapid learning or feature reuse?" question), as data for tables and
charts. Supervised families only (RL adapts by policy gradient on its own rollouts).

The tasks are the evaluation protocol's test tasks (evaluate.py: the same random stream, K support
points, the family's query points); adaptation is the run's own inner loop at its trained step
size times `lr_scale` (the protocol's validated choice is per step; here one scale is used for
all steps so that a layer's path is one SGD run).

- `weight_change(run)`: per layer (the parameters sharing a name prefix: `l0` = l0.w and l0.b,
  `c0`, `bn0`, `head`, ...) and step s, ‖θ_s − θ_0‖ / ‖θ_0‖ over that layer's parameters (and the
  absolute ‖θ_s − θ_0‖), mean and 95% CI over tasks. A layer the algorithm does not adapt (ANIL's
  body) moves exactly 0.
- `representation_similarity(run)`: per layer and step, linear CKA (Kornblith et al. 2019)
  between the layer's representation of the query inputs before adapting (θ_0) and after s
  steps: 1 = the same features up to rotation and scale (feature reuse), lower = the features
  changed (rapid learning).
- `linear_cka(x, y)`: ‖Ycᵀ Xc‖²_F / (‖Xcᵀ Xc‖_F ‖Ycᵀ Yc‖_F) with column-centred X, Y [..., n, d];
  1 for identical representations, invariant to orthogonal transforms and isotropic scaling.
- `step_sizes(run)`: Meta-SGD's learned per-weight step sizes per layer: summary numbers and
  histogram counts on common bin edges.
- `batchnorm_accuracy(run)`: for the conv net (Omniglot), accuracy after 0..S steps with batch
  norm using each query batch's own statistics (the protocol and MAML's choice: transductive)
  against the statistics of the task's support set (each query image classified on its own).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..engine.config import stream_seed
from ..engine.nets import MLP, ConvNet
from ..engine.tasks import SupervisedFamily
from ..engine.train import Run
from ..runs.evaluate import DEFAULT_SEED

MAX_IMAGES = 2048                # conv net: query images per forward pass (memory)


# ------------------------------------------------------------------ tasks and adaptation
@functools.singledispatch
def _eval_batch(family, n_tasks, k, n_query, gen):
    raise ValueError(f"diagnostics of adaptation need a supervised task family; "
                     f"{family.name} adapts by policy gradient on its own rollouts")


@_eval_batch.register
def _(family: SupervisedFamily, n_tasks, k, n_query, gen):
    return family.eval_batch(n_tasks, k, n_query, gen)


def tasks(run: Run, n_tasks: int = 100, k: int | None = None, seed: int = DEFAULT_SEED,
          n_query: int | None = None) -> dict:
    """The first n_tasks test tasks of the evaluation protocol (xs, ys, xq, yq) at K = k."""
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
        raise ValueError(f"n_tasks must be an integer >= 1 (got {n_tasks!r})")
    fam = run.family
    device = next(iter(run.params.values())).device
    gen = torch.Generator(device).manual_seed(stream_seed("eval", seed))
    return _eval_batch(fam, n_tasks, run.config.k_shot if k is None else int(k),
                       n_query or fam.query_points, gen)


def _lr(run: Run, lr_scale: float):
    if isinstance(lr_scale, bool) or not isinstance(lr_scale, (int, float)) \
            or not math.isfinite(lr_scale) or lr_scale < 0:
        raise ValueError(f"lr_scale must be a number >= 0 (got {lr_scale!r})")
    lr = run.algorithm.adapt_spec(run.params, run.config, run.model)[1]
    return {k: v * lr_scale for k, v in lr.items()} if isinstance(lr, dict) else lr * lr_scale


@torch.no_grad()
def trajectory(run: Run, batch: dict, steps: int, lr_scale: float = 1.0) -> list:
    """θ_0 .. θ_steps of the run's inner loop on the batch's support sets (θ_0 shared; a
    parameter the algorithm does not adapt stays the shared tensor)."""
    return run.algorithm.adapt(run.model, run.family, run.params, batch["xs"], batch["ys"],
                               int(steps), run.config, trajectory=True,
                               lr=_lr(run, lr_scale))


def _steps(run, steps):
    s = run.family.eval_steps if steps is None else steps
    if isinstance(s, bool) or not isinstance(s, int) or s < 0:
        raise ValueError(f"steps must be an integer >= 0 (got {steps!r})")
    return s


def _per_task(v: torch.Tensor, shape: tuple, n: int) -> torch.Tensor:
    """A parameter as [tasks, ...]: per-task tensors as they are, a shared one repeated."""
    return v if v.dim() > len(shape) else v.unsqueeze(0).expand(n, *shape)


def layer_of(name: str) -> str:
    return name.split(".")[0]


def _summary(values: torch.Tensor, task: int | None) -> dict:
    """mean and 95% CI over tasks (or the one task's value)."""
    v = values.double()
    if task is not None:
        return {"mean": float(v[task]), "ci95": float("nan"), "tasks": 1}
    n = v.numel()
    sd = float(v.std(unbiased=True)) if n > 1 else float("nan")
    return {"mean": float(v.mean()), "ci95": 1.96 * sd / math.sqrt(n) if n > 1 else float("nan"),
            "tasks": n}


def _task_index(task, n):
    if task is None:
        return None
    if isinstance(task, bool) or not isinstance(task, int) or not 0 <= task < n:
        raise ValueError(f"task must be an index in [0, {n - 1}] (got {task!r})")
    return task


# ------------------------------------------------------------------ how far each layer moves
def weight_change(run: Run, n_tasks: int = 100, k: int | None = None, steps: int | None = None,
                  seed: int = DEFAULT_SEED, task: int | None = None,
                  lr_scale: float = 1.0) -> pd.DataFrame:
    """Rows (layer, step, relative, relative_ci95, absolute, absolute_ci95, norm0, adapted,
    tasks): how far each layer's weights move from θ_0 after s steps, averaged over n_tasks
    tasks (or for the task with index `task`)."""
    steps = _steps(run, steps)
    b = tasks(run, n_tasks if task is None else max(n_tasks, task + 1), k, seed)
    n = b["xs"].shape[0]
    task = _task_index(task, n)
    shapes = run.model.param_shapes()
    traj = trajectory(run, b, steps, lr_scale)
    theta = traj[0]
    layers: dict = {}
    for name in shapes:
        layers.setdefault(layer_of(name), []).append(name)
    rows = []
    for layer, names in layers.items():
        norm0 = math.sqrt(sum(float(theta[p].double().pow(2).sum()) for p in names))
        for s, th in enumerate(traj):
            sq = torch.zeros(n, dtype=torch.float64, device=theta[names[0]].device)
            for p in names:
                d = (_per_task(th[p], shapes[p], n) - theta[p]).double()
                sq += d.reshape(n, -1).pow(2).sum(1)
            absolute = sq.sqrt()
            rel = absolute / norm0 if norm0 > 0 else torch.full_like(absolute, float("nan"))
            a, r = _summary(absolute, task), _summary(rel, task)
            rows.append({"layer": layer, "step": s, "relative": r["mean"],
                         "relative_ci95": r["ci95"], "absolute": a["mean"],
                         "absolute_ci95": a["ci95"], "norm0": norm0,
                         "adapted": any(th[p] is not theta[p] for p in names) if s else False,
                         "tasks": a["tasks"]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ representations
def linear_cka(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Linear CKA of representations x [..., n, d1] and y [..., n, d2] of the same n inputs
    (leading dimensions batched). NaN where a representation is constant (no variance)."""
    x, y = x.double(), y.double()
    x = x - x.mean(-2, keepdim=True)
    y = y - y.mean(-2, keepdim=True)
    if x.shape[-1] * y.shape[-1] <= x.shape[-2] ** 2:       # features: d1 x d2 cross-products
        xy = (y.transpose(-1, -2) @ x).pow(2).sum((-2, -1))
        xx = (x.transpose(-1, -2) @ x).pow(2).sum((-2, -1)).sqrt()
        yy = (y.transpose(-1, -2) @ y).pow(2).sum((-2, -1)).sqrt()
    else:                                                    # inputs: n x n Gram matrices
        kx, ky = x @ x.transpose(-1, -2), y @ y.transpose(-1, -2)
        xy = (kx * ky).sum((-2, -1))
        xx, yy = kx.pow(2).sum((-2, -1)).sqrt(), ky.pow(2).sum((-2, -1)).sqrt()
    den = xx * yy
    return torch.where(den > 0, xy / den.clamp_min(1e-300), torch.full_like(den, float("nan")))


@functools.singledispatch
def representations(model, params: dict, x: torch.Tensor) -> list:
    """[(layer name, [tasks, inputs, features])] of every layer's output on x [tasks, M, ...]."""
    raise ValueError(f"no layer representations for a {type(model).__name__} (an MLP or the "
                     f"conv net has them)")


@representations.register
def _(model: MLP, params, x):
    out, acts = model.forward_cache(params, x)
    return [(f"l{i}", a) for i, a in enumerate(acts[1:])] + [(f"l{model.n_layers - 1}", out)]


@representations.register
def _(model: ConvNet, params, x):
    t, m, _ = x.shape
    out, (cache, feat) = model.forward_cache(params, x)
    reps = []
    for i in range(1, len(model.hidden)):                  # block i-1's pooled output
        h = cache[i][0]                                    # [M, T*C, H, W]
        reps.append((f"block{i - 1}", h.reshape(m, t, -1).transpose(0, 1)))
    reps.append((f"block{len(model.hidden) - 1}", feat))
    return reps + [("head", out)]


@torch.no_grad()
def representation_similarity(run: Run, n_tasks: int = 100, k: int | None = None,
                              steps: int | None = None, seed: int = DEFAULT_SEED,
                              task: int | None = None, lr_scale: float = 1.0,
                              max_tasks_at_once: int = 50) -> pd.DataFrame:
    """Rows (layer, step, cka, cka_ci95, tasks): linear CKA between each layer's representation
    of a task's query inputs at θ_0 and at θ_s, averaged over tasks (or for one task)."""
    steps = _steps(run, steps)
    b = tasks(run, n_tasks if task is None else max(n_tasks, task + 1), k, seed)
    n = b["xs"].shape[0]
    task = _task_index(task, n)
    traj = trajectory(run, b, steps, lr_scale)
    shapes = run.model.param_shapes()
    values: dict = {}
    for lo in range(0, n, max_tasks_at_once):
        hi = min(n, lo + max_tasks_at_once)
        xq = b["xq"][lo:hi]

        def part(th):
            return {p: (v[lo:hi] if v.dim() > len(shapes[p]) else v) for p, v in th.items()}

        before = representations(run.model, part(traj[0]), xq)
        for s, th in enumerate(traj):
            after = before if s == 0 else representations(run.model, part(th), xq)
            for (name, x), (_, y) in zip(before, after):
                values.setdefault((name, s), []).append(linear_cka(x, y))
    rows = []
    for (name, s), parts in values.items():
        r = _summary(torch.cat(parts), task)
        rows.append({"layer": name, "step": s, "cka": r["mean"], "cka_ci95": r["ci95"],
                     "tasks": r["tasks"]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Meta-SGD's step sizes
def step_sizes(run: Run, bins: int = 30) -> dict:
    """Meta-SGD's learned step sizes: {'initial': the α they started from, 'edges': common bin
    edges, 'layers': [{'layer', 'count', 'mean', 'median', 'min', 'max', 'negative' (share),
    'counts' (histogram)}]}. ValueError for an algorithm without learned step sizes."""
    lrs = {k[3:]: v for k, v in run.params.items() if k.startswith("lr.")}
    if not lrs:
        raise ValueError(f"only Meta-SGD learns its step sizes; {run.config.algo} adapts with one "
                         f"step size α = {run.config.inner_lr:g}")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise ValueError(f"bins must be an integer in [1, 1000] (got {bins!r})")
    by_layer: dict = {}
    for name, v in lrs.items():
        by_layer.setdefault(layer_of(name), []).append(v.detach().double().cpu().numpy().ravel())
    every = np.concatenate([np.concatenate(v) for v in by_layer.values()])
    edges = np.histogram_bin_edges(every, bins=bins)
    layers = []
    for layer, parts in by_layer.items():
        v = np.concatenate(parts)
        layers.append({"layer": layer, "count": int(v.size), "mean": float(v.mean()),
                       "median": float(np.median(v)), "min": float(v.min()),
                       "max": float(v.max()), "negative": float((v < 0).mean()),
                       "counts": np.histogram(v, bins=edges)[0].tolist()})
    return {"initial": float(run.config.inner_lr), "edges": edges.tolist(), "layers": layers}


# ------------------------------------------------------------------ batch norm statistics
def convnet_forward(model: ConvNet, params: dict, x: torch.Tensor, stats=None) -> tuple:
    """(logits [T, M, out], per-block (mean, var) [T*C] of each task's batch) of the conv net on
    x [T, M, side*side], batch norm normalising with `stats` (the output of another call: e.g.
    the support set's) instead of this batch's own statistics. With stats=None it is
    ConvNet.forward."""
    t, m, _ = x.shape
    h = x.reshape(t, m, model.side, model.side).transpose(0, 1)
    used = []
    for i in range(len(model.hidden)):
        z = F.conv2d(h, model._grouped(params[f"c{i}.w"], t), padding=1, groups=t)
        if stats is None:
            mean, var = z.mean((0, 2, 3)), z.var((0, 2, 3), unbiased=False)
        else:
            mean, var = stats[i]
        used.append((mean, var))
        z = F.batch_norm(z, mean, var, model._grouped(params[f"bn{i}.g"], t),
                         model._grouped(params[f"bn{i}.b"], t), training=False, eps=model.EPS)
        h = F.max_pool2d(torch.relu(z), 2)
    feat = h.reshape(m, t, model.feat_dim).transpose(0, 1)
    return MLP.affine(feat, params["head.w"], params["head.b"]), used


@torch.no_grad()
def batchnorm_accuracy(run: Run, n_tasks: int = 100, k: int | None = None,
                       steps: int | None = None, seed: int = DEFAULT_SEED,
                       lr_scale: float = 1.0) -> pd.DataFrame:
    """Rows (step, batch, batch_ci95, support, support_ci95, tasks): accuracy on the query
    images after s steps with batch norm on each query batch's own statistics vs on the support
    set's statistics (at the same adapted parameters). Conv-net runs only."""
    model = run.model
    if not isinstance(model, ConvNet):
        raise ValueError(f"batch-norm statistics apply to the conv net (Omniglot); the "
                         f"{run.config.family} family's network has no batch norm")
    steps = _steps(run, steps)
    b = tasks(run, n_tasks, k, seed)
    n, per_task = b["xs"].shape[0], b["xq"].shape[1] + b["xs"].shape[1]
    chunk = max(1, MAX_IMAGES // per_task)
    acc_b, acc_s = [], []
    for lo in range(0, n, chunk):
        part = {key: v[lo:lo + chunk] for key, v in b.items() if torch.is_tensor(v)}
        traj = trajectory(run, part, steps, lr_scale)
        rb, rs = [], []
        for th in traj:
            _, sup = convnet_forward(model, th, part["xs"])
            # each query batch's own statistics, batched as the protocol scores (Omniglot.predict)
            own = run.family.predict(model, th, part["xq"], run.config.k_query)
            other, _ = convnet_forward(model, th, part["xq"], sup)
            rb.append((own.argmax(-1) == part["yq"]).double().mean(-1))
            rs.append((other.argmax(-1) == part["yq"]).double().mean(-1))
        acc_b.append(torch.stack(rb, 1))
        acc_s.append(torch.stack(rs, 1))
    acc_b, acc_s = torch.cat(acc_b), torch.cat(acc_s)               # [tasks, steps+1]
    rows = []
    for s in range(steps + 1):
        x, y = _summary(acc_b[:, s], None), _summary(acc_s[:, s], None)
        rows.append({"step": s, "batch": x["mean"], "batch_ci95": x["ci95"],
                     "support": y["mean"], "support_ci95": y["ci95"], "tasks": x["tasks"]})
    return pd.DataFrame(rows)

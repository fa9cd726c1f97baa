"""What the app shows for one task, computed with the same inner loop as training.

`trajectory` adapts a run's θ to one task's support points for 0..S steps and returns the
predictions on a plotting grid, the support loss and (when the true function is known) the
error on the grid after every step: the step slider just indexes these arrays.
"""
from __future__ import annotations

import numpy as np
import torch

from .config import stream_seed
from .tasks import RegressionFamily
from .train import Run
from .uploads import parse_points  # noqa: F401  (moved to uploads.py; kept for the pages)


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
        if task is not None and isinstance(fam, RegressionFamily):
            true = fam.target(task.to(dev), xg)[0]
            out["true"] = true.cpu().numpy()
            out["grid_error"] = np.array([((p - true) ** 2).mean().item() for p in preds])
    if xq is not None:
        xq, yq = xq.to(dev), yq.to(dev)
        out["query"] = np.array([fam.score(model(p, xq), yq).item() for p in traj])
    return out


@torch.no_grad()
def linear_one_step(run: Run, n_tasks: int = 30, k: int = 10, seed: int = 0):
    """For the 2-parameter linear model: each task's optimum (slope, intercept), the meta-learned
    θ, and θ' after one inner step on k points. Arrays [N, 2], [2], [N, 2]."""
    fam, model, algo, cfg = run.family, run.model, run.algorithm, run.config
    if run.config.hidden != ():
        raise ValueError("the parameter-space picture needs the 2-parameter linear model (hidden=())")
    gen = task_generator(seed)
    tasks = fam.sample_tasks(n_tasks, gen)
    xs, ys = fam.sample_points(tasks, k, gen)
    p = run.params
    theta = np.array([p["l0.w"].reshape(-1)[0].item(), p["l0.b"].reshape(-1)[0].item()])
    ad = algo.adapt(model, fam, p, xs.to(p["l0.w"].device), ys.to(p["l0.w"].device), 1, cfg)
    adapted = np.stack([ad["l0.w"].reshape(n_tasks, -1)[:, 0].cpu().numpy(),
                        ad["l0.b"].reshape(n_tasks, -1)[:, 0].cpu().numpy()], 1)
    return tasks.numpy(), theta, adapted

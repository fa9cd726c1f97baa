"""What the browser needs to adapt a run itself (assets/js/adapt.js): one JSON-ready dict per run
with the meta-parameters, the architecture, which parameters adapt and with which step sizes,
the family's loss and fixed axis ranges, the Playground's grid, and a batch of pre-sampled tasks
(seeds first_seed..first_seed+n-1) bit-identical to what explore.support draws for those seeds.

Arrays travel as base64 of little-endian float32 (exact, and ~5.3 characters a number against
~10 for decimal text). The layout, per task i of the batch (D = input size, C = classes):
  regression      xs [n, pool_k, D], ys [n, pool_k]: the support pool (K points = the first K);
                  true [n, G]: the true function on the grid (the error on the whole curve)
  classification  xs [n, C·pool_k, 2], class-major (class c's pool = rows c·pool_k..), labels
                  implied; xq [n, C·q, 2]: the query points (q per class, class-major)
Only runs of families whose points lie on a line or in the plane with an MLP or the 2-weight sine
model go to the browser; anything else raises BrowserUnsupported (keep it server-side).
"""
from __future__ import annotations

import base64
import functools
import json

import numpy as np
import torch

from ..engine.nets import MLP, GaussianPolicy, SineModel
from ..engine.rl import REG
from ..engine.tasks import ClassificationFamily, RegressionFamily
from ..engine.tasks.navigation import Navigation
from .adaptation import (BLOWUP, POOL_K, grid, loss_range, metric_range, playground_query,
                         sample_task, value_range)

FORMAT = "maml-viz/adapt-1"
N_TASKS = 64                   # tasks per batch ("New task" cycles through them)


class BrowserUnsupported(ValueError):
    """This run cannot be adapted in the browser (its model or family is not supported there)."""


def f32(t) -> str:
    """A tensor or array as base64 of little-endian float32."""
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


@functools.singledispatch
def _model(model) -> dict:
    raise BrowserUnsupported(f"the browser engine has no {type(model).__name__}: adapt this run "
                             f"on the server")


@_model.register
def _(model: MLP):
    return {"type": "mlp", "sizes": list(model.sizes)}


@_model.register
def _(model: SineModel):
    return {"type": "sine"}


@functools.singledispatch
def _family(family, run, seeds, pool_k) -> tuple:
    """(family metadata, grid axis, task parameters [n, P], tasks dict) for the payload."""
    raise BrowserUnsupported(f"the browser engine has no {type(family).__name__} family: adapt "
                             f"this run on the server")


@_family.register
def _(family: RegressionFamily, run, seeds, pool_k):
    xg = grid(run, 200)                                   # as explore.playground
    drawn = [sample_task(run, s, pool_k) for s in seeds]
    tasks = torch.cat([t for t, _, _ in drawn])
    meta = {"loss": "mse", "value_range": list(value_range(family))}
    return meta, xg.reshape(-1), tasks, {
        "params": f32(tasks), "xs": f32(torch.cat([x for _, x, _ in drawn])),
        "ys": f32(torch.cat([y for _, _, y in drawn])),
        "true": f32(torch.cat([family.target(t, xg) for t, _, _ in drawn]))}


@_family.register
def _(family: ClassificationFamily, run, seeds, pool_k):
    axis = torch.linspace(*family.x_range(), 60)          # grid(run, 60), as explore.playground
    drawn = [sample_task(run, s, pool_k) for s in seeds]
    labels = torch.arange(family.n_classes).repeat_interleave(pool_k)
    queries = [playground_query(family, t, s) for (t, _, _), s in zip(drawn, seeds)]
    q = queries[0][0].shape[1]
    for (_, _, y), (_, yq) in zip(drawn, queries):       # the layout adapt.js assumes
        if not (torch.equal(y[0], labels) and torch.equal(
                yq[0], torch.arange(family.n_classes).repeat_interleave(q // family.n_classes))):
            raise BrowserUnsupported("the family's points are not class-major: adapt on the server")
    meta = {"loss": "cross_entropy", "n_classes": family.n_classes,
            "loss_range": list(loss_range(family))}
    tasks = torch.cat([t for t, _, _ in drawn])
    return meta, axis, tasks, {
        "params": f32(tasks),
        "xs": f32(torch.cat([x for _, x, _ in drawn])),
        "xq": f32(torch.cat([x for x, _ in queries])), "query_n": q}


def _inner_loop_spec(run, model) -> dict:
    """What the browser needs of a run's inner loop: θ (float32, base64, in the model's order),
    the adapted keys, the step size, and the per-weight step sizes (Meta-SGD) or None."""
    theta, lr, keys = run.algorithm.adapt_spec(run.params, run.config, model)
    order = list(model.param_shapes())
    return {"params": {k: f32(theta[k]) for k in order},
            "adapt_keys": order if keys is None else [k for k in order if k in set(keys)],
            "inner_lr": float(run.config.inner_lr),
            "lrs": {k: f32(lr[k]) for k in order} if isinstance(lr, dict) else None}


def payload(run, first_seed: int = 0, n_tasks: int = N_TASKS, pool_k: int = POOL_K,
            algo_label: str | None = None) -> dict:
    """The run as adapt.js reads it (see the module docstring). Raises BrowserUnsupported for a
    run the browser cannot adapt."""
    fam, model, cfg = run.family, run.model, run.config
    arch = _model(model)
    seeds = list(range(first_seed, first_seed + n_tasks))
    meta, axis, task_params, tasks = _family(fam, run, seeds, pool_k)
    return {
        "format": FORMAT,
        "run": {"key": run.key, "algo": cfg.algo, "label": algo_label or cfg.algo,
                "family": cfg.family, "k_shot": cfg.k_shot, "inner_steps": cfg.inner_steps,
                # what the start is, for the page's words: meta-learned, or a baseline that was
                # trained on pooled tasks (pretrained) or never trained (random init)
                "baseline": bool(run.algorithm.is_baseline), "trained": bool(run.algorithm.trains)},
        "model": arch,
        **_inner_loop_spec(run, model),
        "family": {"name": fam.name, "label": fam.label, "in_dim": fam.in_dim,
                   "out_dim": fam.out_dim, "x_range": list(fam.x_range()),
                   "metric_range": list(metric_range(fam)), "eval_steps": fam.eval_steps,
                   **meta},
        "grid": {"axis": f32(axis), "n": int(axis.numel())},
        "blowup": BLOWUP,
        "tasks": {"first_seed": first_seed, "n": n_tasks, "pool_k": pool_k,
                  "describe": [fam.describe_task(t) for t in task_params],
                  **tasks},
    }


def batch_start(task: int, n_tasks: int = N_TASKS) -> int:
    """The first seed of the batch of pre-sampled tasks that holds task number `task`."""
    return int(task) - int(task) % n_tasks


def _inner_loop(run) -> None:
    """The browser runs the engine's own inner loop (engine.adapt, one step size per tensor or
    one for all): an algorithm with its own `adapt` (a plugin's, e.g. one step size per step)
    or step sizes not keyed by the model's tensors is adapted on the server."""
    from ..engine.algorithms.base import Algorithm
    alg = run.algorithm
    if type(alg).adapt is not Algorithm.adapt:
        raise BrowserUnsupported(f"{alg.label} adapts with its own inner loop: adapt this run "
                                 f"on the server")
    _, lr, _ = alg.adapt_spec(run.params, run.config, run.model)
    if isinstance(lr, dict) and set(lr) != set(run.model.param_shapes()):
        raise BrowserUnsupported(f"{alg.label}'s step sizes are not one per weight tensor: adapt "
                                 f"this run on the server")


def check(run) -> None:
    """Raises BrowserUnsupported when the browser cannot adapt this run (cheap: no payload)."""
    _model(run.model)
    _inner_loop(run)
    fam = run.family
    if _family.dispatch(type(fam)) is _family.registry[object] or fam.in_dim > 2:
        raise BrowserUnsupported(f"the browser engine has no {type(fam).__name__} family: "
                                 f"adapt this run on the server")


def to_json(p: dict) -> str:
    """The payload as compact JSON text (what goes to the page)."""
    return json.dumps(p, separators=(",", ":"), allow_nan=False)


def compare_payloads(runs: list, first_seed: int = 0, n_tasks: int = N_TASKS,
                     labels: list | None = None) -> list[dict]:
    """Compare's runs as adapt.js reads them: the first run's payload with its batch of tasks,
    each other run's without tasks (it adapts to the first's: the page compares them on the same
    task, as compare.compare_task does). Raises BrowserUnsupported when a run cannot be adapted in
    the browser, or the runs' families differ (their tasks would not be the same)."""
    if not runs:
        raise BrowserUnsupported("no runs to compare")
    fam = runs[0].family
    out = []
    for i, run in enumerate(runs):
        check(run)
        if run.family != fam:
            raise BrowserUnsupported("the runs' families differ: compare them on the server")
        p = payload(run, first_seed, n_tasks if i == 0 else 1,
                    algo_label=labels[i] if labels else None)
        if i:
            p["tasks"] = None
        out.append(p)
    return out


# ----------------------------------------------------------------------------- navigation
NAV_FORMAT = "maml-viz/nav-1"


def check_navigation(run) -> None:
    """Raises BrowserUnsupported unless assets/js/navroll.js can roll this run out: the
    navigation family's point robot, rl.GaussianPolicy's MLP, and the engine's policy-gradient
    inner loop (one step size, or one per weight tensor)."""
    alg, model = run.algorithm, run.model
    if type(run.family) is not Navigation or not isinstance(model, GaussianPolicy):
        raise BrowserUnsupported("the browser rolls out only the bundled navigation family's "
                                 "policy: roll this run out on the server")
    if model.in_dim != (4 if getattr(alg, "goal_conditioned", False) else 2) or REG != 1e-5:
        raise BrowserUnsupported("this policy observes something the browser does not model")
    _, lr, keys = alg.adapt_spec(run.params, run.config, model)
    shapes = model.param_shapes()
    if isinstance(lr, dict) and set(lr) != set(shapes) or keys is not None and \
            not set(keys) <= set(shapes):
        raise BrowserUnsupported(f"{alg.label}'s inner loop is not the engine's: roll this run "
                                 f"out on the server")


def weights_id(run) -> str:
    """Which weights a run has now: a run trained on (more iterations, or a partial run) is
    another policy to the page's caches."""
    return (f"{run.key}@{run.info.get('iterations_done')}"
            f"{'-partial' if run.info.get('partial') else ''}")


def navigation_payload(run, label: str | None = None) -> dict:
    """A navigation run as navroll.js reads it: the policy's weights (float32, base64), which
    ones adapt and with which step sizes, and the environment's constants. Raises
    BrowserUnsupported for a run the browser cannot roll out."""
    check_navigation(run)
    fam, model, cfg = run.family, run.model, run.config
    return {
        "format": NAV_FORMAT,
        "run": {"key": run.key, "algo": cfg.algo, "label": label or cfg.algo,
                "goal_input": bool(getattr(run.algorithm, "goal_conditioned", False)),
                "weights": weights_id(run)},
        "model": {"sizes": list(model.mlp.sizes), "keys": list(model.param_shapes())},
        **_inner_loop_spec(run, model),
        "reg": REG,
        "family": {"name": fam.name, "horizon": fam.horizon, "action_scale": fam.action_scale,
                   "max_speed": fam.max_speed, "goal_radius": fam.goal_radius,
                   "discount": fam.discount, "goal_low": fam.goal_low, "goal_high": fam.goal_high,
                   "min_std": GaussianPolicy.MIN_STD, "metric_range": list(metric_range(fam)),
                   "eval_steps": fam.eval_steps},
    }

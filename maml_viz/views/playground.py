"""The Playground's step figure as data: one network adapting to a task step by step, with
its caption and warnings (regression curves or decision regions, by the family's type).
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from ..engine.tasks import ClassificationFamily, RegressionFamily
from ..engine.train import Run
from .adaptation import (Chart, blowup_note, blowup_step, grid, inner_lr_of, loss_range,
                         metric_range, playground_query, trajectory, value_range)
from .figures.classes import regions_steps
from .figures.regression import regression_steps
from .figures.style import BEFORE
from .points import Support


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
    fig = regression_steps(
        xg.reshape(-1).numpy(), [(f"{label} after adapting", preds, algo, "solid")],
        support=sup.task_points, mine=sup.my_points, true_y=tr.get("true"),
        fixed=[("before adapting (step 0)", preds[0], BEFORE, "dot")],
        errors=errors, y_range=yr, err_range=(er[1] / 1e4, er[1]), err_log=True,
        active=active, click_grid=(gx.ravel(), gy.ravel()))
    notes = list(sup.notes) + ([blowup_note(label, b, inner_lr_of(run, lr))] if b is not None else [])
    n_pts = len(sup.xs[0])
    parts = ([f"the task's {len(sup.task_points[0])} points"] if sup.task is not None else []) \
        + ([f"your {len(sup.my_points[0])}"] if len(sup.my_points[0]) else [])
    what = " and ".join(parts) + (" points" if parts == [parts[-1]] and len(sup.my_points[0])
                                  else "")
    caption = (f"Grey dotted: the meta-learned network before it sees anything of this task. "
               f"Coloured: after the steps chosen with the slider under the chart (▶ plays them), "
               f"each step nudging the weights to fit {what}"
               + (f" ({n_pts} points)" if len(parts) > 1 else "")
               + f" a little better (a gradient step of size α = {inner_lr_of(run, lr):g}). "
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
        xq, yq = playground_query(family, sup.task, seed)
    tr = trajectory(run, sup.xs, sup.ys, steps, lr=lr, x_grid=grid(run, n_grid), xq=xq, yq=yq)
    b = blowup_step(tr["preds"], tr["support"])
    n = steps + 1 if b is None else b
    classes = tr["preds"][:n].argmax(-1).reshape(n, n_grid, n_grid)
    g = torch.linspace(*family.x_range(), n_grid).numpy()
    curves = [("loss on the examples", tr["support"], "support", "dot", 1)]
    if "query" in tr:
        curves.insert(0, ("accuracy on new points", tr["query"], algo, "solid", 0))
    fig = regions_steps(g, classes, family.n_classes, sup.task_points, sup.my_points,
                        (xq[0].numpy(), yq[0].numpy()) if xq is not None else None,
                        curves, {0: metric_range(family), 1: loss_range(family)},
                        active=active)
    notes = list(sup.notes) + ([blowup_note(label, b, inner_lr_of(run, lr))] if b is not None else [])
    caption = ("Colours show which class the network predicts at each spot, before adapting "
               "(left) and after the steps chosen with the slider (middle; ▶ plays them); big "
               "dots are the labelled examples it learns from, small dots new points of the same "
               "task. Right: accuracy on the new points (before adapting it is at chance: labels "
               "are shuffled per task) and the loss on the examples after each step. Click the "
               "middle map to add an example of the chosen class.")
    return Chart(fig, caption, notes, 2, n - 1)

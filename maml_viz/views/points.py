"""The points a network adapts to on the Playground: the task's own, a user's clicks and uploads,
checked against the inputs the family was trained on.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import torch

from ..engine.tasks import ClassificationFamily, RegressionFamily
from ..engine.train import Run
from . import uploads
from .adaptation import sample_task

MAX_POINTS = 1000     # a user's own points


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


def link_points(family, pts) -> tuple:
    """A link's points (links.point_list) checked against the family: (list of tuples in
    point_columns order, None) or ([], a sentence saying what was wrong)."""
    n = len(point_columns(family))
    if any(len(p) != n for p in pts):
        return [], (f"The link's points were ignored: each needs {n} numbers "
                    f"({', '.join(point_columns(family))}).")
    classes = click_classes(family)
    if classes and any(p[-1] not in classes for p in pts):
        return [], (f"The link's points were ignored: classes are whole numbers from 0 to "
                    f"{classes[-1]}.")
    return [tuple(p[:-1]) + (int(p[-1]),) if classes else tuple(p) for p in pts], None


def points_from_upload(family, raw) -> tuple:
    """A user's CSV of points for `family` (bytes or text, any usual encoding) -> (list of tuples
    in point_columns order, warnings). uploads.UploadError says what is wrong and what to do."""
    pts = uploads.parse_upload(raw, family, MAX_POINTS)
    rows = [tuple(float(v) for v in x) + ((int(y),) if click_classes(family) else (float(y),))
            for x, y in zip(pts.x, pts.y)]
    return rows, pts.warnings

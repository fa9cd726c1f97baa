"""The task-family interface: every family samples task parameters and points from a
`torch.Generator`, knows its loss and metric, and (for regression) its true function.

All tensors carry the task batch as their leading dimension:
  tasks   [T, P]       one row of parameters per task
  x       [T, M, D_in] inputs
  y       [T, M, D_out] targets (regression) or [T, M] int64 labels (classification)
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..config import ConfigError


def uniform(shape, lo, hi, gen) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=gen, device=gen.device)


@dataclass(frozen=True)
class TaskFamily:
    """Base class. Subclasses are frozen dataclasses whose fields are the family's options."""

    # class-level metadata (overridden by subclasses)
    name = "base"
    label = "base"
    kind = "regression"            # or "classification"
    metric = "mse"                 # or "accuracy"
    higher_is_better = False
    in_dim = 1
    config_defaults = {}           # TrainConfig defaults for this family
    description = ""

    # ------------------------------------------------------------------ options
    @classmethod
    def make(cls, options: dict | None = None) -> "TaskFamily":
        options = dict(options or {})
        names = {f.name for f in dataclasses.fields(cls)}
        for k in options:
            if k not in names:
                raise ConfigError(f"family_options.{k}",
                                  f"unknown option for {cls.name}; allowed: {sorted(names)}")
        try:
            fam = cls(**options)
        except TypeError as e:  # pragma: no cover - defensive
            raise ConfigError("family_options", str(e))
        fam.check()
        return fam

    def check(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"family_options.{f.name}", f"must be a finite number (got {v!r})")

    @property
    def out_dim(self) -> int:
        return 1

    # ------------------------------------------------------------------ sampling
    def sample_tasks(self, n: int, gen: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def sample_points(self, tasks: torch.Tensor, n: int, gen: torch.Generator):
        """n points per task (per class for classification) -> (x, y)."""
        raise NotImplementedError

    def sample_batch(self, n_tasks: int, k_support: int, k_query: int, gen: torch.Generator):
        tasks = self.sample_tasks(n_tasks, gen)
        xs, ys = self.sample_points(tasks, k_support, gen)
        xq, yq = self.sample_points(tasks, k_query, gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def eval_points(self, tasks: torch.Tensor, n: int, gen: torch.Generator):
        """Query points of the evaluation protocol (default: like sample_points)."""
        return self.sample_points(tasks, n, gen)

    # ------------------------------------------------------------------ losses
    def loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-task loss, shape [T]."""
        if self.kind == "classification":
            t, m, c = pred.shape
            return F.cross_entropy(pred.reshape(t * m, c), y.reshape(t * m),
                                   reduction="none").reshape(t, m).mean(1)
        return ((pred - y) ** 2).mean(dim=(-2, -1))

    def loss_grad(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """d(loss_i)/d(pred_i) for every task i, in differentiable closed form (for nets.backward)."""
        if self.kind == "classification":
            onehot = torch.nn.functional.one_hot(y, pred.shape[-1]).to(pred.dtype)
            return (torch.softmax(pred, -1) - onehot) / pred.shape[1]
        return (pred - y) * (2.0 / (pred.shape[1] * pred.shape[2]))

    def loss_hvp(self, pred: torch.Tensor, y: torch.Tensor, r_pred: torch.Tensor) -> torch.Tensor:
        """Directional derivative of loss_grad along r_pred = R{pred} (for nets.MLP.hvp)."""
        if self.kind == "classification":
            p = torch.softmax(pred, -1)
            pr = p * r_pred
            return (pr - p * pr.sum(-1, keepdim=True)) / pred.shape[1]
        return r_pred * (2.0 / (pred.shape[1] * pred.shape[2]))

    def score(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-task evaluation metric, shape [T] (MSE or accuracy)."""
        if self.kind == "classification":
            return (pred.argmax(-1) == y).float().mean(-1)
        return ((pred - y) ** 2).mean(dim=(-2, -1))

    # ------------------------------------------------------------------ plotting
    def target(self, tasks: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def outer_lr_factor(self, progress: float) -> float:
        """Multiplier of the outer learning rate at `progress` (0 at the start of training, 1 at
        the end). Constant by default; a family may anneal it."""
        return 1.0

    def x_range(self) -> tuple:
        raise NotImplementedError

    def describe_task(self, task: torch.Tensor) -> str:
        return ", ".join(f"{v:.2f}" for v in task.tolist())

"""The task-family types. Every family samples task parameters from a `torch.Generator`, builds
the model it is learned with, and carries what makes it its kind: its loss and metric, its query
size and evaluation defaults. Code elsewhere never asks "which kind is this?": it calls these
methods, or dispatches on the class (`functools.singledispatch`) where the behaviour lives in a
higher layer (the RL trainer, a figure).

    TaskFamily                     options, sampling of tasks, the model, the protocol defaults
    ├── SupervisedFamily           support/query points (x, y); a differentiable loss
    │   ├── RegressionFamily       MSE; a known true function y = f_task(x)
    │   └── ClassificationFamily   cross-entropy; accuracy; N classes, labels shuffled per task
    └── RLFamily                   tasks are environments; the metric is the return

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
from ..nets import MLP, GaussianPolicy


def uniform(shape, lo, hi, gen) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=gen, device=gen.device)


@dataclass(frozen=True)
class TaskFamily:
    """Base class. Subclasses are frozen dataclasses whose fields are the family's options."""

    # class-level metadata (overridden by subclasses)
    name = "base"
    label = "base"
    kind = "base"                  # a display word only ("regression", ...): never branch on it
    metric = "loss"
    higher_is_better = False
    in_dim = 1
    config_defaults = {}           # TrainConfig defaults for this family
    description = ""
    # options added after runs were stored: a config leaves them out while they are at their
    # default, so that the stored runs' keys (content hashes) stay valid
    unkeyed_defaults = ()
    # the evaluation protocol's defaults (evaluate.py)
    eval_steps = 10                # adaptation steps 0..S
    eval_tasks = 1000              # held-out tasks
    query_points = 100             # query points per task

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

    def resolved_options(self) -> dict:
        """Every option with its value, as a config stores them (see unkeyed_defaults)."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return {k: v for k, v in dataclasses.asdict(self).items()
                if not (k in self.unkeyed_defaults and v == defaults[k])}

    @classmethod
    def options_label(cls, options: dict) -> str:
        """A short text naming what a config's options make of this family, where that tells
        its runs apart (the formula family: its formula and ranges); '' when the family's label
        says it all."""
        return ""

    def check(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"family_options.{f.name}", f"must be a finite number (got {v!r})")

    @property
    def out_dim(self) -> int:
        return 1

    def make_model(self, hidden: tuple, goal_conditioned: bool = False):
        """The network this family is learned with (a functional model over a params dict)."""
        return MLP(self.in_dim, self.out_dim, hidden)

    # ------------------------------------------------------------------ sampling
    def sample_tasks(self, n: int, gen: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def sample_batch(self, n_tasks: int, k_support: int, k_query: int, gen: torch.Generator):
        """One meta-iteration's data: {"tasks": [T, P], ...what the family's step needs}."""
        raise NotImplementedError

    def sample_batches(self, n_iters: int, n_tasks: int, k_support: int, k_query: int,
                       gen: torch.Generator) -> dict:
        """n_iters meta-iterations' data at once, each tensor with a leading iteration dimension:
        the same numbers as n_iters calls of sample_batch in a row (the trainer draws a chunk of
        iterations at a time, however it is chunked). A family may override it with one draw."""
        bs = [self.sample_batch(n_tasks, k_support, k_query, gen) for _ in range(n_iters)]
        return {k: torch.stack([b[k] for b in bs]) for k in bs[0]}

    # ------------------------------------------------------------------ protocol, plotting
    def query_label(self, n: int) -> str | int:
        """How the protocol states the number of query points."""
        return n

    def outer_lr_factor(self, progress: float) -> float:
        """Multiplier of the outer learning rate at `progress` (0 at the start of training, 1 at
        the end). Constant by default; a family may anneal it."""
        return 1.0

    def x_range(self) -> tuple:
        raise NotImplementedError

    def describe_task(self, task: torch.Tensor) -> str:
        return ", ".join(f"{v:.2f}" for v in task.tolist())


@dataclass(frozen=True)
class SupervisedFamily(TaskFamily):
    """Tasks given by labelled points: a support set to adapt on, a query set to score."""

    def sample_points(self, tasks: torch.Tensor, n: int, gen: torch.Generator):
        """n points per task (per class for classification) -> (x, y)."""
        raise NotImplementedError

    def sample_batch(self, n_tasks: int, k_support: int, k_query: int, gen: torch.Generator):
        tasks = self.sample_tasks(n_tasks, gen)
        xs, ys = self.sample_points(tasks, k_support, gen)
        xq, yq = self.sample_points(tasks, k_query, gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def eval_batch(self, n_tasks: int, k_support: int, n_query: int, gen: torch.Generator,
                   split: str = "test"):
        """Tasks of the evaluation protocol with their support and query points (default: the
        training distribution, query points from eval_points, for either split: "test" and
        "validation" tasks differ by their random stream). A family with held-out data
        (Omniglot's alphabets) draws each split from its own part."""
        tasks = self.sample_tasks(n_tasks, gen)
        xs, ys = self.sample_points(tasks, k_support, gen)
        xq, yq = self.eval_points(tasks, n_query, gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def validation_batch(self, n_tasks: int, k_support: int, n_query: int,
                         gen: torch.Generator) -> tuple:
        """(xs, ys, xq, yq) of the common validation measure (validation.py): tasks of the
        training distribution, n_query query points (per class) from eval_points."""
        tasks = self.sample_tasks(n_tasks, gen)
        xs, ys = self.sample_points(tasks, k_support, gen)
        xq, yq = self.eval_points(tasks, n_query, gen)
        return xs, ys, xq, yq

    def predict(self, model, params: dict, x: torch.Tensor, k_query: int) -> torch.Tensor:
        """The model's outputs on query points x [T, M, D] (a run trained with k_query query
        points per task, or per class). The model's own forward here; a family whose network
        normalises by batch statistics says in which batches queries are scored."""
        return model(params, x)

    def eval_points(self, tasks: torch.Tensor, n: int, gen: torch.Generator):
        """Query points of the evaluation protocol (default: like sample_points)."""
        return self.sample_points(tasks, n, gen)

    # the loss and its derivatives, per task, in differentiable closed form (nets.MLP.backward
    # and .hvp use them for the hand-written meta-gradient)
    def loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-task loss, shape [T]."""
        raise NotImplementedError

    def loss_grad(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """d(loss_i)/d(pred_i) for every task i."""
        raise NotImplementedError

    def loss_hvp(self, pred: torch.Tensor, y: torch.Tensor, r_pred: torch.Tensor) -> torch.Tensor:
        """Directional derivative of loss_grad along r_pred = R{pred}."""
        raise NotImplementedError

    def score(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-task evaluation metric, shape [T]."""
        raise NotImplementedError


@dataclass(frozen=True)
class RegressionFamily(SupervisedFamily):
    """y = f_task(x) with a known true function; squared error."""
    kind = "regression"
    metric = "mse"

    def task_ranges(self) -> tuple:
        """(low, high) of each task parameter, each drawn uniformly, one after the other."""
        raise NotImplementedError

    def target(self, tasks: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The true function: tasks [..., T, P], x [..., T, M, D] -> y [..., T, M, 1]."""
        raise NotImplementedError

    def sample_tasks(self, n, gen):
        return torch.stack([uniform((n,), lo, hi, gen) for lo, hi in self.task_ranges()], dim=1)

    def sample_points(self, tasks, n, gen):
        lo, hi = self.x_range()
        x = uniform((tasks.shape[0], n, self.in_dim), lo, hi, gen).to(tasks.dtype)
        return x, self.target(tasks, x)

    def sample_batches(self, n_iters, n_tasks, k_support, k_query, gen):
        """One draw of uniform numbers for all n_iters iterations, laid out as sample_batch
        consumes them (task parameters, support x, query x, per iteration): the same batches."""
        ranges, d = self.task_ranges(), self.in_dim
        sizes = [n_tasks] * len(ranges) + [n_tasks * k_support * d, n_tasks * k_query * d]
        u = torch.split(torch.rand((n_iters, sum(sizes)), generator=gen, device=gen.device),
                        sizes, dim=1)
        tasks = torch.stack([lo + (hi - lo) * p for (lo, hi), p in zip(ranges, u)], dim=-1)
        lo, hi = self.x_range()
        xs = (lo + (hi - lo) * u[-2]).reshape(n_iters, n_tasks, k_support, d)
        xq = (lo + (hi - lo) * u[-1]).reshape(n_iters, n_tasks, k_query, d)
        return {"tasks": tasks, "xs": xs, "ys": self.target(tasks, xs),
                "xq": xq, "yq": self.target(tasks, xq)}

    def loss(self, pred, y):
        return ((pred - y) ** 2).mean(dim=(-2, -1))

    def loss_grad(self, pred, y):
        return (pred - y) * (2.0 / (pred.shape[1] * pred.shape[2]))

    def loss_hvp(self, pred, y, r_pred):
        return r_pred * (2.0 / (pred.shape[1] * pred.shape[2]))

    def score(self, pred, y):
        return ((pred - y) ** 2).mean(dim=(-2, -1))


@dataclass(frozen=True)
class ClassificationFamily(SupervisedFamily):
    """N-way classification: points per class, integer labels; cross-entropy, accuracy."""
    kind = "classification"
    metric = "accuracy"
    higher_is_better = True
    query_points = 15              # per class

    @property
    def n_classes(self) -> int:
        raise NotImplementedError

    @property
    def out_dim(self) -> int:
        return self.n_classes

    def query_label(self, n):
        return f"{n} per class"

    def loss(self, pred, y):
        t, m, c = pred.shape
        return F.cross_entropy(pred.reshape(t * m, c), y.reshape(t * m),
                               reduction="none").reshape(t, m).mean(1)

    def loss_grad(self, pred, y):
        onehot = F.one_hot(y, pred.shape[-1]).to(pred.dtype)
        return (torch.softmax(pred, -1) - onehot) / pred.shape[1]

    def loss_hvp(self, pred, y, r_pred):
        p = torch.softmax(pred, -1)
        pr = p * r_pred
        return (pr - p * pr.sum(-1, keepdim=True)) / pred.shape[1]

    def score(self, pred, y):
        return (pred.argmax(-1) == y).float().mean(-1)


@dataclass(frozen=True)
class RLFamily(TaskFamily):
    """Tasks are environments (rl.py runs them); adaptation is policy gradient on the policy's own
    trajectories and the metric is the return."""
    kind = "rl"
    metric = "return"
    higher_is_better = True
    goal_dim = 0                   # what a goal-conditioned policy (the oracle) also observes
    eval_steps = 3
    eval_tasks = 40
    query_points = 40              # trajectories per goal

    def make_model(self, hidden, goal_conditioned=False):
        extra = self.goal_dim if goal_conditioned else 0
        return GaussianPolicy(self.in_dim + extra, self.out_dim, hidden)

    def sample_batch(self, n_tasks, k_support, k_query, gen):
        return {"tasks": self.sample_tasks(n_tasks, gen)}

    def query_label(self, n):
        return f"{n} trajectories per goal"

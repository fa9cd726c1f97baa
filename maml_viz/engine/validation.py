"""The common validation measure recorded during training (history["val_metric"]).

Every algorithm's own meta-loss is measured differently (MAML's after 1 inner step, Reptile's
after 5, the pretrained baseline's after none), so training curves of meta-losses do not compare.
This measure is the same for every algorithm: the family's metric on a small fixed set of
held-out validation tasks (their own random stream, the same for every run of the family), after
`validation_steps(family)` plain adaptation steps with the run's own step size, exactly as the
evaluation protocol adapts. It reads the parameters and draws from its own generator only, so
training with or without it gives the same parameters bit for bit.
"""
from __future__ import annotations

import functools

import torch

from .config import stream_seed
from .tasks import SupervisedFamily

VAL_TASKS = 100          # validation tasks
VAL_QUERY = 50           # query points per task (per class for classification)
VAL_POINTS = 100         # validations per run by default (every iterations / 100)


def validation_steps(family) -> int:
    """Adaptation steps of the measure: the family's default inner steps (the protocol's
    headline: 1 for sine waves and lines, 5 for point classes), the same for every algorithm."""
    return int(family.config_defaults.get("inner_steps", 1))


@functools.singledispatch
def validation_batch(family, k: int, device):
    """The fixed validation tasks: (xs, ys, xq, yq), or None for families without one (RL,
    whose meta-loss is already the return after adaptation, the same for every algorithm)."""
    return None


@validation_batch.register
def _(family: SupervisedFamily, k: int, device):
    gen = torch.Generator(device).manual_seed(stream_seed("validation", 0))
    return family.validation_batch(VAL_TASKS, k, VAL_QUERY, gen)


class Validator:
    """Measures a run's parameters every `every` iterations (0: never)."""

    def __init__(self, family, algo, model, cfg, device, every: int):
        self.family, self.algo, self.model, self.cfg = family, algo, model, cfg
        self.batch = validation_batch(family, cfg.k_shot, device) if every else None
        self.every = every if self.batch is not None else 0

    @staticmethod
    def interval(total: int, log_every: int, every: int | None) -> int:
        """None: about VAL_POINTS validations per run, on logged iterations (a multiple of
        log_every)."""
        if every is None:
            every = max(1, total // VAL_POINTS)
        if every <= 0:
            return 0
        return -(-every // log_every) * log_every

    def due(self, iteration: int, total: int) -> bool:
        return bool(self.every) and (iteration % self.every == 0 or iteration == total)

    @torch.no_grad()
    def __call__(self, params: dict) -> float:
        xs, ys, xq, yq = self.batch
        theta = {k: v.detach() for k, v in params.items()}
        adapted = self.algo.adapt(self.model, self.family, theta, xs, ys,
                                  validation_steps(self.family), self.cfg)
        out = self.family.predict(self.model, adapted, xq, self.cfg.k_query)
        return float(self.family.score(out, yq).mean())

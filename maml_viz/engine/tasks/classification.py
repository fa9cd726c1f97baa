"""Few-shot classification of 2D points ("blobs"): each task draws N class centres uniformly in a
box and Gaussian points around each. Which label goes with which centre is random per task, so
nothing can be predicted without looking at the support set."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError
from .base import ClassificationFamily, uniform


@dataclass(frozen=True)
class Blobs(ClassificationFamily):
    n_way: int = 5
    box: float = 4.0        # centres in [-box, box]^2
    spread: float = 0.7     # std of points around a centre

    name = "blobs"
    label = "2D point classes"
    in_dim = 2
    description = "N-way classification of 2D points: N random class centres, labels shuffled per task"
    config_defaults = {"k_shot": 1, "k_query": 15, "inner_lr": 0.1, "inner_steps": 5,
                       "meta_batch": 20, "iterations": 3000, "hidden": (40, 40)}

    def check(self):
        super().check()
        if not isinstance(self.n_way, int) or not 2 <= self.n_way <= 20:
            raise ConfigError("family_options.n_way", f"must be an integer in [2, 20] (got {self.n_way!r})")
        if self.box <= 0 or self.spread <= 0:
            raise ConfigError("family_options.box", "box and spread must be > 0")

    @property
    def n_classes(self):
        return self.n_way

    def sample_tasks(self, n, gen):
        return uniform((n, self.n_way * 2), -self.box, self.box, gen)

    def sample_points(self, tasks, n, gen):
        t = tasks.shape[0]
        centres = tasks.reshape(t, self.n_way, 1, 2)
        noise = torch.randn((t, self.n_way, n, 2), generator=gen, device=gen.device).to(tasks.dtype)
        x = (centres + self.spread * noise).reshape(t, self.n_way * n, 2)
        y = torch.arange(self.n_way, device=tasks.device).repeat_interleave(n).expand(t, -1)
        return x, y.contiguous()

    def x_range(self):
        r = self.box + 3 * self.spread
        return (-r, r)

    def describe_task(self, task):
        return f"{self.n_way} classes"

"""Reptile (Nichol et al. 2018): adapt each task with plain SGD, then move θ toward the
adapted weights:  θ ← θ + ε · mean over tasks of (θ'_i − θ).  No outer gradient at all."""
from __future__ import annotations

import torch

from .base import Algorithm


class Reptile(Algorithm):
    name = "reptile"
    label = "Reptile"
    description = ("Adapts to each task with several plain gradient steps, then nudges θ a "
                   "fraction ε of the way toward the adapted weights.")
    defaults = {"outer_lr": 1.0}                       # ε: move all the way to the mean θ'
    weak_defaults = {"inner_steps": 5, "inner_lr": 0.02}

    def make_optimizer(self, params, cfg):
        return None

    def step(self, model, family, params, opt, batch, cfg, compiled=False):
        theta = {k: v.detach() for k, v in params.items()}
        adapted = self.adapt(model, family, theta, batch["xs"], batch["ys"], cfg.inner_steps, cfg)
        with torch.no_grad():
            for k, v in params.items():
                v.add_(cfg.outer_lr * (adapted[k] - theta[k]).mean(0))
            return family.loss(model(adapted, batch["xq"]), batch["yq"]).mean()

"""Meta-SGD (Li et al. 2017): MAML with a learned step size per parameter, α ∈ R^|θ|, meta-learned
together with θ. Stored beside θ as `lr.<name>` tensors shaped like the parameter."""
from __future__ import annotations

import torch

from .maml import MAML


class MetaSGD(MAML):
    name = "metasgd"
    label = "Meta-SGD"
    description = ("MAML that also learns how big a step to take for every single weight, "
                   "instead of one fixed learning rate.")

    def init_params(self, model, cfg, gen):
        theta = model.init(gen)
        lrs = {f"lr.{k}": torch.full_like(v, cfg.inner_lr) for k, v in theta.items()}
        return {**theta, **lrs}

    def param_shapes(self, model):
        shapes = model.param_shapes()
        return {**shapes, **{f"lr.{k}": s for k, s in shapes.items()}}

    def adapt_spec(self, params, cfg, model):
        lrs = {k[3:]: v for k, v in params.items() if k.startswith("lr.")}
        return self.model_params(params), lrs, None

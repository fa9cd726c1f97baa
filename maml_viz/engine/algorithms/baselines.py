"""Baselines a reader needs to judge meta-learning:
- pretrained: one network fit by plain regression/classification on data pooled from all tasks
  (same iteration budget and batches), then fine-tuned at test time like the others;
- scratch: the random initialisation, fine-tuned at test time."""
from __future__ import annotations

import torch

from ..metagrad import meta_gradient
from ..tasks import RLFamily
from .base import Algorithm


class Pretrained(Algorithm):
    name = "pretrained"
    label = "Pretrained"
    is_baseline = True
    description = ("One network trained on data from all tasks at once, then fine-tuned on the "
                   "new task's few points like the others.")

    def outer_loss(self, model, family, params, batch, cfg):
        x = torch.cat([batch["xs"], batch["xq"]], 1)
        y = torch.cat([batch["ys"], batch["yq"]], 1)
        return family.loss(model(params, x), y).mean()

    def static_step(self, model) -> bool:
        return True

    @torch.no_grad()
    def step(self, model, family, params, opt, batch, cfg):
        """Adam on outer_loss, its gradient by the network's explicit backward pass (the
        meta-gradient of zero inner steps on the pooled points): no autograd graph."""
        pooled = {"xs": batch["xs"], "ys": batch["ys"],
                  "xq": torch.cat([batch["xs"], batch["xq"]], 1),
                  "yq": torch.cat([batch["ys"], batch["yq"]], 1)}
        loss, grads, _ = meta_gradient(model, family, params, pooled, 0, cfg.inner_lr)
        opt.step([grads[k] for k in params])
        return loss


class Oracle(Pretrained):
    name = "oracle"
    label = "Oracle"
    family_types = (RLFamily,)
    goal_conditioned = True
    description = ("A policy that is told the goal: the best a single policy can do without "
                   "adapting. An upper reference, not a fair competitor.")

    def adapt_spec(self, params, cfg, model):
        return self.model_params(params), cfg.inner_lr, ()     # nothing to adapt


class Scratch(Algorithm):
    name = "scratch"
    label = "Random init"
    is_baseline = True
    trains = False
    defaults = {"iterations": 0}
    description = "A randomly initialised network, fine-tuned on the new task's few points."

    def make_optimizer(self, params, cfg, lr_scale=None):
        return None

    def step(self, model, family, params, opt, batch, cfg):  # pragma: no cover
        raise RuntimeError("the random-init baseline is not trained")

"""MAML (Finn et al. 2017) and its first-order variant FOMAML: one class, a flag.

meta-loss(θ) = mean over tasks i of L_query_i( θ'_i ),  θ'_i = θ − α ∇L_support_i(θ) (k steps).
Second order: the outer gradient flows through the inner gradients (create_graph=True).
First order: the inner gradients are treated as constants, so ∇θ meta-loss = mean ∇L_query(θ')."""
from __future__ import annotations

import torch

from ..metagrad import meta_gradient
from .base import Algorithm


class MAML(Algorithm):
    name = "maml"
    label = "MAML"
    description = ("Learns a starting point θ so that a few gradient steps on a new task's few "
                   "points work well; differentiates through those steps (second order).")
    first_order = False

    def outer_loss(self, model, family, params, batch, cfg):
        """The meta-loss as a differentiable function of the meta-parameters (the definition;
        autograd through it gives the meta-gradient)."""
        adapted = self.adapt(model, family, params, batch["xs"], batch["ys"], cfg.inner_steps,
                             cfg, create_graph=not self.first_order)
        return family.loss(model(adapted, batch["xq"]), batch["yq"]).mean()

    def static_step(self, model) -> bool:
        """The hand-written meta-gradient is a fixed sequence of kernels; a second-order step on
        a model without a hand-written Hessian-vector product (the ConvNet) is autograd's."""
        return self.first_order or hasattr(model, "hvp")

    def step(self, model, family, params, opt, batch, cfg):
        """One meta-iteration with the hand-written meta-gradient (metagrad.py): the same
        gradient as autograd through outer_loss, without building a graph; then Adam.
        A model without a hand-written Hessian-vector product (the ConvNet) takes second-order
        steps by autograd through outer_loss instead (Algorithm.step)."""
        if not self.static_step(model):
            return super().step(model, family, params, opt, batch, cfg)
        return self._hand_step(model, family, params, opt, batch, cfg)

    @torch.no_grad()
    def _hand_step(self, model, family, params, opt, batch, cfg):
        theta, lr, keys = self.adapt_spec(params, cfg, model)
        loss, grads, lr_grads = meta_gradient(model, family, theta, batch, cfg.inner_steps, lr,
                                              first_order=self.first_order, keys=keys)
        opt.step([grads[k] if k in grads else lr_grads[k[3:]] for k in params])
        return loss


class FOMAML(MAML):
    name = "fomaml"
    label = "FOMAML"
    description = ("First-order MAML: the same objective, but the inner gradient steps are "
                   "treated as constants, so no second derivatives are computed.")
    first_order = True

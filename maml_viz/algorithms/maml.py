"""MAML (Finn et al. 2017) and its first-order variant FOMAML: one class, a flag.

meta-loss(θ) = mean over tasks i of L_query_i( θ'_i ),  θ'_i = θ − α ∇L_support_i(θ) (k steps).
Second order: the outer gradient flows through the inner gradients (create_graph=True).
First order: the inner gradients are treated as constants, so ∇θ meta-loss = mean ∇L_query(θ')."""
from __future__ import annotations

from .base import Algorithm


class MAML(Algorithm):
    name = "maml"
    label = "MAML"
    description = ("Learns a starting point θ so that a few gradient steps on a new task's few "
                   "points work well; differentiates through those steps (second order).")
    first_order = False

    def outer_loss(self, model, family, params, batch, cfg):
        adapted = self.adapt(model, family, params, batch["xs"], batch["ys"], cfg.inner_steps,
                             cfg, create_graph=not self.first_order)
        return family.loss(model(adapted, batch["xq"]), batch["yq"]).mean()


class FOMAML(MAML):
    name = "fomaml"
    label = "FOMAML"
    description = ("First-order MAML: the same objective, but the inner gradient steps are "
                   "treated as constants, so no second derivatives are computed.")
    first_order = True

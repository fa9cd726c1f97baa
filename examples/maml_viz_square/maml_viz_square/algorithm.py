"""MAML with a learned step size for each inner step (the "per-step learning rates" of MAML++,
Antoniou et al. 2019, one scalar per step): θ and α_0..α_{S-1} are meta-learned together,

    θ_{s+1} = θ_s − α_s ∇L_support(θ_s),   meta-loss = mean over tasks of L_query(θ_S).

The step sizes are stored beside θ as one vector `lr.steps` of MAX_STEPS entries (a stored run's
shapes cannot depend on its config): step s uses entry min(s, S − 1), where S is the number of
inner steps trained with, so the steps beyond S that the evaluation takes repeat the last
learned step size. They start at the config's inner_lr.

Every step goes through maml_viz's own inner loop (maml_viz.engine.adapt, one step at a time), so
training, evaluation and the app's step slider adapt the same way; the meta-gradient is autograd
through that loop (second order), as MAML's own `outer_loss` defines it."""
from __future__ import annotations

import torch

from maml_viz.engine.adapt import adapt
from maml_viz.engine.algorithms.maml import MAML
from maml_viz.engine.tasks import SupervisedFamily

MAX_STEPS = 10
KEY = "lr.steps"


class StepMAML(MAML):
    name = "stepmaml"
    label = "MAML, one step size per step (plugin)"
    description = ("MAML that also learns how big each of its few gradient steps should be "
                   "(one step size per step) instead of one fixed learning rate.")
    family_types = (SupervisedFamily,)

    @staticmethod
    def trained_steps(cfg) -> int:
        """How many of the step sizes training uses (at least one)."""
        return max(1, min(int(cfg.inner_steps), MAX_STEPS))

    def init_params(self, model, cfg, gen):
        theta = model.init(gen)
        device = next(iter(theta.values())).device
        return {**theta, KEY: torch.full((MAX_STEPS,), float(cfg.inner_lr), device=device)}

    def param_shapes(self, model):
        return {**model.param_shapes(), KEY: (MAX_STEPS,)}

    def adapt_spec(self, params, cfg, model):
        # the evaluation multiplies every value of this dict by its step-size factor m
        return self.model_params(params), {"steps": params[KEY]}, None

    def adapt(self, model, family, params, x, y, steps, cfg, *, create_graph=False,
              trajectory=False, lr=None):
        """`steps` inner steps, step s with step size lr["steps"][min(s, S − 1)]; lr None: the
        learned ones; a number: that step size at every step (the app's own choice)."""
        theta, own, keys = self.adapt_spec(params, cfg, model)
        lr = own if lr is None else lr
        last = self.trained_steps(cfg) - 1
        cur, out = theta, [theta]
        for s in range(steps):
            if isinstance(lr, dict):
                rate = lr["steps"][min(s, last)]
                step_lr = {k: rate for k in cur}          # one scalar for every parameter
            else:
                step_lr = lr
            cur = adapt(model, family, cur, x, y, 1, step_lr, create_graph=create_graph,
                        keys=keys)
            out.append(cur)
        return out if trajectory else cur

    def static_step(self, model) -> bool:
        return False              # the meta-gradient is autograd's (Algorithm.step), eagerly

"""The algorithm interface. An algorithm owns its meta-parameters' layout, one meta-step, and
the recipe for test-time adaptation (`adapt_spec`): which θ, which step size, which parameters."""
from __future__ import annotations

import torch

from ..adapt import adapt
from ..optim import FlatAdam


class Algorithm:
    name = "base"
    label = "base"
    description = ""
    defaults: dict = {}        # config defaults that override the task family's
    weak_defaults: dict = {}   # config defaults that the task family's override
    # {family type: defaults} for settings that define the algorithm on that kind of family
    # (Reptile's several inner steps): they win over the family's defaults
    family_defaults: dict = {}
    trains = True          # False for the random-init baseline
    is_baseline = False
    family_types = None    # the task-family types it applies to (None: all)
    goal_conditioned = False   # RL oracle: the policy also observes the goal

    def defaults_for(self, family_cls) -> dict:
        """The family-type-specific defaults that apply to family_cls (a class or instance)."""
        cls = family_cls if isinstance(family_cls, type) else type(family_cls)
        out = {}
        for typ, d in self.family_defaults.items():
            if issubclass(cls, typ):
                out.update(d)
        return out

    def supports(self, family_cls) -> bool:
        """Whether it applies to a task family (its class or an instance)."""
        cls = family_cls if isinstance(family_cls, type) else type(family_cls)
        return self.family_types is None or issubclass(cls, self.family_types)

    # -------------------------------------------------------------- meta-parameters
    def init_params(self, model, cfg, gen) -> dict:
        return model.init(gen)

    def param_shapes(self, model) -> dict:
        """Names and shapes of the meta-parameters (what a stored run must hold)."""
        return model.param_shapes()

    def model_params(self, params: dict) -> dict:
        """The network's parameters θ (without extra meta-parameters such as step sizes)."""
        return {k: v for k, v in params.items() if not k.startswith("lr.")}

    def adapt_spec(self, params: dict, cfg, model):
        """(θ, lr, keys) for the inner loop."""
        return self.model_params(params), cfg.inner_lr, None

    def adapt(self, model, family, params, x, y, steps, cfg, *, create_graph=False,
              trajectory=False, lr=None):
        theta, spec_lr, keys = self.adapt_spec(params, cfg, model)
        return adapt(model, family, theta, x, y, steps, spec_lr if lr is None else lr,
                     create_graph=create_graph, keys=keys, trajectory=trajectory)

    # -------------------------------------------------------------- training
    def make_optimizer(self, params: dict, cfg, lr_scale=None):
        return FlatAdam(params, lr=cfg.outer_lr, lr_scale=lr_scale)

    def outer_loss(self, model, family, params, batch, cfg) -> torch.Tensor:
        raise NotImplementedError

    def static_step(self, model) -> bool:
        """Whether `step` is a fixed sequence of tensor operations (the same kernels every
        iteration), which torch.compile or a CUDA graph can take over (stepper.py). The default
        step builds an autograd graph each iteration: run eagerly."""
        return False

    def step(self, model, family, params, opt, batch, cfg):
        """One meta-iteration on a supervised batch, updating `params` in place; returns the
        (detached) meta-loss. Subclasses write it as a fixed sequence of tensor operations with
        no host synchronisation (no .item(), no data-dependent Python branch), so that the
        trainer can run it eagerly, compile it or replay it from a CUDA graph (stepper.py), and
        say so with `static_step`. This default differentiates `outer_loss` by autograd (the
        stepper runs it eagerly, under no_grad: the graph is enabled here)."""
        keys = list(params)
        with torch.enable_grad():
            loss = self.outer_loss(model, family, params, batch, cfg)
            grads = torch.autograd.grad(loss, [params[k] for k in keys], allow_unused=True)
        opt.step([torch.zeros_like(params[k]) if g is None else g for k, g in zip(keys, grads)])
        return loss.detach()

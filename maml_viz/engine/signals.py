"""Training signals recorded beside the validation measure: how large the meta-gradient is and how
well the inner loop fits, over meta-training (history columns, at the validation points).

At validation points (validation.py: about 100 per run), at most one every MIN_INTERVAL
meta-iterations (a measurement costs about one or two meta-steps, so this keeps it near 1% of
the training's time even for short runs of expensive steps, Omniglot's), and at the last
iteration, the recorder takes one fixed batch of
training-distribution tasks (meta_batch tasks, the training's K and query size, drawn once from
its own random stream) and measures at the current meta-parameters:

- `meta_grad_norm`: the L2 norm, over the network's parameters θ, of the direction the
  algorithm's own meta-step would follow: its meta-gradient (MAML, FOMAML, ANIL, Meta-SGD's θ
  part, the pretrained network's plain gradient), or for Reptile, which has none, the mean
  adaptation move  mean over tasks of (θ'_i − θ)  (its update divided by ε). It is obtained by
  running the algorithm's `step` on a copy of the parameters with a stand-in optimiser that
  keeps the gradient instead of stepping, so it is exactly what training would follow on that
  batch; a vanishing norm is a stalled meta-learner;
- `support_loss`: the loss on the tasks' support points before adapting, and
  `support_loss_adapted`: after the training's inner steps (what the inner loop achieves).

It reads the parameters and draws from its own generator only, and works on copies: training
gives the same parameters bit for bit with or without it, on every stepper (eager, compiled,
CUDA graph: the recorder runs eagerly between segments, like the validation). RL families and
untrained baselines record nothing (their meta-step draws rollouts from the training stream).
"""
from __future__ import annotations

import functools
import math

import torch

from . import cancel
from .config import stream_seed
from .tasks import SupervisedFamily

COLUMNS = ("meta_grad_norm", "support_loss", "support_loss_adapted")
MIN_INTERVAL = 100             # meta-iterations between two measurements, at least


@functools.singledispatch
def signals_batch(family, cfg, device):
    """The fixed batch the signals are measured on, or None where there are none (RL)."""
    return None


@signals_batch.register
def _(family: SupervisedFamily, cfg, device):
    gen = torch.Generator(device).manual_seed(stream_seed("signals", cfg.seed))
    return family.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query, gen)


class _KeepGradient:
    """An optimiser stand-in: `step(grads)` keeps the gradients and changes nothing."""
    lr = 0.0
    grads = None

    def step(self, grads=None):
        self.grads = grads

    def capturable(self):
        return self


class Signals:
    """Measures COLUMNS at validation points (every: the validation interval, 0: never),
    at most every MIN_INTERVAL iterations (see the module doc)."""

    def __init__(self, family, algo, model, cfg, device, every: int):
        self.family, self.algo, self.model, self.cfg = family, algo, model, cfg
        ok = every and algo.trains and cfg.iterations > 0
        self.batch = signals_batch(family, cfg, device) if ok else None
        self.every = self.interval(every) if self.batch is not None else 0
        self.total = cfg.iterations
        self.columns = COLUMNS if self.every else ()
        self._pending: dict = {}
        self._has_opt = None

    @staticmethod
    def interval(every: int) -> int:
        """The smallest multiple of the validation interval that is >= MIN_INTERVAL (0: never)."""
        return every * -(-MIN_INTERVAL // every) if every else 0

    def due(self, iteration: int) -> bool:
        return bool(self.every) and (iteration % self.every == 0 or iteration == self.total)

    def record(self, iteration: int, params: dict) -> None:
        """At a validation point: if due, measure at `params` (read only) and keep the values
        for `pop(iteration)`."""
        if not self.due(iteration):
            return
        try:
            self._pending[iteration] = self(params)
        except cancel.Cancelled:          # a stop request: nothing measured, training stops
            self._pending[iteration] = {}

    def pop(self, iteration: int) -> dict:
        return self._pending.pop(iteration, {})

    def __call__(self, params: dict) -> dict:
        cfg, fam, model, algo = self.cfg, self.family, self.model, self.algo
        b = self.batch
        theta = algo.model_params({k: v.detach() for k, v in params.items()})
        copy = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        if self._has_opt is None:
            self._has_opt = algo.make_optimizer(copy, cfg) is not None
        opt = _KeepGradient() if self._has_opt else None
        algo.step(model, fam, copy, opt, b, cfg)
        with torch.no_grad():
            if opt is not None:
                grads = dict(zip(copy, opt.grads))
                vec = [grads[k] for k in theta]
            else:                          # Reptile: its update over ε is the mean move
                vec = [(copy[k].detach() - params[k].detach()) / cfg.outer_lr for k in theta]
            norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in vec))
            traj = algo.adapt(model, fam, {k: v.detach() for k, v in params.items()},
                              b["xs"], b["ys"], cfg.inner_steps, cfg, trajectory=True)
            before = float(fam.loss(model(traj[0], b["xs"]), b["ys"]).mean())
            after = float(fam.loss(model(traj[-1], b["xs"]), b["ys"]).mean())
        return {"meta_grad_norm": norm, "support_loss": before, "support_loss_adapted": after}

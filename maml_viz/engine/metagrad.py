"""The exact meta-gradient of MAML (and of FOMAML, ANIL and Meta-SGD) by hand, without autograd.

Meta-loss: mean over tasks of L_query(θ_S), with θ_{s+1} = θ_s − α ⊙ ∇L_support(θ_s) (the inner
loop, `adapt`, run with a tape). Reverse mode through the inner loop:

    v_S = ∇L_query(θ_S)                      (per task)
    v_s = v_{s+1} − H_s (α ⊙ v_{s+1})         H_s: Hessian of L_support at θ_s (per task)
    ∂/∂θ = sum over tasks of v_0   (θ is shared, so its gradient sums the tasks' ones)
    ∂/∂α = −sum over steps and tasks of ∇L_support(θ_s) ⊙ v_{s+1}   (Meta-SGD)

First order (FOMAML) drops the H_s terms: v_s = v_S. H_s·u comes from the network's R-operator
(`MLP.hvp`). This is mathematically the same gradient as autograd through `MAML.outer_loss`
(tests/test_gradients.py checks both against plain references in float64) and runs in about
half the time on small networks, since it needs no autograd graph. It is a fixed sequence of
tensor operations with no host synchronisation, so the trainer can compile it or replay it from a
CUDA graph as part of the whole meta-iteration (stepper.py).
"""
from __future__ import annotations

import torch

from . import cancel
from .adapt import adapt


@torch.no_grad()
def meta_gradient(model, family, theta: dict, batch: dict, steps: int, lr, *, first_order=False,
                  keys=None):
    """Returns (meta-loss, grads for θ (shapes of θ), grads for the step sizes or None)."""
    tape = []
    n_tasks = batch["xs"].shape[0]
    adapted = adapt(model, family, theta, batch["xs"], batch["ys"], steps, lr, keys=keys, tape=tape)
    pred, acts = model.forward_cache(adapted, batch["xq"])
    loss = family.loss(pred, batch["yq"]).mean()
    v = model.backward(adapted, acts, family.loss_grad(pred, batch["yq"]) / n_tasks)
    keys = tuple(model.param_shapes()) if keys is None else tuple(keys)
    per_lr = isinstance(lr, dict)
    lr_grads = {k: torch.zeros_like(lr[k]) for k in lr} if per_lr else None
    for params, s_acts, s_pred, s_dout, s_grads in reversed(tape):
        cancel.check()
        if per_lr:
            for k in keys:
                lr_grads[k] -= (s_grads[k] * v[k]).sum(0)
        if first_order:
            continue
        u = {k: (lr[k] if per_lr else lr) * v[k] for k in keys}
        hu = model.hvp(params, s_acts, s_dout,
                       lambda r, p=s_pred: family.loss_hvp(p, batch["ys"], r), u)
        v = {k: v[k] - hu[k] for k in v}
    shapes = model.param_shapes()
    grads = {k: (g.sum(0) if g.dim() > len(shapes[k]) else g) for k, g in v.items()}
    return loss, grads, lr_grads


"""The inner loop, shared by meta-training, evaluation and the app's step slider.

`adapt` runs k plain SGD steps from θ on each task's support set, for a whole batch of tasks at
once (the task batch is the leading dimension of x and y). θ is never modified: after the first
step every task has its own tensors, so cached meta-parameters can be shared read-only between
sessions. Gradients come from the model's explicit backward pass (`nets.MLP.backward`), which is
made of ordinary differentiable ops: far fewer kernels than autograd's double backward, and
exactly the same maths.

- create_graph=True keeps the inner gradients in the graph: the outer gradient through the result
  is the exact second-order MAML meta-gradient.
- create_graph=False treats inner gradients as constants: the first-order (FOMAML) meta-gradient
  (dθ'/dθ = I) if θ requires grad, plain fine-tuning otherwise.
- lr is a float or, for Meta-SGD, a dict of per-parameter step sizes shaped like θ.
- keys limits which parameters adapt (ANIL adapts only the head); the others stay shared.
"""
from __future__ import annotations

import torch

from . import cancel


def adapt(model, family, params: dict, x: torch.Tensor, y: torch.Tensor, steps: int, lr,
          *, create_graph: bool = False, keys=None, trajectory: bool = False, tape=None):
    """Return the adapted per-task params (or, with trajectory=True, the list θ_0..θ_steps;
    θ_0 is θ itself, shared across tasks). A `tape` list receives, per step, what the
    hand-written meta-gradient needs: (params, layer inputs, prediction, dL/dprediction, grads)."""
    keys = tuple(model.param_shapes()) if keys is None else tuple(keys)
    cur = dict(params)
    out = [cur] if trajectory else None
    for _ in range(steps):
        cancel.check()                      # a Stop request takes effect between steps
        pred, acts = model.forward_cache(cur, x)
        dout = family.loss_grad(pred, y)
        grads = model.backward(cur, acts, dout, keys)
        if tape is not None:
            tape.append((cur, acts, pred, dout, grads))
        nxt = dict(cur)
        for k in keys:
            g = grads[k] if create_graph else grads[k].detach()
            if isinstance(lr, dict):
                nxt[k] = cur[k] - lr[k] * g
            else:
                nxt[k] = torch.add(cur[k], g, alpha=-lr)
        cur = nxt
        if trajectory:
            out.append(cur)
    return out if trajectory else cur

"""Adam over one flat parameter vector: the same update as torch.optim.Adam (default settings),
in a handful of kernels instead of a Python loop over parameter tensors. For tiny meta-learning
models the optimizer's per-tensor overhead otherwise costs as much as the meta-gradient.

`capturable()` moves the step count and the learning rate into tensors on the parameters' device,
so that one step is a fixed sequence of kernels with no Python number that changes from step to
step: what a CUDA graph replays and torch.compile traces once. The update is bit for bit the same
as with Python numbers on the CPU (the bias corrections are computed in float64 either way)."""
from __future__ import annotations

import torch


class FlatAdam:
    def __init__(self, params: dict, lr: float, betas=(0.9, 0.999), eps=1e-8, lr_scale=None):
        """lr_scale: {name: multiplier} for parameters that should move faster (or slower)."""
        self.params, self._lr, self.betas, self.eps = params, lr, betas, eps
        self.scale = None
        if lr_scale and any(k in lr_scale for k in params):
            self.scale = torch.cat([torch.full((v.numel(),), float(lr_scale.get(k, 1.0)),
                                               dtype=v.dtype, device=v.device)
                                    for k, v in params.items()])
        n = sum(v.numel() for v in params.values())
        ref = next(iter(params.values()))
        self.m = torch.zeros(n, dtype=ref.dtype, device=ref.device)
        self.v = torch.zeros_like(self.m)
        self.t = 0
        self._t = self._lr_t = None           # tensors once capturable()

    # the learning rate: a Python number, or a float64 tensor once capturable ----------------
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = float(value)
        if self._lr_t is not None and value != self._lr:
            self._lr_t.fill_(value)            # a kernel, no host synchronisation
        self._lr = value

    def capturable(self) -> "FlatAdam":
        """Keep the step count and the learning rate on the device (idempotent)."""
        if self._t is None:
            dev = self.m.device
            self._t = torch.full((1,), float(self.t), dtype=torch.float64, device=dev)
            self._lr_t = torch.full((1,), self._lr, dtype=torch.float64, device=dev)
        return self

    @property
    def steps_taken(self) -> int:
        return int(self._t[0].item()) if self._t is not None else self.t

    def zero_grad(self, set_to_none=True):
        for p in self.params.values():
            p.grad = None

    @torch.no_grad()
    def step(self, grads=None):
        """One Adam step. grads: a list in the order of `params` (default: each p.grad)."""
        vals = list(self.params.values())
        if grads is None:
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in vals]
        g = torch.cat([gr.reshape(-1) for gr in grads])
        b1, b2 = self.betas
        if self._t is None:
            self.t += 1
            bc2, step = 1 - b2 ** self.t, -self._lr / (1 - b1 ** self.t)
        else:                                  # the same float64 arithmetic, on the device
            self._t.add_(1)                    # (1-element tensors: Inductor drops in-place
            dt = self.m.dtype                  # updates of 0-dim CPU tensors)
            bc2 = (1 - torch.pow(b2, self._t)).to(dt)
            step = (-self._lr_t / (1 - torch.pow(b1, self._t))).to(dt)
        self.m.mul_(b1).add_(g, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.v / bc2).sqrt_().add_(self.eps)
        upd = (self.m / denom).mul_(step)
        if self.scale is not None:
            upd.mul_(self.scale)
        chunks = torch.split(upd, [p.numel() for p in vals])
        torch._foreach_add_(vals, [c.view_as(p) for c, p in zip(chunks, vals)])

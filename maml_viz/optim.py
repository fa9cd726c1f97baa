"""Adam over one flat parameter vector: the same update as torch.optim.Adam (default settings),
in a handful of kernels instead of a Python loop over parameter tensors. For tiny meta-learning
models the optimizer's per-tensor overhead otherwise costs as much as the meta-gradient."""
from __future__ import annotations

import torch


class FlatAdam:
    def __init__(self, params: dict, lr: float, betas=(0.9, 0.999), eps=1e-8, lr_scale=None):
        """lr_scale: {name: multiplier} for parameters that should move faster (or slower)."""
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
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

    def zero_grad(self, set_to_none=True):
        for p in self.params.values():
            p.grad = None

    @torch.no_grad()
    def step(self):
        vals = list(self.params.values())
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                       for p in vals])
        b1, b2 = self.betas
        self.t += 1
        self.m.mul_(b1).add_(g, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.v / (1 - b2 ** self.t)).sqrt_().add_(self.eps)
        upd = (self.m / denom).mul_(-self.lr / (1 - b1 ** self.t))
        if self.scale is not None:
            upd.mul_(self.scale)
        chunks = torch.split(upd, [p.numel() for p in vals])
        torch._foreach_add_(vals, [c.view_as(p) for c, p in zip(chunks, vals)])

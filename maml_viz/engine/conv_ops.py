"""Hand-written pieces of the conv net (nets.ConvNet), where aten's own are slow on the CPU:

- `bn_backward`: batch norm's backward pass as an autograd Function with a hand-derived double
  backward (below);
- `task_runs`: one task's evaluation forward pass with batch statistics per run of images (the
  query batches of `Omniglot.predict`) as one ordinary convolution per layer (below);
- `pool_max`: 2x2 max-pooling (stride 2) by elementwise maxima, without the argmax that only a
  gradient needs: the same numbers as aten's max_pool2d, about ten times faster on the CPU
  (for evaluation; a gradient-recording version, mask-based, was slower in training than
  aten's pooling with indices and its backward: 1.09 against 0.87 s per MAML iteration).

Batch norm. `nets.ConvNet.backward` computes the inner loop's gradients with aten's fused
backward kernels, and second-order MAML differentiates through them. Autograd's own derivative
of `native_batch_norm_backward` (PyTorch's `batchnorm_double_backward`) is a generic composite
of about forty broadcast operations over the full activations; on the 64-filter Omniglot net it
was half of a second-order meta-iteration (benchmarks/omniglot_speed.py). `bn_backward`
computes the same values with the native kernel and, when a graph is being built, attaches this
exact derivative made of about fourteen passes (two of them the native kernel again).

Per normalisation group (one channel of one task: n values z_i, mean μ, r = 1/sqrt(var + eps),
x̂_i = (z_i − μ) r), given dy and the scale g the backward pass is

    db = Σ dy_i,   dg = Σ dy_i x̂_i,   dz_i = (g r / n) (n dy_i − db − x̂_i dg).

With upstream gradients a_i (for dz), β (for dg), γ (for db), k = g r / n, A = Σ a_i,
AX = Σ a_i x̂_i, ADY = Σ a_i dy_i and S = Σ a_i dz_i = k (n ADY − db A − dg AX):

    ∂/∂dy_i = k (n a_i − A − x̂_i AX) + β x̂_i + γ          (batch norm's backward of a, + β x̂ + γ)
    ∂/∂g    = r (ADY − (db A + dg AX) / n)                  (= S / g)
    G_i     = (β − k AX) dy_i − k dg a_i                     (∂L/∂x̂_i with r held fixed)
    ∂/∂z_i  = (r / n) (n G_i − Σ G − x̂_i (Σ G x̂ + S))       (batch norm's backward of G with
                                                               scale 1, − r S x̂_i / n)

The last line carries the dependence of μ and r on z, so mean and invstd are passed in only to
save recomputing them and get no gradient of their own. tests/test_omniglot.py checks the whole
meta-gradient against a float64 per-task reference (autograd through F.batch_norm).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_DIMS = (0, 2, 3)           # reduction dims of a [M, channels, H, W] activation


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.view(1, -1, 1, 1)


def _native(dy, z, g, mean, invstd, eps, mask):
    return torch.ops.aten.native_batch_norm_backward(dy, z, g, None, None, mean, invstd, True,
                                                     eps, mask)


class _BNBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, dy, z, g, mean, invstd, eps):
        dz, dg, db = _native(dy, z, g, mean, invstd, eps, [True, True, True])
        ctx.save_for_backward(dy, z, g, mean, invstd, dg, db)
        ctx.eps = eps
        return dz, dg, db

    @staticmethod
    def backward(ctx, a, beta, gamma):
        dy, z, g, mean, invstd, dg, db = ctx.saved_tensors
        eps = ctx.eps
        n = z.numel() // z.shape[1]
        r, k = invstd, g * invstd / n
        zero = torch.zeros_like(dg)
        beta = zero if beta is None else beta
        gamma = zero if gamma is None else gamma
        if a is None:
            a_in, big_a, ax, ady = torch.zeros_like(dy), zero, zero, zero
        else:
            a_in, ax, big_a = _native(a, z, g, mean, invstd, eps, [True, True, True])
            ady = (a * dy).sum(_DIMS)
        s = k * (n * ady - db * big_a - dg * ax)                     # Σ a dz
        # ∂/∂dy = k (n a − A − x̂ AX) + β x̂ + γ, with x̂ = (z − μ) r folded into one addcmul
        br = beta * r
        grad_dy = a_in.addcmul_(z, _col(br)).add_(_col(gamma - br * mean))
        grad_g = r * (ady - (db * big_a + dg * ax) / n)
        # ∂/∂z: batch norm's backward of G with scale 1, then − (r S / n) x̂
        G = torch.mul(dy, _col(beta - k * ax))
        if a is not None:
            G.addcmul_(a, _col(-k * dg))
        grad_z = _native(G, z, None, mean, invstd, eps, [True, False, False])[0]
        c = r * r * s / n                                            # (r S / n) x̂ = c (z − μ)
        grad_z.addcmul_(z, _col(-c)).add_(_col(c * mean))
        return grad_dy, grad_z, grad_g, None, None, None


def bn_backward(dy, z, g, mean, invstd, eps: float, mask):
    """(dz, dg, db) of training-mode batch norm on z [M, channels, H, W] (statistics per channel
    over M, H, W), as aten's native_batch_norm_backward with output mask `mask` (entries left
    out are None). Differentiable in dy, z and g through the derivative above when a graph is
    being built; otherwise it is the native kernel alone."""
    need = torch.is_grad_enabled() and any(t.requires_grad for t in (dy, z, g))
    if not need:
        return _native(dy, z, g, mean, invstd, eps, list(mask))
    dz, dg, db = _BNBackward.apply(dy, z, g, mean.detach(), invstd.detach(), eps)
    return tuple(v if m else None for v, m in zip((dz, dg, db), mask))


# ----------------------------------------------------------------------------- 2x2 max-pooling
def _corners(y: torch.Tensor):
    """The four pixels of every 2x2 window (odd last rows/columns dropped, as pooling does)."""
    y = y[..., :y.shape[-2] // 2 * 2, :y.shape[-1] // 2 * 2]
    return y[..., 0::2, 0::2], y[..., 0::2, 1::2], y[..., 1::2, 0::2], y[..., 1::2, 1::2]


def pool_max(y: torch.Tensor) -> torch.Tensor:
    """F.max_pool2d(y, 2)'s values by elementwise maxima (no argmax: without a graph)."""
    a, b, c, d = _corners(y)
    return torch.maximum(torch.maximum(a, b), torch.maximum(c, d))


def task_runs(net, p: dict, x: torch.Tensor) -> torch.Tensor:
    """nets.ConvNet's logits [runs*b, out] for one task's images x [runs, b, side*side] with batch
    statistics per run of b images, without a graph (evaluation). The runs share the task's θ
    (p: no task dimension), so each layer is one ordinary convolution over all the task's images
    (the batch kernels' good case: about 1.5x a grouped convolution with θ repeated per run, on
    the CPU), laid out [b, runs*C, H, W] so that each (run, channel) pair is one channel of batch
    norm: the same statistics as ConvNet._forward with one task per run (logits equal to 2e-6)."""
    runs, b, _ = x.shape
    h = None
    for i, c in enumerate(net.hidden):
        g, beta = p[f"bn{i}.g"], p[f"bn{i}.b"]
        if i == 0:
            z = net._conv0_bn(p["c0.w"], g, beta, x)                       # [b, runs*C, s, s]
        else:
            s = h.shape[-1]
            z = F.conv2d(h.reshape(b * runs, -1, s, s), p[f"c{i}.w"], padding=1)
            z = F.batch_norm(z.view(b, runs * c, s, s), None, None, g.repeat(runs),
                             beta.repeat(runs), training=True, eps=net.EPS)
        h = torch.relu(pool_max(z))
    feat = h.reshape(b, runs, net.feat_dim).transpose(0, 1).reshape(runs * b, -1)
    return torch.addmm(p["head.b"], feat, p["head.w"])                 # as MLP.affine

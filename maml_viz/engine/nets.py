"""Functional models over a params dict: `MLP` (regression and classification) and
`GaussianPolicy` (reinforcement learning: an MLP for the mean action and a learned log-std).
A task family builds the model it needs (`TaskFamily.make_model`).

Parameters may be *shared* (the meta-parameters θ, e.g. weight [in, out]) or *per task* (adapted
θ', with a leading task dimension: weight [T, in, out]). `forward` handles both with batched
matmuls, so a whole task batch runs in a handful of kernels and no Python loop over tasks.

With `hidden=()` the MLP is the 2-parameter linear model: slope = l0.w[0, 0], intercept = l0.b[0].
"""
from __future__ import annotations

import math

import torch


class MLP:
    def __init__(self, in_dim: int, out_dim: int, hidden: tuple = (40, 40)):
        self.in_dim, self.out_dim, self.hidden = in_dim, out_dim, tuple(hidden)
        self.sizes = (in_dim, *self.hidden, out_dim)
        self.n_layers = len(self.sizes) - 1

    # names and shapes ------------------------------------------------------------
    def param_shapes(self) -> dict:
        shapes = {}
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            shapes[f"l{i}.w"] = (a, b)
            shapes[f"l{i}.b"] = (b,)
        return shapes

    def head_keys(self) -> tuple:
        """The last layer's parameters (what ANIL adapts)."""
        i = self.n_layers - 1
        return (f"l{i}.w", f"l{i}.b")

    def init(self, gen: torch.Generator, dtype=torch.float32) -> dict:
        """PyTorch's nn.Linear initialisation (uniform ±1/sqrt(fan_in)), from `gen`."""
        params = {}
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            bound = 1.0 / math.sqrt(a)
            for name, shape in ((f"l{i}.w", (a, b)), (f"l{i}.b", (b,))):
                u = torch.rand(shape, generator=gen, device=gen.device, dtype=dtype)
                params[name] = (2 * u - 1) * bound
        return params

    # forward ----------------------------------------------------------------------
    def forward(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        """x: [T, M, in] -> [T, M, out]. Params shared ([in, out]) or per task ([T, in, out])."""
        return self.forward_cache(params, x)[0]

    @staticmethod
    def affine(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """h @ w + b in one kernel: addmm for shared weights, baddbmm for per-task ones."""
        if w.dim() == 2:
            if b.dim() == 1:
                t, m, _ = h.shape
                return torch.addmm(b, h.reshape(t * m, -1), w).view(t, m, -1)
            return torch.matmul(h, w) + b.unsqueeze(1)
        return torch.baddbmm(b.unsqueeze(1) if b.dim() == 2 else b, h, w)

    __call__ = forward

    def forward_cache(self, params: dict, x: torch.Tensor):
        """forward() that also returns the layer inputs, for `backward`."""
        acts, h = [], x
        for i in range(self.n_layers):
            acts.append(h)
            h = self.affine(h, params[f"l{i}.w"], params[f"l{i}.b"])
            if i < self.n_layers - 1:
                h = torch.relu(h)
        return h, acts

    def backward(self, params: dict, acts: list, dout: torch.Tensor, keys=None) -> dict:
        """Per-task gradients of sum_i L_i given dout = dL_i/d(output_i) [T, M, out].

        Written with ordinary (differentiable) tensor ops, so autograd through it gives exact
        second derivatives (the ReLU mask is piecewise constant, as in autograd's own rule).
        Returns grads with a leading task dimension; only `keys` (default all) are computed.
        """
        keys = set(self.param_shapes()) if keys is None else set(keys)
        lowest = min(int(k[1:].split(".")[0]) for k in keys)
        grads, d = {}, dout
        for i in reversed(range(lowest, self.n_layers)):
            a = acts[i]
            if f"l{i}.w" in keys:
                grads[f"l{i}.w"] = torch.matmul(a.transpose(1, 2), d)
            if f"l{i}.b" in keys:
                grads[f"l{i}.b"] = d.sum(1)
            if i > lowest:
                w = params[f"l{i}.w"]
                d = torch.matmul(d, w.transpose(-1, -2)).masked_fill(a <= 0, 0.0)
        return grads

    def hvp(self, params: dict, acts: list, dout: torch.Tensor, rdout_fn, tangent: dict) -> dict:
        """Per-task Hessian-vector products H·u of sum_i L_i at `params`, for a per-task direction
        u = `tangent` (a dict over some of the parameters; the others have no component).

        Pearlmutter's R-operator: push the directional derivative R{.} = d/dε (.)(θ + ε u)
        through the forward pass, the loss gradient (`rdout_fn(R{output})` = R{dL/d output})
        and the backward pass above. `acts` and `dout` are those of `forward_cache`/`backward`
        at the same params (the inner loop's tape). ReLU's second derivative is zero a.e.
        Returns H·u for every parameter (cross terms included), with a task dimension.
        """
        n = self.n_layers
        r_acts = [None] * n            # R{input of layer i}
        r_in = None
        for i in range(n):
            w, kw, kb = params[f"l{i}.w"], f"l{i}.w", f"l{i}.b"
            rz = None
            if r_in is not None:
                rz = torch.matmul(r_in, w)
            if kw in tangent:
                t = torch.matmul(acts[i], tangent[kw])
                rz = t if rz is None else rz + t
            if kb in tangent:
                t = tangent[kb].unsqueeze(1)
                rz = t if rz is None else rz + t
            if i < n - 1:
                r_in = None if rz is None else rz.masked_fill(acts[i + 1] <= 0, 0.0)
                r_acts[i + 1] = r_in
        rd = rdout_fn(rz)
        d, out = dout, {}
        for i in reversed(range(n)):
            a, ra = acts[i], r_acts[i]
            gw = torch.matmul(a.transpose(1, 2), rd)
            if ra is not None:
                gw = gw + torch.matmul(ra.transpose(1, 2), d)
            out[f"l{i}.w"], out[f"l{i}.b"] = gw, rd.sum(1)
            if i > 0:
                w, kw = params[f"l{i}.w"], f"l{i}.w"
                wt = w.transpose(-1, -2)
                nrd = torch.matmul(rd, wt)
                if kw in tangent:
                    nrd = nrd + torch.matmul(d, tangent[kw].transpose(-1, -2))
                mask = a <= 0
                rd = nrd.masked_fill(mask, 0.0)
                d = torch.matmul(d, wt).masked_fill(mask, 0.0)
        return out

    def check_params(self, params: dict) -> None:
        """Raise ValueError unless `params` has exactly this model's names and shapes."""
        shapes = self.param_shapes()
        if set(params) != set(shapes):
            missing, extra = sorted(set(shapes) - set(params)), sorted(set(params) - set(shapes))
            raise ValueError(f"parameter names differ from the model's (missing {missing}, "
                             f"unexpected {extra})")
        for k, shape in shapes.items():
            if tuple(params[k].shape) != shape:
                raise ValueError(f"parameter {k} has shape {tuple(params[k].shape)}, "
                                 f"expected {shape}")


# ----------------------------------------------------------------------------- reinforcement learning
LOG2PI = math.log(2 * math.pi)


class GaussianPolicy:
    """An MLP giving the mean action, and a learned state-independent log standard deviation."""

    # The outer optimiser moves the exploration noise's log-std faster than the weights (Adam's
    # step per coordinate is about its lr): the noise must shrink from std 1 (a velocity noise of
    # one action_scale) to ~0.3 for the agent to stop at a goal; TRPO's natural gradient (the
    # paper's) does this quickly, plain Adam at the weights' rate would need far more iterations.
    LOG_STD_LR_SCALE = 5.0

    def __init__(self, in_dim: int, out_dim: int, hidden=(100, 100), init_std: float = 1.0):
        self.mlp = MLP(in_dim, out_dim, hidden)
        self.lr_scale = {"log_std": self.LOG_STD_LR_SCALE}
        self.in_dim, self.out_dim, self.hidden = in_dim, out_dim, tuple(hidden)
        self.init_std = init_std

    def param_shapes(self) -> dict:
        return {**self.mlp.param_shapes(), "log_std": (self.out_dim,)}

    def head_keys(self) -> tuple:
        return self.mlp.head_keys()

    def init(self, gen, dtype=torch.float32) -> dict:
        """The MLP's usual init, but a near-zero output layer: the untrained policy's mean action
        is ~0 everywhere, so it wanders (std = init_std) instead of drifting off in a line."""
        p = self.mlp.init(gen, dtype)
        w, b = self.mlp.head_keys()
        p[w] = p[w] * 0.01
        p[b] = torch.zeros_like(p[b])
        p["log_std"] = torch.full((self.out_dim,), math.log(self.init_std), dtype=dtype,
                                  device=gen.device)
        return p

    def forward(self, params, obs):
        """Mean action; obs [T, M, in] -> [T, M, out]."""
        return self.mlp.forward(params, obs)

    __call__ = forward

    MIN_STD = 0.05

    def log_std(self, params):
        """log σ, bounded below by log MIN_STD (in the policy's action units): a policy-gradient
        step scales like 1/σ, so an unbounded σ → 0 makes the fixed inner step size α overshoot."""
        ls = params["log_std"].clamp_min(math.log(self.MIN_STD))
        return ls.unsqueeze(1) if ls.dim() == 2 else ls        # per task: [T, 1, out]

    def log_prob(self, params, obs, act):
        mean, ls = self.forward(params, obs), self.log_std(params)
        z = (act - mean) * torch.exp(-ls)
        return (-0.5 * z * z - ls - 0.5 * LOG2PI).sum(-1)

    def check_params(self, params):
        shapes = self.param_shapes()
        if set(params) != set(shapes):
            raise ValueError(f"parameter names differ from the policy's: {sorted(params)}")


# ----------------------------------------------------------------------------- the 2-weight sine model
class SineModel:
    """y = amp · sin(x − phase): a model with exactly two weights, so that its whole weight space
    is a plane the Learn page can draw (task family `wave`). Same interface as `MLP`: parameters
    shared ([1]) or per task ([T, 1]); `backward` and `hvp` by hand for the meta-gradient
    (checked against autograd in float64 in tests/test_learn.py).

    Unlike the straight line y = a·x + b, the output is not linear in the weights (the phase sits
    inside the sine), so the best start for one gradient step is not the average task."""
    in_dim = out_dim = 1
    hidden = ()

    def param_shapes(self) -> dict:
        return {"amp": (1,), "phase": (1,)}

    def head_keys(self) -> tuple:
        """What ANIL adapts: the output scale."""
        return ("amp",)

    def init(self, gen: torch.Generator, dtype=torch.float32) -> dict:
        """amp uniform in [0, 1], phase uniform in [0, π]: a small wave with a random shift."""
        u = torch.rand((2,), generator=gen, device=gen.device, dtype=dtype)
        return {"amp": u[:1].clone(), "phase": u[1:] * math.pi}

    @staticmethod
    def _col(v: torch.Tensor) -> torch.Tensor:
        return v.reshape(-1, 1, 1)           # [1] or [T, 1] -> broadcasts over [T, M, 1]

    def forward_cache(self, params: dict, x: torch.Tensor):
        """x [T, M, 1] -> (prediction [T, M, 1], (sin(x − phase), cos(x − phase)))."""
        z = x - self._col(params["phase"])
        s, c = torch.sin(z), torch.cos(z)
        return self._col(params["amp"]) * s, (s, c)

    def forward(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        return self.forward_cache(params, x)[0]

    __call__ = forward

    def backward(self, params: dict, acts, dout: torch.Tensor, keys=None) -> dict:
        """Per-task gradients [T, 1] of sum_i L_i given dout = dL_i/d(output_i) [T, M, 1]:
        d/d amp = Σ dout·sin(x − phase), d/d phase = −Σ dout·amp·cos(x − phase)."""
        keys = ("amp", "phase") if keys is None else tuple(keys)
        s, c = acts
        grads = {}
        if "amp" in keys:
            grads["amp"] = (dout * s).sum(1)
        if "phase" in keys:
            grads["phase"] = -(dout * self._col(params["amp"]) * c).sum(1)
        return grads

    def hvp(self, params: dict, acts, dout: torch.Tensor, rdout_fn, tangent: dict) -> dict:
        """Per-task H·u (as `MLP.hvp`): the directional derivative of `backward`'s gradients along
        u = `tangent` ({amp?, phase?} [T, 1]; a missing one is zero), R{sin} = −cos·u_phase and
        R{cos} = sin·u_phase."""
        s, c = acts
        a = self._col(params["amp"])
        ua = self._col(tangent["amp"]) if "amp" in tangent else None
        ub = self._col(tangent["phase"]) if "phase" in tangent else None
        r_out = torch.zeros_like(dout)
        if ua is not None:
            r_out = r_out + ua * s
        if ub is not None:
            r_out = r_out - a * c * ub
        rd = rdout_fn(r_out)
        r_amp, r_phase = rd * s, rd * a * c
        if ub is not None:
            r_amp = r_amp - dout * c * ub
            r_phase = r_phase + dout * a * s * ub
        if ua is not None:
            r_phase = r_phase + dout * c * ua
        return {"amp": r_amp.sum(1), "phase": -r_phase.sum(1)}

    def check_params(self, params: dict) -> None:
        MLP.check_params(self, params)


# =============================================================================================
# ConvNet: the MAML paper's few-shot image classifier (Omniglot), over a params dict
# =============================================================================================
import torch.nn.functional as F  # noqa: E402
from torch.nn.grad import conv2d_input, conv2d_weight  # noqa: E402

from .conv_ops import bn_backward, pool_max, task_runs  # noqa: E402


class ConvNet:
    """The MAML paper's Omniglot network (Vinyals et al.'s embedding): `len(hidden)` blocks of
    3x3 convolution (padding 1, no bias: batch norm's shift makes it redundant) -> batch norm
    -> ReLU -> 2x2 max-pool, then a linear head on the flattened features.

    Batch norm works as in MAML: the statistics are those of the current batch *of each task*
    (mean and variance over that task's images and pixels, per channel; no running averages, the
    same in training and evaluation), with a learned scale `bn{i}.g` and shift `bn{i}.b` that
    are ordinary parameters: meta-learned, and adapted in the inner loop like every other one
    (ANIL adapts only the head). Which images form a batch is the task family's rule
    (`Omniglot.predict`: queries in the batches training used); `forward(stat_batch=b)` takes
    statistics per run of b images.

    Inputs are flat images x [T, M, side*side] (one channel). Parameters may be shared
    (c{i}.w [out, in, 3, 3]) or per task (a leading task dimension, like `MLP.forward`). All
    tasks run at once without a Python loop over tasks: images are laid out as
    [M, T*channels, H, W], so that task t's channels form group t of a grouped convolution
    (groups=T) and each (task, channel) pair is one channel for the batch statistics. The
    first convolution (one input channel) is a product with the pixels' 3x3 neighbourhoods.

    `forward_cache`/`backward` give per-task gradients from an explicit backward pass made of
    aten's fused, differentiable backward kernels (convolution, batch norm, max-pool, ReLU), so
    `adapt` runs on it unchanged and autograd through `adapt` gives the exact second-order
    meta-gradient (batch norm's part of it by hand: conv_ops.py). There is no `hvp`:
    second-order algorithms take their steps by autograd through `outer_loss` (MAML.step checks
    for one). The cost of a step per algorithm is measured by benchmarks/omniglot_speed.py
    (README, "Handwritten characters"). Without a graph (evaluation), `forward` folds the first
    batch norm into the first convolution and pools by elementwise maxima.
    """

    EPS = 1e-5

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple = (32, 32, 32, 32)):
        side = math.isqrt(in_dim)
        if side * side != in_dim:
            raise ValueError(f"ConvNet needs square one-channel images (in_dim {in_dim})")
        self.in_dim, self.out_dim, self.hidden, self.side = in_dim, out_dim, tuple(hidden), side
        if not self.hidden:
            raise ValueError("ConvNet needs at least one convolution block")
        self.feat_side = side
        for _ in self.hidden:
            self.feat_side //= 2
        if self.feat_side < 1:
            raise ValueError(f"{side}x{side} images are too small for {len(self.hidden)} "
                             f"2x2 poolings")
        self.feat_dim = self.hidden[-1] * self.feat_side ** 2
        self._shapes = self.param_shapes()

    # names and shapes ------------------------------------------------------------
    def param_shapes(self) -> dict:
        shapes, cin = {}, 1
        for i, c in enumerate(self.hidden):
            shapes[f"c{i}.w"] = (c, cin, 3, 3)
            shapes[f"bn{i}.g"] = (c,)
            shapes[f"bn{i}.b"] = (c,)
            cin = c
        shapes["head.w"] = (self.feat_dim, self.out_dim)
        shapes["head.b"] = (self.out_dim,)
        return shapes

    def head_keys(self) -> tuple:
        return ("head.w", "head.b")

    def point_cost(self) -> tuple:
        """(multiply-adds, activations, layers) per image, for budget.py's estimates (an MLP's
        follow from its weight shapes; a convolution's depend on the image size too)."""
        macs, width, side, cin = 0, self.in_dim, self.side, 1
        for c in self.hidden:
            macs += side * side * c * cin * 9
            width += side * side * c * 3 + (side // 2) ** 2 * c   # conv, norm, ReLU; pooled
            side, cin = side // 2, c
        macs += self.feat_dim * self.out_dim
        return macs, width + self.out_dim, 4 * len(self.hidden) + 1

    def init(self, gen: torch.Generator, dtype=torch.float32) -> dict:
        """Convolutions: Glorot-uniform (as the MAML authors' code); batch norm: scale 1,
        shift 0; head: nn.Linear's uniform ±1/sqrt(fan_in), from `gen`."""
        params = {}

        def u(shape, bound):
            r = torch.rand(shape, generator=gen, device=gen.device, dtype=dtype)
            return (2 * r - 1) * bound

        for k, shape in self.param_shapes().items():
            if k.endswith(".g"):
                params[k] = torch.ones(shape, device=gen.device, dtype=dtype)
            elif k.startswith("bn"):
                params[k] = torch.zeros(shape, device=gen.device, dtype=dtype)
            elif k.startswith("c"):
                fan_in, fan_out = shape[1] * 9, shape[0] * 9
                params[k] = u(shape, math.sqrt(6.0 / (fan_in + fan_out)))
            else:
                params[k] = u(shape, 1.0 / math.sqrt(self.feat_dim))
        return params

    check_params = MLP.check_params

    # forward ----------------------------------------------------------------------
    @staticmethod
    def _grouped(p: torch.Tensor, t: int) -> torch.Tensor:
        """A conv weight or BN vector as T groups: shared [C, ...] is repeated, per task
        [T, C, ...] is folded: -> [T*C, ...]."""
        if p.dim() == 1 or p.dim() == 4:
            return p.repeat(t, *([1] * (p.dim() - 1)))
        return p.reshape(t * p.shape[1], *p.shape[2:])

    MAX_IMAGES = 256           # forward() runs larger task batches in slices (cache, memory)

    def forward(self, params: dict, x: torch.Tensor, stat_batch: int | None = None) -> torch.Tensor:
        """x: [T, M, side*side] -> logits [T, M, out]. Keeps no intermediate results, and runs
        about MAX_IMAGES images at a time (whole tasks: batch statistics stay per task).
        stat_batch: batch norm's statistics per run of that many consecutive images of each
        task (M a multiple of it), each run a batch of its own; None: all M images."""
        t, m, d = x.shape
        b = m if stat_batch is None else int(stat_batch)
        if b < 1 or m % b:
            raise ValueError(f"stat_batch {b} does not divide the {m} images of a task")
        runs, step = m // b, max(1, self.MAX_IMAGES // max(m, 1))
        if runs > 1 and not (torch.is_grad_enabled() and any(v.requires_grad
                                                             for v in params.values())):
            return torch.stack([task_runs(     # evaluation: one convolution per task and layer
                self, {k: (v[i] if v.dim() > len(self._shapes[k]) else v)
                       for k, v in params.items()}, x[i].view(runs, b, d)) for i in range(t)])
        outs = []
        for s in range(0, t, step):
            part = {k: (v[s:s + step] if v.dim() > len(self._shapes[k]) else v)
                    for k, v in params.items()}
            xs = x[s:s + step]
            n = xs.shape[0]
            if runs > 1:        # each run of b images as a task of its own, with its task's θ
                part = {k: (v.repeat_interleave(runs, 0) if v.dim() > len(self._shapes[k])
                            else v) for k, v in part.items()}
                xs = xs.reshape(n * runs, b, d)
            outs.append(self._forward(part, xs).reshape(n, m, -1))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def _conv0(self, w: torch.Tensor, x: torch.Tensor):
        """The first convolution (one input channel) as a matrix product with the 3x3
        neighbourhoods of every pixel (im2col): x [T, M, side*side] -> (z [M, T*C, H, W],
        neighbourhoods u [M*T, 9, H*W]). One channel in is a poor case for the convolution
        kernels (its forward pass took 7x this product's time on the CPU)."""
        t, m, _ = x.shape
        s, c = self.side, w.shape[-4]
        u = F.unfold(x.transpose(0, 1).reshape(m * t, 1, s, s), 3, padding=1)
        if w.dim() == 4:
            wv = w.reshape(c, 9).expand(m * t, c, 9)
        else:
            wv = w.reshape(1, t, c, 9).expand(m, t, c, 9).reshape(m * t, c, 9)
        return torch.bmm(wv, u).view(m, t * c, s, s), u

    def _forward(self, params, x):
        t, m, _ = x.shape
        fast = not (torch.is_grad_enabled() and any(v.requires_grad for v in params.values()))
        h = None
        for i in range(len(self.hidden)):
            g, b = params[f"bn{i}.g"], params[f"bn{i}.b"]
            if i == 0 and fast:
                z = self._conv0_bn(params["c0.w"], g, b, x)
            else:
                z = (self._conv0(params["c0.w"], x)[0] if i == 0 else
                     F.conv2d(h, self._grouped(params[f"c{i}.w"], t), padding=1, groups=t))
                z = F.batch_norm(z, None, None, self._grouped(g, t), self._grouped(b, t),
                                 training=True, eps=self.EPS)
            h = torch.relu(pool_max(z) if fast else F.max_pool2d(z, 2))
        feat = h.reshape(m, t, self.feat_dim).transpose(0, 1)
        return MLP.affine(feat, params["head.w"], params["head.b"])

    def _conv0_bn(self, w, g, b, x):
        """The first convolution and its batch norm as one product, without a graph: the first
        layer is linear in the 3x3 neighbourhoods u of the pixels, so each task's channel
        statistics follow from u's mean and covariance (9 numbers and 9x9, in float64): mean
        w·μ, variance wᵀΣw; the normalisation is then folded into the weights and a shift."""
        t, m, _ = x.shape
        s, c = self.side, w.shape[-4]
        u = F.unfold(x.transpose(0, 1).reshape(m * t, 1, s, s), 3, padding=1)   # [M*T, 9, P]
        ut = u.view(m, t, 9, -1).permute(1, 2, 0, 3).reshape(t, 9, -1).double()
        n = ut.shape[-1]
        mu = ut.sum(-1) / n                                                      # [T, 9]
        cov = torch.bmm(ut, ut.transpose(1, 2)) / n - mu.unsqueeze(2) * mu.unsqueeze(1)
        wt = w.reshape(-1, c, 9).double().expand(t, c, 9)
        mean = (wt @ mu.unsqueeze(-1)).squeeze(-1)                               # [T, C]
        var = ((wt @ cov) * wt).sum(-1).clamp_min(0)
        scale = g.double().reshape(-1, c) * (var + self.EPS).rsqrt()
        shift = b.double().reshape(-1, c) - mean * scale
        wf = torch.cat([wt * scale.unsqueeze(-1), shift.expand(t, c).unsqueeze(-1)], -1)
        wf = wf.to(x.dtype).unsqueeze(0).expand(m, t, c, 10).reshape(m * t, c, 10)
        u1 = torch.cat([u, u.new_ones(m * t, 1, u.shape[-1])], 1)     # the shift: a 10th input
        return torch.bmm(wf, u1).view(m, t * c, s, s)

    __call__ = forward

    def features(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        """The head's input for images x [T, M, side*side] -> [T, M, feat_dim] (one batch per
        task)."""
        head = {"head.w": torch.eye(self.feat_dim, dtype=x.dtype, device=x.device),
                "head.b": torch.zeros(self.feat_dim, dtype=x.dtype, device=x.device)}
        return self.forward({**params, **head}, x)

    def forward_cache(self, params: dict, x: torch.Tensor):
        t, m, _ = x.shape
        cache, h = [], None
        for i in range(len(self.hidden)):
            if i == 0:
                z, h = self._conv0(params["c0.w"], x)                  # h: the neighbourhoods
            else:
                z = F.conv2d(h, self._grouped(params[f"c{i}.w"], t), padding=1, groups=t)
            g = self._grouped(params[f"bn{i}.g"], t)                   # z: [M, T*C, H, W]
            y, mean, invstd = torch.ops.aten.native_batch_norm(
                z, g, self._grouped(params[f"bn{i}.b"], t), None, None, True, 0.0, self.EPS)
            p, idx = F.max_pool2d(y, 2, return_indices=True)
            p = torch.relu(p)        # = pool(relu(y)), on a quarter of the values
            cache.append((h, z, g, mean, invstd, y, idx, p))
            h = p
        feat = h.reshape(m, t, self.feat_dim).transpose(0, 1)          # [T, M, F]
        out = MLP.affine(feat, params["head.w"], params["head.b"])
        return out, (cache, feat)

    def backward(self, params: dict, acts, dout: torch.Tensor, keys=None) -> dict:
        """Per-task gradients of sum_i L_i given dout = dL_i/d(logits_i) [T, M, out], with a
        leading task dimension; only `keys` (default all) are computed. Differentiable ops only
        (ReLU masks and pooling indices are piecewise constant, as in autograd's own rules)."""
        cache, feat = acts
        keys = set(self.param_shapes()) if keys is None else set(keys)
        t, m, _ = dout.shape
        grads = {}
        if "head.w" in keys:
            grads["head.w"] = torch.matmul(feat.transpose(1, 2), dout)
        if "head.b" in keys:
            grads["head.b"] = dout.sum(1)
        body = [i for i in range(len(self.hidden))
                if {f"c{i}.w", f"bn{i}.g", f"bn{i}.b"} & keys]
        if not body:
            return grads
        lowest = min(body)
        d = torch.matmul(dout, params["head.w"].transpose(-1, -2))     # [T, M, F]
        d = d.transpose(0, 1).reshape(m, t * self.hidden[-1], self.feat_side, self.feat_side)
        for i in reversed(range(lowest, len(self.hidden))):
            h, z, g, mean, invstd, y, idx, out = cache[i]
            c = self.hidden[i]
            d = torch.ops.aten.threshold_backward(d, out, 0.0)            # ReLU
            d = torch.ops.aten.max_pool2d_with_indices_backward(d, y, [2, 2], [2, 2], [0, 0],
                                                                [1, 1], False, idx)
            need_w, need_in = f"c{i}.w" in keys, i > lowest
            dz, dg, db = bn_backward(d, z, g, mean, invstd, self.EPS,
                                     [need_w or need_in, f"bn{i}.g" in keys, f"bn{i}.b" in keys])
            if dg is not None:
                grads[f"bn{i}.g"] = dg.view(t, c)
            if db is not None:
                grads[f"bn{i}.b"] = db.view(t, c)
            w = params[f"c{i}.w"]
            if need_w and i == 0:            # h: the neighbourhoods u [M*T, 9, H*W]
                gw = torch.bmm(dz.view(m * t, c, -1), h.transpose(1, 2))
                grads["c0.w"] = gw.view(m, t, c, 1, 3, 3).sum(0)
            elif need_w:
                cin = w.shape[-3]
                gw = conv2d_weight(h, (t * c, cin, 3, 3), dz, padding=1, groups=t)
                grads[f"c{i}.w"] = gw.view(t, c, cin, 3, 3)
            if need_in:
                d = conv2d_input(h.shape, self._grouped(w, t), dz, padding=1, groups=t)
        return grads


def proto_head(model, params: dict, xs: torch.Tensor, ys: torch.Tensor, n_out: int) -> dict:
    """θ for tasks of n_out classes when the network was trained for model.out_dim (another N):
    each task's head is set from its support set (xs [T, M, D], labels ys [T, M]), as in
    Proto-MAML (Triantafillou et al. 2020): class k's weights 2 c_k and bias −‖c_k‖², c_k the
    mean head input of class k's support images under θ, so the logits are −‖f − c_k‖² up to a
    term equal for every class. The head starts as a nearest-prototype classifier and each inner
    step adapts it and the body (identical rows, as an averaged or a zeroed head has, would give
    the body a zero gradient). Meta-SGD's head step sizes: the mean of the learned ones.
    Returns the params with a per-task head ([T, F, n_out], [T, n_out]); the body stays shared."""
    if n_out == model.out_dim:
        return dict(params)
    theta = {k: v for k, v in params.items() if not k.startswith("lr.")}
    f = model.features(theta, xs)                                     # [T, M, F]
    onehot = F.one_hot(ys, n_out).to(f.dtype)                         # [T, M, N]
    c = onehot.transpose(1, 2) @ f / onehot.sum(1).clamp_min(1).unsqueeze(-1)    # [T, N, F]
    out = dict(params, **{"head.w": 2 * c.transpose(1, 2), "head.b": -(c * c).sum(-1)})
    for k in model.head_keys():
        if f"lr.{k}" in params:
            v = params[f"lr.{k}"]
            out[f"lr.{k}"] = v.mean(-1, keepdim=True).expand(*v.shape[:-1], n_out).contiguous()
    return out

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

"""Reinforcement learning for the `navigation` family: environment, Gaussian policy, linear
feature baseline, the policy-gradient inner loop and the evaluation protocol.

Everything is batched: rollouts are [tasks, trajectories, time] tensors, and a policy's
parameters are shared (θ) or per task (θ', leading task dimension), as in the supervised code.

The inner update is vanilla policy gradient (REINFORCE with a linear feature baseline fitted per
task, advantages normalised per task) written as a Loaded-DiCE surrogate (Farquhar et al. 2019):

    J(θ) = 1/|steps| Σ_n Σ_t ( □(w_t) − □(λ w_{t−1}) ) A_t,   w_t = log π_θ(a_t|s_t) + λ w_{t−1},
    □(x) = exp(x − stop_grad(x))  (= 1 in value)

(a mean over all valid time steps, as in rllab's VPG). For every λ its gradient is exactly the
REINFORCE estimator mean ∇log π(a_t|s_t) A_t. Differentiating it a second time (MAML through the
inner update) adds the score-function terms of the inner trajectories' dependence on θ: all of
them with λ = 1 (DiCE: an unbiased Hessian term, its variance growing with the horizon; the
meta-gradient is still biased to first order in α, since the outer surrogate lacks the pre-update
trajectories' score term, a bias that shrinks with the number of trajectories), none across time
steps with λ = 0 (ProMP's low-variance biased estimator); λ between trades the two (the family
option `dice_lambda`).
"""
from __future__ import annotations

import functools

import numpy as np
import torch

from . import cancel, noise
from .algorithms import MAML, Pretrained, Reptile
from .config import ConfigError, stream_seed
from .nets import LOG2PI


# ----------------------------------------------------------------------------- environment
def observe(pos, goals, goal_input: bool):
    if not goal_input:
        return pos
    return torch.cat([pos, goals[:, None, :].expand_as(pos)], -1)


@torch.no_grad()
def rollout(policy, params, goals, n: int, family, gen, goal_input=False, deterministic=False):
    """n trajectories per goal; the policy's action a moves the agent by
    clip(action_scale · a, ±max_speed). Returns obs [T,n,H,d], act [T,n,H,2], rew [T,n,H], mask [T,n,H]
    (1 while the episode runs) and pos [T,n,H+1,2] (positions, for drawing)."""
    T, H = goals.shape[0], family.horizon
    pos = torch.zeros(T, n, 2, device=goals.device, dtype=goals.dtype)
    alive = torch.ones(T, n, device=goals.device, dtype=goals.dtype)
    std = torch.exp(policy.log_std(params))
    obs_l, act_l, rew_l, mask_l, pos_l = [], [], [], [], [pos]
    g = goals[:, None, :]
    for _ in range(H):
        cancel.check()                      # a Stop request takes effect between moves
        o = observe(pos, goals, goal_input)
        mean = policy(params, o)
        act = mean if deterministic else mean + std * _randn(gen, mean)
        new = pos + (family.action_scale * act).clamp(-family.max_speed, family.max_speed)
        rew = -torch.linalg.vector_norm(new - g, dim=-1)
        done = ((new - g).abs() < family.goal_radius).all(-1)
        obs_l.append(o), act_l.append(act), rew_l.append(rew * alive), mask_l.append(alive)
        a = alive[..., None]
        pos = a * new + (1 - a) * pos
        pos_l.append(pos)
        alive = alive * (~done).to(alive.dtype)
    st = lambda xs: torch.stack(xs, 2)
    return {"obs": st(obs_l), "act": st(act_l), "rew": st(rew_l), "mask": st(mask_l),
            "pos": st(pos_l)}


def _randn(gen, like) -> torch.Tensor:
    """Standard normals shaped like `like`: from a torch.Generator, or from a noise.Stream (the
    app's rollouts: the page's script draws the same numbers)."""
    if isinstance(gen, noise.Stream):
        return gen.randn(like.shape, like)
    return torch.randn(like.shape, generator=gen, device=gen.device, dtype=like.dtype)


def returns(roll) -> torch.Tensor:
    """Undiscounted return of every trajectory [T, n]."""
    return roll["rew"].sum(-1)


# ----------------------------------------------------------------------------- baseline
def discounted_returns(rew, gamma):
    H = rew.shape[-1]
    t = torch.arange(H, device=rew.device, dtype=rew.dtype)
    d = gamma ** (t[None, :] - t[:, None])                     # d[t, t'] = γ^(t'-t)
    return rew @ torch.triu(d).T


REG = 1e-5          # the baseline's ridge (navroll.js reads it from the page's payload)


@torch.no_grad()
def advantages(family, roll, reg: float = REG):
    """Per-task linear feature baseline (rllab's features: obs, obs², t, t², t³, 1) fitted by
    ridge regression to the discounted returns; advantages normalised per task."""
    rew, mask, obs = roll["rew"], roll["mask"], roll["obs"][..., :2]
    T, n, H = rew.shape
    R = discounted_returns(rew, family.discount)
    al = (torch.arange(H, device=rew.device, dtype=rew.dtype) / 100.0)[None, None, :, None]
    al = al.expand(T, n, H, 1)
    o = obs.clamp(-10, 10)
    F = torch.cat([o, o * o, al, al ** 2, al ** 3, torch.ones_like(al)], -1) * mask[..., None]
    F2 = F.reshape(T, n * H, -1)
    A = F2.transpose(1, 2) @ F2
    eye = torch.eye(A.shape[-1], device=A.device, dtype=A.dtype)
    w = torch.linalg.solve(A + reg * eye * (1 + A.diagonal(dim1=1, dim2=2).mean(-1)[:, None, None]),
                           F2.transpose(1, 2) @ (R * mask).reshape(T, n * H, 1))
    b = (F2 @ w).reshape(T, n, H)
    adv = (R - b) * mask
    cnt = mask.sum((1, 2)).clamp_min(1)[:, None, None]
    mu = adv.sum((1, 2), keepdim=True) / cnt
    sd = (((adv - mu) * mask) ** 2).sum((1, 2), keepdim=True).div(cnt).sqrt()
    return ((adv - mu) / (sd + 1e-8)) * mask


def surrogate(policy, params, roll, adv, dice: bool = True, lam: float = 1.0) -> torch.Tensor:
    """Per-task objective to maximise [T]; gradient = REINFORCE with baseline for any λ (see the
    module doc). dice=False: the plain first-order surrogate."""
    obs, act, mask = roll["obs"], roll["act"], roll["mask"]
    T, n, H = mask.shape
    logp = policy.log_prob(params, obs.reshape(T, n * H, -1), act.reshape(T, n * H, -1))
    logp = logp.reshape(T, n, H) * mask
    count = mask.sum((1, 2)).clamp_min(1)          # mean over valid steps, as rllab's VPG
    if not dice:
        return (logp * adv).sum((1, 2)) / count
    # w_t = log π_t + λ w_{t−1}  (a decayed sum of the log-probabilities up to t)
    t = torch.arange(H, device=logp.device, dtype=logp.dtype)
    decay = torch.tril(torch.where(t[:, None] >= t[None, :],
                                   lam ** (t[:, None] - t[None, :]).clamp_min(0), 0.0))
    w = logp @ decay.T
    prev = lam * torch.cat([torch.zeros_like(w[..., :1]), w[..., :-1]], -1)
    box = lambda x: torch.exp(x - x.detach())
    return ((box(w) - box(prev)) * adv).sum((1, 2)) / count


def ascend(policy, family, params, roll, opt) -> torch.Tensor:
    """One outer step: Adam ascends the policy-gradient surrogate of `roll` (sampled from the
    policy `params`, which may depend on the meta-parameters through an inner loop). Returns the
    rollouts' average return."""
    adv = advantages(family, roll)
    opt.zero_grad(set_to_none=True)
    (-surrogate(policy, params, roll, adv, dice=False).mean()).backward()
    opt.step()
    return returns(roll).mean().detach()


# ----------------------------------------------------------------------------- the inner loop
def pg_step(policy, family, cur, roll, adv, lr, keys, *, create_graph=False, differentiable=True,
            scale=1.0):
    """One policy-gradient step per goal from `cur` on the rollouts `roll` (advantages `adv`):
    cur + scale·lr·∇ surrogate. differentiable: keep the result a function of `cur` (the
    meta-parameters); create_graph: also differentiate through the gradient (second order)."""
    shapes = policy.param_shapes()
    T = roll["mask"].shape[0]
    with torch.enable_grad():
        wrt = {}
        for k in keys:
            v = cur[k]
            if v.dim() == len(shapes[k]):
                v = v.unsqueeze(0).expand(T, *v.shape)
            if not differentiable:
                v = v.detach().requires_grad_(True)
            wrt[k] = v
        inp = {**cur, **wrt}
        obj = surrogate(policy, inp, roll, adv, dice=create_graph, lam=family.dice_lambda).sum()
        grads = torch.autograd.grad(obj, [wrt[k] for k in keys],
                                    create_graph=create_graph and differentiable)
    nxt = dict(cur)
    for k, g in zip(keys, grads):
        if not create_graph:
            g = g.detach()
        step = (lr[k] if isinstance(lr, dict) else lr) * scale
        nxt[k] = wrt[k] + step * g if differentiable else (wrt[k] + step * g).detach()
    return nxt


def adapt_policy(algo, policy, family, params, goals, cfg, gen, steps: int, n: int, *,
                 create_graph=False, lr_scale=None):
    # the surrogate's λ only matters for second order (create_graph): see the module doc
    """`steps` policy-gradient steps per goal, each on n fresh trajectories of the current
    policy. Returns (adapted params, rollouts used at each step, params at each step).
    lr_scale: a multiplier per step (evaluation uses α, then α/2)."""
    theta, lr, keys = algo.adapt_spec(params, cfg, policy)
    keys = tuple(policy.param_shapes()) if keys is None else tuple(keys)
    differentiable = torch.is_grad_enabled() and any(v.requires_grad for v in theta.values())
    cur = dict(theta)
    rolls, traj = [], [cur]
    goal_input = getattr(algo, "goal_conditioned", False)
    for s in range(steps):
        roll = rollout(policy, cur, goals, n, family, gen, goal_input=goal_input)
        rolls.append(roll)
        if not keys:                        # nothing adapts (the oracle)
            traj.append(cur)
            continue
        cur = pg_step(policy, family, cur, roll, advantages(family, roll), lr, keys,
                      create_graph=create_graph, differentiable=differentiable,
                      scale=1.0 if lr_scale is None else lr_scale[s])
        traj.append(cur)
    return cur, rolls, traj


# ----------------------------------------------------------------------------- meta-steps
@functools.singledispatch
def meta_step(algo, policy, family, params, opt, batch, cfg, gen) -> torch.Tensor:
    """One meta-iteration of `algo` on an RL family; returns the average return of the
    trajectories its outer update used. Dispatches on the algorithm's class."""
    raise NotImplementedError(f"{algo.name} has no reinforcement-learning variant")


@meta_step.register
def _(algo: MAML, policy, family, params, opt, batch, cfg, gen):
    """MAML, FOMAML, ANIL, Meta-SGD: policy-gradient inner step(s) on k_shot trajectories per
    goal (Loaded-DiCE surrogate, differentiated through for second order), then the
    policy-gradient surrogate on k_query fresh trajectories of the adapted policy; Adam on it
    (or, with the family option trpo_kl > 0, the paper's TRPO step: trpo_step)."""
    goals = batch["tasks"]
    if family.trpo_kl > 0:
        return trpo_step(algo, policy, family, params, goals, cfg, gen, family.trpo_kl)
    adapted, _, _ = adapt_policy(algo, policy, family, params, goals, cfg, gen, cfg.inner_steps,
                                 cfg.k_shot, create_graph=not algo.first_order)
    post = rollout(policy, adapted, goals, cfg.k_query, family, gen)
    return ascend(policy, family, adapted, post, opt)


@meta_step.register
def _(algo: Reptile, policy, family, params, opt, batch, cfg, gen):
    """Reptile: policy-gradient steps per goal, then θ moves toward the adapted policies."""
    _no_trpo(algo, family)
    theta = {k: v.detach() for k, v in params.items()}
    adapted, rolls, _ = adapt_policy(algo, policy, family, theta, batch["tasks"], cfg, gen,
                                     max(1, cfg.inner_steps), cfg.k_shot)
    with torch.no_grad():
        for k, v in params.items():
            if adapted[k].dim() > v.dim():
                v.add_(cfg.outer_lr * (adapted[k] - theta[k]).mean(0))
    return returns(rolls[-1]).mean()


@meta_step.register
def _(algo: Pretrained, policy, family, params, opt, batch, cfg, gen):
    """Pretrained (and the oracle): one policy trained on all goals at once (policy gradient,
    no adaptation)."""
    _no_trpo(algo, family)
    goals = batch["tasks"]
    roll = rollout(policy, params, goals, cfg.k_shot + cfg.k_query, family, gen,
                   goal_input=algo.goal_conditioned)
    return ascend(policy, family, params, roll, opt)


def _no_trpo(algo, family):
    if family.trpo_kl > 0:
        raise ConfigError("family_options.trpo_kl", f"the TRPO outer update applies to MAML, "
                          f"FOMAML, ANIL and Meta-SGD, not {algo.name}; leave trpo_kl at 0")


# ----------------------------------------------------------------------------- TRPO
# The MAML paper's outer update for RL (Finn et al. 2017, as in the authors' maml_rl code, after
# rllab's ConjugateGradientOptimizer): maximise the importance-sampled surrogate of the adapted
# policies' trajectories subject to mean KL(π'_old || π'_θ) <= δ, where π'_θ is the policy adapted
# from θ by the inner policy-gradient step(s) on the pre-update trajectories (kept fixed).
# The natural-gradient direction solves F s = g by conjugate gradient on Fisher-vector
# products F v = Jᵀ M J v (J: Jacobian of the adapted policy's mean action and log-std on the
# post-update states with respect to θ, through the inner update; M: the Gaussian's Fisher in
# those outputs). At θ_old this is exactly the Hessian of the KL (its first derivative vanishes
# there), and costs two backward passes per product instead of a third-order derivative.
# Then a backtracking line search on the step sqrt(2δ / sᵀFs)·s.

def gaussian_kl(mean_old, ls_old, mean, ls):
    """KL(N(mean_old, exp(ls_old)²) || N(mean, exp(ls)²)) per state, summed over action dims."""
    return (ls - ls_old + (torch.exp(2 * ls_old) + (mean_old - mean) ** 2)
            / (2 * torch.exp(2 * ls)) - 0.5).sum(-1)


def conjugate_gradient(mvp, b, iters: int = 10, tol: float = 1e-10):
    """Approximately solve A x = b for a symmetric positive definite A given by x -> A x."""
    x, r = torch.zeros_like(b), b.clone()
    p, rr = r.clone(), r @ r
    for _ in range(iters):
        ap = mvp(p)
        alpha = rr / (p @ ap)
        x, r = x + alpha * p, r - alpha * ap
        new = r @ r
        if new < tol:
            break
        p, rr = r + (new / rr) * p, new
    return x


def _flat(tensors, like):
    return torch.cat([(t if t is not None else torch.zeros_like(l)).reshape(-1)
                      for t, l in zip(tensors, like)])


def replay_inner(algo, policy, family, params, cfg, pre, differentiable: bool):
    """The adapted policies as a function of `params`: the inner policy-gradient step(s) replayed
    on fixed rollouts `pre` [(rollout, advantages), ...] (second order if differentiable)."""
    theta, lr, keys = algo.adapt_spec(params, cfg, policy)
    keys = tuple(policy.param_shapes()) if keys is None else tuple(keys)
    cur = dict(theta)
    for roll, adv in pre:
        cur = pg_step(policy, family, cur, roll, adv, lr, keys,
                      create_graph=differentiable and not algo.first_order,
                      differentiable=differentiable)
    return cur


class TrpoObjective:
    """The TRPO problem of one meta-iteration: the adapted policies as a function of θ (the inner
    update replayed on fixed pre-update rollouts), the surrogate, its gradient, the
    Fisher-vector product and the KL, on fixed post-update rollouts."""

    def __init__(self, algo, policy, family, params, cfg, pre_rolls, post):
        self.algo, self.policy, self.family, self.params, self.cfg = algo, policy, family, params, cfg
        self.pre = [(r, advantages(family, r)) for r in pre_rolls]   # as adapt_policy had them
        T, n, H = post["mask"].shape
        self.obs = post["obs"].reshape(T, n * H, -1)
        self.act = post["act"].reshape(T, n * H, -1)
        mask = post["mask"].reshape(T, n * H)
        self.w = mask / mask.sum(1, keepdim=True).clamp_min(1) / T        # sums to 1
        self.adv = advantages(family, post).reshape(T, n * H)
        self.leaves = list(params.values())
        with torch.enable_grad():
            self.mean, self.ls = self.outputs(differentiable=True)
        self.mean_old, self.ls_old = self.mean.detach(), self.ls.detach()
        self.logp_old = self.log_prob(self.mean_old, self.ls_old)
        self.m_mean = (self.w[..., None] / torch.exp(2 * self.ls_old)).expand_as(self.mean)
        self.m_ls = (2 * self.w[..., None].expand_as(self.mean)).sum_to_size(self.ls.shape)
        self._jt = None

    def outputs(self, differentiable: bool):
        p = replay_inner(self.algo, self.policy, self.family, self.params, self.cfg, self.pre,
                         differentiable)
        return self.policy(p, self.obs), self.policy.log_std(p)

    def log_prob(self, mean, ls):
        z = (self.act - mean) * torch.exp(-ls)
        return (-0.5 * z * z - ls - 0.5 * LOG2PI).sum(-1)

    def surrogate(self, mean, ls):
        return (self.w * torch.exp(self.log_prob(mean, ls) - self.logp_old) * self.adv).sum()

    def kl(self, mean, ls):
        return (self.w * gaussian_kl(self.mean_old, self.ls_old, mean, ls)).sum()

    def gradient(self):
        with torch.enable_grad():
            g = torch.autograd.grad(self.surrogate(self.mean, self.ls), self.leaves,
                                    retain_graph=True, allow_unused=True)
        return _flat(g, self.leaves)

    def fvp(self, v, damping: float = 0.0):
        """F v (+ damping·v): J v by the double-vjp trick, then Jᵀ (M J v)."""
        with torch.enable_grad():
            if self._jt is None:            # Jᵀu as a (linear) function of u, built once
                self._u = (torch.zeros_like(self.mean, requires_grad=True),
                           torch.zeros_like(self.ls, requires_grad=True))
                jt = torch.autograd.grad((self.mean * self._u[0]).sum() + (self.ls * self._u[1]).sum(),
                                         self.leaves, create_graph=True, allow_unused=True)
                self._jt = [t for t in jt if t is not None]
                self._jt_idx = [i for i, t in enumerate(jt) if t is not None]
            vs = torch.split(v, [t.numel() for t in self.leaves])
            dot = sum((t * vs[i].view_as(t)).sum() for t, i in zip(self._jt, self._jt_idx))
            jv = torch.autograd.grad(dot, self._u, retain_graph=True, allow_unused=True)
            jv = [torch.zeros_like(u) if j is None else j for j, u in zip(jv, self._u)]
            fv = torch.autograd.grad((self.mean * (self.m_mean * jv[0])).sum() +
                                     (self.ls * (self.m_ls * jv[1])).sum(),
                                     self.leaves, retain_graph=True, allow_unused=True)
        return _flat(fv, self.leaves) + damping * v

    @torch.no_grad()
    def evaluate(self):
        """(surrogate, KL) of the adapted policies at the current θ."""
        mean, ls = self.outputs(differentiable=False)
        return self.surrogate(mean, ls), self.kl(mean, ls)


@torch.no_grad()
def trpo_step(algo, policy, family, params, goals, cfg, gen, max_kl: float, cg_iters: int = 10,
              damping: float = 1e-5, backtrack: float = 0.8, max_backtracks: int = 15):
    """One TRPO meta-iteration (see above); updates `params` in place and returns the post-update
    trajectories' average return. The step is rejected (θ unchanged) when no point on the line
    improves the surrogate within the KL limit, as in rllab."""
    adapted, pre, _ = adapt_policy(algo, policy, family, params, goals, cfg, gen,
                                   cfg.inner_steps, cfg.k_shot)
    post = rollout(policy, adapted, goals, cfg.k_query, family, gen)
    obj = TrpoObjective(algo, policy, family, params, cfg, pre, post)
    g = obj.gradient()
    s = conjugate_gradient(lambda v: obj.fvp(v, damping), g, cg_iters)
    shs = s @ obj.fvp(s, damping)
    full = torch.sqrt(2 * max_kl / shs.clamp_min(1e-12)) * s
    old = [p.detach().clone() for p in obj.leaves]
    before = obj.surrogate(obj.mean_old, obj.ls_old)
    chunks = torch.split(full, [p.numel() for p in obj.leaves])
    for i in range(max_backtracks):
        frac = backtrack ** i
        for p, o, c in zip(obj.leaves, old, chunks):
            p.copy_(o + frac * c.view_as(p))
        sur, kl = obj.evaluate()
        if bool(sur > before) and bool(kl <= max_kl):
            break
    else:
        for p, o in zip(obj.leaves, old):
            p.copy_(o)
    return returns(post).mean()


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def task_scores(run, steps: int, n_tasks: int, seed: int, n_traj: int | None = None,
                scale: float = 1.0, purpose: str = "eval") -> torch.Tensor:
    """Average return of n_traj trajectories per goal after 0..steps policy-gradient steps
    (scale·α for the first, scale·α/2 after, each on that step's n_traj trajectories), for
    n_tasks goals drawn from the random stream (purpose, seed): a tensor [goals, steps+1].
    evaluate.py builds the protocol (validation of the step size, statistics) on top."""
    fam, policy, algo, cfg = run.family, run.model, run.algorithm, run.config
    n_traj = fam.query_points if n_traj is None else n_traj
    device = next(iter(run.params.values())).device
    gen = torch.Generator(device).manual_seed(stream_seed(purpose, seed))
    goals = fam.sample_tasks(n_tasks, gen)
    lr_scale = [scale] + [scale * 0.5] * max(0, steps - 1)
    final, rolls, _ = adapt_policy(algo, policy, fam, run.params, goals, cfg, gen, steps, n_traj,
                                   lr_scale=lr_scale)
    rolls.append(rollout(policy, final, goals, n_traj, fam, gen,
                         goal_input=getattr(algo, "goal_conditioned", False)))
    return torch.stack([returns(r).mean(1) for r in rolls], 1).double().cpu()


def protocol(run, steps: int, n_tasks: int, n_traj: int, seed: int) -> dict:
    """The RL protocol's description (evaluate.py adds how the step size was chosen)."""
    fam, cfg = run.family, run.config
    return {
        "family": cfg.family, "algo": cfg.algo, "metric": "return", "tasks": n_tasks,
        "k_shot": [n_traj], "steps": steps, "query_points": fam.query_label(n_traj),
        "inner_lr": f"{cfg.inner_lr} for the first step, {cfg.inner_lr / 2} after (as trained)",
        "seed": seed, "ci": "95% normal approximation over goals, 1.96·sd/√goals",
        "iterations": cfg.iterations, "horizon": fam.horizon,
    }


@torch.no_grad()
def goal_trajectories(run, goal, steps: int = 3, n: int = 20, seed: int = 0):
    """For the app: positions [S+1, n, H+1, 2] of the rollouts the adaptation used at each step
    (the last one after the final step) toward one goal, and their mean returns [S+1].
    In float64 from the stored float32 weights, with noise.Stream's numbers: the page's script
    (assets/js/navroll.js) computes the same tries to ~1e-12 (in float32, three policy-gradient
    steps can amplify rounding to a percent of a return)."""
    fam, policy, algo, cfg = run.family, run.model, run.algorithm, run.config
    params = {k: v.double() for k, v in run.params.items()}
    gen = noise.Stream(seed)            # the numbers the page's script draws (navroll.js)
    goals = torch.as_tensor(np.asarray(goal, dtype=np.float32), device=params["log_std"].device)
    goals = goals.double().reshape(1, 2)
    scale = [1.0] + [0.5] * max(0, steps - 1)
    final, rolls, _ = adapt_policy(algo, policy, fam, params, goals, cfg, gen, steps, n,
                                   lr_scale=scale)
    rolls.append(rollout(policy, final, goals, n, fam, gen,
                         goal_input=getattr(algo, "goal_conditioned", False)))
    pos = torch.stack([r["pos"][0] for r in rolls]).cpu().numpy()
    ret = np.array([returns(r).mean().item() for r in rolls])
    return pos, ret

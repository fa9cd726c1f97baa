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

from . import cancel
from .algorithms import MAML, Pretrained, Reptile
from .config import stream_seed


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
        act = mean if deterministic else mean + std * torch.randn(mean.shape, generator=gen,
                                                                  device=gen.device, dtype=mean.dtype)
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


def returns(roll) -> torch.Tensor:
    """Undiscounted return of every trajectory [T, n]."""
    return roll["rew"].sum(-1)


# ----------------------------------------------------------------------------- baseline
def discounted_returns(rew, gamma):
    H = rew.shape[-1]
    t = torch.arange(H, device=rew.device, dtype=rew.dtype)
    d = gamma ** (t[None, :] - t[:, None])                     # d[t, t'] = γ^(t'-t)
    return rew @ torch.triu(d).T


@torch.no_grad()
def advantages(family, roll, reg: float = 1e-5):
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
def adapt_policy(algo, policy, family, params, goals, cfg, gen, steps: int, n: int, *,
                 create_graph=False, lr_scale=None):
    # the surrogate's λ only matters for second order (create_graph): see the module doc
    """`steps` policy-gradient steps per goal, each on n fresh trajectories of the current
    policy. Returns (adapted params, rollouts used at each step, params at each step).
    lr_scale: a multiplier per step (evaluation uses α, then α/2)."""
    theta, lr, keys = algo.adapt_spec(params, cfg, policy)
    keys = tuple(policy.param_shapes()) if keys is None else tuple(keys)
    shapes = policy.param_shapes()
    T = goals.shape[0]
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
        adv = advantages(family, roll)
        scale = 1.0 if lr_scale is None else lr_scale[s]
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
            obj = surrogate(policy, inp, roll, adv, dice=create_graph,
                            lam=family.dice_lambda).sum()
            grads = torch.autograd.grad(obj, [wrt[k] for k in keys],
                                        create_graph=create_graph and differentiable)
        nxt = dict(cur)
        for k, g in zip(keys, grads):
            if not create_graph:
                g = g.detach()
            step = (lr[k] if isinstance(lr, dict) else lr) * scale
            nxt[k] = wrt[k] + step * g if differentiable else (wrt[k] + step * g).detach()
        cur = nxt
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
    policy-gradient surrogate on k_query fresh trajectories of the adapted policy; Adam on it."""
    goals = batch["tasks"]
    adapted, _, _ = adapt_policy(algo, policy, family, params, goals, cfg, gen, cfg.inner_steps,
                                 cfg.k_shot, create_graph=not algo.first_order)
    post = rollout(policy, adapted, goals, cfg.k_query, family, gen)
    return ascend(policy, family, adapted, post, opt)


@meta_step.register
def _(algo: Reptile, policy, family, params, opt, batch, cfg, gen):
    """Reptile: policy-gradient steps per goal, then θ moves toward the adapted policies."""
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
    goals = batch["tasks"]
    roll = rollout(policy, params, goals, cfg.k_shot + cfg.k_query, family, gen,
                   goal_input=algo.goal_conditioned)
    return ascend(policy, family, params, roll, opt)


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
    (the last one after the final step) toward one goal, and their mean returns [S+1]."""
    fam, policy, algo, cfg = run.family, run.model, run.algorithm, run.config
    device = next(iter(run.params.values())).device
    gen = torch.Generator(device).manual_seed(stream_seed("app-rl", seed))
    goals = torch.as_tensor(np.asarray(goal, dtype=np.float32), device=device).reshape(1, 2)
    scale = [1.0] + [0.5] * max(0, steps - 1)
    final, rolls, _ = adapt_policy(algo, policy, fam, run.params, goals, cfg, gen, steps, n,
                                   lr_scale=scale)
    rolls.append(rollout(policy, final, goals, n, fam, gen,
                         goal_input=getattr(algo, "goal_conditioned", False)))
    pos = torch.stack([r["pos"][0] for r in rolls]).cpu().numpy()
    ret = np.array([returns(r).mean().item() for r in rolls])
    return pos, ret

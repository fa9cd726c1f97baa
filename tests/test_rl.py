"""2D navigation: the environment, the policy-gradient surrogate, and a short training."""
import math

import pytest
import torch

from maml_viz.engine import rl
from maml_viz.engine.algorithms import get_algorithm
from maml_viz.engine.config import ConfigError
from maml_viz.engine.nets import GaussianPolicy
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import train
from maml_viz.runs.evaluate import evaluate
from maml_viz.views.figures.curves import error_vs_steps

FAM = make_family("navigation")


def policy_and_params(hidden=(8, 8), seed=0, dtype=torch.float64):
    pol = GaussianPolicy(2, 2, hidden)
    p = pol.init(torch.Generator().manual_seed(seed), dtype)
    p = {k: (v + 0.3 * torch.randn(v.shape, generator=torch.Generator().manual_seed(seed + 1),
                                   dtype=dtype)) for k, v in p.items()}     # not a symmetric init
    return pol, {k: v.requires_grad_(True) for k, v in p.items()}


def test_reward_clipping_and_termination():
    class Const:                       # a policy that always asks for a huge step to the right
        def __init__(self, a): self.a = a
        def __call__(self, params, obs): return torch.tensor(self.a).expand(*obs.shape[:-1], 2)
        def log_std(self, params): return torch.tensor([-30.0, -30.0])
    goals = torch.tensor([[0.35, 0.0]])
    roll = rl.rollout(Const([5.0, 0.0]), {}, goals, 1, FAM, torch.Generator().manual_seed(0))
    pos = roll["pos"][0, 0]
    assert torch.allclose(pos[1], torch.tensor([0.1, 0.0]))            # clipped to 0.1
    assert torch.allclose(roll["rew"][0, 0, 0], torch.tensor(-0.25))   # -||pos - goal|| after the move
    # it overshoots (0.4) and never lands within 0.01, so it runs the whole horizon
    assert roll["mask"][0, 0].sum() == FAM.horizon
    # a goal on the grid is reached exactly: the episode ends and no more reward accrues
    roll = rl.rollout(Const([5.0, 0.0]), {}, torch.tensor([[0.3, 0.0]]), 1, FAM,
                      torch.Generator().manual_seed(0))
    assert roll["mask"][0, 0].sum() == 3 and roll["rew"][0, 0, 3:].abs().sum() == 0
    assert torch.allclose(rl.returns(roll)[0, 0], torch.tensor(-(0.2 + 0.1 + 0.0)), atol=1e-6)
    # the policy acts in units of action_scale (0.1 by default): an action of 0.5 moves 0.05
    roll = rl.rollout(Const([0.5, -0.2]), {}, goals, 1, FAM, torch.Generator().manual_seed(0))
    assert torch.allclose(roll["pos"][0, 0, 1], torch.tensor([0.05, -0.02]))
    env_units = make_family("navigation", {"action_scale": 1.0})
    roll = rl.rollout(Const([0.05, -0.2]), {}, goals, 1, env_units, torch.Generator().manual_seed(0))
    assert torch.allclose(roll["pos"][0, 0, 1], torch.tensor([0.05, -0.1]))   # clipped at 0.1


def test_one_tasks_rollout_does_not_depend_on_the_batch():
    pol, p = policy_and_params(dtype=torch.float32)
    goals = FAM.sample_tasks(5, torch.Generator().manual_seed(3))
    alone = rl.rollout(pol, p, goals[2:3], 4, FAM, torch.Generator().manual_seed(0), deterministic=True)
    batch = rl.rollout(pol, p, goals, 4, FAM, torch.Generator().manual_seed(0), deterministic=True)
    for k in ("pos", "rew", "mask"):
        assert torch.allclose(alone[k][0], batch[k][2])


def test_surrogate_gradient_is_the_reinforce_estimator():
    pol, p = policy_and_params()
    goals = FAM.sample_tasks(3, torch.Generator().manual_seed(1)).double()
    roll = rl.rollout(pol, {k: v.detach() for k, v in p.items()}, goals, 5, FAM,
                      torch.Generator().manual_seed(2))
    roll = {k: v.double() for k, v in roll.items()}
    adv = rl.advantages(FAM, roll)
    plain = torch.autograd.grad(rl.surrogate(pol, p, roll, adv, dice=False).sum(), list(p.values()))
    for lam in (0.0, 0.5, 1.0):                   # every λ: the first derivative is REINFORCE
        dice = torch.autograd.grad(rl.surrogate(pol, p, roll, adv, dice=True, lam=lam).sum(),
                                   list(p.values()))
        for a, b in zip(dice, plain):
            assert torch.allclose(a, b, rtol=1e-10, atol=1e-12), lam
    # by hand, for the log-std and the output bias: d log N(a; μ, σ)/d log σ = z² − 1,
    # d/dμ = z / σ; REINFORCE = mean over valid steps of (that) · advantage, summed over tasks
    mean = pol(p, roll["obs"].reshape(3, -1, 2)).reshape(roll["act"].shape).detach()
    sd = torch.exp(p["log_std"]).detach()
    z = (roll["act"] - mean) / sd
    w = (adv * roll["mask"] / roll["mask"].sum((1, 2), keepdim=True))[..., None]
    g_logstd = ((z * z - 1) * w).sum((0, 1, 2))
    g_bias = ((z / sd) * w).sum((0, 1, 2))
    names = list(p)
    assert torch.allclose(dice[names.index("log_std")], g_logstd, rtol=1e-9)
    assert torch.allclose(dice[names.index("l2.b")], g_bias, rtol=1e-9)


def test_second_order_rl_meta_gradient_has_the_extra_terms():
    # MAML's RL meta-gradient (through the DiCE surrogate) differs from FOMAML's
    cfg = make_config(family="navigation", algo="maml", k_shot=4, k_query=4, hidden=(8, 8))
    out = {}
    for algo in ("maml", "fomaml"):
        alg = get_algorithm(algo)
        pol = FAM.make_model(cfg.hidden, alg.goal_conditioned)
        p = {k: v.requires_grad_(True) for k, v in pol.init(torch.Generator().manual_seed(0)).items()}
        goals = FAM.sample_tasks(3, torch.Generator().manual_seed(0))
        adapted, _, _ = rl.adapt_policy(alg, pol, FAM, p, goals, cfg, torch.Generator().manual_seed(5),
                                        1, 4, create_graph=not alg.first_order)
        post = rl.rollout(pol, adapted, goals, 4, FAM, torch.Generator().manual_seed(6))
        obj = rl.surrogate(pol, adapted, post, rl.advantages(FAM, post), dice=False).mean()
        out[algo] = torch.autograd.grad(obj, list(p.values()))
    diff = max((a - b).abs().max().item() for a, b in zip(out["maml"], out["fomaml"]))
    assert diff > 1e-6


def test_oracle_only_for_navigation_and_sees_the_goal():
    with pytest.raises(ConfigError) as e:
        make_config(family="sinusoid", algo="oracle")
    assert e.value.field == "algo"
    cfg = make_config(family="navigation", algo="oracle")
    assert FAM.make_model(cfg.hidden, get_algorithm("oracle").goal_conditioned).in_dim == 4


def test_short_training_improves_post_adaptation_return_over_random_init():
    torch.manual_seed(0)
    cfg = dict(family="navigation", hidden=(32, 32), meta_batch=10, k_shot=10, k_query=10)
    run = train(make_config(algo="maml", iterations=40, **cfg), "cpu")
    base = train(make_config(algo="scratch", **cfg), "cpu")
    ours = evaluate(run, steps=1, n_tasks=20).query("step == 1")["mean"].item()
    rand = evaluate(base, steps=1, n_tasks=20).query("step == 1")["mean"].item()
    assert ours > rand + 5, (ours, rand)


def test_lambda_zero_is_the_low_variance_curvature_and_one_adds_cross_terms():
    pol, p = policy_and_params()
    goals = FAM.sample_tasks(2, torch.Generator().manual_seed(1)).double()
    roll = rl.rollout(pol, {k: v.detach() for k, v in p.items()}, goals, 3, FAM,
                      torch.Generator().manual_seed(2))
    adv = rl.advantages(FAM, roll)
    v = {k: torch.randn_like(t) for k, t in p.items()}

    def hvp(f):
        g = torch.autograd.grad(f(), list(p.values()), create_graph=True)
        return torch.autograd.grad(sum((a * v[k]).sum() for a, k in zip(g, p)), list(p.values()))

    def lvc():                                    # ProMP's LVC: a per-step magic box
        T, n, H = roll["mask"].shape
        lp = pol.log_prob(p, roll["obs"].reshape(T, n * H, -1), roll["act"].reshape(T, n * H, -1))
        lp = lp.reshape(T, n, H) * roll["mask"]
        return ((torch.exp(lp - lp.detach()) * adv).sum((1, 2)) / roll["mask"].sum((1, 2))).sum()

    h0 = hvp(lambda: rl.surrogate(pol, p, roll, adv, dice=True, lam=0.0).sum())
    for a, b in zip(h0, hvp(lvc)):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
    h1 = hvp(lambda: rl.surrogate(pol, p, roll, adv, dice=True, lam=1.0).sum())
    assert max((a - b).abs().max().item() for a, b in zip(h0, h1)) > 1e-6


def test_outer_learning_rate_follows_the_cosine_and_other_families_stay_constant():
    from maml_viz.engine.train import Trainer
    assert FAM.outer_lr_factor(0.0) == 1.0 and abs(FAM.outer_lr_factor(1.0)) < 1e-12
    assert abs(FAM.outer_lr_factor(0.5) - 0.5) < 1e-12
    half = make_family("navigation", {"lr_decay": 0.5})
    assert abs(half.outer_lr_factor(1.0) - 0.5) < 1e-12
    assert make_family("navigation", {"lr_decay": 0.0}).outer_lr_factor(0.7) == 1.0
    assert make_family("sinusoid").outer_lr_factor(0.9) == 1.0
    with pytest.raises(ConfigError):
        make_config(family="navigation", family_options={"lr_decay": 1.5})
    cfg = make_config(family="navigation", algo="fomaml", hidden=(8,), meta_batch=2,
                             k_shot=2, k_query=2, iterations=4)
    tr = Trainer(cfg, "cpu")
    tr.run(3)                                     # the 3rd step ran at progress 2/4
    assert abs(tr.opt.lr - cfg.outer_lr * FAM.outer_lr_factor(2 / 4)) < 1e-15
    sin = Trainer(make_config(algo="maml", iterations=4, meta_batch=2), "cpu")
    sin.run(4)
    assert sin.opt.lr == sin.cfg.outer_lr


def test_return_chart_keeps_the_useful_range_when_a_policy_overshoots():
    import pandas as pd
    df = pd.DataFrame({"algo": ["maml"] * 3 + ["pretrained"] * 3, "step": [0, 1, 2] * 2,
                       "mean": [-40.0, -12.0, -4.0, -41.0, -260.0, -100.0], "ci95": [2.0] * 6})
    fig = error_vs_steps(df, "return", title="t")
    lo, hi = fig.layout.yaxis.range
    assert hi == 0 and -60 < lo < -41            # the scale of the starting returns, not -260
    assert len([t for t in fig.data if t.mode == "lines+markers"]) == 2   # both curves drawn

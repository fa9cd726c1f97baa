"""The paper's TRPO outer update for navigation (rl.trpo_step): the Fisher-vector product is the
Hessian of the KL through the inner update, conjugate gradient solves the system a dense solve
does, and a step keeps the KL within its limit while improving the surrogate."""
import pytest
import torch

from maml_viz.engine import rl
from maml_viz.engine.algorithms import get_algorithm
from maml_viz.engine.config import ConfigError
from maml_viz.engine.nets import GaussianPolicy
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import Trainer

FAM = make_family("navigation")


def problem(algo="maml", seed=0, hidden=(4,)):
    """A tiny float64 TRPO problem: 3 goals, 4 trajectories, a 2-4-2 policy."""
    cfg = make_config(family="navigation", algo=algo, hidden=hidden, meta_batch=3, k_shot=4,
                      k_query=4, inner_lr=0.3)
    alg = get_algorithm(algo)
    pol = GaussianPolicy(2, 2, hidden)
    gen = torch.Generator().manual_seed(seed)
    init = {k: v.double() for k, v in alg.init_params(pol, cfg, gen).items()}
    params = {k: (v + 0.3 * torch.randn(v.shape, generator=gen, dtype=torch.float64))
              .requires_grad_(True) for k, v in init.items()}
    goals = FAM.sample_tasks(3, gen).double()
    with torch.no_grad():
        adapted, pre, _ = rl.adapt_policy(alg, pol, FAM, params, goals, cfg, gen, 1, 4)
        post = rl.rollout(pol, adapted, goals, 4, FAM, gen)
    return rl.TrpoObjective(alg, pol, FAM, params, cfg, pre, post), params


def dense(f, n):
    return torch.stack([f(torch.eye(n, dtype=torch.float64)[i]) for i in range(n)], 1)


@pytest.mark.parametrize("algo", ["maml", "metasgd"])
def test_fisher_vector_product_is_the_hessian_of_the_kl_through_the_inner_update(algo):
    obj, params = problem(algo)
    leaves = list(params.values())
    n = sum(p.numel() for p in leaves)

    def kl_hvp(v):                       # the definition: second derivative of the mean KL in θ
        with torch.enable_grad():
            mean, ls = obj.outputs(differentiable=True)
            g = torch.autograd.grad(obj.kl(mean, ls), leaves, create_graph=True, allow_unused=True)
            gv = sum((a * b.view_as(a)).sum() for a, b in
                     zip(g, torch.split(v, [p.numel() for p in leaves])) if a is not None)
            h = torch.autograd.grad(gv, leaves, allow_unused=True)
        return rl._flat(h, leaves)

    F, H = dense(obj.fvp, n), dense(kl_hvp, n)
    assert torch.allclose(F, F.T, atol=1e-12)
    assert torch.allclose(F, H, rtol=1e-8, atol=1e-12), (F - H).abs().max()
    assert torch.linalg.eigvalsh(F).min() > -1e-10                    # positive semi-definite
    # the inner update matters: the Fisher of the pre-update policy alone is different
    assert (F - dense(lambda v: _fisher_without_inner_update(obj, params, v), n)).abs().max() > 1e-6


def _fisher_without_inner_update(obj, params, v):
    leaves = list(params.values())
    with torch.enable_grad():
        mean, ls = obj.policy(params, obj.obs), obj.policy.log_std(params)
        g = torch.autograd.grad(obj.kl(mean, ls), leaves, create_graph=True, allow_unused=True)
        gv = sum((a * b.view_as(a)).sum() for a, b in
                 zip(g, torch.split(v, [p.numel() for p in leaves])) if a is not None)
        return rl._flat(torch.autograd.grad(gv, leaves, allow_unused=True), leaves)


def test_conjugate_gradient_solves_the_fisher_system_like_a_dense_solve():
    obj, params = problem()
    n = sum(p.numel() for p in params.values())
    damping = 1e-3
    F = dense(lambda v: obj.fvp(v, damping), n)
    g = obj.gradient()
    exact = torch.linalg.solve(F, g)
    cg = rl.conjugate_gradient(lambda v: obj.fvp(v, damping), g, iters=3 * n, tol=1e-30)
    assert torch.allclose(cg, exact, rtol=1e-6, atol=1e-9), (cg - exact).abs().max()
    ten = rl.conjugate_gradient(lambda v: obj.fvp(v, damping), g, iters=10)
    # ten iterations (the paper's): a good direction, most of the way to the solution
    assert torch.dot(ten, exact) / (ten.norm() * exact.norm()) > 0.9


@pytest.mark.parametrize("max_kl", [0.01, 0.001])
def test_a_trpo_step_respects_the_kl_limit_and_improves_the_surrogate(max_kl):
    cfg = make_config(family="navigation", algo="maml", hidden=(8, 8), meta_batch=3, k_shot=5,
                      k_query=5, family_options={"trpo_kl": max_kl})
    tr = Trainer(cfg, "cpu")
    moved = 0
    for i in range(3):
        before = {k: v.detach().clone() for k, v in tr.params.items()}
        goals = tr.family.sample_tasks(3, tr.task_gen)
        gen_state = tr.task_gen.get_state()
        ret = rl.trpo_step(tr.algo, tr.model, tr.family, tr.params, goals, cfg, tr.task_gen, max_kl)
        assert torch.isfinite(ret)
        after = {k: v.detach().clone() for k, v in tr.params.items()}
        # rebuild the same problem (same rollouts) at the old θ and measure the accepted step
        tr.task_gen.set_state(gen_state)
        with torch.no_grad():
            for k, v in tr.params.items():
                v.copy_(before[k])
            ad, pre, _ = rl.adapt_policy(tr.algo, tr.model, tr.family, tr.params, goals, cfg,
                                         tr.task_gen, 1, 5)
            post = rl.rollout(tr.model, ad, goals, 5, tr.family, tr.task_gen)
        obj = rl.TrpoObjective(tr.algo, tr.model, tr.family, tr.params, cfg, pre, post)
        with torch.no_grad():
            for k, v in tr.params.items():
                v.copy_(after[k])
        sur, kl = obj.evaluate()
        if any(not torch.equal(before[k], after[k]) for k in before):
            moved += 1
            assert kl.item() <= max_kl * (1 + 1e-6), kl.item()
            assert sur.item() > 0.0          # the surrogate at θ_old is 0 (normalised advantages)
    assert moved >= 2


def test_trpo_is_an_option_of_navigation_that_keeps_the_default_keys():
    default = make_config(family="navigation")
    assert "trpo_kl" not in default.family_options                 # stored runs keep their keys
    assert make_config(family="navigation", family_options={"trpo_kl": 0}).key() == default.key()
    assert make_config(family="navigation", family_options={"trpo_kl": 0.01}).key() != default.key()
    with pytest.raises(ConfigError):
        make_config(family="navigation", family_options={"trpo_kl": -1})
    cfg = make_config(family="navigation", algo="reptile", hidden=(4,), meta_batch=2, k_shot=2,
                      k_query=2, iterations=1, family_options={"trpo_kl": 0.01})
    with pytest.raises(ConfigError, match="trpo_kl"):
        Trainer(cfg, "cpu").run(1)

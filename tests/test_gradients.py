"""Every algorithm's meta-gradient against a plain reference in float64.

The references loop over tasks one at a time, use an nn.Linear-style forward and
torch.autograd.grad (create_graph=True for second order): the textbook implementation, sharing
no code with the vectorised one under test."""
import pytest
import torch
import torch.nn.functional as F

from maml_viz.engine.algorithms import get_algorithm
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family


def ref_net(p, x):
    n = len([k for k in p if k.endswith(".w")])
    h = x
    for i in range(n):
        h = F.linear(h, p[f"l{i}.w"].t(), p[f"l{i}.b"])
        if i < n - 1:
            h = torch.relu(h)
    return h


def ref_meta_loss(theta, batch, steps, lr, first_order=False, keys=None, loss="mse"):
    """Mean over tasks of the query loss after `steps` SGD steps, one task at a time."""
    lossf = F.mse_loss if loss == "mse" else F.cross_entropy
    total = 0.0
    T = batch["xs"].shape[0]
    keys = list(theta) if keys is None else list(keys)
    for i in range(T):
        fast = dict(theta)
        for _ in range(steps):
            l = lossf(ref_net(fast, batch["xs"][i]), batch["ys"][i])
            gs = torch.autograd.grad(l, [fast[k] for k in keys], create_graph=not first_order)
            fast = dict(fast)
            for k, g in zip(keys, gs):
                step = lr[k] if isinstance(lr, dict) else lr
                fast[k] = fast[k] - step * g
        total = total + lossf(ref_net(fast, batch["xq"][i]), batch["yq"][i])
    return total / T


def setup(algo, family="sinusoid", hidden=(40, 40), T=6, K=5, seed=0, **kw):
    cfg = make_config(algo=algo, family=family, hidden=hidden, k_shot=K, k_query=K, **kw)
    fam = make_family(family)
    model = fam.make_model(cfg.hidden)
    gen = torch.Generator().manual_seed(seed)
    alg = get_algorithm(algo)
    params = {k: v.double().requires_grad_(True) for k, v in alg.init_params(model, cfg, gen).items()}
    b = fam.sample_batch(T, K, K, gen)
    batch = {k: (v.double() if v.is_floating_point() else v) for k, v in b.items()}
    return cfg, fam, model, alg, params, batch


def grads(loss, params):
    return torch.autograd.grad(loss, list(params.values()))


def assert_close(ga, gb, rtol=1e-8):
    for a, b in zip(ga, gb):
        scale = b.abs().max().clamp_min(1e-12)
        assert ((a - b).abs().max() / scale).item() < rtol, ((a - b).abs().max() / scale).item()


@pytest.mark.parametrize("steps", [1, 3])
def test_maml_meta_gradient_matches_second_order_reference(steps):
    cfg, fam, model, alg, params, batch = setup("maml", inner_steps=steps)
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    ref = grads(ref_meta_loss(params, batch, steps, cfg.inner_lr), params)
    assert_close(ours, ref)


def test_maml_meta_gradient_matches_finite_differences():
    cfg, fam, model, alg, params, batch = setup("maml", hidden=(3,), T=2, K=4, inner_steps=2,
                                                inner_lr=0.05)
    f = lambda p: alg.outer_loss(model, fam, p, batch, cfg)
    g = grads(f(params), params)
    eps = 1e-6
    for (name, v), gv in zip(params.items(), g):
        for idx in range(v.numel()):
            plus = {k: t.detach().clone() for k, t in params.items()}
            minus = {k: t.detach().clone() for k, t in params.items()}
            plus[name].view(-1)[idx] += eps
            minus[name].view(-1)[idx] -= eps
            fd = (f(plus) - f(minus)).item() / (2 * eps)
            assert abs(fd - gv.view(-1)[idx].item()) < 1e-6 * max(1.0, abs(fd)), (name, idx)


def test_fomaml_matches_first_order_reference_and_differs_from_maml():
    cfg, fam, model, alg, params, batch = setup("fomaml", inner_steps=2, inner_lr=0.02)
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    ref_fo = grads(ref_meta_loss(params, batch, 2, cfg.inner_lr, first_order=True), params)
    assert_close(ours, ref_fo)
    maml = grads(get_algorithm("maml").outer_loss(model, fam, params, batch, cfg), params)
    diff = max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(ours, maml))
    assert diff > 1e-3, "FOMAML and MAML meta-gradients should differ (is MAML secretly first-order?)"


def test_fomaml_first_order_gradient_is_query_gradient_at_adapted_params():
    # dθ'/dθ = I: the meta-gradient is the mean over tasks of the query gradient at θ'.
    cfg, fam, model, alg, params, batch = setup("fomaml", inner_steps=1)
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    with torch.no_grad():
        adapted = alg.adapt(model, fam, {k: v.detach() for k, v in params.items()},
                            batch["xs"], batch["ys"], 1, cfg)
    T = batch["xs"].shape[0]
    per_task = []
    for i in range(T):
        p = {k: v[i].detach().requires_grad_(True) for k, v in adapted.items()}
        l = F.mse_loss(ref_net(p, batch["xq"][i]), batch["yq"][i])
        per_task.append(torch.autograd.grad(l, list(p.values())))
    mean = [torch.stack([pt[j] for pt in per_task]).mean(0) for j in range(len(params))]
    assert_close(ours, mean)


def test_reptile_update_is_epsilon_times_mean_displacement():
    cfg, fam, model, alg, params, batch = setup("reptile")
    theta = {k: v.detach().clone() for k, v in params.items()}
    # reference: per-task SGD with the plain loop
    disp = {k: torch.zeros_like(v) for k, v in theta.items()}
    T = batch["xs"].shape[0]
    for i in range(T):
        fast = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        for _ in range(cfg.inner_steps):
            l = F.mse_loss(ref_net(fast, batch["xs"][i]), batch["ys"][i])
            gs = torch.autograd.grad(l, list(fast.values()))
            fast = {k: (v - cfg.inner_lr * g).detach().requires_grad_(True)
                    for (k, v), g in zip(fast.items(), gs)}
        for k in disp:
            disp[k] += (fast[k].detach() - theta[k]) / T
    alg.step(model, fam, params, None, batch, cfg)
    for k in theta:
        expected = theta[k] + cfg.outer_lr * disp[k]
        assert torch.allclose(params[k].detach(), expected, rtol=1e-10, atol=1e-12), k


def test_anil_adapts_only_the_head_and_matches_reference():
    cfg, fam, model, alg, params, batch = setup("anil", inner_steps=2)
    head = model.head_keys()
    adapted = alg.adapt(model, fam, params, batch["xs"], batch["ys"], 2, cfg)
    for k in params:
        if k in head:
            assert adapted[k].shape[0] == batch["xs"].shape[0]
        else:
            assert adapted[k] is params[k], f"ANIL changed body parameter {k} in the inner loop"
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    ref = grads(ref_meta_loss(params, batch, 2, cfg.inner_lr, keys=head), params)
    assert_close(ours, ref)


def test_metasgd_meta_gradient_matches_reference_and_reaches_step_sizes():
    cfg, fam, model, alg, params, batch = setup("metasgd", inner_steps=2)
    theta = {k: v for k, v in params.items() if not k.startswith("lr.")}
    lrs = {k[3:]: v for k, v in params.items() if k.startswith("lr.")}
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    ref = grads(ref_meta_loss(theta, batch, 2, lrs), params)
    assert_close(ours, ref)
    lr_grads = [g for k, g in zip(params, ours) if k.startswith("lr.")]
    assert all(g.abs().sum() > 0 for g in lr_grads)


def test_classification_meta_gradient_matches_reference():
    cfg, fam, model, alg, params, batch = setup("maml", family="blobs", T=3, K=2, inner_steps=2)
    ours = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
    ref = grads(ref_meta_loss(params, batch, 2, cfg.inner_lr, loss="ce"), params)
    assert_close(ours, ref)


def test_adapt_never_modifies_theta():
    cfg, fam, model, alg, params, batch = setup("maml", inner_steps=3)
    before = {k: v.detach().clone() for k, v in params.items()}
    with torch.no_grad():
        traj = alg.adapt(model, fam, params, batch["xs"], batch["ys"], 3, cfg, trajectory=True)
    assert len(traj) == 4
    for k in params:
        assert torch.equal(params[k].detach(), before[k])
    assert not torch.equal(traj[3]["l0.w"][0], before["l0.w"])


# ------------------------------------------------------------------ the hand-written meta-gradient
from maml_viz.engine.metagrad import meta_gradient  # noqa: E402


def hand(alg, model, fam, params, batch, cfg):
    theta, lr, keys = alg.adapt_spec(params, cfg, model)
    theta = {k: v.detach() for k, v in theta.items()}
    if isinstance(lr, dict):
        lr = {k: v.detach() for k, v in lr.items()}
    loss, g, lg = meta_gradient(model, fam, theta, batch, cfg.inner_steps, lr,
                                first_order=alg.first_order, keys=keys)
    return loss, [g[k] if k in g else lg[k[3:]] for k in params]


@pytest.mark.parametrize("algo,family,steps", [
    ("maml", "sinusoid", 1), ("maml", "sinusoid", 3), ("fomaml", "sinusoid", 2),
    ("anil", "sinusoid", 2), ("metasgd", "sinusoid", 2), ("maml", "blobs", 2),
    ("metasgd", "blobs", 1), ("maml", "linear", 3)])
def test_hand_written_meta_gradient_matches_reference(algo, family, steps):
    hidden = () if family == "linear" else (40, 40)
    cfg, fam, model, alg, params, batch = setup(algo, family=family, hidden=hidden,
                                                T=4, K=3 if family == "blobs" else 5,
                                                inner_steps=steps)
    theta = {k: v for k, v in params.items() if not k.startswith("lr.")}
    lrs = {k[3:]: v for k, v in params.items() if k.startswith("lr.")} or cfg.inner_lr
    keys = model.head_keys() if algo == "anil" else None
    ref_loss = ref_meta_loss(theta, batch, steps, lrs, first_order=(algo == "fomaml"), keys=keys,
                             loss="ce" if family == "blobs" else "mse")
    ref = grads(ref_loss, params)
    loss, ours = hand(alg, model, fam, params, batch, cfg)
    assert abs(loss.item() - ref_loss.item()) < 1e-10
    assert_close(ours, ref)


def test_training_steps_use_the_hand_written_gradient_and_agree_with_autograd():
    for algo in ("maml", "fomaml", "anil", "metasgd"):
        cfg, fam, model, alg, params, batch = setup(algo, inner_steps=2)
        auto = grads(alg.outer_loss(model, fam, params, batch, cfg), params)
        _, ours = hand(alg, model, fam, params, batch, cfg)
        assert_close(ours, auto)

"""The example plugin's own tests: the square-wave family's tasks, and StepMAML's meta-gradient
(θ and the per-step step sizes) against a plain float64 reference that loops over tasks with
torch.autograd (the same kind of reference as maml-viz's tests/test_gradients.py), and a few
iterations of training and evaluation through maml_viz.

They need the plugin installed (`pip install -e examples/maml_viz_square`: its entry points
register it) and maml_viz importable (run from the checkout, or it is found two folders up)."""
import math
import os
import sys

CHECKOUT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if os.path.isdir(os.path.join(CHECKOUT, "maml_viz")) and CHECKOUT not in sys.path:
    sys.path.append(CHECKOUT)

import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.tasks import FAMILIES  # noqa: E402
from maml_viz_square.algorithm import KEY, MAX_STEPS, StepMAML  # noqa: E402
from maml_viz_square.family import SquareWave  # noqa: E402

torch.set_num_threads(1)


def test_the_plugin_is_installed_and_registered():
    assert FAMILIES.get("square") is SquareWave, \
        "not registered: pip install -e examples/maml_viz_square"


def test_square_waves_take_two_values_per_task_and_respect_the_ranges():
    fam = SquareWave.make({})
    gen = torch.Generator().manual_seed(0)
    tasks = fam.sample_tasks(200, gen)
    assert tasks.shape == (200, 2)
    assert float(tasks[:, 0].min()) >= 0.1 and float(tasks[:, 0].max()) <= 5.0
    assert float(tasks[:, 1].min()) >= 0.0 and float(tasks[:, 1].max()) <= math.pi
    x, y = fam.sample_points(tasks, 50, gen)
    assert torch.allclose(y.abs(), tasks[:, 0, None, None].expand_as(y))   # ±A only
    want = tasks[:, 0, None, None] * torch.sign(torch.sin(x - tasks[:, 1, None, None]))
    assert torch.equal(y, want)
    with pytest.raises(Exception, match="amp_min"):
        SquareWave.make({"amp_min": 6.0})


def ref_net(p, x):
    n = len([k for k in p if k.endswith(".w")])
    h = x
    for i in range(n):
        h = F.linear(h, p[f"l{i}.w"].t(), p[f"l{i}.b"])
        if i < n - 1:
            h = torch.relu(h)
    return h


def ref_meta_loss(theta, rates, batch, steps):
    """Mean over tasks of the query loss after `steps` SGD steps with step sizes rates[s], one
    task at a time (second order: create_graph)."""
    total = 0.0
    n_tasks = batch["xs"].shape[0]
    for i in range(n_tasks):
        fast = dict(theta)
        for s in range(steps):
            loss = F.mse_loss(ref_net(fast, batch["xs"][i]), batch["ys"][i])
            gs = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
            fast = {k: v - rates[s] * g for (k, v), g in zip(fast.items(), gs)}
        total = total + F.mse_loss(ref_net(fast, batch["xq"][i]), batch["yq"][i])
    return total / n_tasks


@pytest.mark.parametrize("steps", [1, 3])
def test_meta_gradient_matches_a_per_task_float64_reference(steps):
    cfg = make_config(family="square", algo="stepmaml", hidden=(20, 20), k_shot=5, k_query=5,
                      inner_steps=steps, inner_lr=0.05)
    fam = SquareWave.make({})
    model = fam.make_model(cfg.hidden)
    alg = StepMAML()
    gen = torch.Generator().manual_seed(1)
    params = {k: v.double() for k, v in alg.init_params(model, cfg, gen).items()}
    params[KEY] = params[KEY] * torch.linspace(0.5, 1.5, MAX_STEPS, dtype=torch.float64)
    params = {k: v.requires_grad_(True) for k, v in params.items()}
    b = fam.sample_batch(6, 5, 5, gen)
    batch = {k: v.double() for k, v in b.items()}

    ours = torch.autograd.grad(alg.outer_loss(model, fam, params, batch, cfg),
                               list(params.values()))
    theta = {k: v for k, v in params.items() if k != KEY}
    ref = torch.autograd.grad(ref_meta_loss(theta, params[KEY], batch, steps),
                              list(params.values()), allow_unused=True)
    for k, a, r in zip(params, ours, ref):
        r = torch.zeros_like(a) if r is None else r
        assert torch.allclose(a, r, rtol=1e-8, atol=1e-10), (k, (a - r).abs().max())
    g = dict(zip(params, ours))
    assert (g[KEY][:steps] != 0).all() and (g[KEY][steps:] == 0).all()   # only trained steps


def test_a_few_iterations_train_the_step_sizes_and_evaluate():
    from maml_viz.runs.evaluate import evaluate
    from maml_viz.engine.train import Trainer

    cfg = make_config(family="square", algo="stepmaml", iterations=30, inner_steps=2,
                      hidden=(20, 20))
    tr = Trainer(cfg, "cpu")
    while not tr.done:
        tr.run(100)
    run = tr.result()
    rates = run.params[KEY]
    assert rates.shape == (MAX_STEPS,) and torch.isfinite(rates).all()
    assert (rates[:2] != cfg.inner_lr).all() and (rates[2:] == cfg.inner_lr).all()
    df = evaluate(run, n_tasks=20, steps=3)
    assert list(df["step"]) == [0, 1, 2, 3] and df["mean"].notna().all()
    assert set(df["lr"]) <= {"learned"} | {f"learned x {m:g}" for m in (0.1, 0.2, 0.5, 2, 5, 10)}

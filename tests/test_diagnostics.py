"""Inside the network (diagnostics.py) on cases with known answers, and the training signals
recorded in the history (signals.py) leaving training bit for bit unchanged."""
import math

import numpy as np
import pytest
import torch

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import Trainer, train
from maml_viz.runs.evaluate import evaluate
from maml_viz.runs.files import load_run
from maml_viz.runs.saving import save_run
from maml_viz.views import diagnostics as dg


def short(algo, family="sinusoid", **kw):
    return train(make_config(family=family, algo=algo, iterations=kw.pop("iterations", 30),
                             meta_batch=4, **kw), "cpu")


# ------------------------------------------------------------------ how far layers move
def test_anil_body_moves_exactly_zero_and_keeps_its_features():
    run = short("anil")
    w = dg.weight_change(run, n_tasks=8, steps=3)
    body, head = w[w["layer"].isin(["l0", "l1"])], w[w["layer"] == "l2"]
    assert (body["relative"] == 0.0).all() and (body["absolute"] == 0.0).all()
    assert not body["adapted"].any()
    assert (head[head["step"] > 0]["relative"] > 0).all() and head[head["step"] > 0]["adapted"].all()
    c = dg.representation_similarity(run, n_tasks=8, steps=3)
    hidden = c[c["layer"].isin(["l0", "l1"])]
    assert np.allclose(hidden["cka"], 1.0, atol=1e-12)          # the same features throughout
    assert c[(c["layer"] == "l2") & (c["step"] == 0)]["cka"].iloc[0] == pytest.approx(1.0, abs=1e-12)


def test_a_zero_step_size_moves_nothing():
    run = short("maml")
    w = dg.weight_change(run, n_tasks=6, steps=2, lr_scale=0.0)
    assert (w["absolute"] == 0.0).all() and (w["relative"] == 0.0).all()
    sgd = short("metasgd")
    sgd.params = {k: (torch.zeros_like(v) if k.startswith("lr.") else v)
                  for k, v in sgd.params.items()}                  # learned step sizes all 0
    w = dg.weight_change(sgd, n_tasks=6, steps=2)
    assert (w["absolute"] == 0.0).all()
    c = dg.representation_similarity(sgd, n_tasks=6, steps=2)
    assert np.allclose(c["cka"], 1.0, atol=1e-12)


def test_one_step_moves_each_layer_by_alpha_times_its_gradient():
    run = short("maml")
    b = dg.tasks(run, n_tasks=5)
    w = dg.weight_change(run, n_tasks=5, steps=1, task=3)
    theta = {k: v.detach().clone().requires_grad_(True) for k, v in run.params.items()}
    fam, model = run.family, run.model
    loss = fam.loss(model(theta, b["xs"][3:4]), b["ys"][3:4]).sum()
    grads = dict(zip(theta, torch.autograd.grad(loss, list(theta.values()))))
    for layer in ("l0", "l1", "l2"):
        names = [f"{layer}.w", f"{layer}.b"]
        g = math.sqrt(sum(float(grads[p].double().pow(2).sum()) for p in names))
        t = math.sqrt(sum(float(run.params[p].double().pow(2).sum()) for p in names))
        row = w[(w["layer"] == layer) & (w["step"] == 1)].iloc[0]
        assert row["absolute"] == pytest.approx(run.config.inner_lr * g, rel=1e-4)
        assert row["relative"] == pytest.approx(run.config.inner_lr * g / t, rel=1e-4)
        assert row["tasks"] == 1


# ------------------------------------------------------------------ CKA
def cka_reference(x, y):
    """tr(K H L H) / sqrt(tr(K H K H) tr(L H L H)), K = X Xᵀ, L = Y Yᵀ, H the centring matrix."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, m = x @ x.T, y @ y.T
    return np.trace(k @ h @ m @ h) / math.sqrt(np.trace(k @ h @ k @ h) * np.trace(m @ h @ m @ h))


def test_linear_cka_known_answers_and_invariances():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 6))
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))            # an orthogonal matrix
    t = torch.tensor
    assert float(dg.linear_cka(t(x), t(x))) == pytest.approx(1.0, abs=1e-12)
    assert float(dg.linear_cka(t(x), t(3.7 * x @ q))) == pytest.approx(1.0, abs=1e-12)
    assert float(dg.linear_cka(t(x), t(x + 5.0))) == pytest.approx(1.0, abs=1e-12)  # a shift
    y = rng.standard_normal((30, 4))
    assert float(dg.linear_cka(t(x), t(y))) == pytest.approx(cka_reference(x, y), rel=1e-10)
    wide = rng.standard_normal((5, 40))                           # more features than inputs
    w2 = rng.standard_normal((5, 50))
    assert float(dg.linear_cka(t(wide), t(w2))) == pytest.approx(cka_reference(wide, w2),
                                                                 rel=1e-10)
    assert float(dg.linear_cka(t(wide), t(2 * wide))) == pytest.approx(1.0, abs=1e-12)
    batch = dg.linear_cka(t(np.stack([x, x])), t(np.stack([x, y[:, :4] @ np.ones((4, 6))])))
    assert batch.shape == (2,) and float(batch[0]) == pytest.approx(1.0)
    assert math.isnan(float(dg.linear_cka(t(np.ones((5, 3))), t(x[:5]))))   # no variance


# ------------------------------------------------------------------ Meta-SGD, batch norm, bad input
def test_metasgd_step_sizes_per_layer():
    run = short("metasgd")
    h = dg.step_sizes(run, bins=10)
    assert h["initial"] == run.config.inner_lr and len(h["edges"]) == 11
    assert [x["layer"] for x in h["layers"]] == ["l0", "l1", "l2"]
    for x in h["layers"]:
        v = torch.cat([run.params[f"lr.{x['layer']}.{p}"].flatten() for p in ("w", "b")])
        assert x["count"] == v.numel() == sum(x["counts"])
        assert x["min"] == pytest.approx(float(v.min())) and x["max"] == pytest.approx(float(v.max()))
    with pytest.raises(ValueError, match="only Meta-SGD"):
        dg.step_sizes(short("maml"))


def test_batch_norm_on_the_batch_or_on_the_support_set():
    cfg = make_config(family="omniglot", algo="maml", hidden=(4, 4), meta_batch=2, iterations=2,
                      family_options={"n_way": 3, "image_size": 16})
    run = train(cfg, "cpu")
    model, b = run.model, dg.tasks(run, n_tasks=3)
    own, st = dg.convnet_forward(model, run.params, b["xq"])
    assert torch.allclose(own, model(run.params, b["xq"]), atol=1e-5)
    again, _ = dg.convnet_forward(model, run.params, b["xq"], st)   # the same statistics
    assert torch.allclose(again, own, atol=1e-5)
    _, sup = dg.convnet_forward(model, run.params, b["xs"])
    other, _ = dg.convnet_forward(model, run.params, b["xq"], sup)
    assert not torch.allclose(other, own, atol=1e-3)                # support statistics differ
    df = dg.batchnorm_accuracy(run, n_tasks=3, steps=2)
    ev = evaluate(run, steps=2, n_tasks=3, lr="trained")
    assert df["batch"].tolist() == pytest.approx(ev["mean"].tolist())   # the protocol's numbers
    assert ((df["support"] >= 0) & (df["support"] <= 1)).all() and len(df) == 3
    with pytest.raises(ValueError, match="conv net"):
        dg.batchnorm_accuracy(short("maml"))


def test_bad_input_says_what_is_wrong():
    nav = train(make_config(family="navigation", algo="scratch", hidden=(8,)), "cpu")
    with pytest.raises(ValueError, match="supervised"):
        dg.weight_change(nav, n_tasks=2)
    run = short("maml", iterations=2)
    for kw, msg in (({"n_tasks": 0}, "n_tasks"), ({"steps": -1}, "steps"),
                    ({"lr_scale": -1.0}, "lr_scale"), ({"task": 9, "n_tasks": 3}, None)):
        if msg is None:
            assert len(dg.weight_change(run, **kw)) > 0              # n_tasks grows to the task
            continue
        with pytest.raises(ValueError, match=msg):
            dg.weight_change(run, **kw)
    with pytest.raises(ValueError, match="task must be"):
        dg.representation_similarity(run, n_tasks=3, task=-1)


# ------------------------------------------------------------------ training signals
def test_training_signals_are_recorded_and_leave_training_bit_for_bit(tmp_path, monkeypatch):
    from maml_viz.engine import signals
    assert [signals.Signals.interval(e) for e in (0, 10, 30, 100, 200)] == [0, 100, 120, 100, 200]
    monkeypatch.setattr(signals, "MIN_INTERVAL", 1)          # measure at every validation here
    for algo in ("maml", "reptile", "metasgd", "pretrained"):
        cfg = make_config(family="sinusoid", algo=algo, iterations=40, meta_batch=4)
        a = Trainer(cfg, "cpu", validate_every=10)
        b = Trainer(cfg, "cpu", validate_every=10, signals=False)
        a.run(25), a.run(15), b.run(40)
        assert all(torch.equal(a.params[k], b.params[k]) for k in a.params), algo
        assert a.history["meta_loss"] == b.history["meta_loss"]
        assert "meta_grad_norm" not in b.history
        got = {i: (g, s0, s1) for i, g, s0, s1 in zip(
            a.history["iteration"], a.history["meta_grad_norm"], a.history["support_loss"],
            a.history["support_loss_adapted"]) if g is not None}
        assert sorted(got) == [10, 20, 30, 40], algo
        assert all(g > 0 and s0 > 0 and s1 > 0 for g, s0, s1 in got.values())
    # the norm is the norm of the gradient the algorithm's own step follows (MAML: autograd)
    cfg = make_config(family="sinusoid", algo="maml", iterations=10, meta_batch=4)
    t = Trainer(cfg, "cpu", validate_every=10)
    t.run(10)
    sig = t.signals
    theta = {k: v.detach().clone().requires_grad_(True) for k, v in t.params.items()}
    loss = t.algo.outer_loss(t.model, t.family, theta, sig.batch, cfg)
    g = torch.autograd.grad(loss, list(theta.values()))
    ref = math.sqrt(sum(float(x.double().pow(2).sum()) for x in g))
    assert t.history["meta_grad_norm"][-1] == pytest.approx(ref, rel=1e-4)
    # stored with the run and read back
    run = load_run(save_run(a.result(), tmp_path))
    for c in ("meta_grad_norm", "support_loss", "support_loss_adapted"):
        assert [x is None for x in run.history[c]] == [x is None for x in a.history[c]]
        kept = [(x, y) for x, y in zip(run.history[c], a.history[c]) if y is not None]
        assert [x for x, _ in kept] == pytest.approx([y for _, y in kept], rel=1e-5)
    # no signals for RL or an untrained baseline
    nav = Trainer(make_config(family="navigation", algo="maml", hidden=(8,), iterations=2), "cpu")
    assert nav.signals.every == 0 and "meta_grad_norm" not in nav.history
    assert Trainer(make_config(family="sinusoid", algo="scratch"), "cpu").signals.every == 0

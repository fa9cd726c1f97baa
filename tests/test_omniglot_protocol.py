"""Omniglot's evaluation protocol (issue 25): the three alphabet splits (no validation or test
drawing reaches training or the step-size choice), one batch-norm rule for queries, the head of
a network evaluated at another N than it was trained for, the fast inference path and the
hand-derived double backward of batch norm. Small networks, seconds."""
import json

import pytest
import torch
import torch.nn.functional as F

from maml_viz.engine.conv_ops import _native, bn_backward
from maml_viz.engine.nets import ConvNet, proto_head
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.tasks import omniglot as og
from maml_viz.engine.train import Run, Trainer
from maml_viz.engine.validation import Validator
from maml_viz.runs.evaluate import benchmark, evaluate, to_json


def tiny_run(algo="maml", n_way=5, iterations=0, image_size=28, **kw):
    cfg = make_config(family="omniglot", algo=algo, hidden=(4, 4), iterations=iterations,
                      family_options={"n_way": n_way, "image_size": image_size}, **kw)
    return Trainer(cfg, "cpu", validate_every=0).result()


# ----------------------------------------------------------------------------- splits
def drawings(split):
    """The bytes of every drawing of a split's characters (train: with its rotations)."""
    pool = og.image_pool(28)
    ids = og.class_ids(split, split == "train")
    return {bytes(img.numpy()) for img in pool[ids].reshape(-1, 784)}


def as_bytes(x):
    return [bytes(v) for v in (x * 255).round().to(torch.uint8).reshape(-1, 784).numpy()]


def test_no_validation_or_test_drawing_reaches_training_or_the_step_size_choice(monkeypatch):
    train, val, test = drawings("train"), drawings("validation"), drawings("test")
    assert not (train & val) and not (train & test) and not (val & test)
    fam = make_family("omniglot")
    b = fam.sample_batches(5, 32, 1, 1, torch.Generator().manual_seed(0))   # what training sees
    seen = as_bytes(b["xs"]) + as_bytes(b["xq"])
    assert set(seen) <= train
    # the training chart's validation curve: validation drawings only
    run = tiny_run()
    v = Validator(run.family, run.algorithm, run.model, run.config, torch.device("cpu"), 1)
    xs, _, xq, _ = v.batch
    assert set(as_bytes(xs) + as_bytes(xq)) <= val
    # the evaluation: the step size is chosen on validation drawings, tested on test drawings
    drawn = []
    real = og.Omniglot.eval_batch

    def spy(self, n, k, q, gen, split="test"):
        out = real(self, n, k, q, gen, split)
        drawn.append((split, set(as_bytes(out["xs"]) + as_bytes(out["xq"]))))
        return out

    monkeypatch.setattr(og.Omniglot, "eval_batch", spy)
    df = evaluate(run, n_tasks=3, steps=1)
    assert {s for s, _ in drawn} == {"validation", "test"}
    assert all(d <= (val if s == "validation" else test) for s, d in drawn)
    proto = df.attrs["protocol"]
    assert "Early Aramaic" in proto["step_size"] and "Korean, Tagalog" in proto["splits"]
    assert "meta-training: Balinese, Greek" in proto["splits"] and "Lake" in proto["splits"]


# ----------------------------------------------------------------------------- batch norm rule
def test_queries_are_scored_in_the_batches_training_used():
    fam = make_family("omniglot", {"n_way": 3, "image_size": 16})
    model = fam.make_model((4, 4))
    gen = torch.Generator().manual_seed(0)
    p = {k: v.double() for k, v in model.init(gen).items()}
    b = fam.eval_batch(2, 1, 4, gen)
    xq = b["xq"].double()                                     # [2, 3 classes * 4 drawings]
    for kq in (1, 2):
        out = fam.predict(model, p, xq, kq)
        runs = xq.view(2, 3, 4 // kq, kq, -1)
        for r in range(4 // kq):                              # each run: kq drawings per class
            x = runs[:, :, r].reshape(2, 3 * kq, -1)
            ref = model(p, x).view(2, 3, kq, -1)
            assert torch.allclose(out.view(2, 3, 4 // kq, kq, -1)[:, :, r], ref, atol=1e-10)
    assert torch.allclose(fam.predict(model, p, xq, 4), model(p, xq))   # one batch, as trained
    assert not torch.allclose(fam.predict(model, p, xq, 1), model(p, xq))


def ref_conv(p, x, side):
    h = x.view(-1, 1, side, side)
    i = 0
    while f"c{i}.w" in p:
        h = F.conv2d(h, p[f"c{i}.w"], padding=1)
        h = F.batch_norm(h, None, None, p[f"bn{i}.g"], p[f"bn{i}.b"], training=True, eps=1e-5)
        h = F.max_pool2d(F.relu(h), 2)
        i += 1
    return F.linear(h.flatten(1), p["head.w"].t(), p["head.b"])


def test_inference_path_matches_the_textbook_network(monkeypatch):
    """forward() without a graph (im2col first layer, pooling by maxima, slices of MAX_IMAGES;
    runs of stat_batch images: one convolution per task, conv_ops.task_runs) against per-task
    F.conv2d/F.batch_norm."""
    fam = make_family("omniglot", {"n_way": 3, "image_size": 20})
    model = fam.make_model((5, 6, 3))
    gen = torch.Generator().manual_seed(1)
    T = 3
    p = {k: v.double() + 0.05 * torch.randn((T, *v.shape), generator=gen, dtype=torch.double)
         for k, v in model.init(gen).items()}
    x = fam.eval_batch(T, 1, 4, gen)["xq"].double()           # [T, 12, 400]
    monkeypatch.setattr(ConvNet, "MAX_IMAGES", 20)           # slices of one task
    with torch.no_grad():
        for stat in (12, 6, 3):
            out = model(p, x, stat_batch=stat)
            for t in range(T):
                pt = {k: v[t] for k, v in p.items()}
                ref = torch.cat([ref_conv(pt, x[t, s:s + stat], 20) for s in range(0, 12, stat)])
                assert torch.allclose(out[t], ref, atol=1e-10), stat
    with pytest.raises(ValueError, match="does not divide"):
        model(p, x, stat_batch=5)


def test_batch_norm_double_backward_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    z, dy = (torch.randn(3, 4, 5, 5, generator=gen, dtype=torch.double, requires_grad=True)
             for _ in range(2))
    g = torch.randn(4, generator=gen, dtype=torch.double, requires_grad=True)
    ups = [torch.randn(3, 4, 5, 5, generator=gen, dtype=torch.double),
           torch.randn(4, generator=gen, dtype=torch.double),
           torch.randn(4, generator=gen, dtype=torch.double)]

    def both(fn):
        _, mean, invstd = torch.ops.aten.native_batch_norm(z, g, None, None, None, True, 0.0, 1e-5)
        outs = fn(dy, z, g, mean, invstd, 1e-5, [True, True, True])
        return outs, torch.autograd.grad(sum((o * u).sum() for o, u in zip(outs, ups)),
                                         [dy, z, g])

    ours, g_ours = both(bn_backward)
    ref, g_ref = both(_native)                  # autograd's batchnorm_double_backward
    for a, b in zip(list(ours) + list(g_ours), list(ref) + list(g_ref)):
        assert torch.allclose(a, b, atol=1e-12)
    with torch.no_grad():                       # without a graph: the native kernel, as masked
        out = bn_backward(dy, z, g, *torch.ops.aten.native_batch_norm(
            z, g, None, None, None, True, 0.0, 1e-5)[1:], 1e-5, [True, False, True])
    assert out[1] is None and torch.allclose(out[0], ref[0])


# ----------------------------------------------------------------------------- another N
def test_a_widened_head_starts_from_the_support_set_and_its_first_step_moves_the_body():
    run = tiny_run(image_size=16)                        # trained for 5 classes
    run = Run(run.config, {k: v.double() for k, v in run.params.items()})
    fam20 = make_family("omniglot", {"n_way": 20, "image_size": 16})
    gen = torch.Generator().manual_seed(0)
    b = fam20.eval_batch(4, 2, 1, gen)                   # 2 drawings per class to learn from
    b = {k: v.double() if v.is_floating_point() else v for k, v in b.items()}
    wide = fam20.make_model(run.config.hidden)
    theta = proto_head(run.model, run.params, b["xs"], b["ys"], 20)
    assert theta["head.w"].shape == (4, run.model.feat_dim, 20)
    f = run.model.features(run.params, b["xs"])          # [4, 40, F], class-major
    c = f.view(4, 20, 2, -1).mean(2)                     # the prototypes
    logits = wide(theta, b["xs"])
    d2 = -((f.unsqueeze(2) - c.unsqueeze(1)) ** 2).sum(-1)      # −‖f_i − c_k‖²
    assert torch.allclose(logits - logits[..., :1], d2 - d2[..., :1], atol=1e-2, rtol=1e-4)
    one = run.algorithm.adapt(wide, fam20, theta, b["xs"], b["ys"], 1, run.config)
    body = [k for k in theta if not k.startswith("head")]
    moved = {k: float((one[k] - theta[k]).abs().max()) for k in theta}
    assert all(moved[k] > 1e-4 for k in body) and moved["head.w"] > 1e-4, moved
    # an averaged head (every row the same) gives the body a zero gradient (to rounding)
    avg = {**run.params, "head.w": run.params["head.w"].mean(-1, keepdim=True).expand(-1, 20),
           "head.b": run.params["head.b"].mean().expand(20)}
    one_avg = run.algorithm.adapt(wide, fam20, avg, b["xs"], b["ys"], 1, run.config)
    assert all(float((one_avg[k] - avg[k]).abs().max()) < 1e-12 for k in body)
    assert float((one_avg["head.w"] - avg["head.w"]).abs().max()) > 0
    # the evaluation and Lake's runs use it, and say so
    run = tiny_run()
    df = evaluate(run, n_tasks=2, steps=1, lr="trained", n_way=20)
    assert "Proto-MAML" in df.attrs["protocol"]["head"] and df.attrs["protocol"]["n_way"] == 20
    lake = benchmark(run, "lake20", steps=1)
    assert "Proto-MAML" in lake.attrs["protocol"]["head"]
    assert lake.loc[0, "mean"] > 0.1                   # a nearest-prototype start, not chance
    same = evaluate(tiny_run(n_way=20), n_tasks=2, steps=1, lr="trained")
    assert same.attrs["protocol"]["head"] == "as trained (20-way)"


# ----------------------------------------------------------------------------- small fixes
def test_one_task_has_a_mean_but_no_interval_and_is_not_diverged():
    out = to_json(evaluate(tiny_run(), n_tasks=1, steps=1, lr="trained"))
    assert all(r["mean"] is not None and r["ci95"] is None and "diverged" not in r
               for r in out["results"])
    json.dumps(out, allow_nan=False)


def test_evaluate_with_too_many_shots_says_what_fits(tmp_path, capsys):
    from maml_viz.cli import main
    from maml_viz.runs.saving import save_run
    path = save_run(tiny_run(), tmp_path)
    assert main(["evaluate", str(path), "--k-shot", "6", "--tasks", "2", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "--k-shot" in err and "at most 5" in err and "15 queries" in err


def test_smaller_images_are_the_exact_area_average():
    q = og.area_matrix(28, 20)
    assert q.shape == (20, 28) and abs(q.sum(1) - 1).max() < 1e-12
    assert abs(q.sum(0) - 20 / 28).max() < 1e-12          # every source pixel counts fully
    assert q[0, 0] == pytest.approx(1 / 1.4) and q[0, 1] == pytest.approx(0.4 / 1.4)
    imgs = og.load_asset()["images"][:3, :2]
    half = og.resize(imgs, 14).view(3, 2, 14, 14)             # 2x2 blocks exactly
    blocks = torch.from_numpy(imgs).double().view(3, 2, 14, 2, 14, 2).mean((3, 5))
    assert torch.equal((half * 255).round(), blocks.round())
    pool = og.image_pool(20)
    assert torch.equal(pool[0, :2].float() / 255, og.resize(imgs[0], 20))


def test_pooling_by_maxima_is_atens_on_ties_and_odd_sizes():
    from maml_viz.engine.conv_ops import pool_max
    gen = torch.Generator().manual_seed(0)
    for shape in ((2, 3, 6, 8), (2, 3, 7, 7), (1, 2, 3, 3)):
        y = torch.randint(0, 3, shape, generator=gen).double()        # many ties
        assert torch.equal(pool_max(y), F.max_pool2d(y, 2))


def test_validation_scores_step_zero_once_and_each_test_step_at_its_own_step_size():
    """Step 0 (before adapting) does not depend on the step size: the validation of the grid
    scores it once (m = 1) and the other multipliers skip it; the steps after are the same.
    The test scores each step only at the step size chosen for it, adapting no further than
    needed: the steps it scores equal the full evaluation's, and the whole evaluation is the same
    as one that scores every step at every chosen step size."""
    from maml_viz.runs import evaluate as ev
    run = tiny_run()
    args = (run.family, run, 1, 2, 3, 1234, 0.5, "val", 20, 5, ev._Counter(None, 0))
    full, skipped = ev._task_scores(*args), ev._task_scores(*args, only=[1, 2])
    assert torch.isnan(skipped[:, 0]).all() and torch.equal(full[:, 1:], skipped[:, 1:])
    early = ev._task_scores(*args, only=[0, 1])
    assert torch.isnan(early[:, 2]).all() and torch.equal(full[:, :2], early[:, :2])
    calls, real = [], ev._task_scores

    def every_step(*a):                        # the last argument: the steps asked for
        calls.append(a[-1])
        return real(*a[:-1], None)
    picked = ev.evaluate(run, n_tasks=4, steps=2)               # step sizes validated
    ev._task_scores = every_step
    try:
        again = ev.evaluate(run, n_tasks=4, steps=2)
    finally:
        ev._task_scores = real
    chosen = list(picked["lr_scale"])
    assert sorted(s for c in calls[-len(set(chosen)):] for s in c) == [0, 1, 2]   # a partition
    assert picked[["step", "mean"]].equals(again[["step", "mean"]])


def test_an_evaluation_on_more_tasks_replaces_the_stored_one(tmp_path):
    """The bundled runs are trained with a one-task evaluation and evaluated afterwards: the
    store keeps the evaluation on more tasks (and not the other way round)."""
    from maml_viz.runs.store import RunStore
    store = RunStore(tmp_path)
    run = tiny_run()
    run.metrics = to_json(evaluate(run, n_tasks=1, steps=1, lr="trained"))
    store.put(run)
    run.metrics = to_json(evaluate(run, n_tasks=3, steps=1, lr="trained"))
    store.put(run)
    assert RunStore(tmp_path).get(run.config).metrics["protocol"]["tasks"] == 3
    run.metrics = to_json(evaluate(run, n_tasks=2, steps=1, lr="trained"))
    store.put(run)
    assert RunStore(tmp_path).get(run.config).metrics["protocol"]["tasks"] == 3

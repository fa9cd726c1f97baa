"""Omniglot: the shipped asset (hash, licence, provenance, rebuild from the source zips), the
task family (alphabet split, label shuffling, disjoint support and query drawings), the
convolutional network and its meta-gradients, and the lake20 benchmark."""
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSET = ROOT / "assets" / "omniglot"


def _build_module():
    spec = importlib.util.spec_from_file_location("omniglot_build", ASSET / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build = _build_module()


# ----------------------------------------------------------------------------- the asset
def test_asset_matches_its_manifest_and_ships_licence_and_provenance():
    man = json.loads((ASSET / "manifest.json").read_text())
    assert build.file_hash(ASSET / man["file"]) == man["sha256"]
    with np.load(ASSET / man["file"], allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    assert build.content_hash(arrays) == man["content_sha256"]
    assert {k: [v.dtype.str, list(v.shape)] for k, v in arrays.items()} == \
        {k: [v["dtype"], v["shape"]] for k, v in man["arrays"].items()}
    lic = (ASSET / "LICENSE").read_text()
    assert "MIT License" in lic and "Brenden Lake" in lic
    readme = (ASSET / "README.md").read_text()
    assert man["source_commit"] in readme and "brendenlake/omniglot" in readme
    assert arrays["images"].shape == (242, 20, 28, 28)
    assert sorted(np.bincount(arrays["lake_labels"].ravel().astype(int))) == [20] * 20


def test_asset_is_rebuilt_exactly_from_the_source_zips():
    """With the source zips at hand (the team's machines), the arrays are rebuilt and must match
    the manifest. Without them (a clean clone in CI), the converter still runs, on zips made
    here in the same layout, and the shipped asset's hashes are checked by the test above."""
    src = build.find_source()
    if src is not None:
        assert build.content_hash(build.build(src)) == \
            json.loads((ASSET / "manifest.json").read_text())["content_sha256"]
    else:
        print("source zips not found: checked the converter on synthetic zips only")


def _png(ink: np.ndarray) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1").save(buf, "PNG")
    return buf.getvalue()


def test_converter_on_synthetic_zips(tmp_path):
    rng = np.random.default_rng(0)
    drawings = {}
    for zname, alphabets in ((build.BACKGROUND[0], ("Alpha", "Shared")),
                             (build.BACKGROUND[1], ("Shared", "Beta"))):
        with zipfile.ZipFile(tmp_path / zname, "w") as z:
            for a in alphabets:
                for c in (1, 2):
                    for d in range(1, 21):
                        key = (a, c, d)
                        if key not in drawings:
                            drawings[key] = rng.random((105, 105)) < 0.1
                        z.writestr(f"{zname[:-4]}/{a}/character{c:02d}/{c:04d}_{d:02d}.png",
                                   _png(drawings[key]))
    with zipfile.ZipFile(tmp_path / build.RUNS, "w") as z:
        for r in range(1, 21):
            lines = []
            for i in range(1, 21):
                z.writestr(f"run{r:02d}/training/class{i:02d}.png", _png(np.zeros((105, 105), bool)))
                z.writestr(f"run{r:02d}/test/item{i:02d}.png", _png(np.ones((105, 105), bool)))
                lines.append(f"run{r:02d}/test/item{i:02d}.png run{r:02d}/training/class{21 - i:02d}.png")
            z.writestr(f"run{r:02d}/class_labels.txt", "\n".join(lines) + "\n")
    out = build.build(tmp_path)
    # "Shared" is in both zips, identical: kept once
    assert list(out["alphabets"]) == ["Alpha", "Beta", "Shared"]
    assert out["images"].shape == (6, 20, 28, 28)
    assert list(out["char_names"][:2]) == ["Alpha/character01", "Alpha/character02"]
    # ink is 255 after inversion; the area average keeps the amount of ink (~10% of pixels)
    img = out["images"][0, 0].astype(float) / 255
    assert abs(img.mean() - drawings[("Alpha", 1, 1)].mean()) < 0.01
    assert (out["lake_support"] == 0).all() and (out["lake_query"] == 255).all()
    assert list(out["lake_labels"][0]) == list(range(19, -1, -1))
    # a drawing that differs between the two zips is an error, not silently one of them
    with zipfile.ZipFile(tmp_path / build.BACKGROUND[1], "a") as z:
        z.writestr("x/Alpha/character01/0001_01.png", _png(~drawings[("Alpha", 1, 1)]))
    with pytest.raises(ValueError, match="differs"):
        build.build(tmp_path)


def test_area_average_is_exact():
    q = build.area_matrix()
    assert q.shape == (28, 105) and (q.sum(1) == 15).all() and (q.sum(0) == 4).all()
    full = np.ones((105, 105), bool)
    assert (build.convert(_png(full)) == 255).all()
    assert (build.convert(_png(~full)) == 0).all()


# ----------------------------------------------------------------------------- the network
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from maml_viz.engine.algorithms import get_algorithm  # noqa: E402
from maml_viz.engine.metagrad import meta_gradient  # noqa: E402
from maml_viz.engine.nets import ConvNet  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.tasks import make_family  # noqa: E402


def ref_conv(p, x, side=16):
    """Textbook per-task network: nn.functional conv2d / batch_norm (batch statistics) /
    relu / max_pool2d on one task's images [M, side*side]."""
    h = x.view(-1, 1, side, side)
    i = 0
    while f"c{i}.w" in p:
        h = F.conv2d(h, p[f"c{i}.w"], padding=1)
        h = F.batch_norm(h, None, None, p[f"bn{i}.g"], p[f"bn{i}.b"], training=True, eps=1e-5)
        h = F.max_pool2d(F.relu(h), 2)
        i += 1
    return F.linear(h.flatten(1), p["head.w"].t(), p["head.b"])


def ref_meta_loss(theta, batch, steps, lr, first_order=False, keys=None):
    total, T = 0.0, batch["xs"].shape[0]
    keys = list(theta) if keys is None else list(keys)
    for i in range(T):
        fast = dict(theta)
        for _ in range(steps):
            loss = F.cross_entropy(ref_conv(fast, batch["xs"][i]), batch["ys"][i])
            gs = torch.autograd.grad(loss, [fast[k] for k in keys], create_graph=not first_order)
            fast = dict(fast)
            for k, g in zip(keys, gs):
                fast[k] = fast[k] - (lr[k] if isinstance(lr, dict) else lr) * g
        total = total + F.cross_entropy(ref_conv(fast, batch["xq"][i]), batch["yq"][i])
    return total / T


def conv_setup(algo, T=3, K=2, Q=2, steps=2, seed=0):
    cfg = make_config(family="omniglot", algo=algo, hidden=(4, 5, 6, 3), k_shot=K,
                             k_query=Q, inner_steps=steps, inner_lr=0.3,
                             family_options={"n_way": 3, "image_size": 16})
    fam = make_family("omniglot", cfg.family_options)
    model = fam.make_model(cfg.hidden)
    gen = torch.Generator().manual_seed(seed)
    alg = get_algorithm(algo)
    params = {k: (v.double() + 0.05 * torch.randn(v.shape, generator=gen, dtype=torch.double))
              .requires_grad_(True) for k, v in alg.init_params(model, cfg, gen).items()}
    b = fam.sample_batch(T, K, Q, gen)
    batch = {k: (v.double() if v.is_floating_point() else v) for k, v in b.items()}
    return cfg, fam, model, alg, params, batch


def close(ga, gb, rtol=1e-8):
    for a, b in zip(ga, gb):
        err = ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()
        assert err < rtol, err


def test_convnet_forward_and_backward_match_per_task_reference():
    cfg, fam, model, alg, params, batch = conv_setup("maml", T=3, K=3)
    assert isinstance(model, ConvNet)
    theta = {k: v.detach() for k, v in params.items()}
    x = batch["xs"]
    T = x.shape[0]
    per_task = {k: v + 0.1 * torch.randn((T, *v.shape), dtype=v.dtype) for k, v in theta.items()}
    for p, get in ((theta, lambda v, i: v), (per_task, lambda v, i: v[i])):
        out, acts = model.forward_cache(p, x)
        dout = torch.randn_like(out)
        grads = model.backward(p, acts, dout)
        for i in range(T):
            pi = {k: get(v, i).clone().requires_grad_(True) for k, v in p.items()}
            ref = ref_conv(pi, x[i])
            assert torch.allclose(out[i], ref, atol=1e-10)
            g = torch.autograd.grad((ref * dout[i]).sum(), list(pi.values()))
            for (k, _), gk in zip(pi.items(), g):
                assert torch.allclose(grads[k][i], gk, atol=1e-9), k


@pytest.mark.parametrize("algo", ["maml", "fomaml", "anil", "metasgd"])
def test_conv_meta_gradients_match_float64_reference(algo):
    cfg, fam, model, alg, params, batch = conv_setup(algo)
    theta = {k: v for k, v in params.items() if not k.startswith("lr.")}
    lrs = {k[3:]: v for k, v in params.items() if k.startswith("lr.")} or cfg.inner_lr
    keys = model.head_keys() if algo == "anil" else None
    ref_loss = ref_meta_loss(theta, batch, cfg.inner_steps, lrs, first_order=(algo == "fomaml"),
                             keys=keys)
    ref = torch.autograd.grad(ref_loss, list(params.values()))
    # what training runs: autograd through outer_loss (second order), or the hand-written
    # first-order meta-gradient (FOMAML)
    ours = torch.autograd.grad(alg.outer_loss(model, fam, params, batch, cfg), list(params.values()))
    close(ours, ref)
    if algo == "fomaml":
        loss, g, _ = meta_gradient(model, fam, {k: v.detach() for k, v in params.items()}, batch,
                                   cfg.inner_steps, cfg.inner_lr, first_order=True)
        assert abs(loss.item() - ref_loss.item()) < 1e-10
        close([g[k] for k in params], ref)
    if algo == "maml":   # and it is really second order
        fo = ref_meta_loss(theta, batch, cfg.inner_steps, lrs, first_order=True)
        g_fo = torch.autograd.grad(fo, list(params.values()))
        assert max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(ours, g_fo)) > 1e-3


def test_conv_training_steps_move_params_along_the_reference_gradient():
    """One step of each algorithm as training runs it, against the reference direction."""
    for algo in ("maml", "fomaml"):
        cfg, fam, model, alg, params, batch = conv_setup(algo, steps=1)
        theta = {k: v.detach().clone() for k, v in params.items()}
        ref = torch.autograd.grad(ref_meta_loss(params, batch, 1, cfg.inner_lr,
                                                first_order=algo == "fomaml"), list(params.values()))
        opt = alg.make_optimizer(params, cfg)
        alg.step(model, fam, params, opt, batch, cfg)
        # Adam's first step moves every coordinate by -lr * sign(gradient)
        for (k, v), g in zip(params.items(), ref):
            moved = (v.detach() - theta[k])
            mask = g.abs() > 1e-6 * g.abs().max()
            assert torch.equal(torch.sign(moved[mask]), -torch.sign(g[mask])), (algo, k)


def test_trainer_runs_omniglot_through_the_stepper_second_order_eagerly():
    """The trainer's stepper (under no_grad) runs the ConvNet's autograd MAML step exactly as a
    direct call would; asked to compile or capture it, it says why not and runs eagerly."""
    from maml_viz.engine.config import stream_seed
    from maml_viz.engine.stepper import choose
    cfg = make_config(family="omniglot", algo="maml", hidden=(4, 4), meta_batch=2, iterations=2)
    t = Trainer(cfg, "cpu", compiled=True, cuda_graph=True, validate_every=1)
    assert t.mode == "eager" and any("autograd" in n for n in t.notices), t.notices
    params = {k: v.detach().clone().requires_grad_(True) for k, v in t.params.items()}
    init = {k: v.detach().clone() for k, v in params.items()}
    gen = torch.Generator().manual_seed(stream_seed("train", cfg.seed))
    batches = t.family.sample_batches(2, cfg.meta_batch, cfg.k_shot, cfg.k_query, gen)
    t.run(2)
    opt = t.algo.make_optimizer(params, cfg)
    for i in range(2):
        t.algo.step(t.model, t.family, params, opt, {k: v[i] for k, v in batches.items()}, cfg)
    for k, v in params.items():
        assert torch.equal(v, t.params[k]) and not torch.equal(v, init[k]), k
    assert len(t.history["val_metric"]) == 2 and 0 <= t.history["val_metric"][-1] <= 1
    # which steps may be compiled: the hand-written ones, not autograd's second order
    static = {a: get_algorithm(a).static_step(t.model)
              for a in ("maml", "fomaml", "anil", "metasgd", "reptile", "pretrained")}
    assert static == {"maml": False, "fomaml": True, "anil": False, "metasgd": False,
                      "reptile": True, "pretrained": True}
    assert choose(torch.device("cpu"), 10**6, static=False) == ("eager", None)


def test_conv_reptile_direction_matches_per_task_sgd():
    cfg, fam, model, alg, params, batch = conv_setup("reptile", steps=3)
    theta = {k: v.detach().clone() for k, v in params.items()}
    disp = {k: torch.zeros_like(v) for k, v in theta.items()}
    T = batch["xs"].shape[0]
    for i in range(T):
        fast = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        for _ in range(cfg.inner_steps):
            loss = F.cross_entropy(ref_conv(fast, batch["xs"][i]), batch["ys"][i])
            gs = torch.autograd.grad(loss, list(fast.values()))
            fast = {k: (v - cfg.inner_lr * g).detach().requires_grad_(True)
                    for (k, v), g in zip(fast.items(), gs)}
        for k in disp:
            disp[k] += (fast[k].detach() - theta[k]) / T
    alg.step(model, fam, params, None, batch, cfg)
    for k in theta:
        assert torch.allclose(params[k].detach(), theta[k] + cfg.outer_lr * disp[k],
                              rtol=1e-9, atol=1e-11), k


def test_convnet_forward_in_slices_equals_one_batch(monkeypatch):
    cfg, fam, model, alg, params, batch = conv_setup("maml", T=5, K=2)
    theta = {k: v.detach() for k, v in params.items()}
    per_task = {k: v + 0.1 * torch.randn((5, *v.shape), dtype=v.dtype) for k, v in theta.items()}
    for p in (theta, per_task):
        whole = model.forward_cache(p, batch["xq"])[0]
        monkeypatch.setattr(ConvNet, "MAX_IMAGES", 2 * batch["xq"].shape[1])   # 2 tasks a slice
        assert torch.allclose(model(p, batch["xq"]), whole, atol=1e-12)
        monkeypatch.undo()


# ----------------------------------------------------------------------------- the task family
from maml_viz.engine.config import ConfigError  # noqa: E402
from maml_viz.engine.tasks import omniglot as og  # noqa: E402


def test_three_alphabet_splits_are_disjoint_and_each_draws_only_its_own():
    a = og.load_asset()
    names = set(a["alphabets"].tolist())
    train_a = {og.alphabet_of(c) for c in og.class_ids("train", True).tolist()}
    val_a = {og.alphabet_of(c) for c in og.class_ids("validation", False).tolist()}
    test_a = {og.alphabet_of(c) for c in og.class_ids("test", False).tolist()}
    assert val_a == {"Early_Aramaic"} and test_a == {"Korean", "Tagalog"}
    assert train_a == names - val_a - test_a and len(train_a) == 5
    assert {og.alphabet_of(c) for c in og.class_ids("validation", False, 2).tolist()} == \
        {"Early_Aramaic", "Greek"}
    assert "Greek" not in {og.alphabet_of(c) for c in og.class_ids("train", True, 2).tolist()}
    fam = make_family("omniglot", {"n_way": 20})
    gen = torch.Generator().manual_seed(0)
    train = fam.sample_batch(200, 1, 1, gen)["tasks"].unique()
    # 200 tasks x 20 classes cover nearly all 652 training classes: none validates or tests
    assert len(train) > 640 and {og.alphabet_of(c) for c in train.tolist()} == train_a
    assert set(train.remainder(4).tolist()) == {0, 1, 2, 3}         # rotations are classes
    ev = fam.eval_batch(100, 1, 1, gen)["tasks"].unique()
    assert {og.alphabet_of(c) for c in ev.tolist()} == test_a
    assert len(ev) == 57 and set(ev.remainder(4).tolist()) == {0}  # upright only
    va = fam.eval_batch(100, 1, 1, gen, split="validation")["tasks"].unique()
    assert {og.alphabet_of(c) for c in va.tolist()} == val_a and len(va) == 22
    norot = make_family("omniglot", {"rotations": 0}).sample_tasks(300, gen).unique()
    assert set(norot.remainder(4).tolist()) == {0} and len(norot) == 163
    # a 20-way task needs 20 characters: a split with fewer says how many it has
    small = make_family("omniglot", {"n_way": 20})
    orig = og.VALIDATION
    try:
        og.class_ids.cache_clear()
        og.VALIDATION = ("Tagalog",)                                  # 17 characters
        with pytest.raises(ConfigError, match="only 17"):
            small.eval_batch(1, 1, 1, gen, split="validation")
    finally:
        og.VALIDATION = orig
        og.class_ids.cache_clear()


def test_images_match_labels_and_labels_are_shuffled_per_task():
    fam = make_family("omniglot")
    gen = torch.Generator().manual_seed(1)
    b = fam.sample_batch(400, 2, 3, gen)
    pool = og.image_pool(28)
    for t in range(3):                       # every image is a drawing of its label's class
        for x, y in ((b["xs"][t], b["ys"][t]), (b["xq"][t], b["yq"][t])):
            for img, label in zip(x, y):
                cls = int(b["tasks"][t, label])
                assert ((pool[cls].float() / 255 - img).abs().sum(-1) < 1e-6).any()
    # support and query never share a drawing
    s = b["xs"].view(400, 5, 2, -1)
    q = b["xq"].view(400, 5, 3, -1)
    assert not (s.unsqueeze(3) - q.unsqueeze(2)).abs().sum(-1).eq(0).any()
    # the same character gets different labels in different tasks: label order is random
    labels_of = {}
    for t in range(400):
        for label, c in enumerate(b["tasks"][t].tolist()):
            labels_of.setdefault(c, set()).add(label)
    assert sum(len(v) > 1 for v in labels_of.values()) > 0.5 * len(labels_of)


def test_family_options_are_checked_and_image_size_changes_the_model():
    from maml_viz.engine.config import ConfigError
    for bad in ({"n_way": 1}, {"n_way": 21}, {"rotations": 2}, {"image_size": 12},
                {"image_size": 28.5}):
        with pytest.raises(ConfigError):
            make_family("omniglot", bad)
    small = make_family("omniglot", {"image_size": 20, "n_way": 3})
    b = small.sample_batch(2, 1, 1, torch.Generator().manual_seed(0))
    assert b["xs"].shape == (2, 3, 400)
    model = small.make_model((8, 8, 8, 8))
    assert model(model.init(torch.Generator()), b["xs"]).shape == (2, 3, 3)
    for hidden in ((), (8,) * 5):
        with pytest.raises(ConfigError, match="hidden"):
            make_config(family="omniglot", hidden=hidden)
    with pytest.raises(ConfigError, match="at most 20"):
        make_family("omniglot").sample_batch(1, 10, 15, torch.Generator())


from maml_viz.engine.train import Trainer  # noqa: E402
# ----------------------------------------------------------------------------- lake20
from maml_viz.runs.evaluate import benchmark, to_json  # noqa: E402


def _small_run(algo="scratch"):
    cfg = make_config(family="omniglot", algo=algo, hidden=(8, 8, 8, 8), iterations=0)
    return Trainer(cfg, "cpu").result()


def test_lake20_scores_an_oracle_at_one_and_guessing_near_chance():
    run = _small_run()
    tasks = run.family.benchmark_tasks("lake20")
    oracle = lambda xs, ys, xq, steps: tasks["yq"].expand(steps + 1, -1, -1)
    df = benchmark(run, "lake20", steps=2, predict=oracle)
    assert list(df["mean"]) == [1.0, 1.0, 1.0] and list(df["ci95"]) == [0.0] * 3
    gen = torch.Generator().manual_seed(0)
    guess = lambda xs, ys, xq, steps: torch.randint(0, 20, (steps + 1, 20, 20), generator=gen)
    df = benchmark(run, "lake20", steps=9, predict=guess)
    assert abs(df["mean"].mean() - 0.05) < 0.015        # 4000 guesses: sd 0.0034
    # the real thing: a 5-way network on Lake's 20-way runs starts from each run's support
    # embeddings (nets.proto_head): before adapting, a nearest-prototype classifier
    real = benchmark(run, "lake20", steps=1)
    assert real.attrs["protocol"]["tasks"] == 20 and real.attrs["protocol"]["n_way"] == 20
    fs, fq = (run.model.features(run.params, tasks[k]) for k in ("xs", "xq"))
    nearest = torch.cdist(fq, fs).argmin(-1)                      # [runs, queries]
    assert real.loc[0, "mean"] == pytest.approx((nearest == tasks["yq"]).double().mean().item())


def test_cli_evaluate_lake20_json(tmp_path, capsys):
    from maml_viz.cli import main
    from maml_viz.runs.saving import save_run
    path = save_run(_small_run(), tmp_path)
    assert main(["evaluate", str(path), "--benchmark", "lake20", "--steps", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in out["results"]] == [0, 1, 2]
    # the same shape as `evaluate --json` (protocol 3 rows)
    assert set(out["results"][0]) == {"k_shot", "step", "mean", "ci95", "median",
                                      "diverged_tasks", "tasks", "lr_scale", "lr"}
    assert out["protocol"]["benchmark"] == "lake20"
    assert main(["evaluate", str(path), "--benchmark", "nope"]) == 2
    assert "allowed: lake20" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the Handwriting page's data
  # noqa: E402
from maml_viz.views import handwriting as hw  # noqa: E402
from maml_viz.views.figures.handwriting import class_probabilities, handwriting_grid


def test_handwriting_episode_and_guesses():
    assert hw.alphabets() == ["Korean", "Tagalog"]
    chars = hw.pick_characters("Tagalog", 5, seed=3)
    assert chars == hw.pick_characters("Tagalog", 5, seed=3) and len(set(chars)) == 5
    assert all(og.alphabet_of(c) == "Tagalog" for c in chars)
    ep = hw.episode(chars, seed=0, n_query=3)
    assert ep["xs"].shape == (1, 5, 784) and ep["xq"].shape == (1, 15, 784)
    assert ep["yq"][0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    imgs = og.load_asset()["images"]
    for j, c in enumerate(chars):         # each drawing is one of its character's 20, no repeats
        drawn = [ep["support_img"][j]] + [ep["query_img"][3 * j + i] for i in range(3)]
        idx = [next(d for d in range(20) if (imgs[c // 4, d] == x).all()) for x in drawn]
        assert len(set(idx)) == 4
    assert hw.episode(chars, 1)["query_img"].tolist() != ep["query_img"].tolist()
    with pytest.raises(ValueError):
        hw.episode([chars[0]] * 2, 0)
    with pytest.raises(ValueError, match="unknown alphabet"):
        hw.characters("Klingon")
    g = hw.guesses(_small_run("scratch"), ep, steps=3)
    assert g["probs"].shape == (4, 15, 5)
    assert np.allclose(g["probs"].sum(-1), 1, atol=1e-5)
    assert (g["accuracy"] == (g["guess"] == ep["yq"][0].numpy()).mean(1)).all()


def test_handwriting_figures_have_a_frame_per_step_and_mark_wrong_guesses():
    support = np.zeros((5, 28, 28)); query = np.zeros((15, 28, 28))
    true = np.repeat(np.arange(5), 3)
    guess = np.stack([np.zeros(15, int), true])                       # step 0: class A for all
    fig = handwriting_grid(support, query, true, guess)
    assert [f.name for f in fig.frames] == ["0", "1"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1"]
    assert all(s.method == "animate" for s in fig.layout.sliders[0].steps)
    marks0, marks1 = fig.frames[0].data[0].text, fig.frames[1].data[0].text
    assert sum("✗" in t for t in marks0) == 12 and sum("✓" in t for t in marks1) == 15
    assert "3 of 15" in fig.frames[0].data[1].text[0] and "15 of 15" in fig.frames[1].data[1].text[0]
    # it opens after one step (as the other pages' charts), slider and drawn data alike
    assert fig.layout.sliders[0].active == 1 and fig.data[2].text == fig.frames[1].data[0].text
    probs = np.full((3, 5), 0.2)
    bars = class_probabilities({"maml": ("MAML", probs), "pretrained": ("Pre", probs)}, 2)
    assert len(bars.frames) == 3 and len(bars.frames[0].data) == 2
    assert bars.data[0].x[2].startswith("C (right")


def test_a_drawing_is_rasterized_like_the_dataset_and_joins_the_queries():
    assert (hw.rasterize([]) == 0).all()
    line = hw.rasterize([[(0.1, 0.5), (0.9, 0.5)]])              # a horizontal stroke
    rows = line.sum(1)
    assert rows[:11].sum() == 0 and rows[17:].sum() == 0 and rows[13:15].min() > 0
    # stroke width about the dataset's: 5 scan pixels = 5/105 of the image height
    assert abs(line.sum() / 255 / 28 - 0.8 * 5 / 105 * 28) < 0.3
    assert (hw.rasterize([[(-3, 0.5), (9, 0.5)]]) == hw.rasterize([[(0, 0.5), (1, 0.5)]])).all()
    ep = hw.episode(hw.pick_characters("Korean", 5, 0), 0)
    mine = hw.with_drawing(ep, line)
    assert mine["xq"].shape == (1, 16, 784) and mine["yq"][0, -1] == -1
    assert torch.equal(mine["xq"][0, :15], ep["xq"][0])
    assert torch.allclose(mine["xq"][0, -1], torch.from_numpy(line).float().view(-1) / 255)


def test_reptile_gets_omniglot_defaults_without_changing_other_families():
    rep = make_config(family="omniglot", algo="reptile")
    assert (rep.inner_steps, rep.inner_lr, rep.outer_lr) == (5, 0.1, 1.0)
    assert make_config(family="omniglot", algo="maml").inner_steps == 1
    assert make_config(family="sinusoid", algo="reptile").inner_steps == 5
    # RL families: Reptile's own type defaults (5 policy-gradient steps of 0.1), not Omniglot's
    nav = make_config(family="navigation", algo="reptile")
    assert (nav.inner_steps, nav.inner_lr) == (5, 0.1)
    assert make_config(family="omniglot", algo="reptile", inner_steps=2).inner_steps == 2


def test_pages_for_points_do_not_offer_omniglot_but_training_does():
    from pages._shared import ui
    assert "omniglot" not in ui.families(supervised=True)     # Playground, Compare
    assert "blobs" in ui.families(supervised=True)
    assert "omniglot" in ui.families()                         # Train


def test_memory_and_time_estimates_count_the_convolutions():
    """budget.py's estimates see the conv net's real work (its multiply-adds per image, as torch's
    flop counter counts them), and an evaluation is not refused for the activations of queries
    the conv net never holds at once (measured peaks: benchmarks/budget_check.py --family omniglot)."""
    from torch.utils.flop_counter import FlopCounterMode

    from maml_viz.runs.budget import eval_estimate, model_shape, train_estimate
    cfg = make_config(family="omniglot", algo="maml", family_options={"image_size": 20})
    model = make_family("omniglot", {"image_size": 20}).make_model(cfg.hidden)
    with FlopCounterMode(display=False) as fc:
        model.forward_cache(model.init(torch.Generator().manual_seed(0)), torch.rand(1, 1, 400))
    assert 2 * model_shape(cfg).macs == fc.get_total_flops()
    cfg = make_config(family="omniglot", algo="maml")
    assert train_estimate(cfg).work[0] > 32 * 10 * 2.5e6          # > one forward per image
    assert 300e6 < eval_estimate(cfg).bytes < 4e9

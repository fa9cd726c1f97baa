"""The Learn page: its precomputed data match a fresh computation from the bundled runs, and the
stories its pictures and sentences tell are true of that data (checked on the data, not the
pixels): the race's trails, ends and operation counts, the predict-then-reveal answers, the
glossary's coverage; the 2-weight model's hand-written derivatives match autograd in float64;
the home page draws without importing torch; in a real browser the page links to every other
page and no page scrolls sideways on a phone. The page in AppTest (predictions, presenter mode,
?hide=, the glossary on every page, issue 20 item 6): tests/test_learn_page.py; the hands-on
chart, arrow keys and layouts in a browser: tests/test_learn_try.py."""
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from maml_viz.engine.adapt import adapt
from maml_viz.engine.algorithms import get_algorithm
from maml_viz.engine.metagrad import meta_gradient
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.runs.store import RunStore
from maml_viz.views import glossary, learn, learn_race

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def store():
    return RunStore(os.path.join(ROOT, "assets", "runs"))


@pytest.fixture(scope="module")
def fresh(store):
    torch.set_num_threads(1)
    return learn.compute(store)


def assert_same(saved, fresh, path="data"):
    """Same structure; numbers equal to the rounding the file uses."""
    if isinstance(fresh, dict):
        assert isinstance(saved, dict) and set(saved) == set(fresh), path
        for k in fresh:
            assert_same(saved[k], fresh[k], f"{path}.{k}")
    elif isinstance(fresh, list) and fresh and not isinstance(fresh[0], str):
        np.testing.assert_allclose(np.asarray(saved, float), np.asarray(fresh, float),
                                   rtol=1e-4, atol=2e-3, err_msg=path)
    else:
        assert saved == fresh, path


def test_learn_json_matches_a_fresh_computation(fresh):
    saved = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    assert saved is not None, "run: python -m maml_viz learn-data"
    assert_same(saved, fresh)
    # §2's story holds: after one step MAML is far closer than the pretrained network
    assert fresh["sine"]["maml"]["error"][1] < 0.5 * fresh["sine"]["pretrained"]["error"][1]


def test_stored_figures_are_what_the_stored_data_builds(tmp_path):
    """assets/learn_figures.json (the Learn page draws it without building a figure) is
    learn.pictures(learn.json) to the last number; a file made from other data, missing or
    broken is not used (the page then builds the figures)."""
    path = os.path.join(ROOT, "assets", learn.FIGURES)
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    stored = learn.stored_specs(data, path)
    assert stored is not None, "run: python -m maml_viz learn-data"
    built = learn.specs(data)
    assert stored.keys() == built.keys()
    for name, (spec, height) in built.items():
        assert json.loads(stored[name][0]) == json.loads(spec), name
        assert stored[name][1] == height, name
    other = json.loads(json.dumps(data))
    other["gallery"]["titles"][0] = "another"
    assert learn.stored_specs(other, path) is None
    assert learn.stored_specs(data, tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text('{"fingerprint": 3, "figures": [')
    assert learn.stored_specs(data, tmp_path / "bad.json") is None


def test_the_gallery_picture_draws_each_task_in_its_panel_on_one_scale():
    """§1's static SVG (no Plotly.js needed for the first screen): one curve per task, each
    inside its own panel, all panels on one y scale, every text escaped."""
    import xml.etree.ElementTree as ET
    from maml_viz.views.figures.svg import task_gallery_svg
    x = np.linspace(-5, 5, 50)
    ys = [a * np.sin(x) for a in (0.5, 1.0, 2.0, 4.0, 3.0)]
    titles = ["<b>a & b</b>", "t2", "t3", "t4", "t5"]
    svg = task_gallery_svg(x, ys, titles, cols=2, width=400, label='say "hi" <now>')
    root = ET.fromstring(svg)                                   # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert "<b>" not in svg and "&lt;b&gt;a &amp; b&lt;/b&gt;" in svg
    assert root.get("aria-label") == 'say "hi" <now>'
    assert [t.text for t in root.iter(f"{ns}text") if t.get("class") == "title"] == titles
    lines = [[tuple(map(float, p.split(","))) for p in pl.get("points").split()]
             for pl in root.iter(f"{ns}polyline")]
    assert len(lines) == len(ys) and all(len(pts) == len(x) for pts in lines)
    spans = [(max(py for _, py in pts) - min(py for _, py in pts)) for pts in lines]
    amps = [2 * float(np.abs(y).max()) for y in ys]
    scale = [s / a for s, a in zip(spans, amps)]                # pixels per unit: one scale
    assert max(scale) - min(scale) < 0.02 * max(scale)
    left = max(px for pts in lines[0::2] for px, _ in pts)       # each curve in its own panel
    assert left < min(px for pts in lines[1::2] for px, _ in pts)
    rows = [(min(py for _, py in pts), max(py for _, py in pts)) for pts in lines]
    assert all(rows[i][1] < rows[i + 2][0] for i in range(len(rows) - 2))
    assert ET.fromstring(task_gallery_svg([0, 1], [[float("nan"), 1.0]], ["x"], cols=1)) is not None


def test_the_weight_plane_shows_two_different_starts_and_maml_adapts_better(fresh):
    p = fresh["plane"]
    maml, pre = np.array(p["starts"]["maml"]), np.array(p["starts"]["pretrained"])
    optima = np.array(p["optima"])
    spread = np.sqrt(((optima - optima.mean(0)) ** 2).sum(1).mean())
    assert np.isclose(p["spread"], spread, atol=1e-3)
    assert np.linalg.norm(maml - pre) > 0.1 * spread
    # the mean error after one step (computed by the engine's inner loop, per task) is lower
    # from MAML's start, on the drawn tasks and under the evaluation protocol (1000 tasks)
    after = {a: np.array(v) for a, v in p["after"].items()}
    assert after["maml"].mean() < after["pretrained"].mean()
    assert np.isclose(p["mean_after"]["maml"][0], after["maml"].mean(), atol=1e-3)
    prot = p["protocol"]
    assert prot["maml"]["after"]["mean"] + prot["maml"]["after"]["ci95"] < \
        prot["pretrained"]["after"]["mean"] - prot["pretrained"]["after"]["ci95"]
    # and it is not a matter of the step size: tuned for pretraining, still worse
    assert p["tuned"]["maml"] < p["tuned"]["best_pretrained"]
    assert len(p["adapted"]["maml"]) == len(optima) == learn.PLANE_TASKS


def test_plane_steps_are_one_inner_step_of_the_stored_runs(store, fresh):
    p = fresh["plane"]
    for algo in ("maml", "pretrained"):
        run = store.get(make_config(family="wave", algo=algo))
        assert p["keys"][algo] == run.key
        assert np.allclose(p["starts"][algo], [run.params["amp"].item(), run.params["phase"].item()],
                           atol=1e-4)
    # the landscape's lowest point is next to MAML's start (MAML minimises that landscape)
    L = p["landscape"]
    z = np.array(L["after"])
    i, j = np.unravel_index(z.argmin(), z.shape)          # rows: phase, columns: amplitude
    da, db = L["amp"][1] - L["amp"][0], L["phase"][1] - L["phase"][0]
    assert abs(L["amp"][j] - p["starts"]["maml"][0]) <= 3 * da
    assert abs(L["phase"][i] - p["starts"]["maml"][1]) <= 3 * db


def test_the_three_arrows_are_the_engines_updates_at_that_theta(fresh):
    r = fresh["rules"]
    fam = make_family("wave")
    model = fam.make_model(())
    theta = {"amp": torch.tensor([r["theta"][0]]), "phase": torch.tensor([r["theta"][1]])}
    cfg = make_config(family="wave", algo="maml")
    from maml_viz.views.adaptation import task_generator
    batch = fam.sample_batch(learn.RULE_TASKS, cfg.k_shot, cfg.k_query,
                             task_generator(learn.RULE_SEED))
    assert np.allclose(batch["tasks"].numpy(), r["tasks"], atol=1e-4)
    for algo, first in (("maml", False), ("fomaml", True)):
        _, g, _ = meta_gradient(model, fam, theta, batch, cfg.inner_steps, cfg.inner_lr,
                                first_order=first)
        assert np.allclose(r["arrows"][algo], [-g["amp"].item(), -g["phase"].item()],
                           rtol=1e-3, atol=1e-4), algo
    # MAML's arrow is also autograd's gradient of the after-the-step error (second order)
    leaf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    loss = get_algorithm("maml").outer_loss(model, fam, leaf, batch, cfg)
    ga, gb = torch.autograd.grad(loss, [leaf["amp"], leaf["phase"]])
    assert np.allclose(r["arrows"]["maml"], [-ga.item(), -gb.item()], rtol=1e-3, atol=1e-4)
    # Reptile: ε · mean over tasks of (θ' − θ), θ' after its own inner steps
    rc = make_config(family="wave", algo="reptile")
    ends = adapt(model, fam, theta, batch["xs"], batch["ys"], rc.inner_steps, rc.inner_lr)
    move = [rc.outer_lr * (ends[k] - theta[k]).mean().item() for k in ("amp", "phase")]
    assert np.allclose(r["arrows"]["reptile"], move, rtol=1e-3, atol=1e-4)
    # the three differ (else the picture would show one arrow), and the angles are true
    v = {a: np.array(x) for a, x in r["arrows"].items()}
    ang = math.degrees(math.acos(v["maml"] @ v["fomaml"] / np.linalg.norm(v["maml"])
                                 / np.linalg.norm(v["fomaml"])))
    assert abs(ang - r["angles"]["fomaml"]) < 0.2 and ang > 1


def test_the_animation_replays_the_stored_run(store, fresh):
    t = fresh["training"]
    run = store.get(make_config(family="wave", algo="maml"))
    assert t["key"] == run.key
    assert t["iterations"][0] == 0 and t["iterations"][-1] == run.config.iterations
    assert t["iterations"] == learn.snapshot_iterations(run.config.iterations)
    assert len(set(np.diff(t["iterations"]))) == 1, "snapshots evenly spaced (the slider's ticks are)"
    # the retraced final θ is the stored run's θ: the snapshots are of that run
    stored = [run.params["amp"].item(), run.params["phase"].item()]
    assert np.allclose(t["thetas"][-1], stored, atol=1e-4) and t["stored"] == pytest.approx(stored, abs=1e-4)
    # θ moves, and the held-out task's error after one step falls with meta-training
    assert np.linalg.norm(np.subtract(t["thetas"][-1], t["thetas"][0])) > 1.0
    assert t["errors"][-1][1] < 0.2 * t["errors"][0][1]
    n = len(t["iterations"])
    assert len(t["thetas"]) == len(t["before"]) == len(t["after"]) == len(t["errors"]) == n


def test_the_page_sentences_quote_the_data(fresh):
    w = learn.texts(fresh)
    s, p = fresh["sine"], fresh["plane"]
    assert f"{s['pretrained']['height']:.1f} high" in w["sine"]
    assert f"{s['maml']['error'][1]:.2f}" in w["sine"]
    for algo in ("maml", "pretrained"):
        assert f"{p['mean_after'][algo][0]:.2f} ± {p['mean_after'][algo][1]:.2f}" in w["plane"]
    assert f"{fresh['rules']['angles']['fomaml']:.0f}°" in w["rules"][1][1]
    assert [name for name, _ in w["rules"]] == ["MAML (Model-Agnostic Meta-Learning)",
                                                 "FOMAML (First-Order MAML)", "Reptile"]
    # §2's pretrained height is the curve's half range, and is what the sentence says; the
    # pretrained curve moves less in its step than MAML's (the story of §2)
    before = np.array(s["pretrained"]["before"])
    assert np.isclose((before.max() - before.min()) / 2, s["pretrained"]["height"], atol=1e-3)
    assert s["pretrained"]["moved"] < 0.5 * s["maml"]["moved"]


# ----------------------------------------------------------------------------- the race
def test_the_race_is_the_bundled_runs_from_one_start_on_the_same_tasks(store, fresh):
    r = fresh["race"]
    assert r["algos"] == ["maml", "fomaml", "reptile"]
    cfgs = {a: store.get(make_config(family="wave", algo=a)).config for a in r["algos"]}
    # same start and same task batches: the configs share everything that draws them
    for field in ("seed", "meta_batch", "k_shot", "k_query", "iterations", "family_options"):
        assert len({repr(getattr(c, field)) for c in cfgs.values()}) == 1, field
    starts = {tuple(r["trails"][a][0]) for a in r["algos"]}
    assert len(starts) == 1
    assert len(set(np.diff(r["iterations"]))) == 1 and r["iterations"][0] == 0
    for a in r["algos"]:
        run = store.get(make_config(family="wave", algo=a))
        assert len(r["trails"][a]) == len(r["iterations"])
        assert r["iterations"][-1] == run.config.iterations
        stored = [run.params["amp"].item(), run.params["phase"].item()]
        # each trail is that run, retraced: it ends on the stored θ
        assert np.allclose(r["trails"][a][-1], stored, atol=1e-4), a
        assert np.allclose(r["ends"][a], stored, atol=1e-4), a
    # the three end in different places (else the race would show one trail)
    assert min(learn_race.facts(r)["to_maml"][a] for a in ("fomaml", "reptile")) > 0.05


def test_operations_are_counted_the_same_way_for_every_algorithm(fresh):
    a, b = torch.ones(3, 4), torch.ones(4, 5)
    _, n, by_op, unknown = learn_race.count_operations(lambda: (a @ b + 1.0).sin().sum())
    assert by_op == {"mm": 60, "add": 15, "sin": 15, "sum": 15} and n == 105 and not unknown
    for family in learn_race.COST_FAMILIES:
        for algo, c in fresh["race"]["cost"][family].items():
            assert c["uncounted"] == [], (family, algo, c["uncounted"])   # nothing left out
            assert c["operations"] == sum(c["by_op"].values()) > 0
    # MAML does what FOMAML does and more (the second-order terms); Reptile does per step less
    # than FOMAML (no query gradient), but takes more steps
    cost = fresh["race"]["cost"]["wave"]
    assert cost["fomaml"]["operations"] < cost["maml"]["operations"]
    assert cost["reptile"]["operations"] / cost["reptile"]["inner_steps"] < cost["fomaml"]["operations"]


def test_what_the_race_says_is_what_its_data_show(fresh):
    r, w = fresh["race"], learn.texts(fresh)
    f = learn_race.facts(r)
    ops = {a: r["cost"]["wave"][a]["operations"] for a in r["algos"]}
    assert f["cheapest"] == min(ops, key=ops.get) and f["dearest"] == max(ops, key=ops.get)
    assert f"{learn_race.SHORT[f['cheapest']]} is the cheapest per iteration" in w["race_cost"]
    assert ", ".join(f"{learn_race.SHORT[a]} {ops[a]:,}" for a in f["order"]) in w["race_cost"]
    secs = {a: r["train_seconds"]["sinusoid"][a]["seconds"] for a in r["algos"]}
    for a in r["algos"]:
        assert f"{secs[a]:.0f} s ({learn_race.SHORT[a]})" in w["race_cost"]
        assert f"a = {r['ends'][a][0]:.2f}, b = {r['ends'][a][1]:.2f}" in w["race_ends"]
    if "the same order as the counts there" in w["race_cost"]:
        assert sorted(secs, key=secs.get) == f["net_order"]
    lo, hi = r["amp_range"]
    if "each a full-height wave" in w["race_ends"]:
        assert all(lo <= r["ends"][a][0] <= hi for a in r["algos"])
    if "ends at a low wave" in w["race_ends"]:
        assert r["pretrained"]["end"][0] < lo
    if "still moves about" in w["race_ends"]:                   # the faint cloud's claim
        shaky = max(f["jitter"], key=f["jitter"].get)
        T = np.array(r["trails"][shaky][-learn_race.JITTER:])
        assert f"{learn_race.SHORT[shaky]}'s θ still moves about " \
               f"{np.sqrt(((T - T.mean(0)) ** 2).sum(1).mean()):.2f}" in w["race_ends"]
    if "close together" in w["race_ends"]:
        assert max(f["to_maml"].values()) < 0.2 * math.hypot(hi - lo, np.ptp(r["phase_range"]))


def test_the_predictions_answers_are_what_the_data_show(fresh):
    asks = learn.predictions(fresh)
    s, p, r = fresh["sine"], fresh["plane"], fresh["race"]
    for ask in asks.values():
        assert ask["answer"] in ask["options"] and len(set(ask["options"])) == len(ask["options"])
    after = {a: s[a]["error"][1] for a in ("maml", "pretrained")}
    assert asks["sine"]["answer"] == ("The MAML network" if after["maml"] < after["pretrained"]
                                      else "The pretrained network")
    assert f"{after['maml']:.2f}" in asks["sine"]["why"]
    # MAML's start: inside the tasks' heights, near the middle of their shifts, away from the
    # pretrained start, and not on any one task's best weights
    sm, (lo, hi), (blo, bhi) = p["starts"]["maml"], p["amp_range"], p["phase_range"]
    assert "in the middle" in asks["plane"]["answer"]
    assert lo <= sm[0] <= hi and abs(sm[1] - (blo + bhi) / 2) < 0.2 * (bhi - blo)
    assert math.dist(sm, p["starts"]["pretrained"]) > 0.25 * p["spread"]
    ops = {a: r["cost"]["wave"][a]["operations"] for a in r["algos"]}
    assert asks["cost"]["answer"].split()[0] == learn_race.SHORT[min(ops, key=ops.get)]


REQUIRED = ["weights", "θ", "θ′", "loss", "mean squared error", "log scale", "gradient", "slope",
            "SGD", "step size", "task", "support points", "query points", "K", "adaptation step",
            "meta-training", "meta-gradient", "inner loop", "outer loop", "validation tasks",
            "held-out tasks", "seed", "95% interval", "policy", "rollout", "trajectory", "return",
            "N-way K-shot", "pretrained", "random init", "oracle", "Model-Agnostic Meta-Learning",
            "First-Order MAML", "Reptile", "Almost No Inner Loop", "Meta-SGD"]


def test_the_glossary_covers_the_words_the_app_uses():
    missing = [t for t in REQUIRED if glossary.lookup(t) is None]
    assert not missing, missing
    assert len({e.slug for e in glossary.GLOSSARY}) == len(glossary.GLOSSARY)
    # a linked term: its anchor exists in the glossary, its tooltip is a plain title
    md = glossary.linkify("a *95% interval* of the *support points* (*θ′*)")
    assert md.count("](#g-") == 3 and glossary.unknown_terms("*nonsense word*") == ["nonsense word"]
    for title in re.findall(r'"([^"]*)"\)', md):
        assert "(" not in title and ")" not in title     # Streamlit's parser stops at those
    html = glossary.as_html()
    assert all(f'id="{e.slug}"' in html for e in glossary.GLOSSARY)
    assert "<script" not in html


# ----------------------------------------------------------------------------- the 2-weight model
def _sine_setup(T=4, M=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, M, 1, generator=g, dtype=torch.float64)
    y = torch.randn(T, M, 1, generator=g, dtype=torch.float64)
    return make_family("wave"), make_family("wave").make_model(()), x, y, g


def test_sine_model_backward_and_hvp_match_autograd_in_float64():
    fam, model, x, y, g = _sine_setup()
    p = {k: torch.randn(4, 1, generator=g, dtype=torch.float64).requires_grad_(True)
         for k in ("amp", "phase")}
    pred, acts = model.forward_cache(p, x)
    auto = torch.autograd.grad(fam.loss(pred, y).sum(), list(p.values()), create_graph=True)
    dout = fam.loss_grad(pred, y)
    hand = model.backward(p, acts, dout)
    for k, a in zip(p, auto):
        assert torch.allclose(hand[k], a, rtol=1e-12, atol=1e-12)
    for tangent_keys in (("amp", "phase"), ("amp",), ("phase",)):
        u = {k: torch.randn(4, 1, generator=g, dtype=torch.float64) for k in tangent_keys}
        hv = torch.autograd.grad(sum((a * u[k]).sum() for k, a in zip(p, auto) if k in u),
                                 list(p.values()), retain_graph=True)
        ours = model.hvp(p, acts, dout, lambda r: fam.loss_hvp(pred, y, r), u)
        for k, a in zip(p, hv):
            assert torch.allclose(ours[k], a, rtol=1e-10, atol=1e-12), (tangent_keys, k)


def _reference(theta, batch, steps, lr, first_order, keys):
    """Mean query loss after `steps` SGD steps, one task at a time, plain autograd."""
    total = 0
    for i in range(batch["xs"].shape[0]):
        fast = dict(theta)
        for _ in range(steps):
            l = ((fast["amp"] * torch.sin(batch["xs"][i] - fast["phase"]) - batch["ys"][i]) ** 2).mean()
            gs = torch.autograd.grad(l, [fast[k] for k in keys], create_graph=not first_order)
            fast = {**fast, **{k: fast[k] - (lr[k] if isinstance(lr, dict) else lr) * gk
                               for k, gk in zip(keys, gs)}}
        total = total + ((fast["amp"] * torch.sin(batch["xq"][i] - fast["phase"])
                          - batch["yq"][i]) ** 2).mean()
    return total / batch["xs"].shape[0]


@pytest.mark.parametrize("algo,steps", [("maml", 1), ("maml", 3), ("fomaml", 2), ("anil", 2),
                                        ("metasgd", 2)])
def test_sine_model_meta_gradient_matches_a_plain_reference(algo, steps):
    fam, model, _, _, g = _sine_setup()
    cfg = make_config(family="wave", algo=algo, inner_steps=steps)
    alg = get_algorithm(algo)
    params = {k: v.double() for k, v in alg.init_params(model, cfg, g).items()}
    b = fam.sample_batch(5, 6, 6, g)
    batch = {k: v.double() for k, v in b.items()}
    theta, lr, keys = alg.adapt_spec(params, cfg, model)
    _, grads, lr_grads = meta_gradient(model, fam, theta, batch, steps, lr,
                                       first_order=alg.first_order, keys=keys)
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    th = {k: v for k, v in leaves.items() if not k.startswith("lr.")}
    lrs = {k[3:]: v for k, v in leaves.items() if k.startswith("lr.")} or cfg.inner_lr
    ref = _reference(th, batch, steps, lrs, alg.first_order, keys or ("amp", "phase"))
    auto = dict(zip(leaves, torch.autograd.grad(ref, list(leaves.values()))))
    for k, a in auto.items():
        ours = grads[k] if k in grads else lr_grads[k[3:]]
        assert torch.allclose(ours, a, rtol=1e-9, atol=1e-12), (algo, k, ours, a)


def test_wave_family_refuses_hidden_layers_with_a_clear_message():
    from maml_viz.engine.config import ConfigError
    with pytest.raises(ConfigError, match="leave hidden empty"):
        make_family("wave").make_model((40,))


# ----------------------------------------------------------------------------- the page
def test_home_page_draws_without_torch():
    code = ("import json, sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({os.path.join(ROOT, 'app.py')!r}, default_timeout=60); at.run(); "
            "assert not at.exception, [e.value for e in at.exception]; "
            "n = sum('spec' in json.loads(e.proto.json) for e in at.get('bidi_component')); "
            "assert n == 5 and not at.get('plotly_chart'), n; "
            "assert len(at.radio) == 3 and all(r.value is None for r in at.radio); "
            "assert all(w.help for w in [*at.button, *at.radio, *at.toggle]), 'a widget without help'; "
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "False"


def test_missing_learn_file_means_live_computation(tmp_path):
    assert learn.load(tmp_path / "nope.json") is None
    (tmp_path / "bad.json").write_text("{broken")
    assert learn.load(tmp_path / "bad.json") is None
    (tmp_path / "old.json").write_text('{"version": 1}')
    assert learn.load(tmp_path / "old.json") is None


# ----------------------------------------------------------------------------- in a real browser
PAGES = [("", "Learning to learn"), ("Playground", "Playground"), ("Train", "Train"),
         ("Compare", "Compare algorithms"), ("Navigation", "Navigation: learning to reach")]
BOXES = """(sel) => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
                     .filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom])"""


def _overlaps(boxes):
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5]


def _open(chromium, url, path, heading, width, height):
    from browser import wait_idle
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    wait_idle(page)
    return page


def test_learn_in_a_browser_links_every_page_animates_and_fits_a_phone(tmp_path):
    from browser import SHOTS, browser, server
    os.makedirs(SHOTS, exist_ok=True)
    with server(tmp_path / "runs") as (url, _), browser() as chromium:
        page = _open(chromium, url, "", "Learning to learn", 1400, 900)
        hrefs = page.eval_on_selector_all('[data-testid="stMain"] [data-testid="stPageLink"] a',
                                          "els => els.map(e => e.getAttribute('href'))")
        for name in ("Playground", "Train", "Compare", "Navigation", "Handwriting"):
            assert any(h.rstrip("/").endswith(name) for h in hrefs), (name, hrefs)
        # the animation switches frames in the browser: clicking the slider's far end shows
        # the last snapshot (θ = the stored run's θ), with no script rerun
        anim = page.locator(".js-plotly-plot", has=page.locator(".slider-rail-rect")).first
        anim.scroll_into_view_if_needed()
        rail = anim.locator(".slider-rail-rect").bounding_box()
        page.mouse.click(rail["x"] + rail["width"] - 2, rail["y"] + rail["height"] / 2)
        final = learn.load(os.path.join(ROOT, "assets", "learn.json"))["training"]["thetas"][-1]
        page.wait_for_function(
            """(a) => { const p = [...document.querySelectorAll('.js-plotly-plot')]
                           .find(p => p.querySelector('.slider-rail-rect'));
                        const t = p && p._fullData && p._fullData[1];
                        return t && Math.abs(Number(t.x[0]) - a) < 1e-3; }""",
            arg=final[0], timeout=15_000)
        page.screenshot(path=os.path.join(SHOTS, "Learn-animation-end.png"))
        page.close()
        for path, heading in PAGES:        # a phone: nothing scrolls sideways
            page = _open(chromium, url, path, heading, 390, 844)
            width, inner = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width <= inner, f"{path or 'Learn'} scrolls sideways at 390 px: {width} > {inner}"
            if path == "":
                gal = '.st-key-gallery-narrow svg'          # §1's static picture, 2 columns
                assert page.locator(gal).is_visible()
                assert not page.locator('.st-key-gallery-wide svg').is_visible()
                titles = page.evaluate(BOXES, f"{gal} text.title")
                ticks = page.evaluate(BOXES, f'{gal} text.tick')
                assert len(titles) == 8 and len(ticks) > 10
                assert not _overlaps(titles), _overlaps(titles)
                assert not _overlaps(ticks), _overlaps(ticks)
                page.locator(gal).screenshot(path=os.path.join(SHOTS, "Learn-390-gallery.png"))
            page.close()

"""The Learn page: its precomputed data match a fresh computation from the bundled runs, and the
stories its pictures and sentences tell are true of that data (checked on the data, not the
pixels): the race's trails, ends and operation counts, the predict-then-reveal answers, the
glossary's promise; the 2-weight model's hand-written derivatives match autograd in float64; the
home page draws without importing torch; AppTest: predictions reveal, presenter mode walks the
scenes, ?hide= hides controls, every page has the glossary, the charts' legends and sliders say
what they draw (issue 20 item 6); in a real browser the page links to every other page and no
page scrolls sideways on a phone. The hands-on chart in a browser: tests/test_learn_try.py."""
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
    if "ends at a flat wave" in w["race_ends"]:
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
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({os.path.join(ROOT, 'app.py')!r}, default_timeout=60); at.run(); "
            "assert not at.exception, [e.value for e in at.exception]; "
            "assert len(at.get('plotly_chart')) == 7, len(at.get('plotly_chart')); "
            "assert len(at.radio) == 3 and all(r.value is None for r in at.radio); "
            "assert all(w.help for w in [*at.button, *at.radio, *at.toggle]), 'a widget without help'; "
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "False"


# ----------------------------------------------------------------------------- the page (AppTest)
WIDGETS = ["button", "selectbox", "multiselect", "slider", "select_slider", "number_input",
           "text_input", "text_area", "radio", "toggle", "checkbox"]


def learn_app(**query):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def arr(v):
    """Plotly 7 encodes arrays as {"dtype", "bdata"} (base64)."""
    import base64
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def answer_all(at):
    for r in at.radio:
        r.set_value(r.options[1])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def answered():
    return answer_all(learn_app())


def test_predict_then_reveal(answered):
    at = learn_app()
    titles = lambda at: [json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "")
                         for e in at.get("plotly_chart")]
    before = titles(at)
    assert not any(t.startswith(("Pretrained: error", "MAML: error", "From the MAML start",
                                 "Arithmetic")) for t in before)
    assert sum(t.startswith(("Pretrained: error", "MAML: error")) for t in titles(answered)) == 2
    assert any(t.startswith("From the MAML start") for t in titles(answered))
    assert any(t.startswith("Arithmetic") for t in titles(answered))
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    asks = learn.predictions(data)
    said = [e.value for e in [*answered.success, *answered.info]]
    for ask, r in zip(asks.values(), answered.radio):       # the verdict and the why, per answer
        assert any(ask["why"] in v and (v.startswith("Right") == (r.value == ask["answer"]))
                   for v in said)


def test_every_widget_has_help_and_every_italic_term_is_explained(answered):
    bare = [(kind, el.label) for kind in WIDGETS for el in answered.get(kind) if not el.help]
    assert not bare, bare
    texts = [e.value for e in [*answered.markdown, *answered.caption, *answered.success,
                               *answered.info]]
    unexplained = sorted({t for v in texts for t in glossary.unknown_terms(v)})
    assert not unexplained, f"italic terms with no glossary entry: {unexplained}"
    assert any("](#g-" in v for v in texts), "jargon links to the glossary"
    nested = [v[:80] for v in texts if "[[" in v or "*](#g-" in re.sub(r"\[\*[^*\]]+\*\]\(#g-", "", v)]
    assert not nested, f"a term linked twice (the paragraph then shows as raw text): {nested}"
    html = "".join(e.proto.body for e in answered.get("html"))
    for e in glossary.GLOSSARY:
        assert f'id="{e.slug}"' in html
    nexts = [e.proto.page for e in answered.get("page_link") if "Handwriting" in e.proto.label]
    assert len(nexts) >= 2, "Learn's Next list (and the sidebar) include Handwriting"


def _spec(at, title_start):
    return next(json.loads(e.proto.spec) for e in at.get("plotly_chart")
                if json.loads(e.proto.spec)["layout"].get("title", {}).get("text", "")
                .startswith(title_start))


def test_meta_training_slider_ticks_are_true_to_the_iterations(answered):
    """Issue 20 item 6: the slider's evenly spaced ticks stood for uneven iterations."""
    for title in ("iteration 0", "Meta-training, iteration"):
        fig = _spec(answered, title)
        steps = fig["layout"]["sliders"][0]["steps"]
        its = [int(s["args"][0][0]) for s in steps]
        assert len(set(np.diff(its))) == 1, f"{title}: frames not evenly spaced: {its}"
        assert all(s["label"] in ("", str(it)) for s, it in zip(steps, its))
        assert [f["name"] for f in fig["frames"]] == [str(i) for i in its]


def test_weight_plane_legend_names_what_it_draws(answered):
    """Issue 20 item 6: 'red = large error' with no colour scale; grey rings not in the legend;
    the one-step segments hidden under the dots."""
    for who in ("Pretrained", "MAML"):
        fig = _spec(answered, f"From the {who} start")
        names = [t.get("name", "") for t in fig["data"]]
        dots = next(i for i, t in enumerate(fig["data"]) if t.get("name", "").startswith("after one step"))
        seg = names.index("one gradient step")
        assert seg > dots, "the step segments are drawn above the dots"
        m = fig["data"][dots]["marker"]
        assert m.get("showscale") and "error" in m["colorbar"]["title"]["text"]
        rings = next(t for t in fig["data"] if t["type"] == "contour")
        assert rings.get("showlegend") and "rings" in rings["name"]
        assert not any("red" in n for n in names) or "Red" in json.dumps(m.get("colorscale"))


def test_update_arrows_are_told_apart(answered):
    """Issue 20 item 6: MAML and FOMAML were two similar blues, overlapping."""
    fig = _spec(answered, "Which way each algorithm moves θ")
    arrows = {t["name"]: t for t in fig["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    assert len(arrows) == 3
    looks = {(t["line"]["color"], t["line"].get("dash", "solid")) for t in arrows.values()}
    assert len({d for _, d in looks}) == 3, "each arrow its own dash"
    assert all(t.get("text", [""])[-1] == n for n, t in arrows.items()), "named at their tips"
    assert len({t["textposition"] for t in arrows.values()}) == 3


def test_race_and_costs_are_drawn_from_the_data(answered):
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    r = data["race"]
    fig = _spec(answered, "Meta-training, iteration")
    marks = {t["name"]: t for t in fig["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    assert len({t["marker"]["symbol"] for t in marks.values()}) == 3
    assert len({t["marker"]["color"] for t in marks.values()}) == 3
    last = fig["frames"][-1]
    order = [fig["data"][i]["name"] for i in last["traces"]]
    for a in r["algos"]:
        k = order.index(learn.LABELS[a])
        at_end = [arr(last["data"][k]["x"])[0], arr(last["data"][k]["y"])[0]]
        assert np.allclose(at_end, r["ends"][a], atol=1e-4)
    bars = _spec(answered, "Arithmetic")["data"][0]
    ops = {a: r["cost"]["wave"][a]["operations"] for a in r["algos"]}
    drawn = {y.split("<br>")[0]: x for y, x in zip(bars["y"], arr(bars["x"]).tolist())}
    assert drawn == {learn.LABELS[a]: ops[a] for a in r["algos"]}
    steps = {y.split("<br>")[0]: y.split("<br>")[1] for y in bars["y"]}
    assert all(steps[learn.LABELS[a]].startswith(f"{r['cost']['wave'][a]['inner_steps']} inner step")
               for a in r["algos"])
    ends = _spec(answered, "Where each ends")
    named = {t["name"]: t for t in ends["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    for a in r["algos"]:
        t = named[learn.LABELS[a]]
        assert np.allclose([arr(t["x"])[0], arr(t["y"])[0]], r["ends"][a], atol=1e-4)
        assert t["text"][0] == learn.LABELS[a]                  # named on the chart
        cloud = next(u for u in ends["data"] if u["name"].startswith(f"{learn.LABELS[a]}: its θ"))
        assert np.allclose(np.c_[arr(cloud["x"]), arr(cloud["y"])], r["trails"][a][-10:], atol=1e-4)


# colour-vision deficiency simulation (Machado, Oliveira & Fernandes 2009, severity 1) on linear
# sRGB, distances in CIELAB (D65)
CVD = {"normal": np.eye(3),
       "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                  [-0.003882, -0.048116, 1.051998]],
       "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                  [-0.011820, 0.042940, 0.968881]],
       "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                  [0.004733, 0.691367, 0.303900]]}


def _lab(hex_color, m):
    c = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    rgb = np.clip(np.asarray(m) @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_racers_stay_apart_for_colour_blind_readers_and_in_grey():
    from maml_viz.views.figures.learn import LOOK
    from maml_viz.views.figures.style import color
    algos = ("maml", "fomaml", "reptile", "pretrained")
    for kind, m in CVD.items():
        lab = {a: _lab(color(a), m) for a in algos}
        close = [(a, b, round(float(np.linalg.norm(lab[a] - lab[b])), 1))
                 for i, a in enumerate(algos) for b in algos[i + 1:]
                 if np.linalg.norm(lab[a] - lab[b]) < 15]
        assert not close, f"{kind}: colours too close (ΔE < 15): {close}"
    # and without colour at all: each its own marker shape and its own dash
    assert len({LOOK[a]["symbol"] for a in algos}) == len({LOOK[a]["dash"] for a in algos}) == 4


def test_presenter_mode_walks_the_scenes():
    at = learn_app(demo=1, scene=3)
    assert [h.value for h in at.header] == ["3 · Try it yourself"]
    assert all(b.help for b in at.button) and not at.toggle
    at.button(key="scene_next").click().run()
    assert [h.value for h in at.header][0].startswith("4 ·") and at.query_params["scene"] == "4"
    at.button(key="scene_back").click().run()
    assert [h.value for h in at.header][0].startswith("3 ·")
    at.button(key="scene_exit").click().run()
    assert len(at.header) == 8 and "demo" not in at.query_params
    at = learn_app(demo=1, scene="99")                       # a bad scene: the first, said so
    assert [h.value for h in at.header] == ["1 · A family of tasks"]
    assert any("not one of 1 to 8" in c.value for c in at.caption)
    at = learn_app(demo=1, scene=8)
    assert at.button(key="scene_next").disabled and not any(e.label.startswith("Advanced")
                                                           for e in at.expander)


def test_the_presenter_toggle_enters_presenter_mode():
    at = learn_app()
    at.toggle(key="learn_present").set_value(True).run()
    assert at.query_params["demo"] == "1" and len(at.header) == 1


@pytest.mark.parametrize("page", ["app.py", "pages/1_Playground.py", "pages/2_Train.py",
                                  "pages/3_Compare.py", "pages/4_Navigation.py",
                                  "pages/5_Handwriting.py"])
def test_every_page_has_the_glossary(page, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    at.query_params["hide"] = "k,alpha"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    pops = [b for b in at.sidebar.children.values() if b.type == "popover"]
    assert len(pops) == 1 and pops[0].proto.popover.label == "Glossary"
    text = " ".join(m.value for m in pops[0].markdown)
    assert all(f"**{e.term}**" in text for e in glossary.GLOSSARY)
    if page == "pages/1_Playground.py":                    # the Playground's hidden controls
        css = " ".join(e.proto.body for e in at.get("html"))
        assert ".st-key-pg_k," in css and "st-key-pg_lr_" in css


def test_controls_hidden_from_the_link():
    from pages._shared import present
    keys, bad = present.parse_hidden("k,alpha,x;}body{display:none,", present.ALIASES["Playground"])
    assert keys == ["pg_k", "pg_lr"] and bad
    css = present.css_for(keys)
    assert ".st-key-pg_k," in css and '[class*="st-key-pg_lr_"]' in css and "body" not in css
    at = learn_app(hide="predict,another")                     # no questions: charts at once
    assert not at.radio and not [b for b in at.button if b.key == "learn_new"]
    assert len(at.get("plotly_chart")) == 11
    assert any(".st-key-learn_new" in e.proto.body for e in at.get("html"))


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
                gal = '.st-key-gallery-narrow .js-plotly-plot'
                assert page.locator(gal).is_visible()
                assert not page.locator('.st-key-gallery-wide .js-plotly-plot').is_visible()
                titles = page.evaluate(BOXES, f"{gal} .annotation-text")
                ticks = page.evaluate(BOXES, f'{gal} g[class^="x"][class$="tick"] text')
                assert len(titles) == 8 and ticks
                assert not _overlaps(titles), _overlaps(titles)
                assert not _overlaps(ticks), _overlaps(ticks)
                page.locator(gal).screenshot(path=os.path.join(SHOTS, "Learn-390-gallery.png"))
            page.close()

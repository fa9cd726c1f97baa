"""The evaluation protocol's fairness rules (issue 13): every algorithm's and baseline's test-time
step size is chosen on validation tasks disjoint from the test tasks, by one rule; every mean
comes with its median and how many tasks diverged; navigation Reptile takes real inner steps."""
import math

import pytest
import torch

from maml_viz.engine import rl
from maml_viz.engine.algorithms.reptile import Reptile
from maml_viz.engine.config import ConfigError
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import train
from maml_viz.runs.evaluate import (LR_GRID, _task_scores, choose_scales, evaluate, from_json,
                                    task_stats, to_json)


def test_choose_scales_keeps_the_trained_step_unless_another_is_strictly_better():
    t = lambda *cols: torch.tensor([cols, cols], dtype=torch.float64)   # 2 tasks, steps 0..len-1
    val = {0.5: t(3.0, 1.0, 0.5, 0.2), 1.0: t(3.0, 1.0, 0.4, float("inf")),
           2.0: t(3.0, 2.0, float("nan"), 0.3)}
    # step 1: a tie with m=1 keeps m=1; step 2: m=1 is best; step 3: m=1 diverged, 0.5 wins
    assert choose_scales(val, higher_is_better=False) == [1.0, 1.0, 1.0, 0.5]
    # for a score (accuracy, return) the largest mean wins; a non-finite one never does
    assert choose_scales(val, higher_is_better=True) == [1.0, 2.0, 0.5, 2.0]
    # m=1 not finite anywhere and no alternative: stays 1 (nothing better to choose)
    assert choose_scales({1.0: t(1.0, float("nan"))}, False) == [1.0, 1.0]


def test_task_stats_median_and_divergence():
    before = torch.tensor([2.0, 2.0, 2.0, 2.0, 2.0])
    s = torch.tensor([0.1, 0.2, 0.3, 500.0, float("inf")])    # 500 > 100 x 2: diverged too
    st = task_stats(s, before, higher_is_better=False)
    assert st["diverged"] == 2 and st["tasks"] == 5 and st["median"] == pytest.approx(0.3)
    assert math.isinf(st["mean"])
    st = task_stats(torch.tensor([0.1, 0.2, 0.3, 0.4]), before[:4], False)
    assert st["diverged"] == 0 and st["median"] == pytest.approx(0.25)
    assert st["mean"] == pytest.approx(0.25) and st["ci95"] > 0
    acc = task_stats(torch.tensor([0.5, float("nan"), 0.9]), torch.zeros(3), higher_is_better=True)
    assert acc["diverged"] == 1 and acc["median"] == pytest.approx(0.5)   # NaN counts as worst


def test_validated_step_size_is_chosen_on_validation_tasks_only():
    run = train(make_config(family="sinusoid", algo="pretrained", iterations=150, seed=0), "cpu")
    steps, n = 3, 100
    df = evaluate(run, steps=steps, n_tasks=n)
    p = df.attrs["protocol"]
    assert "validation tasks" in p["step_size"] and "disjoint" in p["step_size"]
    assert "diverged" in p and set(df["lr_scale"]) <= set(LR_GRID)
    # the choice is the argmin of the VALIDATION means (recomputed here independently) ...
    fam = run.family
    val = {m: _task_scores(fam, run, 10, steps, n, 1234, m, "val", 500, None) for m in LR_GRID}
    assert df["lr_scale"].tolist() == choose_scales(val, fam.higher_is_better)
    # ... and the reported numbers are the TEST tasks' at that step size
    for step, m in enumerate(df["lr_scale"]):
        fixed = evaluate(run, steps=steps, n_tasks=n, lr=m)
        assert df["mean"][step] == fixed["mean"][step]
        assert df["lr"][step] == pytest.approx(run.config.inner_lr * m)
    # validation and test are different task draws from the same family
    test = _task_scores(fam, run, 10, 0, n, 1234, 1.0, "eval", 500, None)
    assert not torch.equal(val[1.0][:, 0], test[:, 0])
    # "trained" is m = 1 everywhere: the old protocol
    trained = evaluate(run, steps=steps, n_tasks=n, lr="trained")
    assert (trained["lr_scale"] == 1.0).all()
    with pytest.raises(ConfigError):
        evaluate(run, steps=1, n_tasks=5, lr=-1)
    # JSON keeps median, divergence count and the step size; older results still load
    back = from_json(to_json(df))
    assert back["median"].tolist() == pytest.approx(df["median"].tolist())
    assert back["diverged"].tolist() == df["diverged"].tolist() and "lr_scale" in back
    old = from_json({"results": [{"k_shot": 10, "step": 0, "mean": None, "ci95": None,
                                  "diverged": True}]})
    assert math.isnan(old["mean"][0]) and "diverged" not in old.columns


def test_rl_protocol_scales_the_policy_gradient_step_and_validates_it():
    cfg = make_config(family="navigation", algo="scratch", hidden=(16, 16))
    run = train(cfg, "cpu")
    df = evaluate(run, steps=1, n_tasks=4)
    assert df["metric"][0] == "return" and set(df["lr_scale"]) <= set(LR_GRID)
    m = df["lr_scale"][1]
    again = rl.task_scores(run, 1, 4, 1234, scale=m)            # the test goals at that step
    assert df["mean"][1] == pytest.approx(float(again[:, 1].mean()))
    assert "validation" in df.attrs["protocol"]["step_size"]


def test_navigation_reptile_takes_real_inner_steps_other_families_unchanged():
    nav = make_config(family="navigation", algo="reptile")
    assert nav.inner_steps == 5 and nav.inner_lr == 0.1 and nav.outer_lr == 1.0
    assert Reptile().defaults_for(type(make_family("navigation"))) == {"inner_steps": 5,
                                                                       "inner_lr": 0.1}
    assert make_config(family="navigation", algo="maml").inner_steps == 1      # MAML's stay
    assert make_config(family="navigation", algo="reptile", inner_steps=2).inner_steps == 2
    assert make_config(family="sinusoid", algo="reptile").inner_steps == 5
    assert make_config(family="blobs", algo="reptile").inner_steps == 5

"""Several training seeds of one config (maml_viz.runs.seeds): Student's t, the mean curve with a
between-seed 95% interval, per-seed rows, and what a Compare page calls."""
import math

import pandas as pd
import pytest

from maml_viz.engine.registry import make_config
from maml_viz.runs.seeds import (across_seeds, compare, group_by_config, seed_rows, seeds_of,
                                 stored_frames, t_interval, t_quantile)


def test_t_quantiles_match_the_tables():
    for df, ref in [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (30, 2.0423),
                    (1000, 1.9623)]:
        assert abs(t_quantile(0.975, df) - ref) < 1e-4, df
    assert abs(t_quantile(0.9, 10) - 1.3722) < 1e-4
    assert t_quantile(0.025, 4) == pytest.approx(-t_quantile(0.975, 4))
    mean, half, n = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (mean, n) == (3.0, 5) and half == pytest.approx(2.7764 * math.sqrt(2.5) / math.sqrt(5), 1e-4)
    assert math.isnan(t_interval([2.0])[1]) and math.isnan(t_interval([1.0, float("inf")])[0])


def test_across_seeds_mean_curve_ci_median_and_divergence():
    def frame(vals):
        return pd.DataFrame({"k_shot": 10, "step": range(len(vals)), "mean": vals, "ci95": 0.1})
    frames = {0: frame([3.0, 1.0]), 1: frame([3.2, 1.4]), 2: frame([2.8, None]), 3: frame([3.0, 1.2])}
    s = across_seeds(frames)
    step0 = s[s.step == 0].iloc[0]
    assert step0["mean"] == pytest.approx(3.0) and step0["n_seeds"] == 4 and step0["n_diverged"] == 0
    sd = math.sqrt((0 + 0.04 + 0.04 + 0) / 3)
    assert step0["ci95"] == pytest.approx(t_quantile(0.975, 3) * sd / 2)
    step1 = s[s.step == 1].iloc[0]      # seed 2 diverged: no mean, a median, and the count
    assert math.isnan(step1["mean"]) and step1["n_diverged"] == 1
    assert step1["median"] == pytest.approx(1.3)
    rows = seed_rows(frames)
    assert list(rows.columns[:4]) == ["seed", "k_shot", "step", "mean"] and len(rows) == 8
    assert "seeds" in s.attrs["ci"] and "task_median" not in s.columns
    # protocol-2 frames also say how single tasks fared: medians averaged, divergences summed
    for i, f in frames.items():
        f["median"], f["diverged"], f["tasks"] = 0.5 + i, [0, i], 100
    s = across_seeds(frames)
    assert s["task_median"].tolist() == [2.0, 2.0]
    assert s["diverged_tasks"].tolist() == [0, 6] and s["tasks"].tolist() == [400, 400]
    a, b = make_config(seed=0), make_config(seed=1)
    c = make_config(seed=0, inner_lr=0.02)

    class R:
        def __init__(self, cfg):
            self.config = cfg
    groups = group_by_config([R(b), R(c), R(a)])
    assert sorted(len(v) for v in groups.values()) == [1, 2]
    assert [r.config.seed for r in max(groups.values(), key=len)] == [0, 1]


def test_compare_gives_curves_per_algorithm_and_per_seed_rows_from_stored_runs():
    class R:
        def __init__(self, algo, seed, step1):
            self.config = make_config(algo=algo, seed=seed, iterations=10)
            self.metrics = {"protocol": {"version": 2}, "results": [
                {"k_shot": 10, "step": 0, "mean": 3.0, "ci95": 0.2, "median": 2.0,
                 "diverged_tasks": 0, "tasks": 100, "lr_scale": 1.0, "lr": 0.01},
                {"k_shot": 10, "step": 1, "mean": step1, "ci95": 0.1, "median": 0.5,
                 "diverged_tasks": 1, "tasks": 100, "lr_scale": 1.0, "lr": 0.01}]}
    maml = [R("maml", s, v) for s, v in [(0, 0.4), (1, 0.5), (2, 0.6)]]
    fomaml = [R("fomaml", 0, 0.7)]
    entries = [{"config": r.config} for r in maml + fomaml] + [{"config": None}]
    assert seeds_of(entries, make_config(algo="maml", seed=7, iterations=10)) == [0, 1, 2]
    assert seeds_of(maml, make_config(algo="maml", iterations=11)) == []       # another config
    curves, per_seed = compare({"maml": stored_frames(maml), "fomaml": stored_frames(fomaml)})
    m1 = curves[(curves.algo == "maml") & (curves.step == 1)].iloc[0]
    assert m1["mean"] == pytest.approx(0.5) and m1["n_seeds"] == 3
    assert m1["ci95"] == pytest.approx(t_quantile(0.975, 2) * 0.1 / math.sqrt(3))
    assert m1["diverged_tasks"] == 3 and m1["tasks"] == 300
    f1 = curves[(curves.algo == "fomaml") & (curves.step == 1)].iloc[0]
    assert f1["n_seeds"] == 1 and math.isnan(f1["ci95"])     # one seed: no between-seed CI
    assert curves.attrs["seeds"] == {"maml": [0, 1, 2], "fomaml": [0]}
    assert len(per_seed) == 8 and list(per_seed.columns[:5]) == ["algo", "seed", "k_shot", "step", "mean"]
    assert {"algo", "step", "mean", "ci95"} <= set(curves.columns)   # what error_vs_steps reads

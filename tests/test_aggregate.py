"""Per-task scores kept with an evaluation (scores.py, evaluate.py, store.py) and the sweep's
summary with robust statistics (runs/aggregate.py, runs/summary.py), without Ray."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from maml_viz import cli
from maml_viz.engine.registry import make_config
from maml_viz.engine.train import Run, train
from maml_viz.runs import stats, summary
from maml_viz.runs.evaluate import evaluate, from_json, task_stats, to_json
from maml_viz.runs.files import Damaged, load_run
from maml_viz.runs.saving import save_run
from maml_viz.runs.scores import TaskScores, decode, encode
from maml_viz.services import sweep


# ------------------------------------------------------------------ per-task scores
def test_scores_codec_is_exact_and_checks_its_input():
    a = np.array([[0.5, 1.25], [np.nan, np.inf]], dtype=np.float32).astype(np.float64)
    d = encode(5, a)
    assert d["dtype"] == "<f4" and d["shape"] == [2, 2]
    k, back = decode(json.loads(json.dumps(d)))
    assert k == 5 and np.array_equal(back, a, equal_nan=True) and not back.flags.writeable
    b = np.array([[0.1, 1 / 3]])                           # not exact in float32: kept as float64
    assert decode(encode(1, b))[1].tolist() == b.tolist() and encode(1, b)["dtype"] == "<f8"
    for bad in ({}, dict(d, shape=[3, 2]), dict(d, base64="!!"), dict(d, dtype="<i8"),
                dict(d, shape=[2, True])):
        with pytest.raises(ValueError):
            decode(bad)
    # in a frame's attrs: compared by value, shared by copies, safe to concatenate
    f1, f2 = pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [2]})
    f1.attrs["task_scores"] = TaskScores({5: a})
    f2.attrs["task_scores"] = TaskScores({5: a + 1})
    assert f1.copy().attrs["task_scores"] is f1.attrs["task_scores"]
    assert len(pd.concat([f1, f2])) == 2 and TaskScores({5: a}) == f1.attrs["task_scores"]


def test_evaluation_keeps_its_per_task_scores_and_how_to_reproduce_it(tmp_path):
    cfg = make_config(family="linear", algo="scratch")
    run = train(cfg, "cpu")
    df = evaluate(run, steps=2, n_tasks=30)
    sc = df.attrs["task_scores"]
    assert list(sc) == [cfg.k_shot] and sc[cfg.k_shot].shape == (30, 3)
    # the rows summarise exactly these numbers (each step at the step size it chose)
    assert np.allclose(sc[cfg.k_shot].mean(0), df["mean"], rtol=1e-12, atol=0)
    rep = df.attrs["protocol"]["reproduce"]
    assert rep["config_key"] == run.key and rep["torch"] == torch.__version__
    assert rep["protocol_version"] == df.attrs["protocol"]["version"]
    assert "--tasks 30" in rep["command"] and "--steps 2" in rep["command"]
    # stored with the run, read back, and checked
    run.metrics = to_json(df)
    path = save_run(run, tmp_path)
    back = from_json(load_run(path).metrics)
    assert back.attrs["task_scores"] == sc
    assert "task_scores" not in to_json(df, task_scores=False)
    m = json.loads((path / "metrics.json").read_text())
    m["evaluation"]["task_scores"][0]["shape"] = [31, 3]
    (path / "metrics.json").write_text(json.dumps(m))
    with pytest.raises(Damaged, match="task_scores"):
        load_run(path)


def test_evaluate_json_carries_the_protocol_and_versions(tmp_path, capsys):
    cfg = make_config(family="linear", algo="scratch")
    run = train(cfg, "cpu")
    path = save_run(run, tmp_path)
    assert cli.main(["evaluate", str(path), "--steps", "1", "--tasks", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rep = out["protocol"]["reproduce"]
    assert {"maml_viz", "torch", "numpy", "python", "protocol_version", "config_key", "config",
            "training_seed", "device", "command"} <= set(rep)
    assert out["protocol"]["tasks"] == 10 and out["protocol"]["k_shot"] == [cfg.k_shot]
    assert "task_scores" not in out                         # kept with the run, not printed


# ------------------------------------------------------------------ the sweep's summary
def fake_run(cfg, scores: np.ndarray, with_scores=True) -> Run:
    """A stored run whose evaluation has exactly these per-task scores [tasks, steps+1]."""
    run = Run(cfg, {k: torch.zeros(s) for k, s in
                    Run(cfg, {}).algorithm.param_shapes(Run(cfg, {}).model).items()},
              info={"partial": False, "iterations_done": cfg.iterations})
    t = torch.tensor(scores)
    df = pd.DataFrame([{"algo": cfg.algo, "k_shot": cfg.k_shot, "step": s,
                        **task_stats(t[:, s], t[:, 0], higher_is_better=False),
                        "lr_scale": 1.0, "lr": cfg.inner_lr, "metric": "mse"}
                       for s in range(scores.shape[1])])
    df.attrs["protocol"] = {"family": cfg.family, "metric": "mse", "tasks": scores.shape[0],
                            "k_shot": [cfg.k_shot], "steps": scores.shape[1] - 1, "seed": 1234,
                            "query_points": 100, "version": 3}
    if with_scores:
        df.attrs["task_scores"] = TaskScores({cfg.k_shot: scores})
    run.metrics = to_json(df)
    return run


@pytest.fixture
def stored(tmp_path):
    """maml: 4 seeds, fomaml: 4 seeds (worse), reptile: 2 seeds; 40 tasks, steps 0..2."""
    rng = np.random.default_rng(0)
    configs, data = [], {}
    for algo, n_seeds, shift in (("maml", 4, 0.0), ("fomaml", 4, 0.3), ("reptile", 2, 0.0)):
        for seed in range(n_seeds):
            cfg = make_config(family="linear", algo=algo, seed=seed, iterations=10)
            sc = np.abs(1.0 + shift + 0.3 * rng.standard_normal((40, 3)))
            sc = sc.astype(np.float32).astype(np.float64)
            save_run(fake_run(cfg, sc), tmp_path)
            configs.append(cfg)
            data.setdefault(algo, []).append(sc)
    return tmp_path, configs, {a: np.stack(v) for a, v in data.items()}


def test_summary_adds_iqm_and_probability_of_improvement(stored):
    runs, configs, data = stored
    text, df = summary.summary(configs, runs, bootstrap={"reps": 300})
    lines = text.splitlines()
    assert [ln.split()[:2] for ln in lines[2:5]] == [["maml", "4"], ["fomaml", "4"],
                                                     ["reptile", "2"]]
    assert any(ln.startswith("interquartile mean") for ln in lines)
    assert "probability of improvement at step 1" in text
    assert "n/a (< 3 seeds)" in text and "at least 3 training seeds" in text
    # the numbers are stats' on the stored per-task scores
    e = stats.iqm_interval(data["maml"][:, :, 1], False, reps=300)
    row = df[(df["algo"] == "maml") & (df["step"] == 1)].iloc[0]
    assert (row["iqm"], row["iqm_low"], row["iqm_high"]) == pytest.approx((e.value, e.low, e.high))
    assert math.isnan(df[(df["algo"] == "reptile") & (df["step"] == 1)].iloc[0]["iqm"])
    j = summary.summary_json(configs, runs, bootstrap={"reps": 300})
    json.dumps(j, allow_nan=False)
    maml = next(g for g in j["groups"] if g["label"] == "maml")
    assert maml["seeds"] == [0, 1, 2, 3] and len(maml["runs"]) == 4
    step1 = next(s for s in maml["steps"] if s["step"] == 1)
    assert step1["iqm"]["value"] == pytest.approx(e.value)
    assert step1["iqm"]["ci95"] == pytest.approx([e.low, e.high])
    assert step1["mean"] == pytest.approx(data["maml"][:, :, 1].mean())
    reptile = next(g for g in j["groups"] if g["label"] == "reptile")
    assert reptile["steps"][0]["iqm"]["value"] is None and "at least 3" in \
        reptile["steps"][0]["iqm"]["note"]
    poi = next(m for m in j["probability_of_improvement"] if m["step"] == 1)
    assert poi["algos"] == ["maml", "fomaml", "reptile"]
    p = stats.probability_of_improvement(data["maml"][:, :, 1], data["fomaml"][:, :, 1], False,
                                         reps=300)
    assert poi["value"][0][1] == pytest.approx(p.value) and p.value > 0.5   # lower MSE wins
    assert poi["value"][1][0] == pytest.approx(1 - p.value)
    assert poi["value"][0][2] is None and j["versions"]["protocol_version"] == 3


def test_runs_without_per_task_scores_are_said_so_and_are_stale(tmp_path):
    configs = []
    for seed in range(3):
        cfg = make_config(family="linear", algo="maml", seed=seed, iterations=10)
        save_run(fake_run(cfg, np.ones((5, 2)), with_scores=False), tmp_path)
        configs.append(cfg)
    text, _ = summary.summary(configs, tmp_path, bootstrap={"reps": 50})
    assert "no per-task scores" in text and "evaluates them anew" in text
    run = load_run(tmp_path / configs[0].key())
    assert sweep.stale(run)
    assert not sweep.stale(fake_run(configs[0], np.ones((5, 2))))


def test_sweep_json_from_stored_runs_needs_no_ray(tmp_path, capsys):
    rng = np.random.default_rng(1)
    for algo in ("maml", "fomaml"):
        for seed in range(3):
            cfg = make_config(family="linear", algo=algo, seed=seed, iterations=10)
            sc = np.abs(rng.standard_normal((30, 3))).astype(np.float32).astype(np.float64)
            save_run(fake_run(cfg, sc), tmp_path)
    rc = cli.main(["sweep", "--family", "linear", "--algos", "maml,fomaml", "--seeds", "0-2",
                   "--iterations", "10", "--runs-dir", str(tmp_path), "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    j = json.loads(out)
    assert [g["label"] for g in j["groups"]] == ["maml", "fomaml"]
    assert j["sweep"]["skipped"] == 6 and j["sweep"]["trained"] == 0
    step = j["groups"][0]["steps"][1]
    assert step["step"] == 1 and step["n_seeds"] == 3 and len(step["iqm"]["ci95"]) == 2
    assert {"maml_viz", "torch", "numpy", "python", "protocol_version"} <= set(j["versions"])
    assert [m["step"] for m in j["probability_of_improvement"]] == [0, 1, 2]
    assert j["statistics"]["min_seeds"] == 3 and j["statistics"]["bootstrap"]["reps"] == 2000

"""Training, evaluation, tasks, the run store and the CLI."""
import json
import os
import subprocess
import sys

import pytest
import torch

from maml_viz.engine.config import ConfigError, TrainConfig
from maml_viz.engine.registry import make_config
from maml_viz.engine.tasks import make_family
from maml_viz.engine.train import Trainer, TrainingDiverged, train
from maml_viz.runs.evaluate import evaluate
from maml_viz.runs.files import StoreError, load_run
from maml_viz.runs.saving import save_run
from maml_viz.runs.store import RunStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def quick(algo, **kw):
    kw.setdefault("iterations", 300)
    return make_config(algo=algo, **kw)


def test_same_seed_same_run_other_seed_other_tasks():
    a = train(quick("maml", iterations=30), "cpu")
    b = train(quick("maml", iterations=30), "cpu")
    c = train(quick("maml", iterations=30, seed=1), "cpu")
    for k in a.params:
        assert torch.equal(a.params[k], b.params[k])
    assert a.history["meta_loss"] == b.history["meta_loss"]
    assert not torch.equal(a.params["l0.w"], c.params["l0.w"])
    fam = make_family("sinusoid")
    t0 = fam.sample_tasks(5, torch.Generator().manual_seed(0))
    t1 = fam.sample_tasks(5, torch.Generator().manual_seed(1))
    assert not torch.equal(t0, t1)


def test_tasks_follow_the_paper_ranges():
    fam = make_family("sinusoid")
    t = fam.sample_tasks(2000, torch.Generator().manual_seed(0))
    assert 0.1 <= t[:, 0].min() and t[:, 0].max() <= 5.0
    assert 0.0 <= t[:, 1].min() and t[:, 1].max() <= torch.pi
    x, y = fam.sample_points(t, 50, torch.Generator().manual_seed(0))
    assert x.min() >= -5 and x.max() <= 5
    assert torch.allclose(y, t[:, :1, None] * torch.sin(x - t[:, 1:, None]))


@pytest.mark.parametrize("algo", ["maml", "fomaml", "reptile", "anil", "metasgd", "pretrained"])
def test_short_training_beats_random_init_after_one_step(algo):
    run = train(quick(algo, iterations=400), "cpu")
    scratch = train(quick("scratch"), "cpu")
    ours = evaluate(run, steps=1, n_tasks=300).query("step == 1")["mean"].item()
    base = evaluate(scratch, steps=1, n_tasks=300).query("step == 1")["mean"].item()
    assert ours < base, (algo, ours, base)


def test_evaluation_protocol_and_confidence_intervals():
    run = train(quick("maml", iterations=50), "cpu")
    df = evaluate(run, k_shots=(5, 10), steps=3, n_tasks=200)
    assert list(df.columns) == ["algo", "k_shot", "step", "mean", "ci95", "median", "diverged",
                                "tasks", "lr_scale", "lr", "metric"]
    assert len(df) == 2 * 4 and (df["ci95"] > 0).all()
    p = df.attrs["protocol"]
    assert p["tasks"] == 200 and p["query_points"] == 100 and p["steps"] == 3
    # held-out tasks: the same eval seed gives the same numbers, another seed other numbers
    again = evaluate(run, k_shots=(5, 10), steps=3, n_tasks=200)
    other = evaluate(run, k_shots=(5, 10), steps=3, n_tasks=200, seed=99)
    assert df["mean"].tolist() == again["mean"].tolist()
    assert df["mean"].tolist() != other["mean"].tolist()


def test_divergence_is_detected_and_nothing_is_saved(tmp_runs):
    cfg = quick("maml", inner_lr=9.0, outer_lr=5.0, iterations=200)
    tr = Trainer(cfg, "cpu")
    with pytest.raises(TrainingDiverged, match="inner learning rate"):
        while not tr.done:
            tr.run(50)
    assert all(torch.isfinite(v).all() for v in tr.params.values())
    assert not tmp_runs.exists()


def test_config_validation_names_the_field():
    with pytest.raises(ConfigError) as e:
        make_config(inner_lr=-1)
    assert e.value.field == "inner_lr"
    for bad, field in [({"k_shot": 0}, "k_shot"), ({"algo": "nope"}, "algo"),
                       ({"family": "nope"}, "family"), ({"hidden": (0,)}, "hidden"),
                       ({"outer_lr": float("nan")}, "outer_lr")]:
        with pytest.raises(ConfigError) as e:
            make_config(**bad)
        assert e.value.field == field
    assert make_config(algo="reptile").inner_steps == 5
    assert make_config().key() == make_config().key()
    assert make_config().key() != make_config(seed=1).key()


def test_store_round_trip_and_lru(tmp_runs):
    run = train(quick("metasgd", iterations=20), "cpu")
    run.metrics = {"protocol": {"metric": "mse", "tasks": 3, "k_shot": [10], "steps": 0},
                   "results": [{"k_shot": 10, "step": 0, "mean": 1.5, "ci95": 0.25}]}
    path = save_run(run, tmp_runs)
    assert sorted(os.listdir(path)) == ["config.json", "history.csv", "meta_params.safetensors",
                                        "metrics.json"]
    back = load_run(path)
    assert back.config == run.config and back.metrics == run.metrics
    for k in run.params:
        assert torch.equal(back.params[k], run.params[k])
    assert back.history["iteration"] == run.history["iteration"]
    store = RunStore(tmp_runs, capacity=1)
    assert store.get(run.config) is store.get(run.config)      # served from memory
    assert store.get(quick("maml", iterations=5)) is None
    assert not [p for p in os.listdir(tmp_runs) if p.startswith(".")]  # no temp dirs left


@pytest.mark.parametrize("damage", ["truncate", "garbage_json", "foreign_json", "wrong_shape",
                                    "nan", "missing"])
def test_corrupted_or_foreign_runs_give_a_clear_error(tmp_runs, damage):
    run = train(quick("maml", iterations=5), "cpu")
    path = save_run(run, tmp_runs)
    st = path / "meta_params.safetensors"
    if damage == "truncate":
        st.write_bytes(st.read_bytes()[:40])
    elif damage == "garbage_json":
        (path / "config.json").write_text("{not json")
    elif damage == "foreign_json":
        (path / "config.json").write_text(json.dumps({"model": "resnet", "lr": 1}))
    elif damage == "wrong_shape":
        from safetensors.torch import save_file
        save_file({"l0.w": torch.zeros(3, 3)}, str(st))
    elif damage == "nan":
        from safetensors.torch import save_file
        save_file({k: torch.full_like(v, float("nan")) for k, v in run.params.items()}, str(st))
    elif damage == "missing":
        st.unlink()
    with pytest.raises(StoreError) as e:
        load_run(path)
    msg = str(e.value)
    assert str(path) in msg and ("train it again" in msg or "not a maml-viz run" in msg)


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "maml_viz", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)


@pytest.mark.parametrize("args,field", [
    (["train", "--inner-lr", "-0.1"], "--inner-lr"),
    (["train", "--outer-lr", "0"], "--outer-lr"),
    (["train", "--k-shot", "0"], "--k-shot"),
    (["train", "--family", "mnist"], "--family"),
    (["train", "--algo", "sgd"], "--algo"),
    (["train", "--k-shot", "ten"], "--k-shot"),
    (["evaluate", "/no/such/run"], "no run"),
    (["evaluate", "/no/such/run", "--k-shot", "0"], "--k-shot"),
])
def test_cli_bad_arguments_exit_2_with_one_line(args, field):
    r = cli(*args)
    assert r.returncode == 2, r
    assert field in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_train_reuse_evaluate_json_and_runs(tmp_path):
    runs = str(tmp_path / "runs")
    args = ["train", "--family", "linear", "--algo", "fomaml", "--iterations", "40",
            "--runs-dir", runs, "--eval-tasks", "50", "--quiet"]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    run_dir = first.stdout.strip().splitlines()[-1]
    assert os.path.isdir(run_dir)
    second = cli(*args)
    assert "reusing" in second.stdout and second.stdout.strip().splitlines()[-1] == run_dir
    ev = cli("evaluate", run_dir, "--k-shot", "5,10", "--steps", "2", "--tasks", "30", "--json")
    out = json.loads(ev.stdout)
    assert out["protocol"]["tasks"] == 30
    assert {(r["k_shot"], r["step"]) for r in out["results"]} == {(k, s) for k in (5, 10) for s in range(3)}
    assert all(r["ci95"] > 0 for r in out["results"])
    listing = cli("runs", "--runs-dir", runs)
    assert os.path.basename(run_dir) in listing.stdout


def test_blobs_labels_are_permuted_and_support_free_model_is_at_chance():
    fam = make_family("blobs")
    gen = torch.Generator().manual_seed(0)
    tasks = fam.sample_tasks(400, gen)
    x, y = fam.sample_points(tasks, 5, gen)
    # the label of a region of the plane changes from task to task
    centres = tasks.reshape(400, fam.n_way, 2)
    nearest_to_origin = centres.norm(dim=-1).argmin(-1)
    counts = torch.bincount(nearest_to_origin, minlength=fam.n_way).float() / 400
    assert (counts > 0.1).all()
    # a model that ignores the support set (a pretrained net, no adaptation) scores at chance
    run = train(quick("pretrained", family="blobs", iterations=200), "cpu")
    acc0 = evaluate(run, steps=0, n_tasks=500).query("step == 0")["mean"].item()
    assert abs(acc0 - 1 / fam.n_way) < 0.05

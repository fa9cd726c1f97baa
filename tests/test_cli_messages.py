"""Issue 26, item 11 (the command line's messages): after Ctrl-C in the evaluation the hint names
a command that really finishes the run; `evaluate --benchmark` is estimated and checked like any
evaluation (a refusal, or a note for a long one, before minutes of silence). Faults are injected
in process (an evaluation that is interrupted, a machine with little memory)."""
import glob
import os

import pytest

from maml_viz import cli
from maml_viz.runs import budget
from maml_viz.runs import evaluate as evaluate_mod
from maml_viz.runs.files import load_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OMNIGLOT = glob.glob(os.path.join(ROOT, "assets", "runs", "omniglot-maml-*"))[0]


def test_the_hint_after_ctrl_c_in_the_evaluation_names_a_command_that_finishes_it(
        tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs"
    args = ["train", "--family", "linear", "--iterations", "20", "--runs-dir", str(runs),
            "--eval-tasks", "20", "--quiet"]
    real = evaluate_mod.evaluate

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate_mod, "evaluate", interrupted)
    assert cli.main(args) == 130
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    assert "saved at" in hint and "same `python -m maml_viz train" in hint, hint
    assert "maml_viz evaluate" not in hint                   # evaluate never stores its result
    (run_dir,) = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert load_run(run_dir).metrics is None
    monkeypatch.setattr(evaluate_mod, "evaluate", real)
    assert cli.main(args) == 0                                 # what the hint says to do
    assert "no evaluation yet: evaluating it" in capsys.readouterr().out
    assert load_run(run_dir).metrics is not None               # ... finishes it


def test_a_benchmark_too_big_for_memory_is_refused_before_it_starts(capsys, monkeypatch):
    monkeypatch.setattr(budget, "memory_limit", lambda device="cpu": 10_000_000)
    called = []
    monkeypatch.setattr(evaluate_mod, "benchmark", lambda *a, **kw: called.append(1))
    code = cli.main(["evaluate", OMNIGLOT, "--benchmark", "lake20", "--steps", "1000",
                     "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and not called and "would need about" in err and "--steps" in err, err


def test_a_long_benchmark_says_how_long_before_it_starts(capsys, monkeypatch):
    def stop(*a, **kw):
        raise KeyboardInterrupt                                  # (we only want the note)

    monkeypatch.setattr(evaluate_mod, "benchmark", stop)
    code = cli.main(["evaluate", OMNIGLOT, "--benchmark", "lake20", "--steps", "1000",
                     "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 130 and "note: the evaluation will take about" in err, err


@pytest.mark.parametrize("steps", [5, 200])
def test_the_benchmark_estimate_grows_with_the_steps_and_bounds_its_memory(steps):
    run = load_run(OMNIGLOT)
    b = run.family.benchmark_tasks("lake20")
    est = budget.benchmark_estimate(run.config, b["n_way"], b["k_shot"], b["xs"].shape[0],
                                    b["xq"].shape[1] // b["n_way"], steps)
    assert est.seconds > 0 and est.bytes > 0
    small = budget.benchmark_estimate(run.config, 20, 1, 20, 1, 1)
    assert est.seconds >= small.seconds and est.bytes >= small.bytes

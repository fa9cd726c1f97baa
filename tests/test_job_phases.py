"""Issue 26, items 4 and 6 and the job messages of item 11: Stop and the app's time limit work in
every phase (the evaluation included, keeping the trained run); a run folder's name taken by a
folder that is not a run is found before anything trains (jobs, `train`); the Train page says
what Start queued and what was there already; a compiled job's first progress line never
promises "about 10 days". Waits are on conditions (deadlines only bound a hang)."""
import json
import time

import pytest

from maml_viz import cli
from maml_viz.engine.registry import make_config
from maml_viz.runs.files import check_run, load_run
from maml_viz.runs.store import RunStore
from maml_viz.services import child as child_mod
from maml_viz.services.jobs import (UNEVALUATED, Job, JobManager, JobRefused, Progress,
                                    submitted_message)

# a short training whose evaluation takes minutes (a million held-out tasks)
EVAL_HEAVY = dict(family="linear", algo="maml", iterations=30)


def wait_until(cond, timeout=240, what="condition"):
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.time() - t0


def evaluating_job(tmp_path, seed=0):
    store = RunStore(tmp_path / "runs")
    jm = JobManager(store, eval_tasks=1_000_000, max_seconds=1e9)
    job = jm.submit(make_config(**EVAL_HEAVY, seed=seed), owner="a")
    wait_until(lambda: job.evaluating and job.saved or not job.active, what="the evaluation")
    assert job.active and job.status == "saving", (job.status, job.error)
    return store, jm, job


def assert_kept_without_evaluation(store, job):
    assert job.status == "stopped" and job.run is not None, (job.status, job.error)
    assert UNEVALUATED in job.note
    d = store.roots[0] / job.key
    assert check_run(d) is None
    run = load_run(d)
    assert not run.info["partial"] and run.info["iterations_done"] == 30 and run.metrics is None


def test_stop_during_the_evaluation_keeps_the_trained_run(tmp_path):
    store, jm, job = evaluating_job(tmp_path)
    assert jm.can_stop(job, "a") and not jm.can_stop(job, "b")
    assert "evaluating" in jm.describe(job, "a")
    assert jm.stop(job.key, "a")
    took = wait_until(lambda: not job.active, what="the stop")
    assert took < 10, took                    # (STOP_GRACE, then the child is killed)
    assert_kept_without_evaluation(store, job)
    # the queue slot is free again: the next job starts
    nxt = jm.submit(make_config(family="linear", algo="fomaml", iterations=5), owner="b")
    wait_until(lambda: nxt.status != "queued", what="the next job to start")


def test_the_time_limit_covers_the_evaluation(tmp_path):
    store, jm, job = evaluating_job(tmp_path, seed=1)
    jm.max_seconds = 0.0                      # the limit passes now, during the evaluation
    wait_until(lambda: not job.active, what="the limit")
    assert "app's limit" in job.note
    assert_kept_without_evaluation(store, job)


def test_a_foreign_folder_with_the_runs_name_is_found_before_training(tmp_path, capsys):
    runs = tmp_path / "runs"
    cfg = make_config(family="linear", algo="maml", iterations=5)
    (runs / cfg.key()).mkdir(parents=True)
    (runs / cfg.key() / "my notes.txt").write_text("keep me")
    jm = JobManager(RunStore(runs), eval_tasks=20)
    with pytest.raises(JobRefused, match="is in the way: it is not a maml-viz run folder"):
        jm.submit(cfg, owner="a")
    assert jm.jobs() == []
    capsys.readouterr()
    code = cli.main(["train", "--family", "linear", "--iterations", "5", "--runs-dir", str(runs),
                     "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and "is in the way" in err and "trained" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert (runs / cfg.key() / "my notes.txt").read_text() == "keep me"


def test_start_says_what_was_queued_and_what_was_there(tmp_path):
    store = RunStore(tmp_path / "runs")
    jm = JobManager(store, eval_tasks=20, max_seconds=1e9)
    done = jm.submit(make_config(family="linear", algo="maml", iterations=5, seed=0), owner="a")
    wait_until(lambda: not done.active)
    long = jm.submit(make_config(family="linear", algo="maml", iterations=5_000_000, seed=1),
                     owner="a")
    t0 = time.time()
    cfgs = [make_config(family="linear", algo="maml", iterations=i, seed=s)
            for i, s in ((5, 0), (5_000_000, 1), (5, 2))]
    jobs, refused = jm.submit_many(cfgs, owner="a")
    msg = submitted_message(jobs, t0)
    assert refused is None
    assert msg.startswith("Queued: MAML seed 2") and "Already trained: MAML seed 0." in msg
    assert "Already waiting or training: MAML seed 1." in msg
    assert "Queued: MAML seed 0" not in msg
    jm.shutdown()
    wait_until(lambda: not long.active)


# ------------------------------------------------------------------ a compiled job's first line
def test_the_first_progress_line_of_a_compiled_job_never_promises_days(tmp_path, monkeypatch):
    """The child's training loop, in process, with a Trainer whose first chunk includes a
    compilation of 40 s (simulated): the speed reported is unknown until that chunk is over,
    then the steady speed; the app's line says 'measuring speed', never days."""
    from maml_viz.engine import train as train_mod

    class Compiled(train_mod.Trainer):
        first = True

        @property
        def compiled(self):
            return True

        def run(self, n, should_stop=None, max_seconds=None):
            p = super().run(n, should_stop, max_seconds)
            if Compiled.first:                       # the compile, as it is timed
                Compiled.first = False
                self.seconds += 40.0
                return self.progress(p.loss)
            return p

    monkeypatch.setattr(train_mod, "Trainer", Compiled)
    events = []
    spec = {"config": make_config(family="linear", algo="maml", iterations=3000).to_dict(),
            "device": "cpu", "chunk": 200, "eval_tasks": 10, "runs_dir": str(tmp_path / "r"),
            "workdir": str(tmp_path)}
    assert child_mod._work(spec, child_mod._Requests(), lambda **ev: events.append(ev)) == 0
    progress = [e for e in events if e["event"] == "progress" and e["iteration"] > 0]
    assert progress[0]["its_per_s"] == 0.0                     # unknown, not 200 / 40 s
    later = [e["its_per_s"] for e in progress[1:]]
    assert later and all(r > 50 for r in later)                # the steady speed
    jm = JobManager(RunStore(tmp_path / "r2"))
    job = Job(make_config(family="linear", algo="maml", iterations=3000), status="running")
    for e in progress:
        job.progress = Progress(e["iteration"], e["total"], e["loss"], e["its_per_s"], e["elapsed"])
        text = jm.describe(job)
        assert "days" not in text and " h left" not in text, text
    job.progress = Progress(**{k: progress[0][k] for k in ("iteration", "total", "loss",
                                                          "its_per_s", "elapsed")})
    assert "measuring speed" in jm.describe(job)
    assert [e["event"] for e in events][-1] == "done" and json.dumps(events)

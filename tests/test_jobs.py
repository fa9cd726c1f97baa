"""Background training for the app: one job per config, stop keeps a partial run, divergence
stores nothing, a stored config is not trained again."""
import time

import torch

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.store import RunStore
from maml_viz.services.jobs import JobManager


def wait(job, timeout=120):
    t0 = time.time()
    while job.active:
        assert time.time() - t0 < timeout, "job did not finish"
        time.sleep(0.05)


def test_same_config_twice_trains_once_and_is_stored(tmp_path):
    store = RunStore(tmp_path)
    jobs = JobManager(store, chunk=50, eval_tasks=50)
    cfg = make_config(algo="fomaml", iterations=300)
    a = jobs.submit(cfg)
    b = jobs.submit(make_config(algo="fomaml", iterations=300))   # another session
    assert a is b
    wait(a)
    assert a.status == "done" and a.run is not None and not a.run.info["partial"]
    assert a.history["iteration"][-1] == 300
    assert store.get(cfg) is not None
    # a new manager (say, after a restart) finds it stored and does not train again
    again = JobManager(RunStore(tmp_path)).submit(cfg)
    assert again.status == "done" and again.progress is None


def test_stop_keeps_what_was_learned_as_a_partial_run(tmp_path):
    store = RunStore(tmp_path)
    jobs = JobManager(store, chunk=20, eval_tasks=50)
    job = jobs.submit(make_config(algo="maml", iterations=100_000))
    t0 = time.time()
    while (job.progress is None or job.progress.iteration < 40) and time.time() - t0 < 60:
        time.sleep(0.02)
    job.stop()
    wait(job)
    assert job.status == "stopped"
    info = job.run.info
    assert info["partial"] and 40 <= info["iterations_done"] < 100_000
    stored = store.get(job.config)
    assert stored.info["partial"] and stored.metrics["results"]
    fresh = train(make_config(algo="scratch"), "cpu")
    assert not torch.equal(stored.params["l0.w"].cpu(), fresh.params["l0.w"])


def test_divergence_fails_with_a_message_and_stores_nothing(tmp_path):
    jobs = JobManager(RunStore(tmp_path), chunk=50, eval_tasks=50)
    job = jobs.submit(make_config(algo="maml", inner_lr=9.0, outer_lr=5.0, iterations=400))
    wait(job)
    assert job.status == "failed" and "learning rate" in job.error
    assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]


def test_metasgd_step_sizes_change_during_meta_training():
    run = train(make_config(algo="metasgd", iterations=200), "cpu")
    for k, v in run.params.items():
        if k.startswith("lr."):
            assert not torch.allclose(v, torch.full_like(v, 0.01)), k


def test_a_sweep_queues_what_the_limits_allow_and_resumes_where_it_stopped(tmp_path):
    """The Train page's sweep (algorithms x seeds) goes through the same queue and limits."""
    jobs = JobManager(RunStore(tmp_path), chunk=50, eval_tasks=20, per_session=2)
    cfgs = [make_config(family="linear", algo=a, iterations=20, seed=s)
            for a in ("maml", "fomaml") for s in (0, 1)]
    queued, refused = jobs.submit_many(cfgs, owner="me")
    assert [j.config for j in queued] == cfgs[:2]
    assert refused.startswith("2 of 4 trainings not queued, from FOMAML on") and \
        "limit is 2 per session" in refused
    for j in queued:
        wait(j)
    again, refused = jobs.submit_many(cfgs, owner="me")      # the same sweep, later
    assert refused is None and [j.config for j in again] == cfgs
    assert again[:2] == queued and {j.status for j in again[:2]} == {"done"}
    for j in again[2:]:
        wait(j)
        assert j.status == "done" and j.run.config.seed in (0, 1)

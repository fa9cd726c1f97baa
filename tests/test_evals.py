"""services/evals.py: Compare's evaluations at a new K. A stored evaluation is used as it is; a
new K gets a first estimate on a few tasks at once and the full protocol in the background (in
its own process for runs on disk), with the same numbers as `evaluate` computes in-process; one
request is computed once; a failure is reported, not retried; close() ends the worker."""
import numpy as np
import pytest

from maml_viz.engine.registry import make_config
from maml_viz.runs.evaluate import evaluate
from maml_viz.runs.store import RunStore
from maml_viz.services.evals import Evaluations

ASSETS = "assets/runs"


@pytest.fixture(scope="module")
def store():
    import os
    return RunStore([os.path.join(os.path.dirname(os.path.dirname(__file__)), ASSETS)])


def run_of(store, algo, family="sinusoid"):
    return store.get(make_config(family=family, algo=algo))


def test_stored_first_then_full_with_the_same_numbers_as_evaluate(store):
    ev = Evaluations(first_tasks=10, full_tasks=30, locate=lambda r: store.find(r.config))
    try:
        maml = run_of(store, "maml")
        stored = ev.estimate(maml, 10, 10)
        assert stored.source == "stored" and stored.final and stored.tasks == 1000
        first = ev.estimate(maml, 6, 4)
        assert first.source == "first" and not first.final and first.tasks == 10
        assert first.frame.attrs["protocol"]["tasks"] == 10
        assert ev.estimate(maml, 6, 4) is first                     # asked again: kept
        assert len(ev.work([maml], 6, 4)) == 1                        # queued once
        assert ev.wait(600)
        full = ev.estimate(maml, 6, 4)
        assert full.source == "full" and full.final and full.tasks == 30
        ref = evaluate(maml, k_shots=(6,), steps=4, n_tasks=30)     # in-process, the reference
        np.testing.assert_allclose(full.frame["mean"], ref["mean"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(full.frame["ci95"], ref["ci95"], rtol=1e-9, atol=1e-12)
        assert list(full.frame["lr_scale"]) == list(ref["lr_scale"])
        # the per-task scores come back from the child too (Compare's IQM and PoI need them)
        assert full.frame.attrs["task_scores"] == ref.attrs["task_scores"]
        w = ev.work([maml], 6, 4)[0]
        assert w.status == "done" and w.fraction == 1.0 and w.done == w.total
    finally:
        ev.close()


def test_a_failed_evaluation_is_reported_and_not_retried(store, tmp_path):
    ev = Evaluations(first_tasks=5, full_tasks=10, locate=lambda r: tmp_path / "gone")
    try:
        run = run_of(store, "reptile")
        first = ev.estimate(run, 3, 2)
        assert ev.wait(600)
        (w,) = ev.work([run], 3, 2)
        assert w.status == "failed" and "gone" in w.error
        assert ev.estimate(run, 3, 2) is first and ev.pending() == 0   # not queued again
    finally:
        ev.close()


def test_runs_not_on_disk_are_evaluated_in_the_worker_thread_and_close_ends_it(store):
    ev = Evaluations(first_tasks=5, full_tasks=10)                  # no locate: in-process
    run = run_of(store, "fomaml")
    ev.estimate(run, 2, 2)
    assert ev.wait(600) and ev.estimate(run, 2, 2).source == "full"
    ev.close()
    assert ev._worker is None or not ev._worker.is_alive()


def test_the_first_estimates_up_to_three_either_side_of_k_are_computed_ahead(store, monkeypatch):
    """Compare's K ± finds its first estimate ready: asking at K computes K ± 1, then K ± 2, then
    K ± 3 ahead (within 1..K_MAX, not a K the run has stored), with the numbers evaluate gives,
    and a page asking for one being computed ahead waits for it instead of computing it again."""
    import threading

    import maml_viz.services.evals as evals
    monkeypatch.setattr(evals, "AHEAD_DELAY", 0.0)
    calls, lock = [], threading.Lock()

    def counted(run, k_shots, steps, n_tasks, **kw):
        if n_tasks == 5:                                     # first estimates (full: 7)
            with lock:
                calls.append(k_shots[0])
        return evaluate(run, k_shots=k_shots, steps=steps, n_tasks=n_tasks, **kw)
    monkeypatch.setattr(evals, "evaluate", counted)
    ev = Evaluations(first_tasks=5, full_tasks=7, keep=64)
    try:
        run = run_of(store, "maml")
        ev.estimate(run, 1, 3)                               # K = 1: only 2, 3 and 4 lie ahead
        for _ in range(600):
            if ev._ahead_thread is None and 4 in calls:
                break
            threading.Event().wait(0.1)
        assert sorted(calls) == [1, 2, 3, 4] and calls.index(2) < calls.index(3) < calls.index(4)
        n = len(calls)
        got = ev.estimate(run, 2, 3)                         # computed ahead: not again
        assert got.source == "first" and calls.count(2) == 1
        ref = evaluate(run, k_shots=(2,), steps=3, n_tasks=5)
        np.testing.assert_allclose(got.frame["mean"], ref["mean"], rtol=1e-9, atol=1e-12)
        assert len(calls) >= n                               # (3 may now be on its way)
        stored = ev.estimate(run, 10, 10)                    # a stored K: its neighbours ahead
        assert stored.source == "stored"
        for _ in range(600):
            if {7, 8, 9, 11, 12, 13} <= set(calls):
                break
            threading.Event().wait(0.1)
        assert {7, 8, 9, 11, 12, 13} <= set(calls) and 10 not in calls
    finally:
        ev.close()
    assert ev._ahead_thread is None or not ev._ahead_thread.is_alive()
    off = Evaluations(first_tasks=5, full_tasks=5, ahead=False)
    try:
        off.estimate(run_of(store, "maml"), 4, 2)
        assert off._ahead_thread is None and not off._ahead
    finally:
        off.close()


def test_peek_gives_what_is_kept_and_never_computes(store, monkeypatch):
    """The page's charts ahead: peek returns a curve only once it is kept (the estimate computed
    ahead, the same object the page would get), computing_ahead says when one is on its way."""
    import threading

    import maml_viz.services.evals as evals
    monkeypatch.setattr(evals, "AHEAD_DELAY", 0.4)
    ev = Evaluations(first_tasks=5, full_tasks=7, keep=64)
    try:
        run = run_of(store, "maml")
        assert ev.peek(run, 5, 2) is None and not ev.computing_ahead(run, 6, 2)
        ev.estimate(run, 5, 2)
        assert ev.peek(run, 5, 2).source == "first"
        assert ev.computing_ahead(run, 6, 2) and ev.peek(run, 6, 2) is None   # queued: 0.4 s
        assert not ev.computing_ahead(run, 9, 2)
        for _ in range(600):
            if not any(ev.computing_ahead(run, k, 2) for k in (2, 3, 4, 6, 7, 8)):
                break
            threading.Event().wait(0.1)
        got = ev.peek(run, 6, 2)
        assert got is not None and got.source == "first" and ev.estimate(run, 6, 2) is got
        assert ev.peek(run, 10, 10).source == "stored"       # the run's stored evaluation
    finally:
        ev.close()


def test_estimates_ahead_of_runs_on_disk_come_from_a_process_of_their_own(store):
    """With `locate`, the first estimates ahead are computed in their own process (the page's
    computing would slow them through the interpreter lock): the same numbers as evaluate."""
    ev = Evaluations(first_tasks=5, full_tasks=7, keep=64, locate=lambda r: store.find(r.config))
    try:
        run = run_of(store, "reptile")
        ev.estimate(run, 4, 3)
        import threading
        for _ in range(600):
            if not any(ev.computing_ahead(run, k, 3) for k in (1, 2, 3, 5, 6, 7)):
                break
            threading.Event().wait(0.1)
        assert ev._ahead_process.proc is not None                  # its own process ran
        got = ev.peek(run, 5, 3)
        ref = evaluate(run, k_shots=(5,), steps=3, n_tasks=5)
        np.testing.assert_allclose(got.frame["mean"], ref["mean"], rtol=1e-9, atol=1e-12)
        assert got.source == "first" and got.frame.attrs["protocol"]["tasks"] == 5
    finally:
        ev.close()
    assert ev._ahead_process.proc.poll() is not None               # closed with the rest

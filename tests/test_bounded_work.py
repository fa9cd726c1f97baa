"""Issue 26, item 3: what a link can ask for is bounded per request. Compare's averaged curves are
estimated first (runs.budget); what is cheap is computed in the page, anything longer in the
background with progress, refused beyond the Train page's budget; identical requests share one
computation and results are cached (services.work). A link like
`Compare?family=blobs&k=50&steps=50` returns at once with a progress panel instead of holding
the page script for minutes. No timing in the asserts: the background worker is held by a gate
and computations wait on events."""
import os
import threading

import pytest
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.runs.budget import Estimate
from maml_viz.services.work import SharedWork

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def est(seconds, nbytes=1000):
    return Estimate("evaluation", nbytes, seconds)


def wait_until(cond, timeout=60):
    import time
    t0 = time.time()
    while not cond():
        assert time.time() - t0 < timeout
        time.sleep(0.01)


def test_identical_requests_in_flight_share_one_computation():
    work = SharedWork()
    release, calls, tickets = threading.Event(), [], []

    def slow():
        calls.append(1)
        release.wait(60)
        return 42

    first = threading.Thread(target=lambda: tickets.append(work.request("k", slow, est(1.0))))
    first.start()
    wait_until(lambda: "k" in work._live)                  # the first is computing it now
    second = threading.Thread(target=lambda: tickets.append(work.request("k", slow, est(1.0))))
    second.start()
    wait_until(lambda: work._live["k"].shared == 1)        # the second joined it and waits
    release.set()
    first.join(60)
    second.join(60)
    assert len(calls) == 1 and [t.result for t in tickets] == [42, 42]
    assert work.request("k", slow, est(1.0)).result == 42 and len(calls) == 1     # cached


def test_long_requests_go_to_the_background_shared_and_bounded():
    work = SharedWork(max_seconds=100, queue_jobs=2)
    work.gate.clear()                                       # hold the worker
    a = work.request("a", lambda: "A", est(60), owner="me")
    assert a.status == "waiting" and work.position(a) == 1
    assert work.request("a", lambda: "other", est(60), owner="you") is a      # shared
    # one session may queue at most the app's limit per job; the whole queue a few times that
    b = work.request("b", lambda: "B", est(50), owner="me")
    assert b.status == "refused" and "per session" in b.error
    assert work.request("c", lambda: "C", est(90), owner="you").status == "waiting"
    d = work.request("d", lambda: "D", est(60), owner="them")
    assert d.status == "refused" and "try again" in d.error
    # beyond the budget of one job, or the memory: refused at once, nothing queued
    e = work.request("e", lambda: "E", est(101), owner="x")
    assert e.status == "refused" and "at most" in e.error
    f = work.request("f", lambda: "F", est(1, nbytes=10**15), owner="x")
    assert f.status == "refused" and "memory" in f.error
    assert len(work.waiting()) == 2
    work.gate.set()
    assert a.wait(60) and a.result == "A"
    work.close()


@pytest.fixture
def app(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    root.mkdir()
    with app_store(root, monkeypatch):
        import pages._shared.ui as ui
        b = ui.backend()
        b.work.gate.clear()                    # the background work waits: nothing burns CPU
        try:
            yield b
        finally:
            b.work.close()


def compare(link: dict):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/3_Compare.py")
    for k, v in link.items():
        at.query_params[k] = v
    return at.run()


def test_an_expensive_link_returns_at_once_with_progress_and_shares_the_work(app):
    at = compare({"family": "blobs", "k": "50", "steps": "50"})
    assert not at.exception, [e.value for e in at.exception]
    texts = [p.proto.text for p in at.get("progress")]
    warnings = [w.value for w in at.warning]
    # queued in the background (with its progress), or refused as too long: never computed here
    assert any("in the background" in t for t in texts) or \
        any("cannot be computed here" in w for w in warnings), (texts, warnings)
    assert app.work.computed == 0
    queued = len(app.work.waiting())
    again = compare({"family": "blobs", "k": "50", "steps": "50"})     # another visitor
    assert not again.exception
    assert len(app.work.waiting()) == queued and app.work.computed == 0   # nothing new


def test_a_cheap_link_is_computed_in_the_page(app):
    at = compare({"family": "linear", "k": "5", "steps": "2"})
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("progress") and app.work.computed >= 2
    assert at.dataframe and "mse after 2 steps" in at.dataframe[0].value.columns

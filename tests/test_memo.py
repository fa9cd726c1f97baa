"""services.memo: a value is computed once per key, a warmed key is computed by the worker and
handed over (or waited for), a failure is not stored and is raised in the caller, the memo keeps
at most `size` values, and the worker runs its init first. Synchronised with events, not times."""
import threading

import pytest

from maml_viz.services.memo import Memo


def test_get_computes_once_and_keeps_the_newest_values():
    m = Memo(size=2)
    calls = []
    f = lambda k: (lambda: calls.append(k) or k * 10)
    assert m.get(1, f(1)) == 10 and m.get(1, f(1)) == 10 and calls == [1]
    m.get(2, f(2))
    m.get(1, f(1))                       # 1 is now the most recent
    m.get(3, f(3))                       # drops 2
    assert 1 in m and 3 in m and 2 not in m and len(m) == 2
    m.close()


def test_warm_computes_in_the_worker_and_get_waits_for_it():
    started, release = threading.Event(), threading.Event()
    where = {}

    def slow():
        where["thread"] = threading.current_thread().name
        started.set()
        release.wait(30)
        return "ready"

    inits = []
    m = Memo(init=lambda: inits.append(threading.current_thread().name))
    assert m.warm("k", slow) and not m.warm("k", slow)        # queued once
    assert started.wait(30)
    got = []
    waiter = threading.Thread(target=lambda: got.append(m.get("k", lambda: "caller")))
    waiter.start()
    release.set()
    waiter.join(30)
    assert got == ["ready"] and where["thread"] == "maml-viz-memo" == inits[0]
    assert m.computed == 1 and not m.warm("k", slow)          # stored: nothing to warm
    m.close()


def test_a_failure_is_not_stored_and_is_raised_in_the_caller():
    m = Memo()
    done = threading.Event()

    def bad():
        done.set()
        raise ValueError("no")

    m.warm("k", bad)
    assert done.wait(30)
    assert m.get("k", lambda: 5) == 5                          # the worker's failure: recomputed
    with pytest.raises(ValueError):
        m.get("j", bad)
    assert "j" not in m
    m.close()
    assert not m.warm("x", lambda: 1)                          # closed: no more work

"""Evaluations for the Compare page at a K (and number of steps) a run was not evaluated at,
computed so that the page never waits long for them:

- a run's stored evaluation that matches (the bundled runs carry theirs at the family's K) is used
  as it is, never recomputed;
- otherwise a **first estimate** under the same protocol on a few held-out tasks at once (a
  fraction of a second), returned at once, and the **full** protocol (`full_tasks` tasks) queued
  for one background worker that everyone's sessions share: newest request first, the same
  request never twice, its progress readable while it runs. The worker computes in a process of
  its own (services/eval_child.py) for runs stored on disk (`locate` finds their folder), so that
  it never competes with the page's own computing for the interpreter lock; a run that is not on
  disk is evaluated in the worker thread;
- results are kept per run, K and steps (first estimates and full ones), so nothing is computed
  twice while the server runs;
- the first estimates at the three K just below and above one that was asked for are computed
  ahead (one thread; for runs on disk in a process of its own, as the page's own computing would
  slow them through the interpreter lock; 0.3 s after the request, newest request first, K + 1
  and K - 1 before K ± 2, then K ± 3), so that K ± on the Compare page finds its first estimate
  ready, even pressed again and again (± 3: two presses of lead while K keeps moving one way):
  a page asking for one being computed ahead waits for it rather than computing it twice. A full
  evaluation starts a second after its request, later while estimates ahead are computed (at
  most FULL_YIELD s after the request), and at a lower priority, so that neither competes with
  the page's answer, nor the full evaluation with the estimates ahead, for the two cores.

No Streamlit here: the app's cached backend owns one `Evaluations` and its pages poll it.
"""
from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd

from ..runs.evaluate import evaluate, from_json
from ..views.compare import stored_evaluation
from .eval_child import EvalProcess

FIRST_TASKS = 20          # the first estimate: this many held-out tasks, at once
FULL_TASKS = 500          # the full evaluation in the background (the page's protocol)
K_MAX = 50                # the largest K the pages offer (first estimates are computed ahead
AHEAD = (1, -1, 2, -2, 3, -3)   # at K ± 1, then ± 2, then ± 3 (+ first), this many seconds
AHEAD_DELAY = 0.3         # after the request: the page's own rerun goes first; at most
AHEAD_QUEUE = 64          # this many waiting, the oldest dropped)
FULL_DELAY = 1.0          # a full evaluation starts this many seconds after its request (the
FULL_YIELD = 4.0          # page's response does not wait for its CPU), and while estimates
                          # ahead are computed, up to this many seconds after it
_LIVE: "weakref.WeakSet[Evaluations]" = weakref.WeakSet()


class Stopped(Exception):
    """The process is ending: a background evaluation stops between two passes."""


@atexit.register
def _stop_all():
    """At exit, stop the background evaluations between two passes and wait for them: a thread
    killed inside torch at interpreter shutdown aborts the process."""
    for ev in list(_LIVE):
        ev.close()


@dataclass(frozen=True)
class Estimate:
    """A run's curve at one K: evaluate()'s frame, on how many tasks, and whether it is final
    ("stored", or "full" once the background evaluation ended) or a "first" estimate."""
    frame: pd.DataFrame
    tasks: int
    source: str

    @property
    def final(self) -> bool:
        return self.source != "first"


@dataclass
class Work:
    """One full evaluation waiting or running in the background."""
    key: tuple
    run: object
    k: int
    steps: int
    status: str = "waiting"      # waiting | running | done | failed
    done: int = 0                # passes over the tasks (one step size each) finished
    total: int = 1
    error: str | None = None
    asked: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return 1.0 if self.status == "done" else min(self.done / max(self.total, 1), 1.0)


def run_version(run) -> tuple:
    """What identifies a run's weights: its config and how far it was trained (a run retrained
    under the same config, or a partial one completed, is another run)."""
    info = run.info or {}
    return (run.config.key(), info.get("iterations_done"), bool(info.get("partial")),
            info.get("finished"))


class Evaluations:
    def __init__(self, first_tasks: int | None = None, full_tasks: int | None = None,
                 keep: int = 512, max_waiting: int = 64, locate=None, ahead: bool = True):
        """locate(run) -> the run's folder on disk, or None (then it is evaluated in-process).
        ahead: compute the first estimates at K ± 1, ± 2 and ± 3 of each request ahead."""
        self.locate = locate
        self._process = EvalProcess()                  # the full evaluations (nice 10)
        self._ahead_process = EvalProcess(nice=0)      # the first estimates ahead
        self.first_tasks = FIRST_TASKS if first_tasks is None else first_tasks
        self.full_tasks = FULL_TASKS if full_tasks is None else full_tasks
        self.keep, self.max_waiting = keep, max_waiting
        self._results: OrderedDict = OrderedDict()     # (version, k, steps, kind) -> Estimate
        self._work: dict = {}                          # key -> Work (waiting, running, failed)
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._closed = False
        self.ahead = ahead
        self._ahead: OrderedDict = OrderedDict()       # key -> (run, k, steps, asked at,
        self._origins: dict = {}                       # origin (K, steps), rank in AHEAD);
        #                                                origin -> when it was last asked for
        self._ahead_thread: threading.Thread | None = None
        self._computing: dict = {}                     # key -> Event: a first estimate underway
        self._ahead_now = None                         # the key the ahead thread has taken
        _LIVE.add(self)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the background evaluation (between two passes over the tasks) and the worker."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            worker, ahead = self._worker, self._ahead_thread
        if worker is not None and worker is not threading.current_thread():
            self._process.close(1.0)           # a child mid-evaluation: its stdout ends
            worker.join(timeout)
        if ahead is not None and ahead is not threading.current_thread():
            self._ahead_process.close(1.0)     # a child mid-estimate: its stdout ends
            ahead.join(timeout)                # ends after the estimate it is computing
        self._process.close(1.0)
        self._ahead_process.close(1.0)

    # ------------------------------------------------------------------ asking
    def estimate(self, run, k: int, steps: int) -> Estimate:
        """The best curve available now: stored, full, else the first estimate (computed here,
        on first_tasks tasks, if nobody asked for it before) with the full one queued."""
        self._ask_ahead(run, k, steps)
        stored = stored_evaluation(run, k, steps)
        if stored is not None:
            return Estimate(stored, int(stored.attrs.get("protocol", {}).get("tasks", 0)), "stored")
        key = (run_version(run), int(k), int(steps))
        with self._lock:
            full = self._get(key + ("full",))
            if full is not None:
                return full
        first = self._first(run, key, k, steps)
        self._request(key, run, k, steps)
        return first

    def peek(self, run, k: int, steps: int) -> Estimate | None:
        """The best curve kept now (stored, full, else a first estimate), or None: nothing is
        computed or asked for (the page's curves at K ± 1, ± 2 and ± 3, computed ahead, once
        ready)."""
        stored = stored_evaluation(run, k, steps)
        if stored is not None:
            return Estimate(stored, int(stored.attrs.get("protocol", {}).get("tasks", 0)), "stored")
        key = (run_version(run), int(k), int(steps))
        with self._lock:
            return self._get(key + ("full",)) or self._get(key + ("first",))

    def computing_ahead(self, run, k: int, steps: int) -> bool:
        """Whether the first estimate at (k, steps) is queued ahead or being computed."""
        key = (run_version(run), int(k), int(steps))
        with self._lock:
            return key in self._ahead or key in self._computing or key == self._ahead_now

    def _first(self, run, key, k, steps, compute=None) -> Estimate:
        """The first estimate at key: kept, computed here (compute() -> its frame, default
        evaluate in this process), or (being computed ahead) waited for."""
        with self._lock:
            first = self._get(key + ("first",))
            if first is not None:
                return first
            event = self._computing.get(key)
            mine = event is None
            if mine:
                event = self._computing[key] = threading.Event()
        if not mine:
            event.wait(120)
            with self._lock:
                first = self._get(key + ("first",))
            if first is not None:
                return first
        try:
            df = compute() if compute is not None else evaluate(
                run, k_shots=(k,), steps=steps, n_tasks=self.first_tasks)
            first = Estimate(df, self.first_tasks, "first")
            with self._lock:
                self._put(key + ("first",), first)
            return first
        finally:
            if mine:
                with self._lock:
                    self._computing.pop(key, None)
                event.set()

    def _ask_ahead(self, run, k: int, steps: int) -> None:
        """Queue the first estimates at k + d, d in AHEAD (within 1..K_MAX), that are not kept."""
        if not self.ahead:
            return
        now = time.monotonic()
        with self._lock:
            if self._closed:
                return
            origin = (int(k), int(steps))           # the request: every run's curve at K
            self._origins[origin] = now
            for rank, d in enumerate(AHEAD):
                kk = int(k) + d
                key = (run_version(run), kk, int(steps))
                if not 1 <= kk <= K_MAX or key in self._computing or any(
                        self._results.get(key + (made,)) is not None for made in ("first", "full")):
                    continue
                self._ahead[key] = (run, kk, int(steps), now, origin, rank)
                self._ahead.move_to_end(key)
            while len(self._ahead) > AHEAD_QUEUE:
                self._ahead.popitem(last=False)
            live = {v[4] for v in self._ahead.values()}
            for o in [o for o in self._origins if o not in live and o != origin]:
                del self._origins[o]
            if self._ahead and (self._ahead_thread is None or not self._ahead_thread.is_alive()):
                self._ahead_thread = threading.Thread(target=self._ahead_loop, daemon=True,
                                                      name="evals-ahead")
                self._ahead_thread.start()

    def _ahead_loop(self):
        while True:
            with self._lock:
                if self._closed or not self._ahead:
                    self._ahead_thread = None
                    return
                # the newest request first, and in it K + 1 of every run, then K - 1, ...: a
                # chart needs every run's curve
                key = max(self._ahead, key=lambda x: (self._origins.get(self._ahead[x][4], 0),
                                                      -self._ahead[x][5], self._ahead[x][3]))
                run, k, steps, asked, _, _ = self._ahead.pop(key)
                self._ahead_now = key
            try:
                wait = asked + AHEAD_DELAY - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if stored_evaluation(run, k, steps) is None:
                    self._first(run, key, k, steps, lambda: self._elsewhere(run, k, steps))
            except Exception:                  # the page computes it (and says why) if asked
                pass
            finally:
                with self._lock:
                    self._ahead_now = None

    def _elsewhere(self, run, k: int, steps: int):
        """A first estimate computed ahead: for a run on disk in a process of its own (in this
        one, the page's reruns and polls would slow it through the interpreter lock), here if
        that process cannot (it died, or the run's folder went away)."""
        path = self.locate(run) if self.locate is not None else None
        if path is not None:
            try:
                return from_json(self._ahead_process.evaluate(path, k, steps, self.first_tasks))
            except RuntimeError:
                pass
        return evaluate(run, k_shots=(k,), steps=steps, n_tasks=self.first_tasks)

    def work(self, runs, k: int, steps: int) -> list:
        """The background evaluations behind these runs' curves at (k, steps): [Work], those
        waiting, running, failed, or done since they were asked for."""
        with self._lock:
            return [w for r in runs if (w := self._work.get((run_version(r), int(k), int(steps))))
                    is not None]

    def pending(self) -> int:
        with self._lock:
            return sum(w.status in ("waiting", "running") for w in self._work.values())

    def wait(self, timeout: float) -> bool:
        """Wait until nothing is waiting or running (tests, benchmarks); False on timeout."""
        end = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > end:
                return False
            time.sleep(0.05)
        return True

    # ------------------------------------------------------------------ the queue
    def _get(self, key):
        v = self._results.get(key)
        if v is not None:
            self._results.move_to_end(key)
        return v

    def _put(self, key, value):
        self._results[key] = value
        self._results.move_to_end(key)
        while len(self._results) > self.keep:
            self._results.popitem(last=False)

    def _request(self, key, run, k, steps):
        with self._lock:
            w = self._work.get(key)
            if w is not None and w.status in ("running", "done", "failed"):
                return                                # a failure is shown, not retried
            if w is None:
                w = self._work[key] = Work(key, run, int(k), int(steps))
            w.asked = time.monotonic()                # newest first
            waiting = sorted((x for x in self._work.values() if x.status == "waiting"),
                             key=lambda x: x.asked)
            for old in waiting[:max(0, len(waiting) - self.max_waiting)]:
                del self._work[old.key]               # asked for long ago: asked again later
            self._wake.notify()
            if self._closed:
                return
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, daemon=True, name="evals")
                self._worker.start()

    def _loop(self):
        while True:
            with self._lock:
                if self._closed:
                    self._worker = None
                    return
                waiting = [w for w in self._work.values() if w.status == "waiting"]
                if not waiting:
                    self._wake.wait(timeout=30)
                    if not any(w.status == "waiting" for w in self._work.values()):
                        self._worker = None
                        return
                    continue
                w = max(waiting, key=lambda x: x.asked)
                now = time.monotonic()
                early = w.asked + FULL_DELAY - now
                if early > 0:      # the page's own rerun and the estimates ahead go first
                    self._wake.wait(timeout=early)
                    continue
                if (self._ahead or self._ahead_now is not None) and \
                        now < w.asked + FULL_YIELD:
                    self._wake.wait(timeout=0.1)
                    continue
                w.status = "running"

            def progress(done, total, w=w):
                w.done, w.total = done, total
                if self._closed:
                    raise Stopped()

            try:
                path = self.locate(w.run) if self.locate is not None else None
                if path is not None:
                    df = from_json(self._process.evaluate(path, w.k, w.steps, self.full_tasks,
                                                          progress))
                else:
                    df = evaluate(w.run, k_shots=(w.k,), steps=w.steps, n_tasks=self.full_tasks,
                                  progress=progress)
            except Stopped:
                with self._lock:
                    w.status, self._worker = "waiting", None
                return
            except Exception as e:          # never let the worker die: say it on the work
                with self._lock:
                    w.status, w.error = "failed", f"{type(e).__name__}: {e}"
                continue
            with self._lock:
                self._put(w.key + ("full",), Estimate(df, self.full_tasks, "full"))
                w.status, w.run = "done", None
                done = [x for x in self._work.values() if x.status == "done"]
                for old in sorted(done, key=lambda x: x.asked)[:max(0, len(done) - self.keep)]:
                    del self._work[old.key]

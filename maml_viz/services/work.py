"""Work a page asks for on a visitor's behalf (an evaluation a link names, say), bounded per
request and shared between sessions. No Streamlit here: the app keeps one `SharedWork`.

- Every request comes with its estimate (runs.budget) and is checked against the same budget as
  the Train page's jobs: what cannot fit in memory now, or would take longer than the app's
  limit per job, is refused with a one-line reason.
- What takes at most `inline_seconds` is computed at once, in the asking thread; anything
  longer runs in the background, one computation at a time, with its progress (time spent
  against the estimate) and its place in line, so that no visit costs the server more than a
  few seconds of work in the page script. The work waiting is bounded too: at most the app's
  limit per job for one session, `queue_jobs` times that for everyone; more is refused with
  "try again later".
- Requests are identified by a key: identical requests share one computation (a second asker
  gets the same ticket, in the background or inline: it waits for the first), and results stay
  cached (`cache` most recent) for later visits.
- `close` abandons the background work (a computation that checks engine.cancel stops between
  its inner steps).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from ..engine.cancel import Cancelled, scope
from ..runs import budget

INLINE_SECONDS = 3.0


@dataclass
class Ticket:
    key: object
    estimate: float = 0.0               # seconds
    owner: str | None = None
    status: str = "waiting"             # waiting | running | done | refused | failed
    result: object = None
    error: str | None = None
    started: float | None = None
    inline: bool = False                # computed in the asking thread (others wait for it)
    shared: int = 0                     # further identical requests that joined it
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def fraction(self) -> float:
        if self.status == "done":
            return 1.0
        if self.started is None or not self.estimate:
            return 0.0
        return min(0.95, (time.time() - self.started) / self.estimate)

    def left(self) -> float:
        if self.started is None:
            return self.estimate
        return max(0.0, self.estimate - (time.time() - self.started))

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class SharedWork:
    def __init__(self, device="cpu", inline_seconds: float = INLINE_SECONDS, queue_jobs: float = 4,
                 cache: int = 256, max_seconds: float = 15 * 60, memory_limit: int | None = None):
        self.device, self.inline_seconds = str(device), inline_seconds
        self.queue_jobs, self.max_seconds = queue_jobs, max_seconds
        self.memory_limit, self.capacity = memory_limit, cache
        self._done: OrderedDict = OrderedDict()          # key -> finished Ticket (LRU)
        self._live: dict = {}                             # key -> waiting/running Ticket
        self._queue: deque = deque()
        self._fns: dict = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self.closed = False
        self.gate = threading.Event()                     # tests: clear() holds the worker
        self.gate.set()
        self.computed = 0                                 # computations run (for tests)

    # ------------------------------------------------------------------ asking
    def cached(self, key) -> bool:
        with self._lock:
            return key in self._done

    def request(self, key, fn, estimate: budget.Estimate | None, owner: str | None = None,
                inline: bool | None = None) -> Ticket:
        """The ticket for `key`: finished (cached, or computed now if it is cheap), shared with an
        identical request in progress, queued for the background, or refused (its `error` says
        why). fn() computes the result; estimate None means it costs nothing worth counting.
        inline: compute now (True) or in the background (False) whatever the estimate (a page
        that asks for several things decides by their sum); None: by the estimate."""
        seconds = estimate.seconds if estimate is not None else 0.0
        now = seconds <= self.inline_seconds if inline is None else inline
        with self._lock:
            hit = self._done.get(key)
            if hit is not None:
                self._done.move_to_end(key)
                return hit
            live = self._live.get(key)
            if live is not None:
                live.shared += 1
                inline = live.inline
            else:
                why = self._refusal(estimate, owner, now)
                if why:
                    return Ticket(key, seconds, owner, status="refused", error=why)
                live = self._live[key] = Ticket(key, seconds, owner, inline=now)
                if now:
                    live.status, live.started, inline = "running", time.time(), None
                else:
                    self._queue.append(live)
                    self._fns[key] = fn
                    self._start_worker()
                    self._wake.notify()
                    return live
        if inline is None:                 # this thread computes it
            self._compute(live, fn)
        elif inline:                       # another thread computes it now: wait for it
            live.wait()
        return live

    def refusal(self, estimate: budget.Estimate | None, owner: str | None = None,
                inline: bool | None = None) -> str | None:
        """None if a request of this estimate would be accepted now, else why not (one line): a
        page that asks for several things checks their sum first, so none is queued in vain."""
        now = (estimate is None or estimate.seconds <= self.inline_seconds) if inline is None \
            else inline
        with self._lock:
            return self._refusal(estimate, owner, now)

    def _refusal(self, estimate, owner, now: bool) -> str | None:
        if self.closed:
            return "the app is shutting down"
        if estimate is None:
            return None
        why = budget.too_big(estimate, self.device, self.memory_limit)
        if why:
            return f"{why}: ask for fewer steps or examples"
        if estimate.seconds > self.max_seconds:
            return (f"this would take about {budget.human_time(estimate.seconds)} here; the app "
                    f"computes at most {budget.human_time(self.max_seconds)} per request: ask "
                    f"for fewer steps or examples")
        if not now:
            waiting = [t for t in self._queue if t.status in ("waiting", "running")]
            mine = sum(t.left() for t in waiting if owner is not None and t.owner == owner)
            if mine + estimate.seconds > self.max_seconds:
                return (f"your computations would take about "
                        f"{budget.human_time(mine + estimate.seconds)} in all (the limit is "
                        f"{budget.human_time(self.max_seconds)} per session): wait for them to "
                        f"finish, or ask for fewer steps or examples")
            total = sum(t.left() for t in waiting)
            if total + estimate.seconds > self.queue_jobs * self.max_seconds:
                return (f"the app has about {budget.human_time(total)} of computations waiting "
                        f"already: try again in a few minutes")
        return None

    def position(self, ticket: Ticket) -> int | None:
        """1 for the next to start, None when not waiting."""
        with self._lock:
            waiting = [t for t in self._queue if t.status == "waiting"]
        return waiting.index(ticket) + 1 if ticket in waiting else None

    def busy(self) -> bool:
        """Whether anything is waiting or being computed."""
        with self._lock:
            return bool(self._live)

    def waiting(self) -> list:
        with self._lock:
            return [t for t in self._queue if t.status == "waiting"]

    # ------------------------------------------------------------------ computing
    def _compute(self, t: Ticket, fn) -> None:
        t.started = t.started or time.time()
        t.status = "running"
        try:
            with scope(lambda: self.closed):
                t.result = fn()
            t.status = "done"
        except Cancelled:
            t.status, t.error = "failed", "stopped: the app is shutting down"
        except Exception as e:  # a page shows the reason, never a traceback
            t.status, t.error = "failed", f"{type(e).__name__}: {str(e)[:200]}"
        finally:
            self.computed += 1
            with self._lock:
                self._live.pop(t.key, None)
                self._fns.pop(t.key, None)
                if t.status == "done":
                    self._done[t.key] = t
                    while len(self._done) > self.capacity:
                        self._done.popitem(last=False)
            t._done.set()

    def _start_worker(self):
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._loop, daemon=True, name="shared-work")
            self._worker.start()

    def _loop(self):
        while True:
            self.gate.wait()
            with self._lock:
                while not self._queue and not self.closed:
                    if not self._wake.wait(timeout=60):
                        self._worker = None
                        return
                if self.closed:
                    for t in self._queue:
                        t.status, t.error = "failed", "stopped: the app is shutting down"
                        t._done.set()
                    self._queue.clear()
                    self._worker = None
                    return
                t = self._queue.popleft()
                fn = self._fns.get(t.key)
            if fn is not None:
                self._compute(t, fn)

    def close(self) -> None:
        """Abandon the background work (the app is going down)."""
        with self._lock:
            self.closed = True
            self._wake.notify_all()
        self.gate.set()

"""A small shared memo for the app's interactive pages: values computed once per key (a policy's
rollouts toward one goal, a network adapted to one episode), kept for every session, and a
background worker that can compute the value a person will probably ask for next (the next
"Random goal", the next "Other drawings") before they ask.

`get(key, fn)` returns the stored value, waits for the worker if it is computing that key, or
computes it in the caller's thread. `warm(key, fn)` queues fn on the worker unless the key is
stored or under way; the newest request is served first and old ones are dropped when the queue
is long (the person has moved on). A failed computation is not stored: `get` computes it again
in the caller, so its error is raised where a page can show it. Values must not be changed by
whoever receives them (they are shared). Imports nothing of ours.
"""
from __future__ import annotations

import atexit
import threading
from collections import OrderedDict
from concurrent.futures import Future


class Memo:
    def __init__(self, size: int = 128, init=None, queue_max: int = 8):
        """size: values kept (least recently used dropped first); init: called once in the
        worker thread before its first job (e.g. torch.set_num_threads(1), which is per thread);
        queue_max: pending warm-ups kept (the oldest dropped)."""
        self.size, self.init, self.queue_max = size, init, queue_max
        self._done: OrderedDict = OrderedDict()        # key -> value
        self._running: dict = {}                        # key -> Future (worker or caller)
        self._queue: list = []                          # (key, fn), newest last
        self._lock = threading.Condition()
        self._worker = None
        self._closed = False
        self.computed = 0                               # how many values were computed (tests)
        atexit.register(self.close)

    def close(self, timeout: float = 30.0):
        """Stop the worker after its current job (at exit: a thread still inside torch when
        the interpreter ends aborts the process)."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            worker = self._worker
            self._lock.notify_all()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def __len__(self):
        with self._lock:
            return len(self._done)

    def __contains__(self, key):
        with self._lock:
            return key in self._done

    def get(self, key, fn):
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            fut = self._running.get(key)
            mine = fut is None
            if mine:
                fut = self._running[key] = Future()
                self._queue = [(k, f) for k, f in self._queue if k != key]
        if not mine:
            try:
                return fut.result()
            except Exception:                           # the worker failed: try here, raise here
                return self.get(key, fn)
        return self._compute(key, fn, fut)

    def warm(self, key, fn) -> bool:
        """Queue fn for the worker; False if the key is stored, under way or already queued."""
        with self._lock:
            if self._closed or key in self._done or key in self._running or \
                    any(k == key for k, _ in self._queue):
                return False
            self._queue.append((key, fn))
            del self._queue[:-self.queue_max]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="maml-viz-memo",
                                                daemon=True)
                self._worker.start()
            self._lock.notify()
            return True

    def _compute(self, key, fn, fut):
        try:
            value = fn()
        except BaseException as e:
            with self._lock:
                self._running.pop(key, None)
            fut.set_exception(e)
            raise
        with self._lock:
            self._running.pop(key, None)
            self._done[key] = value
            self._done.move_to_end(key)
            while len(self._done) > self.size:
                self._done.popitem(last=False)
            self.computed += 1
        fut.set_result(value)
        return value

    def _work(self):
        if self.init is not None:
            self.init()
        while True:
            with self._lock:
                while not self._queue:
                    if self._closed or (not self._lock.wait(timeout=60) and not self._queue):
                        self._worker = None             # closed, or idle for a minute
                        return
                key, fn = self._queue.pop()             # newest first
                if key in self._done or key in self._running:
                    continue
                fut = self._running[key] = Future()
            try:
                self._compute(key, fn, fut)
            except Exception:                           # noqa: BLE001 - get() recomputes it
                pass

"""Compare's background evaluations in a process of their own, so that they never slow the
page's own computing (in the app's process they would share its interpreter lock), the full
evaluations at a lower priority (nice 10: on two cores the page's answers and the first estimates
computed ahead go first): `python -m maml_viz.services.eval_child [niceness]`.

Requests are JSON lines on stdin: {"id", "path", "k", "steps", "n_tasks"} (a run folder, read
with the store's checked reader); events are JSON lines on stdout: {"id", "event": "progress",
"done", "total"} after each pass over the tasks, then {"id", "event": "done", "result": <the
evaluation as runs.evaluate.to_json writes it>} or {"id", "event": "failed", "error"}. The end of
stdin ends the process. `EvalProcess` is the parent's handle.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class EvalProcess:
    """The parent's handle on one eval_child process (started on first use, restarted if it
    died). Not thread-safe: one caller (the evaluations' worker thread)."""

    def __init__(self, nice: int = 10):
        """nice: the child's niceness (10: background work, below the page's answers)."""
        self.proc: subprocess.Popen | None = None
        self._id = 0
        self.nice = int(nice)

    def _start(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [PACKAGE_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        self.proc = subprocess.Popen([sys.executable, "-m", "maml_viz.services.eval_child",
                                      str(self.nice)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env,
                                     start_new_session=True)

    def evaluate(self, path, k: int, steps: int, n_tasks: int, progress=None) -> dict:
        """The evaluation of the run in `path` (to_json's dict); progress(done, total) as it
        goes. Raises RuntimeError with the child's reason if it failed or died."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self._id += 1
        req = {"id": self._id, "path": str(path), "k": int(k), "steps": int(steps),
               "n_tasks": int(n_tasks)}
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise RuntimeError("the evaluation process could not be reached") from None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("id") != self._id:
                continue
            if ev.get("event") == "progress" and progress is not None:
                progress(int(ev["done"]), int(ev["total"]))
            elif ev.get("event") == "done":
                return ev["result"]
            elif ev.get("event") == "failed":
                raise RuntimeError(str(ev.get("error")))
        raise RuntimeError("the evaluation process ended before it finished")

    def close(self, timeout: float = 3.0):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _emit(**ev):
    try:
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, OSError):          # the parent went away: nothing to report to
        os._exit(0)


def main():
    import torch

    from ..runs.evaluate import evaluate, to_json
    from ..runs.files import load_run
    torch.set_num_threads(1)
    try:                 # background work: the page's answers and the estimates ahead go first
        os.nice(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
    except (AttributeError, OSError, ValueError):
        pass
    for line in sys.stdin:
        try:
            req = json.loads(line)
            rid = req["id"]
        except (ValueError, KeyError, TypeError):
            continue
        try:
            run = load_run(req["path"])
            df = evaluate(run, k_shots=(int(req["k"]),), steps=int(req["steps"]),
                          n_tasks=int(req["n_tasks"]),
                          progress=lambda d, t: _emit(id=rid, event="progress", done=d, total=t))
            _emit(id=rid, event="done", result=to_json(df))     # with per-task scores (IQM, PoI)
        except Exception as e:                  # one bad request never ends the process
            _emit(id=rid, event="failed", error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()

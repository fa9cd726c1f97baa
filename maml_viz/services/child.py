"""One training job in its own process: the child side of services.jobs.

The child is `python -m maml_viz.services.child`: one JSON line of settings on stdin ("stop" on a
later line, or the end of stdin, asks it to stop), JSON lines of events on stdout. `Child` is the
parent's handle on it. The child writes a snapshot of the parameters before reporting progress
(every second for large models), so a stopped or killed child loses at most its last chunk.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

SNAPSHOT_EVERY = 1.0         # seconds between parameter snapshots of a running child (small
SNAPSHOT_SMALL = 4 * 2**20   # models, up to this many bytes, are snapshotted after every chunk)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
NOTHING = "stopped before its first iteration finished: nothing was stored"


class Child:
    """A `python -m maml_viz.services.child` process and its stream of events."""

    def __init__(self, spec: dict):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [PACKAGE_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        self.stderr = open(Path(spec["workdir"]) / f"stderr-{time.time_ns()}.txt", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "maml_viz.services.child"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     env=env, start_new_session=True)
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        self.events: queue.Queue = queue.Queue()
        self.asked_to_stop = False
        self.killed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                pass
        self.events.put(None)

    def next(self, timeout: float):
        try:
            ev = self.events.get(timeout=timeout)
        except queue.Empty:
            return None
        if ev is None:
            self._eof = True
        return ev

    def pending(self) -> bool:
        return not self.events.empty()

    def finished(self) -> bool:
        return getattr(self, "_eof", False) and self.proc.poll() is not None

    def ask_stop(self):
        self.asked_to_stop = True
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def kill(self):
        """SIGKILL; the process is reaped later (freeing gigabytes can take a moment)."""
        self.killed = True
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self) -> None:
        """Release the pipes and the log file (the process is reaped if it has ended)."""
        for f in (self.proc.stdin, self.proc.stdout, self.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.proc.poll()

    def death(self) -> str:
        rc = self.proc.wait()
        self.stderr.seek(0)
        tail = [ln for ln in self.stderr.read().splitlines() if ln.strip()][-1:]
        if rc in (-9, 137):
            return ("training failed: its process was killed, most likely because the machine "
                    "ran out of memory; try smaller settings")
        return f"training failed (exit code {rc}): {tail[0][:200] if tail else 'no message'}"


# ============================================================================ the child process
def _child_main() -> int:
    import torch

    from ..engine.registry import config_from_dict
    from ..engine.train import Run, Trainer, TrainingDiverged, resolve_device
    from ..runs.evaluate import evaluate, to_json
    from ..runs.store import RunStore

    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                                   # stray prints go to stderr, not the protocol
    emit = lambda **ev: (out.write(json.dumps(ev) + "\n"), out.flush())
    spec = json.loads(sys.stdin.readline())
    stop = threading.Event()

    def listen():
        for line in sys.stdin:
            if line.strip() == "stop":
                stop.set()
        stop.set()                                  # the app went away: stop and keep the work

    threading.Thread(target=listen, daemon=True).start()
    device = resolve_device(spec["device"])
    if device.type == "cpu":
        torch.set_num_threads(1)
    cfg = config_from_dict(spec["config"])
    store = RunStore([spec["runs_dir"]], device, housekeeping=False)
    try:
        if spec.get("snapshot"):
            from safetensors.torch import load_file
            snap = spec["snapshot"]
            params = load_file(snap["path"])
            run = Run(cfg, {k: v.to(device) for k, v in params.items()}, snap["history"],
                      snap["info"])
        else:
            tr = Trainer(cfg, device)
            sent, last_snap = 0, time.time()
            emit(event="progress", iteration=0, total=tr.total, loss=float("nan"), its_per_s=0.0,
                 elapsed=0.0, history={})
            small = sum(v.numel() * 4 for v in tr.params.values()) <= SNAPSHOT_SMALL
            while not tr.done and not stop.is_set():
                p = tr.run(spec["chunk"], stop.is_set, max_seconds=0.5)
                if tr.iteration and not tr.done and not stop.is_set() and (
                        small or time.time() - last_snap > SNAPSHOT_EVERY):
                    _snapshot(tr, spec["workdir"], emit)          # before the progress it covers
                    last_snap = time.time()
                h = tr.history
                emit(event="progress", iteration=p.iteration, total=p.total,
                     loss=p.loss if p.loss == p.loss else None, its_per_s=p.its_per_s,
                     elapsed=p.elapsed, history={k: h[k][sent:] for k in
                                                 ("iteration", "meta_loss", "wall_time")})
                sent = len(h["iteration"])
            emit(event="phase", phase="saving")
            run = tr.result()
            if tr.iteration == 0 and tr.total > 0:      # stopped before anything was learned
                emit(event="failed", error=NOTHING, nothing=True)
                return 0
        run.metrics = to_json(evaluate(run, n_tasks=spec.get("eval_tasks")))
        _, saved = store.save(run)
        emit(event="done", path=str(saved.path), action=saved.action, note=saved.note,
             partial=bool(run.info.get("partial")))
    except TrainingDiverged as e:
        emit(event="failed", error=str(e))
    except Exception as e:  # report, never a traceback in the app
        import traceback
        traceback.print_exc()
        emit(event="failed", error=f"training failed: {type(e).__name__}: {e}")
    return 0


def _snapshot(tr, workdir: str, emit):
    from safetensors.torch import save_file
    tmp, path = Path(workdir) / "snapshot.tmp", Path(workdir) / "snapshot.safetensors"
    save_file({k: v.detach().float().cpu().contiguous() for k, v in tr.params.items()}, str(tmp))
    os.replace(tmp, path)
    emit(event="snapshot", path=str(path), info=tr.result().info)


if __name__ == "__main__":
    sys.exit(_child_main())

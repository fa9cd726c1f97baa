"""One training job in its own process: the child side of services.jobs.

The child is `python -m maml_viz.services.child`: one JSON line of settings on stdin, JSON lines
of events on stdout. `Child` is the parent's handle on it. Later lines on stdin:
- "stop": while training, stop and keep what was learned (saved, then evaluated); while
  evaluating, abandon the evaluation (the trained run is already saved);
- "quit" (also the end of stdin, SIGTERM or SIGINT: the app went away or is shutting down):
  stop training, save what was learned, skip the evaluation, exit.
After training the child saves the run first ("saved"), then evaluates it and saves it again with
its evaluation ("done"): a stop or a crash during the evaluation never loses the training. It
writes a snapshot of the parameters before reporting progress (every second for large models),
so a killed child loses at most its last chunk. It never dies of a closed pipe: if the app is
gone, it saves what it learned, removes its work folder and exits.

Work folders are `maml-viz-job-<app pid>-*` in the system's temporary folder; `clean_workdirs`
removes those left by an app and a child that are both gone (run at start).
"""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SNAPSHOT_EVERY = 1.0         # seconds between parameter snapshots of a running child (small
SNAPSHOT_SMALL = 4 * 2**20   # models, up to this many bytes, are snapshotted after every chunk)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
NOTHING = "stopped before its first iteration finished: nothing was stored"
WORKDIR_PREFIX = "maml-viz-job-"
STALE_WORKDIR = 6 * 3600     # a work folder of unknown owner older than this is debris


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

    def ask_stop(self, what: str = "stop"):
        """Send "stop" (training: stop and keep; evaluating: abandon it) or "quit"."""
        self.asked_to_stop = True
        try:
            self.proc.stdin.write(what + "\n")
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


# ============================================================================ work folders
def make_workdir() -> str:
    """A job's work folder, named by this (the app's) process id."""
    return tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_workdirs(tmp: str | None = None, now: float | None = None) -> list:
    """Remove the work folders whose app and child are both gone (and, for folders of an older
    naming without the app's pid, those untouched for STALE_WORKDIR). Returns their names."""
    tmp, now = Path(tmp or tempfile.gettempdir()), time.time() if now is None else now
    gone = []
    try:
        entries = list(tmp.glob(WORKDIR_PREFIX + "*"))
    except OSError:
        return gone
    for d in entries:
        try:
            if not d.is_dir() or d.is_symlink():
                continue
            m = re.match(re.escape(WORKDIR_PREFIX) + r"(\d+)-", d.name)
            owners = [int(m.group(1))] if m else []
            pidfile = d / "child.pid"
            if pidfile.is_file():
                owners += [int(pidfile.read_text().strip() or 0)]
            if m:
                dead = not any(_alive(p) for p in owners if p > 0)
            else:
                dead = now - d.stat().st_mtime > STALE_WORKDIR and \
                    not any(_alive(p) for p in owners if p > 0)
        except (OSError, ValueError):
            continue
        if dead:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d.name)
    return gone


# ============================================================================ the child process
class Rate:
    """Iterations per second for the time left. A compiled step's first chunk includes its
    compilation (seconds to minutes for a few iterations): its speed is measured from the end of
    that chunk, and until then it is unknown (0), never "about 10 days left"."""

    def __init__(self, compiled: bool):
        self.compiled, self.start = compiled, None if compiled else (0, 0.0)

    def __call__(self, iteration: int, elapsed: float) -> float:
        if self.start is None:                  # the first chunk of a compiled step
            self.start = (iteration, elapsed)
            return 0.0
        it0, t0 = self.start
        return (iteration - it0) / (elapsed - t0) if elapsed > t0 and iteration > it0 else 0.0


class _Out:
    """The event stream to the app; a closed pipe (the app is gone) is remembered, never raised."""

    def __init__(self, out, on_gone):
        self.out, self.on_gone, self.gone = out, on_gone, False

    def __call__(self, **ev):
        if self.gone:
            return
        try:
            self.out.write(json.dumps(ev) + "\n")
            self.out.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.gone = True
            self.on_gone()


class _Requests:
    """What the app asked: stop training, abandon the evaluation, or quit (save, no evaluation)."""

    def __init__(self):
        self.stop, self.stop_eval, self.quit, self.phase = (threading.Event(), threading.Event(),
                                                            threading.Event(), "training")

    def ask(self, what: str):
        if what == "quit":
            self.quit.set()
            self.stop.set()
            self.stop_eval.set()
        elif what == "stop":
            (self.stop if self.phase == "training" else self.stop_eval).set()


def _child_main() -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)                                   # stray prints go to stderr, not the protocol
    req = _Requests()
    emit = _Out(out, lambda: req.ask("quit"))       # the app is gone: save and go
    spec = json.loads(sys.stdin.readline())
    workdir = Path(spec["workdir"])
    orphan = threading.Event()

    def listen():
        for line in sys.stdin:
            if line.strip() in ("stop", "quit"):
                req.ask(line.strip())
        orphan.set()                                # the app went away: stop and keep the work
        req.ask("quit")

    for sig in (signal.SIGTERM, signal.SIGINT):    # the app's machine shutting down
        signal.signal(sig, lambda *a: req.ask("quit"))
    try:
        (workdir / "child.pid").write_text(str(os.getpid()))
    except OSError:
        pass
    threading.Thread(target=listen, daemon=True).start()
    try:
        return _work(spec, req, emit)
    finally:
        if orphan.is_set() or emit.gone:            # nobody else will remove the work folder
            shutil.rmtree(workdir, ignore_errors=True)


def _work(spec: dict, req: _Requests, emit) -> int:
    """Train (or take the snapshot), save, evaluate, save again; events as in the module doc."""
    import torch

    from ..engine.cancel import Cancelled, scope
    from ..engine.config import ConfigError
    from ..engine.registry import config_from_dict
    from ..engine.train import Run, Trainer, TrainingDiverged, resolve_device
    from ..runs.evaluate import evaluate, to_json
    from ..runs.store import RunStore

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
            if not spec.get("evaluate", True):
                req.ask("quit")
        else:
            tr = Trainer(cfg, device)
            rate = Rate(tr.compiled)
            sent, last_snap = 0, time.time()
            emit(event="progress", iteration=0, total=tr.total, loss=float("nan"), its_per_s=0.0,
                 elapsed=0.0, history={})
            small = sum(v.numel() * 4 for v in tr.params.values()) <= SNAPSHOT_SMALL
            while not tr.done and not req.stop.is_set():
                p = tr.run(spec["chunk"], req.stop.is_set, max_seconds=0.5)
                if tr.iteration and not tr.done and not req.stop.is_set() and (
                        small or time.time() - last_snap > SNAPSHOT_EVERY):
                    _snapshot(tr, spec["workdir"], emit)          # before the progress it covers
                    last_snap = time.time()
                h = tr.history
                emit(event="progress", iteration=p.iteration, total=p.total,
                     loss=p.loss if p.loss == p.loss else None,
                     its_per_s=rate(p.iteration, p.elapsed), elapsed=p.elapsed,
                     history={k: h[k][sent:] for k in ("iteration", "meta_loss", "wall_time")})
                sent = len(h["iteration"])
            req.phase = "saving"
            emit(event="phase", phase="saving")
            run = tr.result()
            if tr.iteration == 0 and tr.total > 0:      # stopped before anything was learned
                emit(event="failed", error=NOTHING, nothing=True)
                return 0
        req.phase = "saving"
        # the training first: kept whatever happens to the evaluation
        _, first = store.save(run)
        emit(event="saved", path=str(first.path), action=first.action, note=first.note,
             partial=bool(run.info.get("partial")))
        done = dict(event="done", path=str(first.path), action=first.action, note=first.note,
                    partial=bool(run.info.get("partial")), evaluated=False)
        if first.action == "reused" or req.quit.is_set():
            emit(**done)                    # a better copy is stored / the app is going away
            return 0
        req.phase = "evaluating"
        emit(event="phase", phase="evaluating")
        try:
            with scope(req.stop_eval.is_set):
                metrics = to_json(evaluate(run, n_tasks=spec.get("eval_tasks")))
        except Cancelled:
            emit(**done)
            return 0
        run.metrics = metrics
        store.save(run)                     # replaces its own unevaluated copy
        emit(**dict(done, evaluated=True))
    except TrainingDiverged as e:
        emit(event="failed", error=str(e))
    except ConfigError as e:                # e.g. a damaged data file: its own one line
        emit(event="failed", error=f"training failed: {str(e).split(': ', 1)[-1]}")
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

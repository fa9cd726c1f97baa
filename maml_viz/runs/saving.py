"""Writing runs: atomic, safe between processes, and cleaning up after writers that died.

Saving writes the files to a temporary folder, then, under a lock on the runs folder, renames it
into place. Exactly one writer of a config wins; a writer that finds an equal or better healthy
run there reuses it; a damaged or less complete copy is replaced (a damaged one goes to the
trash, `<runs-dir>/.trash/`). `recover` empties trash older than `TRASH_DAYS` and cleans (or
completes, if whole) temporary folders left by a writer that died.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import save_file

from ..engine.config import ConfigError
from ..engine.registry import config_from_dict
from ..engine.train import Run
from .files import (FILES, RUN_NAME, StoreError, check_run, history_csv, is_run_dir, read_history,
                    read_json, read_metrics, read_params)

try:                                    # POSIX: an advisory lock between processes
    import fcntl
except ImportError:                     # pragma: no cover - Windows: threads only
    fcntl = None

TRASH = ".trash"
TRASH_DAYS = 7
STALE_TMP_SECONDS = 24 * 3600            # a temp folder of a live process older than this is debris


def rank(info: dict, metrics) -> tuple:
    """Which of two copies of one config is worth keeping: finished > partial, then more
    iterations, then evaluated, then evaluated under a newer protocol (evaluate.py's
    PROTOCOL_VERSION, stored in the evaluation: a run evaluated again replaces its old copy),
    then an evaluation that keeps its per-task scores (scores.py), then one on more tasks."""
    proto = metrics.get("protocol") if isinstance(metrics, dict) else None
    version = proto.get("version", 1) if isinstance(proto, dict) else 0
    kept = bool(metrics.get("task_scores")) if isinstance(metrics, dict) else False
    tasks = proto.get("tasks", 0) if isinstance(proto, dict) else 0
    return (not info.get("partial", False), int(info.get("iterations_done") or 0),
            metrics is not None, version if isinstance(version, int) else 0, kept,
            tasks if isinstance(tasks, int) else 0)


@dataclass
class Saved:
    path: Path
    action: str            # "saved" | "reused" (an equal or better copy was there) | "replaced"
    note: str = ""         # for "replaced": what was there and where it went


def _write_file(path: Path, data: bytes):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(d: Path):
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def store_lock(root: Path):
    """Exclusive lock on a runs folder, between threads and processes; released by the OS if the
    holder dies (flock on the folder itself: no lock file is left behind)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)                        # closing releases the flock


@contextlib.contextmanager
def no_interrupt():
    """Defer Ctrl-C (SIGINT) until the block is done: renames are never left half-way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got = []
    try:
        old = signal.signal(signal.SIGINT, lambda *a: got.append(a))
    except ValueError:                      # pragma: no cover - not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got and callable(old):
            old(*got[0])


_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        fn = _libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    r = fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE)
    if r == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _tmp_name(key: str, tag: str = "new") -> str:
    return f".tmp-{key}-{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def trash_entry(root: Path, key: str) -> Path:
    (root / TRASH).mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return root / TRASH / f"{key}~{stamp}~{uuid.uuid4().hex[:4]}"


def save(run: Run, root) -> Saved:
    """Write the run under root atomically; concurrent writers of one config are safe (see the
    module doc). Returns where it is and whether it was saved, reused or replaced something."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / run.key
    mine = rank(run.info, run.metrics)
    if is_run_dir(final) and check_run(final) is None and _rank_of(final) >= mine:
        return Saved(final, "reused")
    tmp = root / _tmp_name(run.key)
    tmp.mkdir()
    try:
        _write_file(tmp / "config.json", json.dumps(run.config.to_dict(), indent=2).encode())
        save_file({k: v.detach().float().cpu().contiguous() for k, v in run.params.items()},
                  str(tmp / "meta_params.safetensors"), metadata={"format": "maml-viz/1"})
        with open(tmp / "meta_params.safetensors", "rb+") as f:
            os.fsync(f.fileno())
        _write_file(tmp / "history.csv", history_csv(run.history).encode())
        # when it was trained, recorded in the run itself (its files' times change when it is
        # copied or installed): ISO 8601 in UTC, kept if the run already says it
        info = {**run.info, "finished": run.info.get("finished")
                or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_file(tmp / "metrics.json", json.dumps(
            {"training": info, "evaluation": run.metrics}, indent=2).encode())
        fsync_dir(tmp)
        with store_lock(root), no_interrupt():
            if not final.exists() and not final.is_symlink():
                os.rename(tmp, final)
                fsync_dir(root)
                return Saved(final, "saved")
            if not is_run_dir(final):
                raise StoreError(f"cannot save the run: {final} exists and is not a maml-viz run "
                                 f"folder (it was left alone); move it elsewhere and try again")
            problem = check_run(final)
            if problem is None and _rank_of(final) >= mine:
                shutil.rmtree(tmp, ignore_errors=True)
                return Saved(final, "reused")
            if problem is None:
                old_info = _info_of(final)
                note = (f"replaced a partial run ({old_info.get('iterations_done', 0):,} "
                        f"iterations)" if old_info.get("partial") else
                        "replaced the earlier copy of this run")
                away = root / _tmp_name(run.key, "old")
            else:
                away = trash_entry(root, run.key)
                note = f"replaced a damaged copy ({problem}); it was moved to {away}"
            if _exchange(tmp, final):           # final is never missing, not even for a moment
                os.rename(tmp, away)
            else:
                os.rename(final, away)
                os.rename(tmp, final)
            fsync_dir(root)
            if problem is None:
                shutil.rmtree(away, ignore_errors=True)
            return Saved(final, "replaced", note)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def save_run(run: Run, root) -> Path:
    """Save (see `save`); returns the run's directory and sets run.path."""
    out = save(run, root)
    run.path = str(out.path)
    return out.path


def _metrics_raw(d: Path):
    try:
        return json.loads((d / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}


def _info_of(d: Path) -> dict:
    m = _metrics_raw(d)
    return m.get("training") or {} if isinstance(m, dict) else {}


def _rank_of(d: Path) -> tuple:
    m = _metrics_raw(d)
    m = m if isinstance(m, dict) else {}
    return rank(m.get("training") or {}, m.get("evaluation"))


# ============================================================================ housekeeping
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(root, now: float | None = None) -> list:
    """Clean up after writers that died (kill -9, power loss) and empty old trash. A whole,
    healthy run left in a temporary folder is put in place if its config has no run yet.
    Returns what was done, one line each."""
    root = Path(root)
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    done = []
    with store_lock(root), no_interrupt():
        orphans = {}
        for d in root.iterdir():
            m = re.match(r"^\.tmp-(.+)-(new|old)-(\d+)-[0-9a-f]{8}$", d.name)
            if d.name.startswith(".old-") and d.is_dir():        # debris of an older version
                shutil.rmtree(d, ignore_errors=True)
                done.append(f"removed {d.name}")
                continue
            if not m or not d.is_dir():
                continue
            pid = int(m.group(3))
            age = now - d.stat().st_mtime
            if (pid == os.getpid() or _pid_alive(pid)) and age < STALE_TMP_SECONDS:
                continue                        # a save in progress
            orphans.setdefault(m.group(1), []).append(d)
        for key, dirs in orphans.items():
            final = root / key
            if not final.exists() and RUN_NAME.match(key):
                whole = [d for d in dirs if _whole(d, key) is None]
                if whole:
                    best = max(whole, key=_rank_of)
                    os.rename(best, final)
                    done.append(f"completed the interrupted save of {key}")
            for d in dirs:
                if d.exists():
                    shutil.rmtree(d, ignore_errors=True)
                    done.append(f"removed {d.name} (left by an interrupted save)")
        trash = root / TRASH
        if trash.is_dir():
            for d in trash.iterdir():
                if d.is_dir() and now - d.stat().st_mtime > TRASH_DAYS * 86400:
                    shutil.rmtree(d, ignore_errors=True)
                    done.append(f"emptied {d.name} from the trash")
        fsync_dir(root)
    return done


def _whole(tmp: Path, key: str) -> str | None:
    """None if the temporary folder holds a whole, healthy run that belongs at `key`."""
    if not all((tmp / f).is_file() for f in FILES):
        return "incomplete"
    try:
        cfg = config_from_dict(read_json(tmp, "config.json"))
        if cfg.key() != key:
            return "another config"
        read_params(tmp, cfg)
        read_history(tmp)
        read_metrics(tmp)
    except (StoreError, ConfigError, TypeError, ValueError) as e:
        return str(e)
    return None

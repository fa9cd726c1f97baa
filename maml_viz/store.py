"""Runs on disk and in memory.

A run is a directory named by its config's content hash (`TrainConfig.key()`):

    <runs-dir>/<family>-<algo>-<hash>/
        config.json               the TrainConfig (JSON object)
        meta_params.safetensors   the meta-parameters (float32), names as in nets.MLP
        history.csv               iteration, meta_loss, wall_time (and any further numeric columns)
        metrics.json              {"training": {...}, "evaluation": {"protocol", "results"}}

What counts as a run: a folder whose name has that form and that holds run files and nothing
else. Anything else in a runs folder (a user's `Documents/`) is never listed, loaded, replaced or
deleted. A run is *healthy* when every file checks out: the config's schema, its hash against the
folder's name, the safetensors header, tensor names, shapes, dtype (float32) and finiteness, and
the history/metrics schema. Files are never executed: safetensors, JSON and CSV only, no pickle.

Saving is atomic and safe between processes: the files go to a temporary folder, then, under a
lock on the runs folder, it is renamed into place. Exactly one writer of a config wins; a writer
that finds an equal or better healthy run there reuses it; a damaged or less complete copy is
replaced (a damaged one goes to the trash). Deleting moves a run to `<runs-dir>/.trash/`, from
where it can be restored; trash older than `TRASH_DAYS` is emptied, and temporary folders left by
a writer that died are cleaned (or completed, if whole) when a store opens the folder.

`RunStore` looks through several roots (the first writable, e.g. the user's runs, then read-only
bundled ones), never lets a damaged copy hide a healthy one, and keeps an in-memory LRU of runs on
the compute device.
"""
from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import io
import json
import math
import os
import re
import shutil
import signal
import struct
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .config import ConfigError, TrainConfig
from .registry import config_from_dict
from .train import Run

try:                                    # POSIX: an advisory lock between processes
    import fcntl
except ImportError:                     # pragma: no cover - Windows: threads only
    fcntl = None

FILES = ("config.json", "meta_params.safetensors", "history.csv", "metrics.json")
RUN_NAME = re.compile(r"^[A-Za-z0-9_]+-[A-Za-z0-9_]+-[0-9a-f]{12}$")
TRASH = ".trash"
TRASH_DAYS = 7
STALE_TMP_SECONDS = 24 * 3600            # a temp folder of a live process older than this is debris
MAX_JSON_BYTES = 5_000_000
MAX_CSV_BYTES = 50_000_000
HISTORY_COLUMNS = ("iteration", "meta_loss", "wall_time")
RETRAIN = "train it again to replace it (the damaged copy goes to the trash)"


class StoreError(RuntimeError):
    pass


class Damaged(StoreError):
    """A run folder whose files do not check out. `.file` names the culprit."""

    def __init__(self, path, file: str, problem: str):
        self.path, self.file, self.problem = Path(path), file, problem
        super().__init__(f"{self.path}: {file} {problem}; {RETRAIN}")


# ============================================================================ what a run is
def is_run_dir(d: Path) -> bool:
    """A folder named like a run that holds run files and nothing else (so deleting or replacing
    it can never touch anything of the user's)."""
    d = Path(d)
    if not RUN_NAME.match(d.name) or d.is_symlink() or not d.is_dir():
        return False
    try:
        names = {e.name for e in os.scandir(d)}
    except OSError:
        return False
    if not names <= set(FILES) or not names & {"config.json", "meta_params.safetensors"}:
        return False
    return all(not (d / n).is_symlink() and (d / n).is_file() for n in names)


def expected_shapes(cfg: TrainConfig) -> dict:
    run = Run(cfg, {})
    return run.algorithm.param_shapes(run.model)


def signature(d: Path) -> tuple:
    """Changes whenever a file of the run is written, replaced or removed."""
    out = []
    for n in FILES:
        try:
            s = os.stat(d / n)
            out.append((n, s.st_ino, s.st_size, s.st_mtime_ns))
        except OSError:
            out.append((n, None))
    return tuple(out)


def _read(path: Path, file: str, limit: int) -> bytes:
    p = path / file
    if not p.is_file():
        raise Damaged(path, file, "is missing")
    size = p.stat().st_size
    if size > limit:
        raise Damaged(path, file, f"is {size:,} bytes, far larger than a run's (at most {limit:,})")
    return p.read_bytes()


def _json(path: Path, file: str):
    raw = _read(path, file, MAX_JSON_BYTES)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Damaged(path, file, f"is not valid JSON ({str(e).splitlines()[0][:80]})")


def _is_num(v, none_ok=False) -> bool:
    if v is None:
        return none_ok
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def read_config(path: Path) -> TrainConfig:
    d = _json(path, "config.json")
    if not isinstance(d, dict):
        raise Damaged(path, "config.json", f"holds a JSON {type(d).__name__}, not an object of "
                                           f"settings")
    try:
        cfg = config_from_dict(d)
    except ConfigError as e:
        raise Damaged(path, "config.json", f"is not a valid maml-viz config ({e})")
    except (TypeError, ValueError) as e:
        raise Damaged(path, "config.json", f"is not a valid maml-viz config ({e})")
    if cfg.key() != path.name:
        raise Damaged(path, "config.json", f"does not match its folder: these settings belong in "
                                           f"{cfg.key()} (was the file edited by hand?)")
    return cfg


def _safetensors_header(path: Path, raw: bytes) -> dict:
    f = "meta_params.safetensors"
    if len(raw) < 8:
        raise Damaged(path, f, f"is truncated ({len(raw)} bytes)")
    n = struct.unpack("<Q", raw[:8])[0]
    if n > len(raw) - 8 or n > MAX_JSON_BYTES:
        raise Damaged(path, f, "is not a safetensors file (its header length is impossible)")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Damaged(path, f, "is not a safetensors file (its header is not JSON)")
    if not isinstance(header, dict):
        raise Damaged(path, f, "is not a safetensors file (its header is not an object)")
    return header


def read_params(path: Path, cfg: TrainConfig) -> dict:
    f = "meta_params.safetensors"
    raw = _read(path, f, 4 * 2**30)
    header = _safetensors_header(path, raw)
    shapes = expected_shapes(cfg)
    names = set(header) - {"__metadata__"}
    if names != set(shapes):
        missing, extra = sorted(set(shapes) - names), sorted(names - set(shapes))
        raise Damaged(path, f, f"does not match its config: missing tensors {missing or 'none'}, "
                               f"unexpected {extra or 'none'}")
    for k, s in shapes.items():
        h = header[k]
        if not isinstance(h, dict) or h.get("dtype") != "F32":
            raise Damaged(path, f, f"tensor {k} is {h.get('dtype') if isinstance(h, dict) else '?'}"
                                   f", expected float32 (F32)")
        if list(h.get("shape") or []) != list(s):
            raise Damaged(path, f, f"tensor {k} has shape {tuple(h.get('shape') or ())}, "
                                   f"expected {tuple(s)}")
    try:
        tensors = load_file(str(path / f), device="cpu")
    except Exception as e:  # safetensors raises its own error types on corrupt files
        raise Damaged(path, f, f"is corrupted ({type(e).__name__}: {str(e)[:80]})")
    for k in shapes:
        if not torch.isfinite(tensors[k]).all():
            raise Damaged(path, f, f"tensor {k} holds NaN or inf values")
    return {k: tensors[k] for k in shapes}


def read_history(path: Path) -> dict:
    f = "history.csv"
    raw = _read(path, f, MAX_CSV_BYTES)
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise Damaged(path, f, f"is not a CSV text file ({e})")
    if not rows:
        raise Damaged(path, f, "is empty (it needs at least its header line)")
    header = [h.strip() for h in rows[0]]
    if header[:3] != list(HISTORY_COLUMNS) or len(set(header)) != len(header):
        raise Damaged(path, f, f"has the header {','.join(header)[:80]!r}, expected "
                               f"{','.join(HISTORY_COLUMNS)} first")
    out = {h: [] for h in header}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise Damaged(path, f, f"line {i} has {len(row)} values, the header {len(header)}")
        try:
            out["iteration"].append(int(row[0]))
            out["meta_loss"].append(float(row[1]))
            out["wall_time"].append(float(row[2]))
            for h, v in zip(header[3:], row[3:]):
                out[h].append(float(v) if v.strip() else None)       # blank: not measured
        except ValueError:
            raise Damaged(path, f, f"line {i} holds something that is not a number: "
                                   f"{','.join(row)[:60]!r}")
    if any(not math.isfinite(t) for t in out["wall_time"]) or any(i < 0 for i in out["iteration"]):
        raise Damaged(path, f, "has a negative iteration or a non-finite time")
    return out


_TRAINING_TYPES = {"partial": (bool,), "iterations_done": (int,), "device": (str,),
                   "train_seconds": (int, float, type(None)), "its_per_s": (int, float, type(None))}


def read_metrics(path: Path):
    f = "metrics.json"
    m = _json(path, f)
    if not isinstance(m, dict):
        raise Damaged(path, f, f"holds a JSON {type(m).__name__}, expected an object with "
                               f"'training' and 'evaluation'")
    info, ev = m.get("training", {}), m.get("evaluation")
    if info is None:
        info = {}
    if not isinstance(info, dict):
        raise Damaged(path, f, f"'training' is a {type(info).__name__}, expected an object")
    for k, types in _TRAINING_TYPES.items():
        if k in info and (not isinstance(info[k], types) or
                          (bool not in types and isinstance(info[k], bool))):
            raise Damaged(path, f, f"training.{k} is {info[k]!r}, of the wrong type")
    if ev is not None:
        if not isinstance(ev, dict) or not isinstance(ev.get("protocol", {}), dict) \
                or not isinstance(ev.get("results"), list):
            raise Damaged(path, f, "'evaluation' must be null or an object with 'protocol' and a "
                                   "list of 'results'")
        for r in ev["results"]:
            if not (isinstance(r, dict) and isinstance(r.get("k_shot"), int)
                    and isinstance(r.get("step"), int) and _is_num(r.get("mean"), True)
                    and _is_num(r.get("ci95"), True)):
                raise Damaged(path, f, f"an evaluation result is malformed: {str(r)[:80]}")
    return info, ev


def load_run(path, device="cpu") -> Run:
    """Load and validate a run directory. Raises StoreError (Damaged for a damaged run) with a
    message that names the file, says what is wrong and what to do."""
    path = Path(path)
    if not path.is_dir():
        raise StoreError(f"no run at {path}: the folder does not exist "
                         f"(list stored runs with `python -m maml_viz runs`)")
    if not is_run_dir(path):
        raise StoreError(f"{path} is not a maml-viz run folder (a run folder is named "
                         f"<family>-<algo>-<hash> and holds {', '.join(FILES)}); give the folder "
                         f"of a run, as listed by `python -m maml_viz runs --runs-dir <dir>`")
    cfg = read_config(path)
    params = read_params(path, cfg)
    history = read_history(path)
    info, metrics = read_metrics(path)
    return Run(cfg, {k: v.float().to(device) for k, v in params.items()}, history, info,
               metrics, str(path))


def check_run(path) -> str | None:
    """None if the run at path is healthy, else a one-line reason."""
    try:
        load_run(path)
    except Damaged as e:
        return f"{e.file} {e.problem}"
    except StoreError as e:
        return str(e)
    return None


# ============================================================================ writing
def history_csv(history: dict) -> str:
    """The history as CSV: iteration, meta_loss, wall_time, then any further columns."""
    cols = list(HISTORY_COLUMNS) + [k for k in history if k not in HISTORY_COLUMNS]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    n = len(history.get("iteration", []))
    for i in range(n):
        row = []
        for c in cols:
            v = history[c][i] if i < len(history.get(c, [])) else None
            row.append(str(int(v)) if c == "iteration" else "" if v is None
                       else f"{v:.4f}" if c == "wall_time" else f"{v:.6g}")
        w.writerow(row)
    return buf.getvalue()


def rank(info: dict, metrics) -> tuple:
    """Which of two copies of one config is worth keeping: finished > partial, then more
    iterations, then evaluated, then evaluated under a newer protocol (evaluate.py's
    PROTOCOL_VERSION, stored in the evaluation: a run evaluated again replaces its old copy),
    then evaluated on more tasks."""
    proto = metrics.get("protocol") if isinstance(metrics, dict) else None
    version = proto.get("version", 1) if isinstance(proto, dict) else 0
    tasks = proto.get("tasks", 0) if isinstance(proto, dict) else 0
    return (not info.get("partial", False), int(info.get("iterations_done") or 0),
            metrics is not None, version if isinstance(version, int) else 0,
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


def _fsync_dir(d: Path):
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


def _trash_entry(root: Path, key: str) -> Path:
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
        _write_file(tmp / "metrics.json", json.dumps(
            {"training": run.info, "evaluation": run.metrics}, indent=2).encode())
        _fsync_dir(tmp)
        with store_lock(root), no_interrupt():
            if not final.exists() and not final.is_symlink():
                os.rename(tmp, final)
                _fsync_dir(root)
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
                away = _trash_entry(root, run.key)
                note = f"replaced a damaged copy ({problem}); it was moved to {away}"
            if _exchange(tmp, final):           # final is never missing, not even for a moment
                os.rename(tmp, away)
            else:
                os.rename(final, away)
                os.rename(tmp, final)
            _fsync_dir(root)
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
        _fsync_dir(root)
    return done


def _whole(tmp: Path, key: str) -> str | None:
    """None if the temporary folder holds a whole, healthy run that belongs at `key`."""
    if not all((tmp / f).is_file() for f in FILES):
        return "incomplete"
    try:
        cfg = config_from_dict(_json(tmp, "config.json"))
        if cfg.key() != key:
            return "another config"
        read_params(tmp, cfg)
        read_history(tmp)
        read_metrics(tmp)
    except (StoreError, ConfigError, TypeError, ValueError) as e:
        return str(e)
    return None


# ============================================================================ the store
def scan(root) -> tuple:
    """(run folders, other entries) directly under root; hidden entries are the store's own."""
    root = Path(root)
    runs, other = [], []
    if not root.is_dir():
        return runs, other
    for d in sorted(root.iterdir()):
        if d.name.startswith("."):
            continue
        (runs if is_run_dir(d) else other).append(d)
    return runs, other


def inspect(path: Path, read_only: bool = False) -> dict:
    """A listing entry with the run's health: error is None, or why the run is damaged (then
    config/training/evaluation are None/{})."""
    entry = {"key": path.name, "path": str(path), "config": None, "training": {},
             "evaluation": None, "error": None, "read_only": read_only}
    try:
        run = load_run(path)
    except Damaged as e:
        entry["error"] = f"{e.file} {e.problem}"
    except StoreError as e:
        entry["error"] = str(e)
    else:
        entry.update(config=run.config, training=run.info, evaluation=run.metrics)
    return entry


def list_runs(root) -> list:
    """Every run folder under root with its health (error None, or the reason it is damaged)."""
    return [inspect(d) for d in scan(root)[0]]


class RunStore:
    """Runs by config: an in-memory LRU on the compute device, backed by run folders in several
    roots (the first writable, the rest read-only). Thread-safe; runs handed out are shared and
    must be treated as read-only."""

    def __init__(self, roots, device="cpu", capacity: int = 32, housekeeping: bool = True):
        roots = [roots] if isinstance(roots, (str, Path)) else list(roots)
        self.roots = [Path(r) for r in roots]          # first root is writable, the rest read-only
        self.device = torch.device(device)
        self.capacity = capacity
        self._lru: OrderedDict = OrderedDict()          # key -> (run, path, signature)
        self._health: dict = {}                         # path -> (signature, entry)
        self._lock = threading.RLock()
        self.recovered = recover(self.roots[0]) if housekeeping else []

    def __len__(self):
        return len(self._lru)

    # ------------------------------------------------------------------ health
    def entry(self, d: Path, read_only: bool = False) -> dict:
        """The listing entry of a run folder (health checked once per version of its files)."""
        sig = signature(d)
        with self._lock:
            hit = self._health.get(str(d))
            if hit is not None and hit[0] == sig:
                return dict(hit[1], read_only=read_only)
        e = inspect(d, read_only)
        with self._lock:
            self._health[str(d)] = (sig, e)
        return dict(e)

    def copies(self, cfg: TrainConfig) -> list:
        """Every folder holding cfg's run, in root order, with its health entry."""
        key = cfg.key() if not isinstance(cfg, str) else cfg
        out = []
        for i, root in enumerate(self.roots):
            d = root / key
            if is_run_dir(d):
                out.append(self.entry(d, i > 0))
        return out

    def find(self, cfg: TrainConfig):
        """The folder of the first healthy copy of cfg's run, or None."""
        return next((Path(e["path"]) for e in self.copies(cfg) if e["error"] is None), None)

    def damage(self, cfg: TrainConfig) -> list:
        """(path, reason) of damaged copies of cfg's run."""
        return [(e["path"], e["error"]) for e in self.copies(cfg) if e["error"]]

    # ------------------------------------------------------------------ runs
    def get(self, cfg: TrainConfig) -> Run | None:
        """cfg's run from the first root holding a healthy copy (damaged copies are skipped),
        or None."""
        key = cfg.key()
        with self._lock:
            hit = self._lru.get(key)
            if hit is not None and signature(Path(hit[1])) == hit[2] and \
                    self.find(cfg) == Path(hit[1]):
                self._lru.move_to_end(key)
                return hit[0]
        for e in self.copies(cfg):
            if e["error"] is not None:
                continue
            d = Path(e["path"])
            sig = signature(d)
            try:
                run = load_run(d, self.device)
            except StoreError:                  # changed under us: look at the next copy
                continue
            self._remember(run, d, sig)
            return run
        return None

    def save(self, run: Run) -> tuple:
        """Save to the writable root; returns (the run on the device, Saved)."""
        out = save(run, self.roots[0])
        with self._lock:
            self._lru.pop(run.key, None)
        if out.action == "reused":
            stored = self.get(run.config)
            if stored is not None:
                return stored, out
        run.path = str(out.path)
        run = run.to(self.device)
        self._remember(run, out.path, signature(out.path))
        return run, out

    def put(self, run: Run, save: bool = True) -> Run:
        if save:
            return self.save(run)[0]
        self._remember(run, None, None)
        return run.to(self.device)

    def _remember(self, run: Run, path, sig):
        with self._lock:
            self._lru[run.key] = (run, str(path) if path else "", sig)
            self._lru.move_to_end(run.key)
            while len(self._lru) > self.capacity:
                self._lru.popitem(last=False)

    # ------------------------------------------------------------------ delete / trash
    def deletable(self, key: str) -> bool:
        return bool(RUN_NAME.match(str(key))) and is_run_dir(self.roots[0] / key)

    def delete(self, key: str) -> Path:
        """Move the run `key` of the writable root to the trash; returns the trash entry.
        Refuses anything that is not a run folder there."""
        root = self.roots[0]
        if not self.deletable(key):
            raise StoreError(f"{key!r} is not a run in {root}: nothing was deleted")
        with self._lock:
            self._lru.pop(key, None)
        with store_lock(root), no_interrupt():
            d = root / key
            if not is_run_dir(d):
                raise StoreError(f"{key!r} is no longer in {root}: nothing was deleted")
            entry = _trash_entry(root, key)
            os.rename(d, entry)
            os.utime(entry)                     # the trash is emptied by age of deletion
            _fsync_dir(root)
        return entry

    def trash(self) -> list:
        """Deleted runs that can still be restored: dicts key, entry, deleted (epoch seconds)."""
        t = self.roots[0] / TRASH
        out = []
        if t.is_dir():
            for d in t.iterdir():
                key = d.name.split("~")[0]
                if d.is_dir() and RUN_NAME.match(key):
                    out.append({"key": key, "entry": d.name, "deleted": d.stat().st_mtime})
        return sorted(out, key=lambda e: -e["deleted"])

    def restore(self, entry: str) -> Path:
        root = self.roots[0]
        src = root / TRASH / Path(entry).name
        key = src.name.split("~")[0]
        if not RUN_NAME.match(key) or not src.is_dir():
            raise StoreError(f"{entry!r} is not in the trash of {root}")
        with store_lock(root), no_interrupt():
            if (root / key).exists():
                raise StoreError(f"a run {key} is stored already; delete it first to restore "
                                 f"this copy")
            os.rename(src, root / key)
        return root / key

    # ------------------------------------------------------------------ listing
    def list(self) -> list:
        """Every run folder in every root with its health. A healthy run of the writable root
        hides the read-only copy of the same config; a damaged one does not."""
        out, healthy = [], set()
        for i, root in enumerate(self.roots):
            for d in scan(root)[0]:
                e = self.entry(d, i > 0)
                if e["key"] in healthy:
                    continue
                if e["error"] is None:
                    healthy.add(e["key"])
                out.append(e)
        return out

    def foreign(self) -> list:
        """Entries of the writable root that are not runs (left alone, never listed as runs)."""
        return [d.name for d in scan(self.roots[0])[1]]

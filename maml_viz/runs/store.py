"""The run store: runs by config, from several folders, with an in-memory cache.

`RunStore` looks through several roots (the first writable, e.g. the user's runs, then read-only
bundled ones), never lets a damaged copy hide a healthy one, keeps an in-memory LRU of runs on
the compute device, lists runs with their health, and deletes to / restores from the trash.
Reading and checking files is runs.files; writing them, runs.saving.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import torch

from ..engine.config import TrainConfig
from ..engine.train import Run
from .files import RUN_NAME, Damaged, StoreError, is_run_dir, load_run, signature
from .saving import TRASH, fsync_dir, no_interrupt, recover, save, store_lock, trash_entry


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

    def blocked(self, cfg: TrainConfig) -> str | None:
        """None if cfg's run can be saved in the writable root; else why not, in one line: an
        entry of that name that is not a run folder (a user's folder or file, a link) is there
        and is never replaced. Checked before training, so that nothing is trained in vain."""
        d = self.roots[0] / cfg.key()
        if (d.exists() or d.is_symlink()) and not is_run_dir(d):
            return (f"{d} is in the way: it is not a maml-viz run folder (it holds other files, "
                    f"or is a file or a link) and is left alone; move or rename it, then train "
                    f"these settings again")
        return None

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
            entry = trash_entry(root, key)
            os.rename(d, entry)
            os.utime(entry)                     # the trash is emptied by age of deletion
            fsync_dir(root)
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

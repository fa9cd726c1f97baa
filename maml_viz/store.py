"""Runs on disk and in memory.

A run is a directory named by its config's content hash (`TrainConfig.key()`):

    <runs-dir>/<family>-<algo>-<hash>/
        config.json               the TrainConfig (JSON object)
        meta_params.safetensors   the meta-parameters (float32), names as in nets.MLP
        history.csv               iteration, meta_loss, wall_time
        metrics.json              {"training": {...}, "evaluation": {"protocol", "results"}}

Writes are atomic: the files go to a temporary directory that is renamed into place. Loading
validates everything (config schema, hash, tensor names, shapes, finiteness) and never executes
anything from the files: safetensors and JSON only, no pickle. A problem raises `StoreError` with
a message saying what is wrong and what to do. `RunStore` adds an in-memory LRU of runs kept on
the compute device (the GPU when available).
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .config import ConfigError, TrainConfig
from .registry import config_from_dict
from .train import Run

FILES = ("config.json", "meta_params.safetensors", "history.csv", "metrics.json")


class StoreError(RuntimeError):
    pass


def expected_shapes(cfg: TrainConfig) -> dict:
    run = Run(cfg, {})
    return run.algorithm.param_shapes(run.model)


def history_csv(history: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    val = history.get("val_metric")          # the common validation measure (validation.py)
    w.writerow(["iteration", "meta_loss", "wall_time"] + (["val_metric"] if val is not None else []))
    for i, (it, loss, t) in enumerate(zip(history["iteration"], history["meta_loss"],
                                          history["wall_time"])):
        extra = [] if val is None else ["" if val[i] is None else f"{val[i]:.6g}"]
        w.writerow([it, f"{loss:.6g}", f"{t:.4f}"] + extra)
    return buf.getvalue()


def save_run(run: Run, root) -> Path:
    """Write the run atomically under root; returns its directory."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / run.key
    tmp = root / f".tmp-{run.key}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "config.json").write_text(json.dumps(run.config.to_dict(), indent=2))
        save_file({k: v.detach().float().cpu().contiguous() for k, v in run.params.items()},
                  str(tmp / "meta_params.safetensors"), metadata={"format": "maml-viz/1"})
        (tmp / "history.csv").write_text(history_csv(run.history))
        (tmp / "metrics.json").write_text(json.dumps(
            {"training": run.info, "evaluation": run.metrics}, indent=2))
        if final.exists():
            trash = root / f".old-{run.key}-{uuid.uuid4().hex[:8]}"
            os.rename(final, trash)
            os.rename(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    run.path = str(final)
    return final


def load_run(path, device="cpu") -> Run:
    """Load and validate a run directory. Raises StoreError with a clear message."""
    path = Path(path)
    hint = f"delete {path} and train it again"
    if not path.is_dir():
        raise StoreError(f"no run at {path}: the directory does not exist "
                         f"(list stored runs with `python -m maml_viz runs`)")
    for name in FILES[:2]:
        if not (path / name).is_file():
            raise StoreError(f"{path} is not a maml-viz run: {name} is missing ({hint})")
    try:
        cfg = config_from_dict(json.loads((path / "config.json").read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{path}/config.json is not valid JSON ({e}); {hint}")
    except (ConfigError, TypeError) as e:
        raise StoreError(f"{path}/config.json is not a valid maml-viz config ({e}); {hint}")
    try:
        tensors = load_file(str(path / "meta_params.safetensors"), device="cpu")
    except Exception as e:  # safetensors raises its own error types on corrupt headers
        raise StoreError(f"{path}/meta_params.safetensors is corrupted or not a safetensors "
                         f"file ({type(e).__name__}: {e}); {hint}")
    shapes = expected_shapes(cfg)
    if set(tensors) != set(shapes):
        raise StoreError(f"{path}/meta_params.safetensors does not match its config: tensors "
                         f"{sorted(tensors)} but the model needs {sorted(shapes)}; {hint}")
    for k, s in shapes.items():
        t = tensors[k]
        if tuple(t.shape) != tuple(s) or not t.is_floating_point():
            raise StoreError(f"{path}/meta_params.safetensors: tensor {k} has shape "
                             f"{tuple(t.shape)} ({t.dtype}), expected {tuple(s)} (float); {hint}")
        if not torch.isfinite(t).all():
            raise StoreError(f"{path}/meta_params.safetensors: tensor {k} holds NaN or inf; {hint}")
    history = {"iteration": [], "meta_loss": [], "wall_time": []}
    metrics, info = None, {}
    try:
        if (path / "history.csv").is_file():
            rows = list(csv.DictReader(io.StringIO((path / "history.csv").read_text())))
            history = {"iteration": [int(r["iteration"]) for r in rows],
                       "meta_loss": [float(r["meta_loss"]) for r in rows],
                       "wall_time": [float(r["wall_time"]) for r in rows]}
            if rows and "val_metric" in rows[0]:         # blank: not measured at that row
                history["val_metric"] = [float(r["val_metric"]) if r["val_metric"] else None
                                         for r in rows]
        if (path / "metrics.json").is_file():
            m = json.loads((path / "metrics.json").read_text())
            info, metrics = m.get("training") or {}, m.get("evaluation")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise StoreError(f"{path}: history.csv or metrics.json is malformed ({e}); {hint}")
    params = {k: tensors[k].float().to(device) for k in shapes}
    return Run(cfg, params, history, info, metrics, str(path))


def list_runs(root) -> list:
    """Summaries of the valid runs under root (invalid ones are listed with their error)."""
    root = Path(root)
    out = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.startswith("."):
            continue
        try:
            cfg = config_from_dict(json.loads((d / "config.json").read_text()))
            m = json.loads((d / "metrics.json").read_text()) if (d / "metrics.json").is_file() else {}
            out.append({"key": d.name, "path": str(d), "config": cfg, "training": m.get("training") or {},
                        "evaluation": m.get("evaluation"), "error": None})
        except Exception as e:
            out.append({"key": d.name, "path": str(d), "config": None, "training": {},
                        "evaluation": None, "error": f"{type(e).__name__}: {e}"})
    return out


class RunStore:
    """Runs by config: an in-memory LRU on the compute device, backed by directories on disk.
    Thread-safe; runs handed out are shared and must be treated as read-only."""

    def __init__(self, roots, device="cpu", capacity: int = 32):
        roots = [roots] if isinstance(roots, (str, Path)) else list(roots)
        self.roots = [Path(r) for r in roots]          # first root is writable, the rest read-only
        self.device = torch.device(device)
        self.capacity = capacity
        self._lru: OrderedDict = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self):
        return len(self._lru)

    def find(self, cfg: TrainConfig):
        """The directory holding cfg's run, or None."""
        for root in self.roots:
            d = root / cfg.key()
            if (d / "meta_params.safetensors").is_file():
                return d
        return None

    def get(self, cfg: TrainConfig) -> Run | None:
        key = cfg.key()
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                return self._lru[key]
        d = self.find(cfg)
        if d is None:
            return None
        run = load_run(d, self.device)
        self._remember(run)
        return run

    def put(self, run: Run, save: bool = True) -> Run:
        if save:
            save_run(run, self.roots[0])
        run = run.to(self.device)
        self._remember(run)
        return run

    def delete(self, key: str) -> None:
        with self._lock:
            self._lru.pop(key, None)
        d = self.roots[0] / key
        if d.is_dir() and d.resolve().parent == self.roots[0].resolve():
            shutil.rmtree(d)

    def _remember(self, run: Run):
        with self._lock:
            self._lru[run.key] = run
            self._lru.move_to_end(run.key)
            while len(self._lru) > self.capacity:
                self._lru.popitem(last=False)

    def list(self) -> list:
        seen, out = set(), []
        for root in self.roots:
            for r in list_runs(root):
                if r["key"] not in seen:
                    seen.add(r["key"])
                    r["read_only"] = root != self.roots[0]
                    out.append(r)
        return out

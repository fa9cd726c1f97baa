"""What a run is on disk, and reading it back checked.

A run is a directory named by its config's content hash (`TrainConfig.key()`):

    <runs-dir>/<family>-<algo>-<hash>/
        config.json               the TrainConfig (JSON object)
        meta_params.safetensors   the meta-parameters (float32), names as in nets.MLP
        history.csv               iteration, meta_loss, wall_time (and any further numeric columns)
        metrics.json              {"training": {...}, "evaluation": {"protocol", "results",
                                  and optionally "task_scores": scores.py}}

What counts as a run: a folder whose name has that form and that holds run files and nothing
else. Anything else in a runs folder (a user's `Documents/`) is never listed, loaded, replaced or
deleted. A run is *healthy* when every file checks out: the config's schema, its hash against the
folder's name, the safetensors header, tensor names, shapes, dtype (float32) and finiteness, and
the history/metrics schema (one reader per file kind below). Files are never executed:
safetensors, JSON and CSV only, no pickle.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import struct
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..engine.config import ConfigError, TrainConfig
from ..engine.registry import config_from_dict
from ..engine.train import Run
from . import scores

FILES = ("config.json", "meta_params.safetensors", "history.csv", "metrics.json")
RUN_NAME = re.compile(r"^[A-Za-z0-9_]+-[A-Za-z0-9_]+-[0-9a-f]{12}$")
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


def read_json(path: Path, file: str):
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
    d = read_json(path, "config.json")
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
    m = read_json(path, f)
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
        problem = evaluation_problem(ev)
        if problem:
            raise Damaged(path, f, problem)
        try:
            scores.TaskScores.from_json(ev.get("task_scores"))
        except ValueError as e:
            raise Damaged(path, f, f"evaluation.task_scores: {e}")
    return info, ev


# what an evaluation's protocol must say (the pages, `runs`, `sweep` and Compare read these)
_PROTOCOL = {"metric": "a name", "tasks": "a whole number >= 1",
             "k_shot": "a list of whole numbers >= 1", "steps": "a whole number >= 0"}
_RESULT_OPTIONAL = {"median": "num", "diverged_tasks": "count", "tasks": "count",
                    "lr_scale": "num", "lr": "num_or_str", "diverged": "bool"}


def _int(v, lo: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def evaluation_problem(ev: dict) -> str | None:
    """None if a stored evaluation ({"protocol", "results"}) is whole and consistent, else what
    is wrong, in a few words. The protocol says which K and how many steps were evaluated (its
    version, if given, is a whole number); the results hold exactly one row per (K, step) of
    the protocol, each with its numbers (a diverged mean is null)."""
    proto, results = ev.get("protocol", {}), ev["results"]
    missing = [k for k in _PROTOCOL if k not in proto]
    if missing:
        return (f"evaluation.protocol lacks {', '.join(missing)} (it must give "
                + "; ".join(f"{k}: {what}" for k, what in _PROTOCOL.items()) + ")")
    if not isinstance(proto["metric"], str) or not proto["metric"]:
        return f"evaluation.protocol.metric is {str(proto['metric'])[:40]!r}, expected a name"
    for k, lo in (("tasks", 1), ("steps", 0)):
        if not _int(proto[k], lo):
            return f"evaluation.protocol.{k} is {str(proto[k])[:40]!r}, expected {_PROTOCOL[k]}"
    ks = proto["k_shot"]
    if not isinstance(ks, list) or not ks or not all(_int(k, 1) for k in ks) \
            or len(set(ks)) != len(ks):
        return (f"evaluation.protocol.k_shot is {str(ks)[:40]!r}, expected a list of different "
                f"whole numbers >= 1")
    if "version" in proto and not _int(proto["version"], 1):
        return (f"evaluation.protocol.version is {str(proto['version'])[:40]!r}, expected a whole "
                f"number >= 1")
    if not results:
        return "evaluation.results is empty (an evaluation has one row per K and step)"
    seen = set()
    for r in results:
        if not (isinstance(r, dict) and _int(r.get("k_shot"), 1) and _int(r.get("step"), 0)
                and _is_num(r.get("mean"), True) and _is_num(r.get("ci95"), True)):
            return f"an evaluation result is malformed: {str(r)[:80]}"
        for k, want in _RESULT_OPTIONAL.items():
            v = r.get(k)
            if k in r and not {"num": _is_num(v, True), "count": _int(v, 0),
                               "num_or_str": _is_num(v) or isinstance(v, str),
                               "bool": isinstance(v, bool)}[want]:
                return f"an evaluation result's {k} is {str(v)[:40]!r}, of the wrong type"
        pair = (r["k_shot"], r["step"])
        if pair in seen:
            return f"evaluation.results has K={pair[0]} step {pair[1]} twice"
        seen.add(pair)
    want = {(k, s) for k in ks for s in range(proto["steps"] + 1)}
    if seen != want:
        gone, extra = sorted(want - seen), sorted(seen - want)
        return ("evaluation.results do not match its protocol (K " + ",".join(map(str, ks))
                + f", steps 0-{proto['steps']}): "
                + (f"missing K={gone[0][0]} step {gone[0][1]}" if gone else
                   f"unexpected K={extra[0][0]} step {extra[0][1]}"))
    return None


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

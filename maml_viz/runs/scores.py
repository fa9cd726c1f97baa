"""Per-task scores of an evaluation: for each K, the matrix [tasks, steps+1] of the metric on every
held-out task after 0..S adaptation steps (at each step, the step size the protocol chose), i.e.
the numbers each (K, step) row of an evaluation summarises. Robust statistics across seeds
(stats.py: interquartile mean, probability of improvement) need them, not just their mean.

Stored in metrics.json beside the results as
    "task_scores": [{"k_shot", "dtype": "<f4" | "<f8", "shape": [tasks, steps+1], "base64"}]
the little-endian bytes of the array (float32 where that is exact, as for every supervised family,
else float64): compact (~60 kB for 1000 tasks x 11 steps) and exact, and NaN/inf (diverged
tasks) survive, which strict JSON numbers cannot carry.

`TaskScores` holds {k_shot: array} in a DataFrame's attrs: it compares by value and is never
copied (its arrays are read-only), so pandas can carry and concatenate frames that hold it.
Imports nothing of ours (the store validates with it; evaluate.py writes it).
"""
from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np

DTYPES = {"<f4": np.float32, "<f8": np.float64}
MAX_VALUES = 50_000_000


def encode(k_shot: int, a) -> dict:
    """One K's per-task scores [tasks, steps+1] as JSON."""
    a = np.asarray(a, dtype=np.float64)
    exact = np.array_equal(a.astype(np.float32).astype(np.float64), a, equal_nan=True)
    dtype = "<f4" if exact else "<f8"
    raw = np.ascontiguousarray(a.astype(dtype)).tobytes()
    return {"k_shot": int(k_shot), "dtype": dtype, "shape": [int(n) for n in a.shape],
            "base64": base64.b64encode(raw).decode("ascii")}


def decode(d) -> tuple:
    """(k_shot, read-only float64 array [tasks, steps+1]) from encode's JSON; ValueError saying
    what is wrong otherwise."""
    if not isinstance(d, dict) or not isinstance(d.get("k_shot"), int) \
            or d.get("dtype") not in DTYPES or not isinstance(d.get("base64"), str):
        raise ValueError("per-task scores need k_shot, dtype (<f4 or <f8), shape and base64")
    shape = d.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2 and all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)) \
            or shape[0] * shape[1] > MAX_VALUES:
        raise ValueError(f"per-task scores have the shape {str(shape)[:40]}, expected "
                         f"[tasks, steps+1]")
    try:
        raw = base64.b64decode(d["base64"].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValueError("per-task scores are not valid base64")
    size = np.dtype(d["dtype"]).itemsize
    if len(raw) != shape[0] * shape[1] * size:
        raise ValueError(f"per-task scores hold {len(raw)} bytes; their shape {shape} needs "
                         f"{shape[0] * shape[1] * size}")
    a = np.frombuffer(raw, dtype=d["dtype"]).astype(np.float64).reshape(shape)
    a.flags.writeable = False
    return d["k_shot"], a


class TaskScores(Mapping):
    """{k_shot: read-only float64 array [tasks, steps+1]}, safe in DataFrame.attrs."""

    def __init__(self, by_k: Mapping | None = None):
        self._d = {}
        for k, a in (by_k or {}).items():
            a = np.array(a, dtype=np.float64)
            a.flags.writeable = False
            self._d[int(k)] = a

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __eq__(self, other):
        if not isinstance(other, Mapping) or set(self) != set(other):
            return False
        return all(np.array_equal(self[k], np.asarray(other[k]), equal_nan=True) for k in self)

    __hash__ = None

    def __deepcopy__(self, memo):
        return self                        # immutable: pandas' attrs copies share it

    def __repr__(self):
        return "TaskScores(" + ", ".join(f"K={k}: {a.shape}" for k, a in self._d.items()) + ")"

    def to_json(self) -> list:
        return [encode(k, a) for k, a in self._d.items()]

    @classmethod
    def from_json(cls, items) -> "TaskScores":
        """From the stored list (ValueError if malformed; None or [] give an empty one)."""
        if items is None:
            return cls()
        if not isinstance(items, list):
            raise ValueError("'task_scores' must be a list")
        return cls(dict(decode(d) for d in items))

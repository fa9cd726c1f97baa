"""Cooperative cancellation of long computations (a job's Stop button, for instance).

Whoever runs a computation that may have to stop early wraps it in `with scope(should_stop):`;
the loops that can take long (each inner step, each environment step) call `check()`, which
raises `Cancelled` once `should_stop()` is true. Outside a scope `check()` does nothing, and it is
skipped inside torch.compile'd code. Nothing here knows about training: this module imports
nothing of ours (layer 0).
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar

import torch

_should_stop: ContextVar = ContextVar("maml_viz_should_stop", default=None)


class Cancelled(Exception):
    """Raised by check() in a scope whose should_stop() became true."""


def check() -> None:
    if torch.compiler.is_compiling():     # first: torch.compile cannot trace ContextVar.get (a
        return                            # graph break there splits a compiled step in 9)
    fn = _should_stop.get()
    if fn is not None and fn():
        raise Cancelled()


@contextlib.contextmanager
def scope(should_stop):
    """Make check() consult should_stop (a callable returning bool) inside the block."""
    token = _should_stop.set(should_stop)
    try:
        yield
    finally:
        _should_stop.reset(token)

"""Claims on the configs a process is training, so that two processes sharing a runs folder (two
sweeps, say) never train the same config twice.

A claim is a small file `<runs-dir>/.claims/<run key>` naming its owner (pid, the process's
start time, so that a reused pid is not mistaken for it, and the host). Claiming happens under
the runs folder's lock (saving.store_lock): of two processes asking at once, one gets it. A
claim whose owner has died (kill -9 included) is stale and is taken over; `release` removes a
claim of ours. Whoever claims a config must check the store again afterwards: the other process
may have stored it just before releasing its claim.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from .files import RUN_NAME
from .saving import store_lock

CLAIMS = ".claims"


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux: /proc/<pid>/stat field 22), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def me() -> dict:
    return {"pid": os.getpid(), "start": _start_time(os.getpid()), "host": socket.gethostname()}


def _alive(owner: dict) -> bool:
    """Whether the claim's owner still runs (a claim from another host counts as alive)."""
    if owner.get("host") != socket.gethostname():
        return True
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = _start_time(pid)
    return start is None or owner.get("start") in (None, start)


def _read(path: Path) -> dict | None:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def holder(root, key: str) -> dict | None:
    """The live owner of key's claim ({pid, start, host}) if it is another process, else None."""
    owner = _read(Path(root) / CLAIMS / key)
    if owner is None or not _alive(owner) or _same(owner, me()):
        return None
    return owner


def _same(a: dict, b: dict) -> bool:
    return (a.get("pid"), a.get("start"), a.get("host")) == (b.get("pid"), b.get("start"),
                                                            b.get("host"))


def claim(root, key: str) -> dict | None:
    """Claim key for this process: None if it is now ours, else the live owner that has it."""
    if not RUN_NAME.match(key):
        raise ValueError(f"not a run name: {key!r}")
    root = Path(root)
    d = root / CLAIMS
    with store_lock(root):
        d.mkdir(parents=True, exist_ok=True)
        other = holder(root, key)
        if other is not None:
            return other
        tmp = d / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(me()))
        os.replace(tmp, d / key)
    return None


def release(root, key: str) -> None:
    """Remove key's claim if it is ours."""
    path = Path(root) / CLAIMS / key
    with store_lock(Path(root)):
        owner = _read(path)
        if owner is not None and _same(owner, me()):
            try:
                path.unlink()
                path.parent.rmdir()             # the last claim: no empty folder left behind
            except OSError:
                pass

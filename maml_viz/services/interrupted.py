"""What an app that stopped (SIGTERM, Ctrl-C) left undone, so that the next one can say so.

When the app's job queue closes, it writes one entry per job it could not finish to
`<runs-dir>/.interrupted-jobs.json` (a hidden file: the store's own, never listed as a run): the
jobs that were waiting ("not run") and the one that was training ("stopped", what it learned
kept as a partial run, or nothing if it had not finished an iteration). The next job queue on
that folder reads the file (each entry checked: a config that is not valid is left out, with a
reason), lists the entries as finished jobs that say what happened, and removes the file.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..engine.config import ConfigError
from ..engine.registry import config_from_dict

FILE = ".interrupted-jobs.json"
OUTCOMES = ("not run", "stopped")
MAX_BYTES = 2_000_000
MAX_ENTRIES = 500


def record(root, entries: list) -> None:
    """Add entries ({"config": dict, "owner", "outcome", "note"}) to the folder's record
    (atomically; a folder that cannot be written is skipped: the app is going down anyway)."""
    if not entries:
        return
    path = Path(root) / FILE
    old, _ = read(path)
    now = time.time()
    rows = [{k: v for k, v in r.items() if k != "cfg"} for r in old] + [{"config": e["config"], "owner": e.get("owner"), "outcome": e["outcome"],
                   "note": str(e.get("note") or "")[:300], "when": e.get("when", now)}
                  for e in entries]
    tmp = path.with_name(f"{FILE}.{os.getpid()}.tmp")
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(rows[-MAX_ENTRIES:], indent=1))
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def read(path) -> tuple:
    """(entries, problems): the record's entries that check out (config rebuilt with
    config_from_dict: a TrainConfig under "cfg"), and one line per entry or file that did not."""
    path = Path(path)
    if not path.is_file():
        return [], []
    try:
        if path.stat().st_size > MAX_BYTES:
            return [], [f"{path.name} is far too large to be a record of jobs: ignored"]
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return [], [f"{path.name} is not valid JSON ({str(e)[:60]}): ignored"]
    if not isinstance(rows, list):
        return [], [f"{path.name} holds a JSON {type(rows).__name__}, not a list: ignored"]
    out, problems = [], []
    for i, r in enumerate(rows[:MAX_ENTRIES]):
        if not (isinstance(r, dict) and isinstance(r.get("config"), dict)
                and r.get("outcome") in OUTCOMES and isinstance(r.get("note", ""), str)
                and isinstance(r.get("owner"), (str, type(None)))
                and isinstance(r.get("when"), (int, float)) and not isinstance(r.get("when"), bool)):
            problems.append(f"entry {i + 1} of {path.name} is malformed: ignored")
            continue
        try:
            cfg = config_from_dict(r["config"])
        except (ConfigError, TypeError, ValueError) as e:
            problems.append(f"entry {i + 1} of {path.name} has an invalid config ({e}): ignored")
            continue
        out.append({**r, "cfg": cfg})
    return out, problems


def take(root) -> tuple:
    """Read the folder's record (see `read`) and remove it: its entries are reported once."""
    path = Path(root) / FILE
    entries, problems = read(path)
    try:
        path.unlink()
    except OSError:
        pass
    return entries, problems

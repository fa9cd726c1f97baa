"""Labels and links: a run's label (algorithm, K, iterations, seed, when), styles per run, and the
settings a page reads from its URL (each checked, with a message for what is not allowed).
"""
from __future__ import annotations

import calendar
import math
import time

from .figures.colors import color


# ----------------------------------------------------------------------------- runs
def run_fields(cfg, info: dict | None = None, default=None, bundled: bool = False,
               when: float | None = None, algo_label: str | None = None) -> dict:
    """A run in plain fields: algorithm, K, iterations, seed, what differs from the default
    settings ("" if nothing), and where it came from (`origin`)."""
    info = info or {}
    done = info.get("iterations_done", cfg.iterations)
    other = []
    from ..engine.tasks import get_family     # lazy: the home page draws before torch loads
    what = get_family(cfg.family).options_label(cfg.family_options)   # a formula family's formula
    if default is not None:
        for f, name in (("inner_lr", "α"), ("inner_steps", "steps"), ("outer_lr", "outer lr"),
                        ("meta_batch", "batch"), ("hidden", "hidden"), ("k_query", "query")):
            v = getattr(cfg, f)
            if v != getattr(default, f):
                other.append(f"{name} {','.join(map(str, v)) if isinstance(v, tuple) else f'{v:g}'}")
    if info.get("partial"):
        other.append(f"stopped at {done:,}")
    return {"algorithm": algo_label or cfg.algo, "task": what or "", "K": cfg.k_shot,
            "iterations": f"{cfg.iterations:,}", "seed": cfg.seed, "other settings": ", ".join(other),
            "origin": origin(info, bundled, when)}


def origin(info: dict | None, bundled: bool = False, when: float | None = None) -> str:
    """When a run was trained, from its own record (training.finished, written when it is
    saved); a bundled run without that record is just "bundled" (its files' time is when the
    app was installed, not when it was trained); a user's run without it: when its files were
    saved."""
    finished = (info or {}).get("finished")
    stamp = parse_time(finished) if isinstance(finished, str) else None
    if stamp is not None:
        return ("bundled, " if bundled else "") + "trained " + \
            time.strftime("%d %b %Y %H:%M UTC", time.gmtime(stamp))
    if bundled:
        return "bundled"
    if when:
        return "saved " + time.strftime("%d %b %Y %H:%M UTC", time.gmtime(when))
    return ""


def finished_now() -> str:
    """training.finished as a run records it: the time now, ISO 8601 in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def parse_time(text: str) -> float | None:
    """An ISO 8601 UTC time ("2026-12-06T02:59:00Z") as seconds since the epoch, or None."""
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, TypeError, OverflowError):
        return None


def run_label(cfg, info: dict | None = None, default=None, bundled: bool = False,
              when: float | None = None, algo_label: str | None = None) -> str:
    """A plain label: algorithm, K, iterations, seed, what differs from the default settings,
    and where it came from ("bundled", or when it was trained)."""
    f = run_fields(cfg, info, default, bundled, when, algo_label)
    parts = [f["algorithm"]] + ([f["task"]] if f["task"] else []) + \
        [f"K={f['K']}", f"{f['iterations']} it", f"seed {f['seed']}"]
    return " · ".join(parts + [p for p in (f["other settings"], f["origin"]) if p])


def styles(runs: dict, algo_label=lambda a: a) -> tuple[dict, dict, dict]:
    """(labels, colours, dashes) per run key for charts that show several runs: the algorithm's
    colour; a second run of the same algorithm gets a dashed line and its seed / K / iterations
    in its label."""
    labels, colors, dashes, seen = {}, {}, {}, {}
    for k, run in runs.items():
        c = run.config
        n = seen[c.algo] = seen.get(c.algo, 0) + 1
        repeated = sum(r.config.algo == c.algo for r in runs.values()) > 1
        labels[k] = algo_label(c.algo) + (f" (K={c.k_shot}, seed {c.seed}, {c.iterations:,} it)"
                                          if repeated else "")
        colors[k] = color(c.algo)
        dashes[k] = ["solid", "dash", "dot", "dashdot", "longdash"][(n - 1) % 5]
    return labels, colors, dashes


# ----------------------------------------------------------------------------- URL settings
class LinkValue(ValueError):
    """A link's value that is not allowed; the message says, in plain words, what is."""


def read_query(params: dict, casts: dict) -> tuple[dict, list]:
    """Settings from a URL's query parameters: casts maps a name to a function from the text to
    the value (raising ValueError when the text is not allowed). Returns (values, problems):
    the values that parsed, and one plain sentence per parameter that did not. Only a cast's own
    explanation (LinkValue) is quoted, never Python's words ("invalid literal for int()"); the
    value is quoted as written (the page escapes it before showing it)."""
    values, problems = {}, []
    for name, cast in casts.items():
        if name not in params:
            continue
        text = params[name]
        try:
            values[name] = cast(text)
        except LinkValue as e:
            problems.append(f"The link's {name}={_quoted(text)} was ignored ({e}).")
        except (ValueError, TypeError, KeyError, OverflowError):
            problems.append(f"The link's {name}={_quoted(text)} was ignored (not allowed here).")
    return values, problems


def _quoted(text, limit: int = 80) -> str:
    text = str(text)
    return "'" + (text if len(text) <= limit else text[:limit] + "…") + "'"


def number(text, kind=float, what: str = "a number"):
    """text as kind (int or float), or LinkValue saying what was expected."""
    try:
        return kind(str(text).strip())
    except (ValueError, OverflowError):
        raise LinkValue(f"must be {what}") from None


def int_in(lo: int, hi: int):
    def cast(text):
        what = f"a whole number from {lo} to {hi}"
        v = number(text, int, what)
        if not lo <= v <= hi:
            raise LinkValue(f"must be {what}")
        return v
    return cast


def float_in(lo: float, hi: float):
    def cast(text):
        what = f"a number above {lo:g} and at most {hi:g}"
        v = number(text, float, what)
        if not (math.isfinite(v) and lo < v <= hi):
            raise LinkValue(f"must be {what}")
        return v
    return cast


def one_of(options):
    options = list(options)

    def cast(text):
        if text not in options:
            raise LinkValue(f"must be one of {', '.join(map(str, options[:8]))}")
        return text
    return cast


def flag(text):
    v = str(text).strip().lower()
    if v not in ("1", "0", "true", "false"):
        raise ValueError("must be 1 or 0")
    return v in ("1", "true")


def point_list(text):
    """Points as a link carries them: "x:y,x:y" (or "x1:x2:class,..."), at most 1,000."""
    rows = [r for r in str(text).split(",") if r.strip()]
    if len(rows) > 1000:
        raise ValueError("at most 1,000 points")
    out = []
    for r in rows:
        v = tuple(float(t) for t in r.split(":"))
        if len(v) not in (2, 3) or not all(math.isfinite(t) for t in v):
            raise ValueError("each point is 2 or 3 finite numbers separated by ':'")
        out.append(v)
    return tuple(out)


def key_list(text):
    keys = [k for k in str(text).split(",") if k]
    if not keys or len(keys) > 10:
        raise LinkValue("must be 1 to 10 run names separated by commas")
    return keys

"""Labels and links: a run's label (algorithm, K, iterations, seed, when), styles per run, and the
settings a page reads from its URL (each checked, with a message for what is not allowed).
"""
from __future__ import annotations

import math
import time

from .figures.style import color


# ----------------------------------------------------------------------------- runs
def run_label(cfg, info: dict | None = None, default=None, bundled: bool = False,
              when: float | None = None, algo_label: str | None = None) -> str:
    """A plain label: algorithm, K, iterations, seed, what differs from the default settings,
    and where it came from ("bundled", or when it was trained)."""
    info = info or {}
    done = info.get("iterations_done", cfg.iterations)
    parts = [algo_label or cfg.algo, f"K={cfg.k_shot}", f"{cfg.iterations:,} it", f"seed {cfg.seed}"]
    if default is not None:
        for f, name in (("inner_lr", "α"), ("inner_steps", "steps"), ("outer_lr", "outer lr"),
                        ("meta_batch", "batch"), ("hidden", "hidden"), ("k_query", "query")):
            v = getattr(cfg, f)
            if v != getattr(default, f):
                parts.append(f"{name} {','.join(map(str, v)) if isinstance(v, tuple) else f'{v:g}'}")
    if info.get("partial"):
        parts.append(f"stopped at {done:,}")
    if bundled:
        parts.append("bundled")
    elif when:
        parts.append("trained " + time.strftime("%d %b %H:%M", time.localtime(when)))
    return " · ".join(parts)


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
def read_query(params: dict, casts: dict) -> tuple[dict, list]:
    """Settings from a URL's query parameters: casts maps a name to a function from the text to
    the value (raising ValueError when the text is not allowed). Returns (values, problems):
    the values that parsed, and one plain sentence per parameter that did not."""
    values, problems = {}, []
    for name, cast in casts.items():
        if name not in params:
            continue
        text = params[name]
        try:
            values[name] = cast(text)
        except (ValueError, TypeError, KeyError) as e:
            problems.append(f"The link's {name}={text!r} was ignored ({e or 'not allowed'}).")
    return values, problems


def int_in(lo: int, hi: int):
    def cast(text):
        v = int(str(text).strip())
        if not lo <= v <= hi:
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        return v
    return cast


def float_in(lo: float, hi: float):
    def cast(text):
        v = float(str(text).strip())
        if not (math.isfinite(v) and lo < v <= hi):
            raise ValueError(f"must be a number above {lo:g} and at most {hi:g}")
        return v
    return cast


def one_of(options):
    options = list(options)

    def cast(text):
        if text not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options[:8]))}")
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
        raise ValueError("must be 1 to 10 run names separated by commas")
    return keys

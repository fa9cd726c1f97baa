"""What the Compare page says about its charts, computed from the numbers the charts draw: the
order of the runs after a step (with the ones whose 95% intervals overlap said to be level),
which values are off the chart or diverged, why a run has no training curve, a run that got worse
while it trained, and the protocol in words. Every sentence is either computed from the data or
true for every run, family and setting the page can show. Also `esc`, which makes any text read
literally where Streamlit renders Markdown.
"""
from __future__ import annotations

import math
import string

import numpy as np
import pandas as pd

_PUNCT = frozenset(string.punctuation)


def esc(value) -> str:
    """`value` as Markdown that shows exactly what it says (every ASCII punctuation character
    backslash-escaped, line breaks as spaces): run labels, folder names, anything from outside."""
    return "".join("\\" + c if c in _PUNCT else " " if c < " " else c for c in str(value))


def fmt(v: float, digits: int = 3) -> str:
    """A value as the captions write it ("diverged" when it is not a number)."""
    if v is None or not np.isfinite(v):
        return "diverged"
    return f"{v:.{digits}f}" if abs(v) < 1000 else f"{v:,.0f}"


def steps_text(steps) -> str:
    """[0, 1, 2, 5] -> 'steps 0–2 and 5'."""
    steps = sorted(int(s) for s in steps)
    runs, start = [], None
    for i, s in enumerate(steps):
        if start is None:
            start = s
        if i + 1 == len(steps) or steps[i + 1] != s + 1:
            runs.append(f"{start}" if start == s else f"{start}–{s}")
            start = None
    word = "step" if len(steps) == 1 else "steps"
    return f"{word} " + (", ".join(runs[:-1]) + " and " + runs[-1] if len(runs) > 1 else runs[0])


# ----------------------------------------------------------------------------- averages
def values_at(df: pd.DataFrame, step: int) -> dict:
    """{run: (mean, ci95)} at one step of an error-against-steps frame (columns algo, step,
    mean, ci95)."""
    g = df[df["step"] == step]
    return {r: (float(m), float(c)) for r, m, c in zip(g["algo"], g["mean"], g["ci95"])}


def ranking(df: pd.DataFrame, step: int, labels: dict, higher_is_better: bool) -> tuple:
    """(order, level): the runs best first at `step` (diverged ones last), and the pairs of
    neighbours in that order whose 95% intervals overlap (their order is not sure)."""
    vals = values_at(df, step)
    sign = -1.0 if higher_is_better else 1.0
    order = sorted(vals, key=lambda r: (not np.isfinite(vals[r][0]),
                                        sign * vals[r][0] if np.isfinite(vals[r][0]) else 0.0))
    level = []
    for a, b in zip(order, order[1:]):
        (ma, ca), (mb, cb) = vals[a], vals[b]
        if np.isfinite(ma) and np.isfinite(mb) and abs(ma - mb) <= (ca if np.isfinite(ca) else 0) \
                + (cb if np.isfinite(cb) else 0):
            level.append((a, b))
    return order, level


def ranking_sentence(df: pd.DataFrame, step: int, labels: dict, higher_is_better: bool) -> str:
    """'After 1 step, best first: MAML 0.37, FOMAML 0.46, … (MAML and FOMAML: intervals overlap,
    their order is not sure).'"""
    order, level = ranking(df, step, labels, higher_is_better)
    if not order:
        return ""
    vals = values_at(df, step)
    text = (f"After {step} step{'s' if step != 1 else ''}, best first: "
            + ", ".join(f"{labels.get(r, r)} {fmt(vals[r][0])}" for r in order) + ".")
    chains = level_chains(order, level)
    if len(chains) == 1 and len(chains[0]) == len(order):
        text += " All of them are level within their 95% intervals: the order is not sure."
    elif chains:
        text += (" Level within their 95% intervals (order not sure): "
                 + "; ".join(and_list([labels.get(r, r) for r in c]) for c in chains) + ".")
    return text


def level_chains(order: list, level: list) -> list:
    """Neighbours in `order` that are level, joined into runs: [[a, b, c], [e, f]]."""
    chains, pairs = [], set(level)
    for a, b in zip(order, order[1:]):
        if (a, b) not in pairs:
            continue
        if chains and chains[-1][-1] == a:
            chains[-1].append(b)
        else:
            chains.append([a, b])
    return chains


def and_list(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def off_chart(df: pd.DataFrame, y_range, labels: dict, higher_is_better: bool) -> list:
    """Sentences naming the values the fixed axis cannot show: above/below it (a triangle on the
    edge, with its value) or not finite (a cross at the bad edge)."""
    lo, hi = y_range
    out = []
    for r, g in df.groupby("algo", sort=False):
        s, m = g["step"].to_numpy(), g["mean"].to_numpy(float)
        name = labels.get(r, r)
        for mask, where in ((np.isfinite(m) & (m > hi), "above the chart (▲ on the top edge"),
                            (np.isfinite(m) & (m < lo), "below the chart (▼ on the bottom edge")):
            if mask.any():
                out.append(f"{name} is {where}, with its value) at {steps_text(s[mask])}.")
        bad = ~np.isfinite(m)
        if bad.any():
            edge = "bottom" if higher_is_better else "top"
            out.append(f"{name} diverged (✕ on the {edge} edge) from step {int(s[bad][0])}.")
    return out


def band_note(df: pd.DataFrame, y_range, wide: float = 0.25) -> str:
    """Where the chart draws an error bar instead of a band (an interval wider than `wide` of
    the axis would paint over the others); the same rule as figures.curves.error_vs_steps."""
    lo, hi = y_range
    m, c = df["mean"].to_numpy(float), df["ci95"].to_numpy(float)
    ok = np.isfinite(m) & np.isfinite(c) & (m >= lo) & (m <= hi)
    if (ok & (2 * c > wide * (hi - lo))).any():
        return "Where an interval is wider than a quarter of the axis it is an error bar, not a band."
    return ""


def protocol_text(frames: dict, k: int, steps: int, proto: dict, first: int | None) -> str:
    """The evaluation protocol in words (no file to open): tasks, K, query points, steps, the
    step-size rule, and, while a first estimate is shown, that it is one."""
    tasks = sorted({int(d.attrs.get("protocol", {}).get("tasks", 0)) for d in frames.values()})
    text = (f"Protocol: each run adapts to {'/'.join(map(str, tasks))} new held-out tasks with "
            f"K = {k} examples each, taking steps 0–{steps} of plain gradient descent, scored on "
            f"{proto.get('query_points', 'fresh')} query points of each task; each run's step "
            f"size is its own (trained or default) times the best of 0.1–10 on as many separate "
            f"validation tasks (the same rule for every run).")
    if first:
        text += (f" First estimate on {first} tasks: the full evaluation is running (progress at "
                 f"the top of the page) and replaces it when done.")
    return text


def averages_caption(df, labels, y_range, higher_is_better, band: str) -> str:
    """The averaged chart's caption: what is better, the order after 1 step and at the last step,
    what is off the chart, what the shading is."""
    parts = ["Higher is better." if higher_is_better else "Lower is better."]
    steps = sorted(df["step"].unique()) if len(df) else []
    for s in dict.fromkeys(x for x in (1, steps[-1] if steps else None) if x in steps):
        parts.append(ranking_sentence(df, int(s), labels, higher_is_better))
    parts += off_chart(df, y_range, labels, higher_is_better)
    parts.append(band)
    parts.append(band_note(df, y_range))
    return " ".join(p for p in parts if p)


# ----------------------------------------------------------------------------- training curves
def worse_while_training(curves: dict, y_range, higher_is_better: bool, share=0.1,
                         margin=0.05) -> dict:
    """{run: (start, end)} for the validation curves that end clearly worse than they began: the
    mean of the last `share` of the points against the first `share`, by more than `margin` of
    the axis."""
    out = {}
    span = float(y_range[1] - y_range[0])
    for k, (_, v) in curves.items():
        v = np.asarray(v, float)
        v = v[np.isfinite(v)]
        if len(v) < 4:
            continue
        n = max(1, int(math.ceil(share * len(v))))
        a, b = float(v[:n].mean()), float(v[-n:].mean())
        if (a - b if higher_is_better else b - a) > margin * span:
            out[k] = (a, b)
    return out


def validation_notes(runs: dict, curves: dict, labels: dict, metric: str, steps: int, y_range,
                     higher_is_better: bool) -> list:
    """Sentences under the validation chart: what it measures, why a run has no curve (never
    trained, or trained before the measure was recorded), and which runs got worse while they
    trained (with the numbers from the curve and, for a baseline, why that can happen)."""
    words = {"mse": "mean squared error"}.get(metric, metric)
    out = [f"Every few iterations the trainer measured each run the same way: {words} on fixed "
           f"held-out validation tasks after {steps} plain gradient step{'s' if steps != 1 else ''} "
           f"with the run's own step size."]
    untrained = [k for k, r in runs.items() if k not in curves and
                 (not r.algorithm.trains or not (r.info or {}).get("iterations_done"))]
    before = [k for k in runs if k not in curves and k not in untrained]
    if untrained:
        names = ", ".join(labels[k] for k in untrained)
        out.append(f"{names} {'is' if len(untrained) == 1 else 'are'} not trained (random "
                   f"starting weights), so there is no curve for {'it' if len(untrained) == 1 else 'them'}.")
    if before:
        out.append(", ".join(labels[k] for k in before) + " did not record this measure while "
                   "training (trained with an older version); train again to see it.")
    for k, (a, b) in worse_while_training(curves, y_range, higher_is_better).items():
        run = runs[k]
        why = (f" {labels[k]} is trained to fit the data of all training tasks pooled, without adapting: "
               "nothing in its training rewards a start that adapts well, so this measure, taken "
               "after adapting, can get worse while it trains."
               if run.algorithm.is_baseline else "")
        word = "falls" if higher_is_better else "rises"
        out.append(f"{labels[k]}'s {words} {word} while it trains ({fmt(a, 2)} at the start, "
                   f"{fmt(b, 2)} at the end, averaging the first and last tenth of its "
                   f"curve).{why}")
    return out

"""Compare like a methods paper, as data: the robust statistics over training seeds of the runs the
averaged chart draws (the interquartile mean with its bootstrap 95% interval, the probability of
improvement of every run over every other: runs/stats.py), the MAML paper's figures for the
protocol shown (runs/paper.py) as reference marks, and the sentences that say how to read them,
computed from the numbers drawn. Tables as frames (runs/tables.py writes them as CSV and LaTeX).

The input is what the Compare page already has: {run key: {seed: evaluation frame at one K}},
each frame carrying its per-task scores in attrs['task_scores'] (runs/scores.py). Scores pair
tasks by index, so nothing is estimated unless every seed was evaluated on the same held-out
tasks (same number of tasks and evaluation seed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..runs import paper, stats, tables


@dataclass
class Robust:
    """The robust statistics at one step: iqm {run key: Estimate}, poi (stats.poi_matrix over the
    run keys with at least MIN_SEEDS seeds, or None), and the sentences under them."""
    step: int
    iqm: dict = field(default_factory=dict)
    poi: dict | None = None
    note: str | None = None          # why nothing (or not everything) is estimated
    reading: str = ""                 # how to read the matrix, with its clearest pair

    @property
    def estimated(self) -> bool:
        return self.poi is not None


def scores_at(frames: dict, k: int, step: int) -> tuple:
    """({run key: [seeds, tasks] scores at (K, step)}, note): the runs whose every seed carries
    per-task scores at K covering the step; note says why a run is left out (or None)."""
    out, missing, tasks = {}, [], set()
    for key, by_seed in frames.items():
        rows = []
        for seed in sorted(by_seed):
            f = by_seed[seed]
            sc = f.attrs.get("task_scores") or {}
            if k not in sc or sc[k].shape[1] <= step:
                rows = None
                break
            p = f.attrs.get("protocol") or {}
            tasks.add((sc[k].shape[0], p.get("seed")))
            rows.append(np.asarray(sc[k][:, step], dtype=np.float64))
        if rows:
            out[key] = np.stack(rows)
        else:
            missing.append(key)
    if len(tasks) > 1:
        return {}, ("the runs were evaluated on different held-out tasks (a first estimate beside "
                    "a stored or full evaluation): the statistics wait for the full evaluations")
    note = None
    if missing:
        note = (f"{len(missing)} of the runs carry no per-task scores (evaluated before they "
                f"were kept): they are left out")
    return out, note


def robust(frames: dict, labels: dict, k: int, step: int, higher_is_better: bool,
           reps: int = stats.REPS) -> Robust:
    """IQM per run and the probability-of-improvement matrix at (K, step) (row/column order:
    `frames`' order); nothing when a run has fewer than stats.MIN_SEEDS seeds."""
    r = Robust(int(step))
    scores, note = scores_at(frames, k, step)
    fewest = min((len(v) for v in frames.values()), default=0)
    if fewest < stats.MIN_SEEDS:
        r.note = (f"The interquartile mean and the probability of improvement need at least "
                  f"{stats.MIN_SEEDS} training seeds of every run (the fewest here: {fewest}): "
                  f"they are not estimated. Train more seeds of each (Train page: Seeds) to see "
                  f"them.")
        return r
    for key, m in scores.items():
        r.iqm[key] = stats.iqm_interval(m, higher_is_better, reps=reps)
    if note and len(scores) < 2:
        r.note = f"The robust statistics are not estimated: {note}."
        return r
    if len(scores) >= 2:
        r.poi = stats.poi_matrix(scores, higher_is_better, reps=reps)
        r.reading = reading(r.poi, labels, step)
    if note:
        r.note = note[0].upper() + note[1:] + "."
    return r


def reading(poi: dict, labels: dict, step: int) -> str:
    """How to read the matrix, and what its clearest cell says (computed from it)."""
    names, v, lo, hi = poi["algos"], poi["value"], poi["low"], poi["high"]
    text = (f"Each cell: the probability that one training of the row's run is better than one "
            f"of the column's on a random held-out task after {step} step"
            f"{'s' if step != 1 else ''} (0.5: no difference; ties count half); its 95% bootstrap "
            f"interval over seeds and tasks is in the hover and the table out; an interval that does not contain 0.5 is "
            f"a difference that holds over training seeds.")
    best = None
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j and v[i][j] is not None and v[i][j] >= 0.5 and \
                    (best is None or v[i][j] > v[best[0]][best[1]]):
                best = (i, j)
    if best is not None:
        i, j = best
        a, b = labels.get(names[i], names[i]), labels.get(names[j], names[j])
        sure = "a difference over seeds" if lo[i][j] > 0.5 else \
            "its interval contains 0.5: not a sure difference"
        text += (f" The clearest: {a} over {b}, {v[i][j]:.2f} [{lo[i][j]:.2f}, {hi[i][j]:.2f}] "
                 f"({sure}).")
    return text


def poi_table(poi: dict, labels: dict) -> pd.DataFrame:
    """The matrix as a table: one row per run, 'P(row better than column)' cells as
    'value [low, high]' ('—' on the diagonal)."""
    names = poi["algos"]
    rows = []
    for i, a in enumerate(names):
        row = {"row better than column": labels.get(a, a)}
        for j, b in enumerate(names):
            v = poi["value"][i][j]
            row[labels.get(b, b)] = ("—" if i == j else "n/a" if v is None else
                                     f"{v:.2f} [{poi['low'][i][j]:.2f}, {poi['high'][i][j]:.2f}]")
        rows.append(row)
    return pd.DataFrame(rows)


def iqm_text(e) -> str:
    """A table cell for an IQM estimate: '0.412 [0.380, 0.447]'."""
    return e.text(3) if e is not None else "no per-task scores"


def with_iqm(table: pd.DataFrame, keys: list, by_step: dict) -> pd.DataFrame:
    """The Numbers table (one row per run key, in `keys` order) with an 'IQM after s steps
    [95% CI]' column per estimated step (by_step: {step: Robust})."""
    out = table.copy()
    for s, r in by_step.items():
        if not r.iqm:
            continue
        out[f"IQM after {s} step{'s' if s != 1 else ''} [95% CI]"] = [
            iqm_text(r.iqm.get(k)) for k in keys]
    return out


# ------------------------------------------------------------------ the paper's figures
def paper_marks(runs: dict, k: int, steps: int, y_range=None) -> list:
    """The MAML paper's figures for the algorithms of `runs` ({key: Run}) at K = k and steps
    0..steps (runs/paper.py), once each, as dicts {algo, label, step, value, ci95, source,
    caveat, protocol, name}; those outside y_range (the chart's fixed axis) are left out."""
    out, seen = [], set()
    for run in runs.values():
        algo = run.config.algo
        if algo in seen:
            continue
        seen.add(algo)
        for t in paper.targets_for_config(run.config, k, range(int(steps) + 1), algos=[algo]):
            if y_range is not None and not (y_range[0] <= t.value <= y_range[1]):
                continue
            short = t.source[len(paper.PAPER) + 2:] if t.source.startswith(paper.PAPER + ", ") \
                else t.source
            out.append({"algo": t.algo, "label": t.label, "step": t.step, "value": t.value,
                        "ci95": t.ci95, "source": t.source, "caveat": t.caveat,
                        "protocol": t.protocol, "name": f"{t.label.split(' (')[0]}: MAML paper, "
                                                        f"{short}"})
    return out


def step_column(metric: str, step: int) -> str:
    """The Numbers table's column of a step (views.compare.summary_table's names)."""
    return f"{metric} after {step} step{'s' if step != 1 else ''}"


def with_paper_rows(table: pd.DataFrame, marks: list, metric: str) -> pd.DataFrame:
    """The Numbers table with one row per paper figure drawn (its value in the step columns the
    table has, its source in a 'source' column); unchanged when none of its steps is a column."""
    shown = [m for m in marks if step_column(metric, m["step"]) in table.columns]
    if not shown:
        return table
    return tables.with_targets(table, shown, name_column="run",
                               step_column=lambda s: step_column(metric, s))


def marks_sentence(marks: list) -> str:
    """What the reference marks are, with the values drawn ('' without marks)."""
    if not marks:
        return ""
    parts = []
    for name in dict.fromkeys(m["name"] for m in marks):
        ms = sorted((m for m in marks if m["name"] == name), key=lambda m: m["step"])
        vals = ", ".join(f"{_num(m['value'])} after {m['step']} step{'s' if m['step'] != 1 else ''}"
                         for m in ms)
        parts.append(f"{name} ({vals})")
    return ("◆ Reference marks: the figures the MAML paper reports for this protocol, "
            + "; ".join(parts) + f". ({paper.PAPER}; its training differs in details given in "
            f"the marks' hover.)")


def _num(v: float) -> str:
    return f"{v:.3f}" if math.isfinite(v) else "n/a"

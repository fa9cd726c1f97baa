"""The Inside page as data: for one run, on one held-out task or averaged over many, what
adaptation changes inside the network (diagnostics.py: how far each layer's weights move per
step, how similar each layer's representation stays, Meta-SGD's learned step sizes), the
training signals recorded in its history (engine/signals.py: meta-gradient norm, support loss
before and after the inner loop), and one plain-words sentence computed from those numbers
("rapid learning or feature reuse?", Raghu et al. 2020).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.nets import ConvNet
from ..engine.signals import COLUMNS
from ..engine.train import Run
from . import diagnostics as dg

RUN_AWAY = 10.0           # a layer moved more than this times its size: the adaptation ran away
REUSE_CKA = 0.95          # body features at least this similar after adapting: "feature reuse"
TASKS = {"mlp": 100, "conv": 10}   # tasks averaged over (the conv net is ~100x dearer per task)


@dataclass
class Inside:
    change: pd.DataFrame           # diagnostics.weight_change
    cka: pd.DataFrame              # diagnostics.representation_similarity
    step_sizes: dict | None        # diagnostics.step_sizes (Meta-SGD), else None
    signals: dict | None           # {column: (iterations, values)} from the history, or None
    sentence: str
    notes: list = field(default_factory=list)
    tasks: int = 0


def default_tasks(run: Run) -> int:
    return TASKS["conv"] if isinstance(run.model, ConvNet) else TASKS["mlp"]


def inside(run: Run, label: str, k: int | None = None, steps: int | None = None,
           task: int | None = None, n_tasks: int | None = None) -> Inside:
    """Everything the page shows for one run (task: one held-out task's index, None: the
    average over n_tasks tasks)."""
    n = n_tasks or default_tasks(run)
    change = dg.weight_change(run, n_tasks=n, k=k, steps=steps, task=task)
    cka = dg.representation_similarity(run, n_tasks=n, k=k, steps=steps, task=task)
    try:
        sizes = dg.step_sizes(run)
    except ValueError:
        sizes = None
    sig = signals(run)
    notes = []
    if sig is None:
        notes.append(_no_signals(run))
    return Inside(change, cka, sizes, sig, sentence(label, change, cka), notes,
                  1 if task is not None else n)


def signals(run: Run) -> dict | None:
    """{column: (iterations, values)} of the training signals the history recorded (finite
    values only), or None when it recorded none."""
    h = run.history or {}
    out = {}
    for c in COLUMNS:
        pts = [(i, float(v)) for i, v in zip(h.get("iteration", []), h.get(c) or [])
               if v is not None and math.isfinite(float(v))]
        if pts:
            out[c] = tuple(map(list, zip(*pts)))
    return out or None


def _no_signals(run: Run) -> str:
    if not run.algorithm.trains or not (run.info or {}).get("iterations_done"):
        return ("This run is not meta-trained (a baseline or random start), so there is no "
                "meta-gradient to record.")
    return ("This run's history has no meta-gradient norm or inner-loop loss: it was trained "
            "before they were recorded. Train it again (Train page) to see them.")


def body_and_head(layers: list) -> tuple:
    """(body layers, head layer) in order: the head is the last layer (the output)."""
    return layers[:-1], layers[-1]


def _pct(v: float) -> str:
    if v == 0:
        return "0%"
    p = 100 * v
    return f"{p:.2g}%" if p < 10 else f"{p:.0f}%"


def sentence(label: str, change: pd.DataFrame, cka: pd.DataFrame) -> str:
    """What the numbers say, in plain words: how far the body and the head move by the last
    step (relative to their size), how similar the body's features stay, and which of
    'feature reuse' (the body keeps its features, the head adapts) or 'rapid learning' (the
    features themselves change) that is."""
    last = int(change["step"].max())
    if last == 0:
        return f"With 0 steps nothing adapts: {label}'s weights are its meta-learned start."
    finite = change.groupby("step")["relative"].apply(
        lambda v: bool(np.isfinite(v).all() and (v <= RUN_AWAY).all()))
    ok = [int(s) for s, f in finite.items() if f]
    run_away = ""
    if ok[-1] < last:                      # the inner loop diverged: describe the last finite step
        run_away = (f" (at its trained step size the adaptation runs away after step {ok[-1]}: "
                    f"at step {ok[-1] + 1} a layer moves more than {RUN_AWAY:g}x its size or is "
                    f"no longer finite, on average over the tasks)")
        last = ok[-1]
        if last == 0:
            return f"{label}'s adaptation runs away at its first step{run_away[1:-1].split(':')[0]}."
    at = change[change["step"] == last].set_index("layer")["relative"]
    body, head = body_and_head(list(dict.fromkeys(change["layer"])))
    moved = {layer: float(at[layer]) for layer in body}
    steps = f"{last} step{'s' if last != 1 else ''}"
    c_at = cka[cka["step"] == last].set_index("layer")["cka"]
    c_body = [float(c_at[x]) for x in list(dict.fromkeys(cka["layer"]))[:-1]
              if np.isfinite(c_at[x])]
    worst = min(c_body) if c_body else float("nan")
    head_txt = f"its output layer ({head}) {_pct(float(at[head]))}{run_away}"
    if not body:
        return (f"After {steps}, {label}'s one layer ({head}) moves {_pct(float(at[head]))} of "
                f"its size{run_away}: a network without hidden layers has no features to reuse.")
    if all(v == 0 for v in moved.values()):
        return (f"After {steps}, {label}'s body does not move at all (it adapts only its output "
                f"layer: {head} moves {_pct(float(at[head]))} of its size){run_away}, so its "
                f"features are exactly the ones it meta-learned: feature reuse, by construction.")
    top = max(moved, key=moved.get)
    text = (f"After {steps}, {label}'s body moves at most {_pct(moved[top])} of its size "
            f"({top}), {head_txt}")
    if not math.isfinite(worst):
        return text + "."
    if worst >= REUSE_CKA:
        return text + (f"; the body's features stay almost the same (CKA ≥ {worst:.2f} against "
                       f"before adapting): feature reuse, the head does the adapting.")
    return text + (f"; the body's features change (CKA down to {worst:.2f} against before "
                   f"adapting): rapid learning, adaptation reshapes the features themselves.")


def change_table(change: pd.DataFrame, cka: pd.DataFrame) -> pd.DataFrame:
    """One row per layer at the last step: relative and absolute change, and CKA where the
    layer has a representation of its own (weights and batch-norm layers of a conv block share
    the block's)."""
    last = int(change["step"].max())
    at = change[change["step"] == last]
    c = cka[cka["step"] == last].set_index("layer")["cka"]
    rows = []
    for r in at.itertuples():
        rows.append({"layer": r.layer, f"change after {last} steps, % of size": 100 * r.relative,
                     "absolute change": r.absolute, "size ‖θ₀‖": r.norm0,
                     "adapted": "yes" if r.adapted else "no",
                     "CKA before/after": float(c[r.layer]) if r.layer in c.index else None})
    return pd.DataFrame(rows)

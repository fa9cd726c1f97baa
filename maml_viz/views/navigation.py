"""The Navigation page as data: a policy's rollouts toward a goal before and after each
policy-gradient step, what the chart shows in words (every number read from the arrays it
draws), the default goal (one where the stored runs show the story: a meta-learned start beats
a pretrained one), the goal a click, a link or "Random goal" places, and the words under the
"All algorithms" charts (each claim computed from the curves drawn).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..engine import noise, rl
from ..engine.algorithms import MAML, Pretrained, Reptile
from ..engine.train import Run
from .adaptation import Chart, blowup_step, metric_range
from .figures.navigation import STEPS_TITLE, navigation_steps
from .links import LinkValue, number

STORY = Path(__file__).resolve().parents[2] / "assets" / "navigation_story.json"
FALLBACK_GOAL = (0.3, -0.25)    # when the stored story goal is not for the runs at hand
N, SHOW = 20, 5                 # rollouts per step; how many of them are drawn


# ----------------------------------------------------------------------------- one goal
def adapts(run: Run) -> bool:
    """False for a policy whose inner loop changes nothing (the oracle: it is told the goal)."""
    keys = run.algorithm.adapt_spec(run.params, run.config, run.model)[2]
    return keys is None or len(keys) > 0


def rollouts(run: Run, goal, steps: int, seed: int = 0, n: int = N):
    """Positions [S+1, n, H+1, 2] of the tries at each step toward `goal` and their mean returns
    [S+1] (rl.goal_trajectories: α, then α/2, each step on its own n tries)."""
    pos, ret = rl.goal_trajectories(run, tuple(float(v) for v in goal), steps=steps, n=n,
                                    seed=seed)
    return pos, ret


def random_goal(family, seed: int) -> tuple:
    """The goal "Random goal" places for this seed: uniform in the family's square of goals, in
    thousandths (noise.goal: the page's script finds the same one)."""
    return noise.goal(seed, getattr(family, "goal_low", -0.5), getattr(family, "goal_high", 0.5))


def reference_algo(algo: str, available) -> str | None:
    """The run drawn dotted beside the chosen one for comparison: MAML's, or for MAML the
    pretrained policy's (the story: a start shaped for adapting against one that is not)."""
    want = "pretrained" if algo == "maml" else "maml"
    return want if want in available else None


def fmt(v: float) -> str:
    """How a return is written everywhere on the page (captions and marks alike)."""
    return f"{v:.1f}" if np.isfinite(v) else "not a number"


def _after(s: int) -> str:
    return "before adapting" if s == 0 else f"after {s} step{'s' if s != 1 else ''}"


def goal_story(label: str, ret, adapting: bool = True, ref=None) -> str:
    """What the chart shows at this goal, in one or two sentences, from its returns.
    ref: (label, returns) of the comparison run, or None."""
    r = np.asarray(ret, float)
    last = len(r) - 1
    if not adapting:
        text = (f"{label} is told the goal and never adapts: its average return stays between "
                f"{fmt(np.nanmin(r))} and {fmt(np.nanmax(r))} (its tries differ only by chance).")
    else:
        shown = [0, 1] + ([last] if last > 1 else [])
        parts = [f"{fmt(r[s])} {_after(s)}" for s in shown]
        best = int(np.nanargmax(r))
        text = f"At this goal {label}'s average return goes from " + ", to ".join(parts) + "."
        if best not in shown:
            text += f" Its best is {fmt(r[best])} {_after(best)}."
    if ref is not None:
        rl_, rr = ref[0], np.asarray(ref[1], float)
        text += (f" {rl_} on the same goal (dotted): {fmt(rr[last])} {_after(last)}, "
                 f"{'above' if rr[last] > r[last] else 'below'} {label}'s {fmt(r[last])}.")
    return text


def navigation(run: Run, goal, steps: int = 3, seed: int = 0, active: int = 1, label: str = "",
               n: int = N, show: int = SHOW, rollout=None, reference=None) -> Chart:
    """The Navigation page's figure: rollouts toward `goal` before and after each
    policy-gradient step, and the return after each step, one slider for both.
    rollout: (pos, ret) from `rollouts` (computed here if None); reference: (label, algo,
    returns) of a run drawn dotted in the return panel for comparison."""
    cfg, fam = run.config, run.family
    label = label or cfg.algo
    pos, ret = rollouts(run, goal, steps, seed, n) if rollout is None else rollout
    moving = adapts(run)
    fig = navigation_steps(pos, ret, goal, cfg.algo, label, metric_range(fam), active=active,
                           show=show, adapting=moving, reference=reference)
    notes = [goal_note(fam, goal)] if goal_note(fam, goal) else []
    b = blowup_step(ret[:, None])
    if b is not None:
        notes.append(f"{label}: the return is not a number from step {b} on: the policy blew up.")
    return Chart(fig, plane_caption(run, label, n, show), notes, None, steps)


def plane_caption(run: Run, label: str, n: int = N, show: int = SHOW) -> str:
    """The words under the plane and its return panel (the same at every goal)."""
    cfg, fam = run.config, run.family
    lo = metric_range(fam)[0]
    if adapts(run):
        lines = (f"Grey: {show} of the {n} tries of the policy before it adapts to this goal. "
                 f"Coloured: its tries after the policy-gradient steps chosen with the slider "
                 f"under the chart (▶ plays them; α = {cfg.inner_lr:g}, then "
                 f"{cfg.inner_lr / 2:g}), each step learning from its own {n} tries. ")
    else:
        lines = (f"Coloured: {show} of the {n} tries at the step chosen with the slider under "
                 f"the chart (▶ plays them); {label} is told the goal and never adapts, so the "
                 f"tries of one step differ from another's only by chance. ")
    return (lines + f"Beside it (below it on a phone): the average return after each step "
            f"(minus the summed distance to the goal over the {getattr(fam, 'horizon', 100)} "
            f"moves: closer to 0 is better; below {lo:g} it is marked ▼ on the bottom edge with "
            f"its value). Click or tap anywhere on the plane to move the goal (the red star).")


def goal_note(family, goal) -> str | None:
    lo, hi = getattr(family, "goal_low", -0.5), getattr(family, "goal_high", 0.5)
    if all(lo <= v <= hi for v in goal):
        return None
    return (f"The goal ({goal[0]:.2f}, {goal[1]:.2f}) lies outside the square the policy was "
            f"trained on ({lo:g} to {hi:g} on each axis): expect it to do worse there.")


def goal_cast(text):
    what = "two numbers from -10 to 10 separated by a comma, like 0.3,-0.25"
    parts = str(text).split(",")
    if len(parts) != 2:
        raise LinkValue(f"must be {what}")
    x, y = (number(v, float, what) for v in parts)
    if not all(math.isfinite(v) and -10 <= v <= 10 for v in (x, y)):
        raise LinkValue(f"must be {what}")
    return (x, y)


# ----------------------------------------------------------------------------- the default goal
def candidate_goals(family, per_side: int = 5) -> list:
    """A grid over the family's square of goals, without the goals next to the start."""
    lo, hi = getattr(family, "goal_low", -0.5), getattr(family, "goal_high", 0.5)
    g = np.round(np.linspace(0.8 * lo, 0.8 * hi, per_side), 3)
    far = 0.25 * (hi - lo)
    return [(float(x), float(y)) for x in g for y in g if max(abs(x), abs(y)) >= far]


def choose_story_goal(meta: Run, baseline: Run, candidates, steps: int = 3, seed: int = 0,
                      n: int = N) -> dict:
    """The goal that tells the story with these two runs, as the page draws it (same seed, same
    number of tries): the one where the meta-learned start's return beats the baseline's by the
    widest margin at every step 1..steps, both curves staying on the chart. Slow (two rollouts
    per candidate): run once and stored (STORY), checked by a test."""
    lo, hi = metric_range(meta.family)
    best = None
    for g in candidates:
        rm, rb = rollouts(meta, g, steps, seed, n)[1], rollouts(baseline, g, steps, seed, n)[1]
        if not (np.isfinite(rm).all() and np.isfinite(rb).all()):
            continue
        if min(rm.min(), rb.min()) < lo or max(rm.max(), rb.max()) > hi:
            continue
        margin = float((rm[1:] - rb[1:]).min())
        if best is None or margin > best["margin"]:
            best = {"goal": list(g), "margin": margin, "meta": rm.tolist(), "baseline": rb.tolist()}
    if best is None:
        raise ValueError("no candidate goal keeps both curves on the chart")
    return {**best, "runs": {"meta": meta.key, "baseline": baseline.key}, "steps": steps,
            "seed": seed, "n": n}


def story_goal(meta_key: str | None, baseline_key: str | None, path=STORY) -> tuple:
    """The stored default goal when it was chosen for these two runs, else FALLBACK_GOAL."""
    try:
        story = json.loads(Path(path).read_text())
        if story["runs"] == {"meta": meta_key, "baseline": baseline_key}:
            return tuple(float(v) for v in story["goal"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return FALLBACK_GOAL


# ----------------------------------------------------------------------------- all algorithms
def role(run: Run) -> str:
    """'told' (never adapts: told the goal), 'baseline' or 'meta'."""
    if not adapts(run):
        return "told"
    return "baseline" if run.algorithm.is_baseline else "meta"


def _listing(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def curves_caption(df, labels: dict, roles: dict, y_range, protocol: dict) -> str:
    """The words under the "All algorithms" chart. df: algo, step, mean, ci95 (the drawn
    curves); roles: algo -> role(); every ordering and number is read from df."""
    by = {a: g.sort_values("step") for a, g in df.groupby("algo", sort=False)}
    m = {a: g["mean"].to_numpy(float) for a, g in by.items()}
    ci = {a: g["ci95"].to_numpy(float) for a, g in by.items()}
    last = int(df["step"].max())
    name = lambda a: labels.get(a, a)
    out = [f"Average return against {STEPS_TITLE}: {protocol.get('tasks', '?')} held-out goals · "
           f"{protocol.get('query_points', '')} · each run's step size α, then α/2 · shaded: "
           f"95% CI. Higher is better."]
    for a in (a for a in m if roles.get(a) == "told"):
        others = [b for b in m if b != a]
        top = all((m[a] >= m[b][:len(m[a])]).all() for b in others if len(m[b]))
        out.append(f"{name(a)} is told the goal and never adapts ({fmt(m[a][-1])})"
                   + (": the ceiling, above every curve at every step." if top else "."))
    meta = sorted((a for a in m if roles.get(a) == "meta" and len(m[a]) > last),
                  key=lambda a: -m[a][last])
    if meta:
        overlap = lambda a, b: abs(m[a][last] - m[b][last]) <= ci[a][last] + ci[b][last]
        level = 1                     # the best ones whose 95% intervals all overlap
        while level < len(meta) and all(overlap(meta[level], b) for b in meta[:level]):
            level += 1
        out.append(f"After {last} steps the meta-learned starts are, best first: "
                   + ", ".join(f"{name(a)} {fmt(m[a][last])}" for a in meta) + ".")
        if level > 1:
            out.append(f"{_listing(name(a) for a in meta[:level])} are level: their 95% "
                       f"intervals overlap.")
        floor = m[meta[-1]][last]
        for a in (a for a in m if roles.get(a) == "baseline" and len(m[a]) > last):
            v, said = m[a], []
            if v[last] < floor:
                said.append("ends below every meta-learned start")
            if last >= 2 and v[2] < v[1] - ci[a][1] - ci[a][2]:
                said.append(f"gets worse after its first step ({fmt(v[1])}, then {fmt(v[2])}): "
                            f"it was never trained to take such steps")
            elif (np.diff(v) > 0).all():
                said.append("climbs at every step")
            out.append(f"{name(a)} goes from {fmt(v[0])} before adapting to {fmt(v[last])} "
                       f"after {last} steps" + (f" and {_listing(said)}" if said else "") + ".")
    lo, hi = y_range
    off = [a for a in m if (np.isfinite(m[a]) & ((m[a] < lo) | (m[a] > hi))).any()]
    if off:
        out.append(f"Curves that leave the chart ({_listing(name(a) for a in off)}) are marked "
                   f"▼ on its edge with their value.")
    return " ".join(out)


def history_caption(hist: dict, labels: dict, algorithms: dict) -> str:
    """The words under the meta-training chart: what each curve measures (it differs by kind of
    algorithm) and which curves rose (the last tenth of training against the first).
    hist: algo -> (iterations, values); algorithms: algo -> its Algorithm object."""
    kinds = {"after its inner policy-gradient step": [], "at the last of its inner steps": [],
             "with no adapting step": []}
    rose, fell = [], []
    for a, (_, v) in hist.items():
        alg = algorithms[a]
        key = ("with no adapting step" if isinstance(alg, Pretrained) else
               "at the last of its inner steps" if isinstance(alg, Reptile) else
               "after its inner policy-gradient step" if isinstance(alg, MAML) else None)
        if key is not None:
            kinds[key].append(labels.get(a, a))
        v = np.asarray(v, float)
        k = max(1, len(v) // 10)
        (rose if np.nanmean(v[-k:]) > np.nanmean(v[:k]) else fell).append(labels.get(a, a))
    parts = [f"{_listing(v)} {k}" for k, v in kinds.items() if v]
    text = ("Meta-training: the average return of the tries each meta-iteration learned from "
            f"({'; '.join(parts)}), per meta-iteration (faint: raw; solid: moving average).")
    if rose and not fell:
        text += " Every curve rose during training."
    elif rose:
        text += f" {_listing(rose)} rose during training; {_listing(fell)} did not."
    return text

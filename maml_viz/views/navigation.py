"""The Navigation page as data: a policy's rollouts toward a goal before and after each
policy-gradient step, and the goal a click or a link places.
"""
from __future__ import annotations

import math

from ..engine import rl
from ..engine.train import Run
from .adaptation import Chart, blowup_step, metric_range
from .figures.navigation import navigation_steps
from .links import LinkValue, number


def navigation(run: Run, goal, steps: int = 3, seed: int = 0, active: int = 1, label: str = "",
               n: int = 20, show: int = 5) -> Chart:
    """The Navigation page's figure: rollouts toward `goal` before and after each
    policy-gradient step, and the return after each step, one slider for both."""
    cfg, fam = run.config, run.family
    pos, ret = rl.goal_trajectories(run, goal, steps=steps, n=n, seed=seed)
    fig = navigation_steps(pos, ret, goal, cfg.algo, label or cfg.algo,
                           metric_range(fam), active=active, show=show)
    notes = [goal_note(fam, goal)] if goal_note(fam, goal) else []
    b = blowup_step(ret[:, None])
    if b is not None:
        notes.append(f"{label}: the return is not a number from step {b} on: the policy blew up.")
    caption = (f"Grey: {show} of the {n} rollouts of the policy before it adapts to this goal. "
               f"Coloured: after the policy-gradient steps chosen with the slider under the chart "
               f"(▶ plays them; α = {cfg.inner_lr:g}, then {cfg.inner_lr / 2:g}), each on its own "
               f"{n} tries. Right: the average return after each step (minus the summed distance "
               f"to the goal over the {getattr(fam, 'horizon', 100)} moves: closer to 0 is "
               f"better). Click anywhere to move the goal (the red star).")
    return Chart(fig, caption, notes, 0, steps)


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

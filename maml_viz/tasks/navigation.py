"""2D navigation (the MAML paper's point robot, as in the authors' rllab code): a task is a goal
in [-0.5, 0.5]^2; the agent starts at the origin, observes its position, acts with a velocity
clipped to [-0.1, 0.1] per coordinate, and gets reward -||position - goal|| after each move for
up to 100 steps; an episode ends once it is within 0.01 of the goal (in both coordinates).

The environment itself is `rl.rollout`, vectorised over tasks x trajectories (time is the loop).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError
from .base import TaskFamily, uniform


@dataclass(frozen=True)
class Navigation(TaskFamily):
    goal_low: float = -0.5
    goal_high: float = 0.5
    max_speed: float = 0.1
    horizon: int = 100
    goal_radius: float = 0.01
    discount: float = 0.99
    dice_lambda: float = 0.0    # 1: unbiased DiCE meta-gradient; 0: low-variance (ProMP); see rl.py

    name = "navigation"
    label = "2D navigation (RL)"
    kind = "rl"
    metric = "return"
    higher_is_better = True
    in_dim = 2
    description = "reach a hidden goal in the plane from the origin; reward = −distance to the goal"
    # k_shot: trajectories per task for an adaptation step; k_query: trajectories after it
    config_defaults = {"k_shot": 20, "k_query": 20, "meta_batch": 20, "inner_steps": 1,
                       "inner_lr": 0.1, "outer_lr": 0.002, "iterations": 300, "hidden": (100, 100)}

    def check(self):
        super().check()
        if self.goal_low >= self.goal_high:
            raise ConfigError("family_options.goal_low", "must be below goal_high")
        if not 0.0 <= self.dice_lambda <= 1.0:
            raise ConfigError("family_options.dice_lambda", "must be in [0, 1]")
        if not isinstance(self.horizon, int) or not 1 <= self.horizon <= 1000:
            raise ConfigError("family_options.horizon", "must be an integer in [1, 1000]")

    @property
    def out_dim(self):
        return 2

    def sample_tasks(self, n, gen):
        return uniform((n, 2), self.goal_low, self.goal_high, gen)

    def sample_batch(self, n_tasks, k_support, k_query, gen):
        return {"tasks": self.sample_tasks(n_tasks, gen)}

    def x_range(self):
        return (-0.6, 0.6)

    def describe_task(self, task):
        return f"goal = ({task[0]:.2f}, {task[1]:.2f})"

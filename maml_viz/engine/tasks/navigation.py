"""2D navigation (the MAML paper's point robot, as in the authors' rllab code): a task is a goal
in [-0.5, 0.5]^2; the agent starts at the origin, observes its position, acts with a velocity
clipped to [-0.1, 0.1] per coordinate (the policy acts in units of 0.1, as in the authors'
normalised environment), and gets reward -||position - goal|| after each move for up to 100
steps; an episode ends once it is within 0.01 of the goal (in both coordinates).

The environment itself is `rl.rollout`, vectorised over tasks x trajectories (time is the loop).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import ConfigError
from .base import RLFamily, uniform


@dataclass(frozen=True)
class Navigation(RLFamily):
    goal_low: float = -0.5
    goal_high: float = 0.5
    max_speed: float = 0.1
    # velocity per unit of the policy's output. 0.1 = max_speed: the policy acts in [-1, 1], as
    # in the authors' code (rllab's normalize() wrapper), so its initial noise (std 1) is one
    # max_speed and a policy-gradient step (∝ 1/σ) is well scaled. 1.0: it acts in the
    # environment's units, where the noise must shrink 10x further and α overshoots.
    action_scale: float = 0.1
    horizon: int = 100
    goal_radius: float = 0.01
    discount: float = 0.99
    dice_lambda: float = 0.0    # 1: DiCE (unbiased Hessian term); 0: ProMP's low variance; rl.py
    # the outer (Adam) learning rate follows a cosine from outer_lr down to (1 − lr_decay)·outer_lr:
    # a policy-gradient meta-gradient is noisy, and a constant rate keeps θ wandering around the
    # optimum (measured: README, "2D navigation")
    lr_decay: float = 1.0
    # the outer update: 0 = Adam (the default), > 0 = the paper's TRPO with this KL step (0.01 in
    # the paper): conjugate gradient on Fisher-vector products through the inner update, then a
    # backtracking line search (rl.trpo_step)
    trpo_kl: float = 0.0

    # options added after runs were stored: left out of a config while at their default, so
    # that the stored runs keep their keys (registry.check_config)
    unkeyed_defaults = ("trpo_kl",)

    name = "navigation"
    label = "2D navigation (RL)"
    in_dim = 2
    goal_dim = 2
    description = "reach a hidden goal in the plane from the origin; reward = −distance to the goal"
    # k_shot: trajectories per task for an adaptation step; k_query: trajectories after it, for
    # the outer gradient (40 rather than the paper's 20: a less noisy meta-gradient; measured in
    # the README)
    # α = 0.5 (then 0.25 at test time) as in the authors' code that produced the paper's
    # numbers (maml_trpo_point.py, test_maml_point.py); the paper's text says 0.1. Measured with
    # both: README, "2D navigation".
    config_defaults = {"k_shot": 20, "k_query": 40, "meta_batch": 20, "inner_steps": 1,
                       "inner_lr": 0.5, "outer_lr": 0.002, "iterations": 300, "hidden": (100, 100)}

    def check(self):
        super().check()
        if self.goal_low >= self.goal_high:
            raise ConfigError("family_options.goal_low", "must be below goal_high")
        if not self.action_scale > 0:
            raise ConfigError("family_options.action_scale", "must be positive")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ConfigError("family_options.lr_decay", "must be in [0, 1]")
        if not 0.0 <= self.dice_lambda <= 1.0:
            raise ConfigError("family_options.dice_lambda", "must be in [0, 1]")
        if not 0.0 <= self.trpo_kl <= 1.0:
            raise ConfigError("family_options.trpo_kl", "must be in [0, 1] (0: Adam; the paper's "
                                                        "TRPO step is 0.01)")
        if not isinstance(self.horizon, int) or not 1 <= self.horizon <= 1000:
            raise ConfigError("family_options.horizon", "must be an integer in [1, 1000]")

    @property
    def out_dim(self):
        return 2

    def outer_lr_factor(self, progress):
        return 1.0 - self.lr_decay * 0.5 * (1.0 - math.cos(math.pi * min(max(progress, 0.0), 1.0)))

    def sample_tasks(self, n, gen):
        return uniform((n, 2), self.goal_low, self.goal_high, gen)

    def x_range(self):
        return (-0.6, 0.6)

    def describe_task(self, task):
        return f"goal = ({task[0]:.2f}, {task[1]:.2f})"

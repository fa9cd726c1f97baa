"""Linear regression y = a·x + b. With `hidden=()` the model is the 2-parameter linear model
(slope = l0.w, intercept = l0.b), so the whole parameter space is a plane we can draw."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError
from .base import RegressionFamily


@dataclass(frozen=True)
class Linear(RegressionFamily):
    slope_min: float = -2.0
    slope_max: float = 2.0
    intercept_min: float = -3.0
    intercept_max: float = 3.0
    x_min: float = -2.0
    x_max: float = 2.0

    name = "linear"
    label = "Straight lines"
    description = "y = a·x + b, slope a ∈ [−2, 2], intercept b ∈ [−3, 3], x ∈ [−2, 2]"
    config_defaults = {"hidden": (), "inner_lr": 0.3, "outer_lr": 0.01, "iterations": 2000}

    def check(self):
        super().check()
        for lo, hi in (("slope_min", "slope_max"), ("intercept_min", "intercept_max"),
                       ("x_min", "x_max")):
            if getattr(self, lo) >= getattr(self, hi):
                raise ConfigError(f"family_options.{lo}", f"must be below {hi}")

    def task_ranges(self):
        return ((self.slope_min, self.slope_max), (self.intercept_min, self.intercept_max))

    def target(self, tasks, x):
        return tasks[..., 0, None, None] * x + tasks[..., 1, None, None]

    def x_range(self):
        return (self.x_min, self.x_max)

    def describe_task(self, task):
        return f"slope = {task[0]:.2f}, intercept = {task[1]:.2f}"

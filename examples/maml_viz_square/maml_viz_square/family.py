"""Square waves: y = A·sign(sin(x − φ)), amplitude A ∈ [0.1, 5], phase φ ∈ [0, π], x ∈ [−5, 5]
(the sine tasks of the MAML paper, squared off). A plugin task family is a frozen dataclass
subclassing one of maml_viz's family types (here RegressionFamily): its fields are its options,
`task_ranges` says how a task's parameters are drawn and `target` is the true function."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from maml_viz.engine.config import ConfigError
from maml_viz.engine.tasks import RegressionFamily


@dataclass(frozen=True)
class SquareWave(RegressionFamily):
    amp_min: float = 0.1
    amp_max: float = 5.0
    phase_min: float = 0.0
    phase_max: float = math.pi
    x_min: float = -5.0
    x_max: float = 5.0

    name = "square"
    label = "Square waves (plugin)"
    description = ("y = A·sign(sin(x − φ)), amplitude A ∈ [0.1, 5], phase φ ∈ [0, π], x ∈ [−5, 5]: "
                   "a jump every π, which a smooth network can only approach")

    def check(self):
        super().check()                      # every option a finite number
        for lo, hi in (("amp_min", "amp_max"), ("phase_min", "phase_max"), ("x_min", "x_max")):
            if getattr(self, lo) >= getattr(self, hi):
                raise ConfigError(f"family_options.{lo}", f"must be below {hi}")

    def task_ranges(self):
        return ((self.amp_min, self.amp_max), (self.phase_min, self.phase_max))

    def target(self, tasks, x):
        amp, phase = tasks[..., 0, None, None], tasks[..., 1, None, None]
        return amp * torch.sign(torch.sin(x - phase))

    def x_range(self):
        return (self.x_min, self.x_max)

    def describe_task(self, task):
        return f"A = {task[0]:.2f}, φ = {task[1]:.2f}"

"""The sine-wave tasks fitted by the smallest model that can: y = a·sin(x − b), whose two weights
(amplitude a, phase b) make a plane the Learn page draws. Tasks as in `sinusoid` (the MAML paper's
phase range; heights 2 to 4, so that one height suits every task).

Why this family exists: for the straight line y = a·x + b one gradient step is linear in the
weights, so the best start for one step is the average task, which plain pretraining finds too.
Here the phase sits inside the sine: how far one step moves the phase grows with the amplitude
you start from, so MAML's start (a larger wave) is not pretraining's (the average wave)."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError
from ..nets import SineModel
from .sinusoid import Sinusoid


@dataclass(frozen=True)
class Wave(Sinusoid):
    amp_min: float = 2.0
    amp_max: float = 4.0

    name = "wave"
    label = "Sine waves, 2-weight model"
    description = ("y = A·sin(x − φ), A ∈ [2, 4], φ ∈ [0, π], x ∈ [−5, 5], fitted by "
                   "y = a·sin(x − b): amplitude a and phase b are the model's only two weights")
    # α = 0.1: one step moves the phase by about α·a·A·sin(b − φ), so the start's amplitude a
    # matters; measured in the README ("A weight space you can draw")
    config_defaults = {"hidden": (), "inner_lr": 0.1, "outer_lr": 0.01, "iterations": 2000}

    def make_model(self, hidden=(), goal_conditioned=False):
        if tuple(hidden):
            raise ConfigError("hidden", "the wave family's model has two weights and no hidden "
                                        "layers: leave hidden empty")
        return SineModel()

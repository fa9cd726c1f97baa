"""The MAML paper's reported figures for protocols this package runs, as reference marks for charts
and tables ("did we reproduce it?").

Source: C. Finn, P. Abbeel, S. Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
Networks", ICML 2017, arXiv:1703.03400v3. Every number below was read from the paper's text
(two independent transcriptions of v3 agreed digit for digit): Table 1 (Omniglot), Appendix C.1
Table 2 (sinusoid, 5-shot) and Appendix C.2 Table 4 (2D point navigation), with the protocols of
section 5 and Appendix A. Numbers the paper shows only as curves are not targets here (see
NOT_REPORTED): reading them off a figure would be a guess.

Units follow this package's metrics: MSE; accuracy as a fraction (98.7% -> 0.987); the average
return. `ci95` is the paper's ± where it gives one (Table 1: "95% confidence intervals over
tasks"). K is what this package's protocol calls K: sine points, examples per class, and for
navigation the trajectories of each adaptation step.

`targets_for(family, k_shot, steps, options)` returns the targets that match a run's family, K
and the steps shown (and family options such as n_way); each carries its source, the paper's
protocol and how this package's protocol differs (`caveat`). Imports nothing of ours.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

PAPER = "Finn, Abbeel & Levine 2017 (MAML), arXiv:1703.03400v3"


@dataclass(frozen=True)
class Target:
    family: str
    algo: str                 # the algorithm of this package it is the paper's figure for
    label: str                # e.g. "MAML (MAML paper)"
    metric: str
    k_shot: int
    step: int                 # adaptation steps at test time
    value: float
    ci95: float | None
    source: str
    protocol: str
    caveat: str
    options: dict = field(default_factory=dict)   # family options the figure belongs to

    def to_dict(self) -> dict:
        return asdict(self)


SINE_PROTOCOL = ("sine y = A sin(x - φ), A ∈ [0.1, 5], φ ∈ [0, π], x ∈ [-5, 5]; MLP 40-40 ReLU; "
                 "MAML trained with one inner step of α = 0.01 on K = 10 points (Adam); at test "
                 "time fine-tuned on K = 5 points, every step on the same 5 points")
SINE_CAVEAT = ("the paper trains 70,000 iterations and does not state how many test tasks or "
               "query points it averages; its pretrained baseline's step size was tuned "
               "automatically, ours is chosen on validation tasks")
NAV_PROTOCOL = ("point robot, goal in the unit square, velocity clipped to [-0.1, 0.1], horizon "
                "100; policy 100-100 ReLU; MAML trained with one policy-gradient step (α = 0.1, "
                "20 trajectories), TRPO meta-optimiser; evaluated with up to 3 steps of 40 "
                "trajectories each, α = 0.1 for the first and 0.05 after")
NAV_CAVEAT = ("one training, no interval given; this package's defaults follow the authors' code "
              "(α = 0.5, reward −distance) and use Adam, and its step size is chosen on "
              "validation goals")
OMNI_CAVEAT = ("the paper trains on 1200 characters of 30 alphabets (plus rotations) for 60,000 "
               "iterations with 64 filters (strided convolutions); this package's Omniglot has 6 "
               "training alphabets (185 characters) and tests on 2 held-out ones")


def _omni(n_way, k, steps, alpha, value, ci):
    return Target("omniglot", "maml", "MAML (MAML paper)", "accuracy", k, steps, value, ci,
                  f"{PAPER}, Table 1",
                  f"{n_way}-way {k}-shot, held-out characters; evaluated after {steps} gradient "
                  f"steps of α = {alpha} (trained with {'1 step' if n_way == 5 else '5 steps'}); "
                  f"± is a 95% confidence interval over tasks", OMNI_CAVEAT, {"n_way": n_way})


TARGETS = (
    *[Target("sinusoid", "maml", "MAML (MAML paper)", "mse", 5, s, v, None,
             f"{PAPER}, Appendix C.1, Table 2", SINE_PROTOCOL, SINE_CAVEAT)
      for s, v in ((1, 0.67), (5, 0.38), (10, 0.35))],
    *[Target("sinusoid", "pretrained", "Pretrained (MAML paper)", "mse", 5, s, v, None,
             f"{PAPER}, Appendix C.1, Table 2 ('pretrain on all tasks')", SINE_PROTOCOL,
             SINE_CAVEAT) for s, v in ((1, 2.41), (5, 2.23), (10, 2.19))],
    *[Target("navigation", "maml", "MAML (MAML paper)", "return", 40, s, v, None,
             f"{PAPER}, Appendix C.2, Table 4", NAV_PROTOCOL, NAV_CAVEAT)
      for s, v in ((0, -40.41), (1, -11.68), (2, -3.33), (3, -3.23))],
    _omni(5, 1, 3, 0.4, 0.987, 0.004),
    _omni(5, 5, 3, 0.4, 0.999, 0.001),
    _omni(20, 1, 5, 0.1, 0.958, 0.003),
    _omni(20, 5, 5, 0.1, 0.989, 0.002),
)

# looked for, not verifiable as numbers from the paper's text: not targets
NOT_REPORTED = (
    "sinusoid K = 10 (and K = 20), MAML and pretrained: curves only (Figures 3 and 6), no table",
    "navigation, pretrained and random init: curves only (Figure 4, log scale), no table",
    "Omniglot, first-order MAML: the paper reports first-order MAML on MiniImagenet only",
)


def targets_for(family: str, k_shot: int | None = None, steps=None, options: dict | None = None,
                algos=None) -> list:
    """The targets of a run's family at K = k_shot (None: any K), at the given steps (an int, an
    iterable, or None for any), for the given algorithms (None: all), whose family options
    (e.g. n_way) agree with `options` (an option the caller does not give counts as agreeing)."""
    if isinstance(steps, int):
        steps = [steps]
    want = None if steps is None else {int(s) for s in steps}
    algos = None if algos is None else set(algos)
    opts = options or {}
    return [t for t in TARGETS
            if t.family == family and (k_shot is None or t.k_shot == int(k_shot))
            and (want is None or t.step in want) and (algos is None or t.algo in algos)
            and all(k not in opts or opts[k] == v for k, v in t.options.items())]


def targets_for_config(config, k_shot: int | None = None, steps=None, algos=None) -> list:
    """targets_for a TrainConfig (anything with family and family_options): its family and
    options, at K = k_shot (None: any K)."""
    return targets_for(config.family, k_shot, steps, dict(config.family_options or {}), algos)

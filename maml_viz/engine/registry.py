"""Configs that know the registries: build a `TrainConfig` from the family's and the algorithm's
defaults, and check that a config's family and algorithm exist and fit together.

This sits above both registries (tasks/, algorithms/) so that `config.py` can stay at the bottom,
importing nothing of ours. Every config that trains, loads or is shown goes through here:

    make_config(family=..., algo=..., **settings)  ->  a checked TrainConfig, options resolved
    check_config(cfg)                              ->  the same, for a config built elsewhere
    config_from_dict(d)                            ->  the same, from a run's config.json
"""
from __future__ import annotations

import dataclasses

from .algorithms import ALGORITHMS, get_algorithm
from .config import ConfigError, TrainConfig
from .tasks import FAMILIES, SupervisedFamily, get_family


def make_config(**kwargs) -> TrainConfig:
    """Build a config, filling unset (None) values from the algorithm's and family's defaults.

    Precedence: the algorithm's weak defaults < the family's < the algorithm's strong defaults
    (what its settings mean, e.g. Reptile's outer step ε) < the algorithm's defaults for that
    type of family (settings that define it there, e.g. Reptile's inner steps on RL families)
    < the family's own defaults for this algorithm (`algo_defaults`, e.g. Reptile's inner steps
    on Omniglot) < what the caller gave."""
    given = {k: v for k, v in kwargs.items() if v is not None}
    unknown = set(given) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown setting")
    fam = get_family(given.get("family", TrainConfig.family))   # ConfigError for unknown names
    alg = get_algorithm(given.get("algo", TrainConfig.algo))
    merged = {**alg.weak_defaults, **fam.config_defaults, **alg.defaults, **alg.defaults_for(fam),
              **getattr(fam, "algo_defaults", {}).get(alg.name, {}), **given}
    return check_config(TrainConfig(**merged))


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Validate every field, the family, the algorithm and the family's options; returns the config
    with every family option resolved (defaults included), so that its content hash changes
    whenever the task distribution does."""
    cfg.validate()
    fam_cls = get_family(cfg.family)
    alg = get_algorithm(cfg.algo)
    if not alg.supports(fam_cls):
        allowed = ", ".join(f for f, c in FAMILIES.items() if alg.supports(c))
        raise ConfigError("algo", f"{cfg.algo} applies only to: {allowed}")
    fam = fam_cls.make(cfg.family_options)
    fam.make_model(cfg.hidden, alg.goal_conditioned)   # a family may refuse a network (ConfigError)
    resolved = fam.resolved_options()
    if resolved == cfg.family_options:
        return cfg
    return dataclasses.replace(cfg, family_options=resolved)


def config_from_dict(d: dict) -> TrainConfig:
    """A config read from JSON, checked like any other (ConfigError if it is not valid)."""
    return check_config(TrainConfig.from_dict(d))


def families(supervised: bool | None = None) -> list:
    """Names of the registered task families (only supervised ones, or only the others)."""
    return [name for name, cls in FAMILIES.items()
            if supervised is None or issubclass(cls, SupervisedFamily) == supervised]


def algorithms_for(family: str | None = None, baselines: bool = True) -> list:
    """Names of the registered algorithms that apply to `family` (all if None)."""
    cls = None if family is None else get_family(family)
    return [name for name, alg in ALGORITHMS.items()
            if (baselines or not alg.is_baseline) and (cls is None or alg.supports(cls))]

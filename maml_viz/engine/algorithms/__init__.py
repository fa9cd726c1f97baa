"""Registry of algorithms by name. Adding one = one file + one line here."""
from ..config import ConfigError
from .anil import ANIL
from .base import Algorithm
from .baselines import Oracle, Pretrained, Scratch
from .maml import FOMAML, MAML
from .metasgd import MetaSGD
from .reptile import Reptile

ALGORITHMS = {cls.name: cls() for cls in (MAML, FOMAML, Reptile, ANIL, MetaSGD, Pretrained, Scratch,
                                          Oracle)}


def get_algorithm(name: str) -> Algorithm:
    try:
        return ALGORITHMS[name]
    except (KeyError, TypeError):
        raise ConfigError("algo", f"unknown algorithm {name!r}; allowed: {', '.join(ALGORITHMS)}")


__all__ = ["ALGORITHMS", "Algorithm", "get_algorithm"]

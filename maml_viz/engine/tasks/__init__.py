"""Registry of task families by name, and the family types (see base.py)."""
from ..config import ConfigError
from .base import ClassificationFamily, RegressionFamily, RLFamily, SupervisedFamily, TaskFamily
from .classification import Blobs
from .linear import Linear
from .navigation import Navigation
from .omniglot import Omniglot
from .sinusoid import Sinusoid
from .wave import Wave

FAMILIES = {cls.name: cls for cls in (Sinusoid, Linear, Blobs, Navigation, Wave, Omniglot)}


def get_family(name: str):
    """The family class for `name` (call `.make(options)` for an instance)."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError("family", f"unknown family {name!r}; allowed: {', '.join(FAMILIES)}")


def make_family(name: str, options: dict | None = None) -> TaskFamily:
    return get_family(name).make(options)


__all__ = ["FAMILIES", "ClassificationFamily", "RLFamily", "RegressionFamily", "SupervisedFamily",
           "TaskFamily", "get_family", "make_family"]

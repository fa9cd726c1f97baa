"""Registry of algorithms by name. Adding one = one file + one line here. Algorithms from other
packages (entry points in the group maml_viz.algorithms, see plugins.py) are added when it is
built."""
from .. import plugins
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


def _plugin_algorithm(obj):
    """A plugin's algorithm: an Algorithm subclass (made with no arguments) or instance, with its
    own name."""
    if isinstance(obj, type) and issubclass(obj, Algorithm):
        obj = obj()
    if not isinstance(obj, Algorithm):
        raise plugins.PluginTypeError(f"it gives {plugins.describe(obj)}, not an algorithm (a "
                                      f"subclass of maml_viz.algorithms.Algorithm)")
    if obj.name == Algorithm.name:
        raise plugins.PluginTypeError(f"{plugins.describe(type(obj))} does not set its name")
    return obj.name, obj


plugins.load(plugins.ALGORITHM_GROUP, ALGORITHMS, _plugin_algorithm)

__all__ = ["ALGORITHMS", "Algorithm", "get_algorithm"]

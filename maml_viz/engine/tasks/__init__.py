"""Registry of task families by name, and the family types (see base.py). Families from other
packages (entry points in the group maml_viz.families, see plugins.py) are added when it is
built."""
from .. import plugins
from ..config import ConfigError
from .base import ClassificationFamily, RegressionFamily, RLFamily, SupervisedFamily, TaskFamily
from .classification import Blobs
from .expr import Expr
from .linear import Linear
from .navigation import Navigation
from .omniglot import Omniglot
from .sinusoid import Sinusoid
from .wave import Wave

FAMILIES = {cls.name: cls for cls in (Sinusoid, Linear, Blobs, Navigation, Wave, Omniglot,
                                      Expr)}


def get_family(name: str):
    """The family class for `name` (call `.make(options)` for an instance)."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError("family", f"unknown family {name!r}; allowed: {', '.join(FAMILIES)}")


def make_family(name: str, options: dict | None = None) -> TaskFamily:
    return get_family(name).make(options)


def _plugin_family(obj):
    """A plugin's family: a subclass of one of the family types, with its own name, whose
    default options make a family."""
    if not (isinstance(obj, type) and issubclass(obj, TaskFamily)) or obj in (
            TaskFamily, SupervisedFamily, RegressionFamily, ClassificationFamily, RLFamily):
        raise plugins.PluginTypeError(f"it gives {plugins.describe(obj)}, not a task family (a "
                                      f"subclass of RegressionFamily, ClassificationFamily, ...)")
    if obj.name == TaskFamily.name:
        raise plugins.PluginTypeError(f"{plugins.describe(obj)} does not set its name")
    obj.make()
    return obj.name, obj


plugins.load(plugins.FAMILY_GROUP, FAMILIES, _plugin_family)


__all__ = ["FAMILIES", "ClassificationFamily", "RLFamily", "RegressionFamily", "SupervisedFamily",
           "TaskFamily", "get_family", "make_family"]

"""Plugins: task families and algorithms from other installed packages, found by entry point.

A package registers them in its pyproject.toml (examples/maml_viz_square is a complete one):

    [project.entry-points."maml_viz.families"]
    square = "maml_viz_square.family:SquareWave"      # a TaskFamily subclass
    [project.entry-points."maml_viz.algorithms"]
    stepmaml = "maml_viz_square.algorithm:StepMAML"   # an Algorithm subclass (or an instance)

The registries call `load` once, when they are built (tasks.FAMILIES, algorithms.ALGORITHMS), so
a plugin's family or algorithm is everywhere a built-in one is: the CLI, every page, sweeps (Ray
workers import the same registries). It is registered under its own `name`, which must be new.

A plugin that cannot be imported, registers something of the wrong type, reuses a name or whose
defaults do not work is skipped and reported in ONE line naming it (a warning on stderr through
`logging`, and kept in PROBLEMS for pages to show); everything else keeps working. The
environment variable MAML_VIZ_NO_PLUGINS=1 loads none.

This is a bottom layer: it imports nothing of ours (the registries pass their own checks).
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import re

FAMILY_GROUP = "maml_viz.families"
ALGORITHM_GROUP = "maml_viz.algorithms"
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")      # run folders are named family-algo-hash
PROBLEMS: list = []          # one line per plugin that was not loaded
SOURCES: dict = {}           # (group, name) -> the distribution that registered it

log = logging.getLogger(__name__)


class PluginTypeError(TypeError):
    """What an entry point gave is not what its group registers."""


def _one_line(text, limit: int = 300) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit] + "…"


def _entry_points(group: str) -> list:
    eps = importlib.metadata.entry_points(group=group)
    seen, out = set(), []
    for ep in sorted(eps, key=lambda e: (e.name, e.value)):
        if (ep.name, ep.value) not in seen:
            seen.add((ep.name, ep.value))
            out.append(ep)
    return out


def _dist(ep) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "an unknown package"


def problem(line: str) -> None:
    PROBLEMS.append(line)
    log.warning(line)


def load(group: str, registry: dict, accept) -> list:
    """Register every entry point of `group` in `registry`. accept(obj) -> (name, value): checks
    what the entry point gave and what to register (raising PluginTypeError, or any error its
    checks raise). Returns the names registered."""
    if os.environ.get("MAML_VIZ_NO_PLUGINS", "") not in ("", "0"):
        return []
    try:
        eps = _entry_points(group)
    except Exception as e:                       # broken metadata of some installed package
        problem(f"maml-viz: the {group} plugins were not loaded: the installed packages' entry "
                f"points could not be read ({_one_line(f'{type(e).__name__}: {e}')})")
        return []
    added = []
    for ep in eps:
        who = f"plugin {_dist(ep)!r} (entry point {ep.name} = {ep.value} in {group})"
        try:
            obj = ep.load()
        except (Exception, SystemExit) as e:
            problem(f"maml-viz: {who} was not loaded: it failed to import "
                    f"({_one_line(f'{type(e).__name__}: {e}')})")
            continue
        try:
            name, value = accept(obj)
        except PluginTypeError as e:
            problem(f"maml-viz: {who} was not loaded: {_one_line(e)}")
            continue
        except (Exception, SystemExit) as e:
            problem(f"maml-viz: {who} was not loaded: its checks failed "
                    f"({_one_line(f'{type(e).__name__}: {e}')})")
            continue
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problem(f"maml-viz: {who} was not loaded: its name {_one_line(repr(name), 40)} must be "
                    f"lower-case letters, digits and '_' (at most 32, a letter first)")
            continue
        if name in registry:
            by = SOURCES.get((group, name))
            problem(f"maml-viz: {who} was not loaded: the name {name!r} is taken by "
                    f"{'plugin ' + repr(by) if by else 'a built-in one'}")
            continue
        registry[name] = value
        SOURCES[(group, name)] = _dist(ep)
        added.append(name)
    return added


def describe(obj) -> str:
    """What an entry point gave, in words, for a message."""
    if isinstance(obj, type):
        return f"the class {obj.__module__}.{obj.__qualname__}"
    if callable(obj) and hasattr(obj, "__qualname__"):
        return f"the function {getattr(obj, '__module__', '?')}.{obj.__qualname__}"
    return f"{_one_line(repr(obj), 60)} (of type {type(obj).__name__})"


def source(group: str, name: str) -> str | None:
    """The distribution that registered `name` in `group`, or None for a built-in one."""
    return SOURCES.get((group, name))

"""Regression tasks from a formula a person types: y = f(x) with named parameters, each drawn
uniformly from its range per task, e.g. f = a*sin(x - b), a ∈ [0.1, 5], b ∈ [0, π], x ∈ [−5, 5].

The options are the formula `f`, the range of `x` and one range per parameter, named as the
parameter (`LO:HI` text or a [LO, HI] pair):

    make_family("expr", {"f": "a*sin(x+b)", "a": "0.1:5", "b": "0:pi", "x": "-5:5"})

A config stores them resolved: the formula in its canonical text (expr_parse.unparse: spacing
and redundant parentheses do not change a run's key) and every range as [LO, HI] floats, so the
run's content hash changes with the formula and the ranges, and nothing else.

Before anything trains, the formula is parsed by expr_parse (a whitelist; nothing is executed)
and evaluated in float64 on a grid of x and parameter values (every corner of the parameter box,
its centre, and random points from a fixed stream): a formula that is not finite somewhere there,
reaches beyond ±MAX_VALUE, or does not change with x is refused with one line saying where.
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import torch

from ..config import ConfigError
from .base import RegressionFamily
from .expr_parse import ExprError, Formula, check_param_name, parse, parse_range

MAX_PARAMS = 8
MAX_VALUE = 1e6            # |f| beyond this cannot be learned in float32 with the MSE loss
CHECK_POINTS = 401         # x values per checked task
CHECK_RANDOM = 64          # random parameter vectors checked (besides the corners and centre)
DEFAULT_F = "a*sin(x - b)"
DEFAULT_PARAMS = (("a", 0.1, 5.0), ("b", 0.0, math.pi))
DEFAULT_X = (-5.0, 5.0)


def _field(name: str) -> str:
    return f"family_options.{name}"


@functools.lru_cache(maxsize=256)
def _formula(text: str, names: tuple) -> Formula:
    return parse(text, names)


@functools.lru_cache(maxsize=1024)
def _cached_range(value, what: str) -> tuple:
    return parse_range(value, what)


def _range(value, what: str) -> tuple:
    """parse_range; texts cached (a family is made often: every Run.family)."""
    return _cached_range(value, what) if isinstance(value, str) else parse_range(value, what)


def _num(v: float) -> str:
    return f"{v:.4g}"


@functools.lru_cache(maxsize=256)
def _check_values(text: str, params: tuple, x: tuple) -> None:
    """Refuse (ConfigError) a formula that is not finite, too large or constant in x on the
    checked grid. Cached: a family is made often (every Run.family)."""
    formula = _formula(text, tuple(n for n, _, _ in params))
    n_p = len(params)
    lo = torch.tensor([p[1] for p in params], dtype=torch.float64)
    hi = torch.tensor([p[2] for p in params], dtype=torch.float64)
    corners = torch.tensor(list(itertools.product((0.0, 1.0), repeat=n_p)), dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    u = torch.cat([corners, torch.full((1, n_p), 0.5, dtype=torch.float64),
                   torch.rand((CHECK_RANDOM, n_p), generator=gen, dtype=torch.float64)])
    tasks = lo + (hi - lo) * u                                          # [T, P]
    steps = CHECK_POINTS - 1                 # lo + (hi - lo)·i/steps: x = 0 exactly in [-5, 5]
    grid = [x[0] + (x[1] - x[0]) * i / steps for i in range(CHECK_POINTS)]
    xs = torch.tensor(grid, dtype=torch.float64).expand(len(tasks), -1)
    y = formula.evaluate(xs, {n: tasks[:, i:i + 1] for i, (n, _, _) in enumerate(params)})

    def where(t: int) -> str:
        return ", ".join(f"{n} = {_num(float(tasks[t, i]))}" for i, (n, _, _) in enumerate(params))

    bad = ~torch.isfinite(y)
    if bad.any():
        t = int(bad.any(1).nonzero()[0])
        xb = xs[t][bad[t]]
        kind = "nan" if torch.isnan(y[t][bad[t]]).any() else "infinite"
        span = (f"at x = {_num(float(xb[0]))}" if len(xb) == 1 else
                f"for x from {_num(float(xb.min()))} to {_num(float(xb.max()))}")
        raise ConfigError(_field("f"), f"f = {text} is not finite ({kind}) {span} when "
                                       f"{where(t)} ({int(bad.sum()):,} of {bad.numel():,} "
                                       f"checked points): choose ranges where it is defined")
    big = y.abs() > MAX_VALUE
    if big.any():
        t, m = (int(i) for i in (y.abs() == y.abs().max()).nonzero()[0])
        raise ConfigError(_field("f"), f"f = {text} reaches {float(y[t, m]):.3g} at x = "
                                       f"{_num(float(xs[t, m]))} when {where(t)}: values beyond "
                                       f"±{MAX_VALUE:g} cannot be learned; narrow the ranges or "
                                       f"scale f down")
    span = y.max(1).values - y.min(1).values
    if bool((span <= 1e-9 * (1.0 + y.abs().max(1).values)).all()):
        raise ConfigError(_field("f"), f"f = {text} does not change with x over x ∈ "
                                       f"[{_num(x[0])}, {_num(x[1])}] for any task: there is "
                                       f"nothing to learn; make it depend on x there")


@dataclass(frozen=True)
class Expr(RegressionFamily):
    f: str = DEFAULT_F
    params: tuple = DEFAULT_PARAMS          # ((name, low, high), ...) sorted by name
    x: tuple = DEFAULT_X

    name = "expr"
    label = "Your formula"
    description = ("y = f(x) for a formula you type, in x and named parameters each drawn "
                   "from its range per task, e.g. a*sin(x - b), a ∈ [0.1, 5], b ∈ [0, π]")
    config_defaults = {}

    # ------------------------------------------------------------------ options
    @classmethod
    def make(cls, options: dict | None = None) -> "Expr":
        fam = cls(**cls._parse_options(dict(options or {})))
        fam.check()
        return fam

    @classmethod
    def _parse_options(cls, opts: dict) -> dict:
        text = opts.pop("f", None)
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text)                 # `--option f=2` arrives as a number
        if text is not None and not isinstance(text, str):
            raise ConfigError(_field("f"), f"must be a formula in x, e.g. a*sin(x - b) "
                                           f"(got {type(text).__name__})")
        try:
            x = _range(opts.pop("x", DEFAULT_X), "the range of x")
        except ExprError as e:
            raise ConfigError(_field("x"), str(e))
        ranges = {} if text is not None else {n: (lo, hi) for n, lo, hi in DEFAULT_PARAMS}
        for name, value in opts.items():
            try:
                check_param_name(name)
                ranges[name] = _range(value, f"the range of {name}")
            except ExprError as e:
                raise ConfigError(_field(name), str(e))
        if len(ranges) > MAX_PARAMS:
            raise ConfigError("family_options", f"at most {MAX_PARAMS} parameters (got "
                                                f"{len(ranges)}: {', '.join(sorted(ranges))})")
        names = tuple(sorted(ranges))
        try:
            formula = _formula(DEFAULT_F if text is None else text, names)
        except ExprError as e:
            raise ConfigError(_field("f"), str(e))
        unused = [n for n in names if n not in formula.names]
        if unused:
            raise ConfigError(_field(unused[0]), f"{unused[0]} has a range but f = "
                                                 f"{formula.text} does not use it")
        if not formula.params:
            raise ConfigError(_field("f"), f"f = {formula.text} has no parameters, so every task "
                                           f"would be the same: add one with a range, e.g. "
                                           f"f=a*{formula.text} a=0.5:2")
        if not formula.uses_x:
            raise ConfigError(_field("f"), f"f = {formula.text} does not use x: there is nothing "
                                           f"to learn")
        return {"f": formula.text, "params": tuple((n, *ranges[n]) for n in names), "x": x}

    def check(self) -> None:
        _check_values(self.f, self.params, self.x)

    def resolved_options(self) -> dict:
        return {"f": self.f, "x": list(self.x), **{n: [lo, hi] for n, lo, hi in self.params}}

    @classmethod
    def options_label(cls, options: dict) -> str:
        """'y = a*sin(x - b); a ∈ [0.1, 5], b ∈ [0, 3.142], x ∈ [-5, 5]' from a config's
        resolved options (the formula's label for run lists)."""
        try:
            opts = dict(options or {})
            text = opts.pop("f", DEFAULT_F)
            x = opts.pop("x", DEFAULT_X)
            ranges = [(n, v) for n, v in sorted(opts.items())] + [("x", x)]
            return f"y = {text}; " + ", ".join(f"{n} ∈ [{_num(float(v[0]))}, {_num(float(v[1]))}]"
                                               for n, v in ranges)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return cls.label

    # ------------------------------------------------------------------ tasks
    def formula(self) -> Formula:
        return _formula(self.f, tuple(n for n, _, _ in self.params))

    def task_ranges(self):
        return tuple((lo, hi) for _, lo, hi in self.params)

    def target(self, tasks, x):
        values = {n: tasks[..., i, None, None] for i, (n, _, _) in enumerate(self.params)}
        return self.formula().evaluate(x, values).contiguous()

    def x_range(self):
        return self.x

    def describe_task(self, task):
        return ", ".join(f"{n} = {float(v):.2f}" for (n, _, _), v in zip(self.params, task))

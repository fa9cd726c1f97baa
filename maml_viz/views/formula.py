"""The formula family (`expr`) in the app, as data: the parameters a typed formula names, the
family its fields make (or the ONE line saying which field is wrong and why), a gallery of
sampled tasks to preview before training, and the formula as a link carries it.

    names = parameters("a*sin(x + b)")                    # ['a', 'b']
    got = check("a*sin(x + b)", {"a": "0.1:5", "b": "0:pi"}, "-5:5")
    got.options   # resolved options for the config (None if refused)
    got.field, got.message   # 'f' / 'a' / 'x' ..., one line (None if accepted)
    p = preview(got.options)                               # 8 tasks: p.x, p.ys, p.labels
    text = to_link(got.options); from_link(text) == got.options

Nothing here runs the text: the engine's parser (engine/tasks/expr_parse.py) reads it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch

from ..engine.config import ConfigError
from ..engine.tasks import get_family, make_family
from ..engine.tasks.expr import MAX_PARAMS
from ..engine.tasks.expr_parse import (CONSTANTS, FUNCTIONS, VARIABLE, ExprError,
                                       check_param_name, parse, tokenize)
from .links import LinkValue

FAMILY = "expr"
EXAMPLE = {"f": "a*sin(x+b)", "a": "0.1:5", "b": "0:3.1416", "x": "-5:5"}
NEW_RANGE = "0:1"             # the range a newly typed parameter starts with
PREVIEW_TASKS = 8
PREVIEW_POINTS = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")     # a name token (numbers start with a digit)
MAX_LINK = 1500               # characters of a link's formula value


def is_formula_family(family: str) -> bool:
    """Whether `family` is typed as a formula (its options are the formula and ranges)."""
    return family == FAMILY


def parameters(text: str) -> list:
    """The parameter names a formula uses, sorted: every name that is not x, a function, a
    constant or something no parameter may be called (checked by the parser later). Reads the
    tokens up to the first one the language refuses; at most MAX_PARAMS + 1 (one more than a
    family may have, so that the family says why it is refused)."""
    found = []
    try:
        toks = list(_tokens(str(text)))
    except ExprError:
        toks = []
    for i, t in enumerate(toks):
        if not _NAME.fullmatch(t.text) or t.text in found or t.text in (VARIABLE, *CONSTANTS):
            continue
        if t.text in FUNCTIONS or (i + 1 < len(toks) and toks[i + 1].text == "("):
            continue
        try:
            check_param_name(t.text)
        except ExprError:
            continue
        found.append(t.text)
        if len(found) > MAX_PARAMS:
            break
    return sorted(found)


def _tokens(text: str):
    """The tokens up to the first refused character (then stops without raising)."""
    try:
        yield from tokenize(text)
    except ExprError:
        return


@dataclass(frozen=True)
class Checked:
    """What the fields make: resolved options, or the field that is wrong and one line why."""
    options: dict | None
    field: str | None = None          # 'f', 'x' or a parameter's name
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.options is not None


def _one_line(text: str, limit: int = 400) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit] + "…"


def check(f: str, ranges: dict, x: str) -> Checked:
    """The family the fields make, checked as the CLI checks it (parser, ranges, values over the
    ranges). A parameter of the formula without a range names that parameter."""
    opts = {"f": f, "x": x, **{n: r for n, r in ranges.items() if str(r).strip()}}
    try:
        parse(f, tuple(parameters(f)))          # the formula's own errors first
    except ExprError as e:
        return Checked(None, "f", _one_line(e))
    for n in parameters(f):
        if n not in opts:
            return Checked(None, n, f"{n} needs a range LO:HI, e.g. {NEW_RANGE}")
    try:
        fam = make_family(FAMILY, opts)
    except ConfigError as e:
        field = e.field.split(".", 1)[1] if e.field.startswith("family_options.") else "f"
        return Checked(None, field, _one_line(str(e).split(": ", 1)[-1]))
    return Checked(fam.resolved_options())


def label(options: dict) -> str:
    """The options' label, as runs are labelled: 'y = a*sin(x + b); a ∈ [0.1, 5], …'."""
    return get_family(FAMILY).options_label(options)


@dataclass(frozen=True)
class Preview:
    """Sampled tasks of a family: x [M], ys [n, M] (their true functions), one label each."""
    x: np.ndarray
    ys: np.ndarray
    labels: list
    title: str


def preview(options: dict, n: int = PREVIEW_TASKS, seed: int = 0,
            points: int = PREVIEW_POINTS) -> Preview:
    """n tasks drawn from the family (a fixed stream: the same options, the same gallery), each
    as its true function on `points` values of x over the family's range."""
    fam = make_family(FAMILY, options)
    tasks = fam.sample_tasks(n, torch.Generator().manual_seed(seed)).double()
    lo, hi = fam.x_range()
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    y = fam.target(tasks, x.reshape(1, -1, 1).expand(n, -1, -1))[..., 0]
    return Preview(x.numpy(), y.numpy(), [fam.describe_task(t) for t in tasks],
                   f"{n} tasks drawn from y = {fam.f}")


# ----------------------------------------------------------------------------- links
def _num(v: float) -> str:
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


def to_link(options: dict) -> str:
    """The resolved options as one link value: 'a*sin(x + b);a=0.1:5;b=0:3.1416;x=-5:5' (';'
    and '=' never occur in a formula)."""
    opts = dict(options)
    parts = [str(opts.pop("f"))]
    x = opts.pop("x")
    parts += [f"{n}={_num(v[0])}:{_num(v[1])}" for n, v in sorted(opts.items())]
    return ";".join(parts + [f"x={_num(x[0])}:{_num(x[1])}"])


def from_link(text) -> dict:
    """A link's formula value -> resolved options; LinkValue saying what is wrong."""
    text = str(text)
    if len(text) > MAX_LINK:
        raise LinkValue(f"a formula in a link has at most {MAX_LINK:,} characters")
    f, *rest = text.split(";")
    ranges, x = {}, "-5:5"
    for part in rest:
        name, sep, value = part.partition("=")
        if not sep:
            raise LinkValue("each range is NAME=LO:HI after the formula, separated by ';'")
        if name.strip() == VARIABLE:
            x = value
        else:
            ranges[name.strip()] = value
    got = check(f, ranges, x)
    if not got.ok:
        raise LinkValue(f"{got.field}: {got.message}")
    return got.options


def fields(options: dict) -> tuple:
    """(formula, {parameter: 'LO:HI'}, 'LO:HI' of x) for the form's fields from options."""
    opts = dict(options)
    f, x = opts.pop("f"), opts.pop("x")
    span = lambda v: f"{_num(v[0])}:{_num(v[1])}" if isinstance(v, (list, tuple)) else str(v)
    return str(f), {n: span(v) for n, v in opts.items()}, span(x)


def finite_span(ys: np.ndarray) -> tuple:
    """The y range the preview draws (its values, with a margin)."""
    lo, hi = float(np.nanmin(ys)), float(np.nanmax(ys))
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return (lo - pad, hi + pad) if math.isfinite(lo) and math.isfinite(hi) else (-1.0, 1.0)

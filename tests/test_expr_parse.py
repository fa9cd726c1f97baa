"""The formula language (maml_viz/tasks/expr_parse.py): what it accepts and how it evaluates
(against the same maths written with torch directly), every kind of input it refuses with one
line saying where, its limits, and a seeded fuzz of random strings that never raises anything
but ExprError."""
import math
import random

import pytest
import torch

from maml_viz.engine.tasks.expr_parse import (FUNCTIONS, MAX_DEPTH, MAX_LENGTH, MAX_NODES, MAX_RAW,
                                              ExprError, parse, parse_range)

P = ("a", "b")


def values(dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-3, 3, 13, dtype=dtype).expand(4, 13)          # [T, M]
    a = (0.5 + torch.rand((4, 1), generator=gen, dtype=dtype))          # [T, 1]
    b = torch.rand((4, 1), generator=gen, dtype=dtype)
    return x, a, b


# the formula, its canonical text, the same maths written with torch
ACCEPTED = [
    ("a*sin(x+b)", "a*sin(x + b)", lambda x, a, b: a * torch.sin(x + b)),
    ("a * sin( x - b )", "a*sin(x - b)", lambda x, a, b: a * torch.sin(x - b)),
    ("-x^2", "-x^2", lambda x, a, b: -(x ** 2)),
    ("-x**2", "-x^2", lambda x, a, b: -(x ** 2)),
    ("2^-x", "2^-x", lambda x, a, b: 2.0 ** (-x)),
    ("x^2^a", "x^2^a", lambda x, a, b: x ** (2.0 ** a)),
    ("(x^2)^a", "(x^2)^a", lambda x, a, b: (x ** 2) ** a),
    ("a-(b-x)", "a - (b - x)", lambda x, a, b: a - (b - x)),
    ("(a-b)+x", "a - b + x", lambda x, a, b: a - b + x),
    ("a/(b+1)*x", "a/(b + 1)*x", lambda x, a, b: a / (b + 1) * x),
    ("a/(x*x+1)", "a/(x*x + 1)", lambda x, a, b: a / (x * x + 1)),
    ("--x+a", "--x + a", lambda x, a, b: x + a),
    ("-(-x)+a", "--x + a", lambda x, a, b: x + a),
    ("-(+x)*a", "-+x*a", lambda x, a, b: -x * a),
    ("(-x)^2*a", "(-x)^2*a", lambda x, a, b: (-x) ** 2 * a),
    ("min(x, a, b)", "min(x, a, b)", lambda x, a, b: torch.minimum(torch.minimum(x, a), b)),
    ("max(x,0)*a", "max(x, 0)*a", lambda x, a, b: torch.clamp(x, min=0) * a),
    ("clip(x, -1, 1)*a", "clip(x, -1, 1)*a", lambda x, a, b: torch.clamp(x, -1, 1) * a),
    ("pi*x+a", "pi*x + a", lambda x, a, b: math.pi * x + a),
    ("e^(a*x)", "e^(a*x)", lambda x, a, b: torch.exp(a * x)),
    ("exp(-x^2/a)+b", "exp(-x^2/a) + b", lambda x, a, b: torch.exp(-(x ** 2) / a) + b),
    ("sqrt(abs(x))*sign(x)*a", "sqrt(abs(x))*sign(x)*a",
     lambda x, a, b: torch.sqrt(torch.abs(x)) * torch.sign(x) * a),
    ("floor(x)+tanh(a*x)", "floor(x) + tanh(a*x)", lambda x, a, b: torch.floor(x) + torch.tanh(a * x)),
    ("log(x^2+a)", "log(x^2 + a)", lambda x, a, b: torch.log(x ** 2 + a)),
    ("1.5e-1*x + .5", "1.5e-1*x + .5", lambda x, a, b: 0.15 * x + 0.5),
    ("((a))*((x))^(2)", "a*x^2", lambda x, a, b: a * x ** 2),
    ("cos(x)*tan(b/4)", "cos(x)*tan(b/4)", lambda x, a, b: torch.cos(x) * torch.tan(b / 4)),
    ("a", "a", lambda x, a, b: a.expand_as(x)),
]


@pytest.mark.parametrize("text,canonical,ref", ACCEPTED)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_accepted_formulas_evaluate_like_torch_and_print_canonically(text, canonical, ref, dtype):
    f = parse(text, P)
    assert f.text == canonical
    again = parse(f.text, P)
    assert again.tree == f.tree and again.text == canonical        # canonical text is stable
    x, a, b = values(dtype)
    got = f.evaluate(x, {"a": a, "b": b})
    want = ref(x, a, b)
    assert got.shape == x.shape and got.dtype == dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.allclose(got, want.to(dtype), rtol=tol, atol=tol, equal_nan=True), text


def test_names_and_parameters_in_a_formula():
    f = parse("a*sin(x - b) + pi", P)
    assert f.names == {"a", "b", "x"} and f.params == ("a", "b") and f.uses_x
    assert not parse("a + e", P).uses_x


# what is refused, and a piece of the message that must say why / where
REFUSED = [
    ("__import__('os')", "'__import__' at character 1"),
    ("__import__", "names starting with '_'"),
    ("os", "unknown name 'os' at character 1"),
    ("os.system('ls')", "unknown name 'os' at character 1"),
    ("x.real.imag", "attributes (a.b) are not allowed at character 2"),
    ("x.real", "attributes"),
    ("a.__class__", "attributes"),
    ("x[0]", "subscripts"),
    ("[x]", "subscripts"),
    ("lambda x: x", "'lambda' at character 1"),
    ("'abc'", "strings are not allowed at character 1"),
    ('"abc"', "strings are not allowed"),
    ("x if a else b", "'if' at character 3"),
    ("import os", "'import'"),
    ("exec(x)", "unknown function 'exec' at character 1"),
    ("eval('1')", "unknown function 'eval'"),
    ("open(x)", "unknown function 'open'"),
    ("foo(x)", "unknown function 'foo'"),
    ("c*x", "unknown name 'c' at character 1"),
    ("x==1", "'='"),
    ("x;1", "';'"),
    ("x@a", "'@'"),
    ("{x}", "braces"),
    ("x\n+1", "unexpected character '\\n' at character 2"),
    ("2x", "missing operator between '2' and 'x' at character 2"),
    ("sin x", "sin at character 1 is a function"),
    ("sin()", "sin needs an argument"),
    ("clip(x, 1)", "clip at character 1 takes 3 arguments (got 2)"),
    ("min(x)", "takes at least 2 arguments"),
    ("sin(x, a)", "takes 1 argument (got 2)"),
    ("(x+1", "expected ')' to close the '(' opened at character 1"),
    ("x+1)", "unmatched ')' at character 4"),
    ("x +* a", "at character 4"),
    ("x+", "ends too early"),
    ("", "empty"),
    ("   ", "empty"),
    ("1e999*x", "too large"),
    ("x…", "unexpected character"),
]


@pytest.mark.parametrize("text,why", REFUSED)
def test_refused_formulas_say_what_and_where_in_one_line(text, why):
    with pytest.raises(ExprError) as err:
        parse(text, P)
    msg = str(err.value)
    assert why in msg, msg
    assert "\n" not in msg and len(msg) < 400


def test_a_non_text_formula_is_refused():
    for bad in (None, 3, ["x"], b"x"):
        with pytest.raises(ExprError, match="must be text"):
            parse(bad, P)


def test_limits_on_length_depth_and_size():
    with pytest.raises(ExprError, match="too long"):
        parse("x" + "+x" * MAX_LENGTH, P)
    with pytest.raises(ExprError, match="too long"):
        parse("x" + " " * MAX_RAW, P)
    assert parse("x" + " " * (MAX_LENGTH * 2), P).text == "x"      # spaces count less
    deep = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse(deep, P)
    ok = "(" * (MAX_DEPTH - 2) + "x" + ")" * (MAX_DEPTH - 2)
    assert parse(ok, P).text == "x"
    for nested in ("sin(" * 40 + "x" + ")" * 40, "-" * 40 + "x", "x^" * 40 + "x"):
        with pytest.raises(ExprError, match="nested too deeply"):
            parse(nested, P)
    with pytest.raises(ExprError, match="too big"):
        parse("+".join(["x"] * (MAX_NODES // 2 + 1)), P)
    assert len(parse("+".join(["x"] * (MAX_NODES // 4)), P).text) > 0


def test_parameter_names_are_checked():
    for bad in ("x", "sin", "pi", "lambda", "_a", "a b", "1a", "a" * 17, ""):
        with pytest.raises(ExprError):
            parse("x", (bad,))
    assert parse("amp*x + phase_2", ("amp", "phase_2")).params == ("amp", "phase_2")


def test_ranges():
    assert parse_range("0.1:5") == (0.1, 5.0)
    assert parse_range(" -5 : 5 ") == (-5.0, 5.0)
    assert parse_range("0:pi") == (0.0, math.pi)
    assert parse_range("-2*pi:2*pi") == (-2 * math.pi, 2 * math.pi)
    assert parse_range([0, 1]) == (0.0, 1.0)
    for bad, why in [("5", "LO:HI"), (5, "LO:HI"), ("1:1", "empty (1:1)"), ("2:1", "empty"),
                     ("a:1", "low end 'a' is not a number"), ("0:x", "high end 'x'"),
                     ("0:1/0", "finite"), ("0:1:2", "LO:HI"), (":1", "LO:HI"), ([1], "two"),
                     ([0, "1"], "two"), ([True, 2], "two"), (None, "LO:HI"),
                     ("0:__import__('os')", "not a number")]:
        with pytest.raises(ExprError) as err:
            parse_range(bad, "the range of a")
        assert why in str(err.value) and "the range of a" in str(err.value), (bad, err.value)


def test_every_function_is_callable_in_both_precisions():
    x, a, b = values(torch.float32)
    for name, (_, lo, _) in FUNCTIONS.items():
        f = parse(f"{name}({', '.join(['x'] * lo)})", P)
        for dt in (torch.float32, torch.float64):
            assert f.evaluate(x.to(dt), {}).dtype == dt


# ------------------------------------------------------------------ fuzz
PIECES = (["x", "a", "b", "c", "1", "2.5", "0", "1e3", "pi", "e", "(", ")", ",", "+", "-", "*",
           "/", "^", "**", " ", ".", "[", "]", "'", "_", "__import__", "os", "lambda", ":", "=",
           "\n", "é", "1e999", "9" * 30] + [f"{name}(" for name in FUNCTIONS])
CHARS = "xab01234.e()+-*/^,[]'\"_: =\\\t@#%!<>{}"


def random_formula(rng, depth=0) -> str:
    """A formula of the grammar (spaced at random)."""
    r = rng.random()
    if depth > 4 or r < 0.3:
        return rng.choice(["x", "a", "b", "pi", "e", "2", "0.5", "1e-3", "3.", ".25"])
    if r < 0.6:
        op = rng.choice(["+", "-", "*", "/", "^", "**"])
        sp = rng.choice(["", " "])
        return f"{random_formula(rng, depth + 1)}{sp}{op}{sp}{random_formula(rng, depth + 1)}"
    if r < 0.7:
        return rng.choice(["-", "+"]) + random_formula(rng, depth + 1)
    if r < 0.8:
        return f"({random_formula(rng, depth + 1)})"
    name = rng.choice(list(FUNCTIONS))
    lo = FUNCTIONS[name][1]
    return f"{name}({', '.join(random_formula(rng, depth + 1) for _ in range(lo))})"


def mutate(rng, text: str) -> str:
    """Insert, delete or replace one character or piece."""
    i = rng.randint(0, len(text))
    piece = rng.choice(PIECES + list(CHARS))
    how = rng.randint(0, 2)
    if how == 0:
        return text[:i] + piece + text[i:]
    if how == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + piece + text[i + 1:]


def fuzz_cases(n, seed=1234):
    rng = random.Random(seed)
    for i in range(n):
        kind = i % 4
        if kind == 0:
            yield "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 14)))
        elif kind == 1:
            yield "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 20)))
        elif kind == 2:
            yield random_formula(rng)
        else:
            yield mutate(rng, random_formula(rng))


def test_fuzz_random_strings_raise_only_expr_errors_and_parse_back():
    x, a, b = values(torch.float32)
    parsed = refused = 0
    for text in fuzz_cases(6000):
        try:
            f = parse(text, P)
        except ExprError as e:
            refused += 1
            assert "\n" not in str(e)
            continue
        parsed += 1
        again = parse(f.text, P)                          # canonical text parses to the same tree
        assert again.tree == f.tree, (text, f.text)
        assert len(f.text.replace(" ", "")) <= len(text.replace(" ", "").replace("\t", ""))
        y = f.evaluate(x, {"a": a, "b": b})                 # values never raise (NaN at worst)
        assert y.shape == x.shape
    assert parsed > 1500 and refused > 3000, (parsed, refused)   # the fuzz reached both sides


def test_fuzz_ranges_raise_only_expr_errors():
    rng = random.Random(99)
    good = 0
    for lo, hi in zip(fuzz_cases(2000, seed=5), fuzz_cases(2000, seed=6)):
        for value in (f"{lo}:{hi}", lo, [lo, hi], f"{rng.uniform(-9, 9):.3g}:{hi}"):
            try:
                a, b = parse_range(value, "the range of a")
            except ExprError as e:
                assert "\n" not in str(e) and "the range of a" in str(e)
                continue
            good += 1
            assert math.isfinite(a) and math.isfinite(b) and a < b
    assert good > 100, good

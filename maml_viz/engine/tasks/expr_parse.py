"""A small, safe formula language for task families typed by a person: `a*sin(x - b)`.

Nothing here runs Python code from the text: a hand-written tokenizer and recursive-descent
parser build a tree of a few node types, and the evaluator walks that tree calling a fixed table
of torch functions. Every refusal is an `ExprError` with ONE line saying what is wrong and where
(`position`: the 1-based character).

Grammar (the usual precedence; `^` and `**` are the same right-associative power, and bind
tighter than a unary minus on their left: -x^2 = -(x^2), 2^-x = 2^(-x)):

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := ('-' | '+') unary | power
    power := atom (('^' | '**') unary)?
    atom  := NUMBER | NAME | FUNCTION '(' expr (',' expr)* ')' | '(' expr ')'

Names: `x`, the parameters the caller allows (each needs a range), the constants `pi` and `e`,
and the functions in FUNCTIONS. Limits: MAX_LENGTH characters besides spaces (MAX_RAW in all),
MAX_DEPTH nested levels (parentheses, function calls, signs and powers), MAX_NODES tree nodes.

    f = parse("a*sin(x - b)", params=("a", "b"))
    y = f.evaluate(x, {"a": a, "b": b})       # torch tensors that broadcast: a [T,1], x [T,M]
    f.text                                      # canonical text: "a*sin(x - b)"
    parse_range("0:pi")                        # (0.0, 3.141592653589793)

This module imports nothing of the package (torch only), so it can be reused anywhere.
"""
from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field

import torch

MAX_LENGTH = 400          # characters of a formula, not counting spaces
MAX_RAW = 1000            # characters of a formula, spaces included
MAX_DEPTH = 32            # nested parentheses, calls, signs and powers
MAX_NODES = 300           # numbers, names and operations in the tree
MAX_NAME = 16             # characters of a parameter's name
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLE = "x"


def _clip(v, lo, hi):
    return torch.minimum(torch.maximum(v, lo), hi)


def _fold(op):
    def f(*args):
        out = args[0]
        for a in args[1:]:
            out = op(out, a)
        return out
    return f


# name -> (torch function, least arguments, most arguments (None: any number))
FUNCTIONS = {
    "sin": (torch.sin, 1, 1), "cos": (torch.cos, 1, 1), "tan": (torch.tan, 1, 1),
    "asin": (torch.asin, 1, 1), "acos": (torch.acos, 1, 1), "atan": (torch.atan, 1, 1),
    "sinh": (torch.sinh, 1, 1), "cosh": (torch.cosh, 1, 1), "tanh": (torch.tanh, 1, 1),
    "exp": (torch.exp, 1, 1), "log": (torch.log, 1, 1), "sqrt": (torch.sqrt, 1, 1),
    "abs": (torch.abs, 1, 1), "sign": (torch.sign, 1, 1), "floor": (torch.floor, 1, 1),
    "ceil": (torch.ceil, 1, 1), "round": (torch.round, 1, 1), "sigmoid": (torch.sigmoid, 1, 1),
    "relu": (torch.relu, 1, 1),
    "min": (_fold(torch.minimum), 2, None), "max": (_fold(torch.maximum), 2, None),
    "clip": (_clip, 3, 3),
}
_BINARY = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "^": torch.pow}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "pos": 3, "^": 4}   # atoms: 5


class ExprError(ValueError):
    """A formula or range that is refused; str() is one line. position: 1-based, or None."""

    def __init__(self, message: str, position: int | None = None):
        self.position = position
        super().__init__(message)


def _show(text: str, limit: int = 24) -> str:
    """User text, quoted and escaped onto one line, shortened."""
    s = text if len(text) <= limit else text[:limit] + "…"
    return repr(s)


# ------------------------------------------------------------------ tokens
_TOKEN = re.compile(r"""
    (?P<space>[ \t]+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^(),])
""", re.VERBOSE)
_WHY = {".": "attributes (a.b) are not allowed", "[": "subscripts ([ ]) are not allowed",
        "]": "subscripts ([ ]) are not allowed", "'": "strings are not allowed",
        '"': "strings are not allowed", ":": "':' is not allowed (lambdas, slices)",
        "=": "'=' is not allowed (f is an expression, not an assignment)",
        "%": "'%' is not allowed", "@": "'@' is not allowed", "{": "braces are not allowed",
        "}": "braces are not allowed", ";": "';' is not allowed (one expression only)",
        "\\": "backslashes are not allowed", "#": "comments are not allowed",
        "!": "'!' is not allowed", "<": "comparisons are not allowed",
        ">": "comparisons are not allowed", "&": "'&' is not allowed", "|": "'|' is not allowed",
        "~": "'~' is not allowed", "`": "backquotes are not allowed",
        "$": "'$' is not allowed", "?": "'?' is not allowed"}


@dataclass(frozen=True)
class Token:
    kind: str        # number, name, op, end
    text: str
    pos: int         # 0-based


def tokenize(text: str):
    """Yields the tokens, then an 'end' token; ExprError at the first character that is not
    part of the language."""
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            ch = text[i]
            why = _WHY.get(ch, f"unexpected character {ch!r}")
            if ch == "." and not re.match(r"[A-Za-z_]", text[i + 1:i + 2]):
                why = "a lone '.' is not a number"
            raise ExprError(f"{why} at character {i + 1}", i + 1)
        if m.lastgroup != "space":
            yield Token(m.lastgroup, m.group(), i)
        i = m.end()
    yield Token("end", "", len(text))


# ------------------------------------------------------------------ tree
@dataclass(frozen=True)
class Node:
    """op: 'num' (value), 'var' (name), 'neg'/'pos' (args[0]), a binary operator (two args), or
    'call' (name, args). pos: where it starts in the text (0-based)."""
    op: str
    pos: int = field(compare=False)      # trees compare by structure, wherever they were written
    value: float = 0.0
    name: str = ""
    args: tuple = ()


def _prec(n: Node) -> int:
    return _PREC.get(n.op, 5)


def unparse(n: Node) -> str:
    """The canonical text of a tree: numbers and names as written, parentheses only where the
    grammar needs them, spaces around binary + and -, `^` for powers. parse(unparse(t)) gives t's
    tree again, and its characters other than spaces are never more than the text's that gave t
    (so the length limit holds for it too)."""
    if n.op == "num":
        return n.name or repr(n.value)          # a number as written (1e-3), a constant (pi)
    if n.op == "var":
        return n.name
    if n.op == "call":
        return f"{n.name}({', '.join(unparse(a) for a in n.args)})"
    if n.op in ("neg", "pos"):
        a = unparse(n.args[0])
        return ("-" if n.op == "neg" else "+") + (f"({a})" if _prec(n.args[0]) < 3 else a)
    left, right = n.args
    lt, rt = unparse(left), unparse(right)
    p = _PREC[n.op]
    if n.op == "^":                     # right-associative; the exponent is a `unary`
        lt = f"({lt})" if _prec(left) <= 4 else lt
        rt = f"({rt})" if _prec(right) < 3 else rt
        return f"{lt}^{rt}"
    lt = f"({lt})" if _prec(left) < p else lt
    rt = f"({rt})" if _prec(right) <= p else rt
    return f"{lt} {n.op} {rt}" if p == 1 else f"{lt}{n.op}{rt}"


class _Parser:
    def __init__(self, text: str, params: frozenset):
        self.text, self.params = text, params
        self.tokens = tokenize(text)      # lazily: a bad character is met in reading order
        self.prev, self._tok = None, None
        self.depth = 0
        self.nodes = 0

    # helpers
    @property
    def tok(self) -> Token:
        """The next token (read from the text only now)."""
        if self._tok is None:
            self._tok = next(self.tokens)
        return self._tok

    def take(self) -> Token:
        t = self.tok
        self.prev = t
        if t.kind != "end":
            self._tok = None
        return t

    def node(self, *a, **kw) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"the formula is too big (more than {MAX_NODES} numbers, names and "
                            f"operations)", self.tok.pos + 1)
        return Node(*a, **kw)

    def fail(self, what: str, tok: Token | None = None):
        tok = tok or self.tok
        found = "the end of the formula" if tok.kind == "end" else repr(tok.text)
        raise ExprError(f"at character {tok.pos + 1}: {what}, found {found}", tok.pos + 1)

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"the formula is nested too deeply (more than {MAX_DEPTH} levels of "
                            f"parentheses, calls, signs or powers)", self.tok.pos + 1)

    # grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprError("the formula is empty", 1)
        n = self.expr()
        if self.tok.kind != "end":
            t = self.tok
            if t.text == ")":
                raise ExprError(f"unmatched ')' at character {t.pos + 1}", t.pos + 1)
            self.fail("expected an operator")
        return n

    def expr(self) -> Node:
        n = self.term()
        while self.tok.text in ("+", "-"):
            t = self.take()
            n = self.node(t.text, t.pos, args=(n, self.term()))
        return n

    def term(self) -> Node:
        n = self.unary()
        while self.tok.text in ("*", "/"):
            t = self.take()
            n = self.node(t.text, t.pos, args=(n, self.unary()))
        return n

    def unary(self) -> Node:
        self.enter()
        if self.tok.text in ("-", "+"):
            t = self.take()
            n = self.node("neg" if t.text == "-" else "pos", t.pos, args=(self.unary(),))
        else:
            n = self.power()
        self.depth -= 1
        return n

    def power(self) -> Node:
        n = self.atom()
        t, prev = self.tok, self.prev
        if t.kind == "name" and (t.text.startswith("_") or keyword.iskeyword(t.text)):
            self.check_name(t.text, t.pos + 1)
        if t.kind in ("number", "name") or t.text == "(":
            hint = (f" (write {prev.text}*{t.text})" if {prev.kind, t.kind} <= {"number", "name"}
                    else "")
            raise ExprError(f"missing operator between {prev.text!r} and {t.text!r} at "
                            f"character {t.pos + 1}{hint}", t.pos + 1)
        if self.tok.text in ("^", "**"):
            t = self.take()
            n = self.node("^", t.pos, args=(n, self.unary()))
        return n

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self.take()
            v = float(t.text)
            if not math.isfinite(v):
                raise ExprError(f"the number {_show(t.text)} at character {t.pos + 1} is too "
                                f"large", t.pos + 1)
            return self.node("num", t.pos, value=v, name=t.text)
        if t.kind == "name":
            return self.name()
        if t.text == "(":
            self.take()
            n = self.expr()
            if self.tok.text != ")":
                self.fail(f"expected ')' to close the '(' opened at character {t.pos + 1}")
            self.take()
            return n
        if t.kind == "end":
            after = f" after {self.prev.text!r}" if self.prev is not None else ""
            raise ExprError(f"the formula ends too early: expected a value{after}",
                            t.pos + 1)
        self.fail("expected a number, x, a parameter, a function or '('")

    def name(self) -> Node:
        t = self.take()
        name, at = t.text, t.pos + 1
        if name.startswith("_") or keyword.iskeyword(name) or keyword.issoftkeyword(name):
            self.check_name(name, at)
        try:
            nxt = self.tok
        except ExprError:                 # `os.system`: the unknown name comes first
            if name not in FUNCTIONS:
                self.check_name(name, at)
            raise
        if nxt.text == "(":
            if name not in FUNCTIONS:
                raise ExprError(f"unknown function {_show(name)} at character {at}; functions: "
                                f"{', '.join(FUNCTIONS)}", at)
            return self.call(t)
        if name in FUNCTIONS:
            raise ExprError(f"{name} at character {at} is a function: write {name}(...)", at)
        self.check_name(name, at)
        if name in CONSTANTS:
            return self.node("num", t.pos, value=CONSTANTS[name], name=name)
        return self.node("var", t.pos, name=name)

    def check_name(self, name: str, at: int) -> None:
        if name == VARIABLE or name in CONSTANTS or name in self.params:
            return
        if name.startswith("_"):
            why = "names starting with '_' are never allowed"
        elif keyword.iskeyword(name) or keyword.issoftkeyword(name):
            why = "Python keywords are not allowed"
        else:
            ps = ", ".join(sorted(self.params)) or "none given"
            why = (f"not x, a parameter with a range (parameters: {ps}), a function or a "
                   f"constant (pi, e); a new parameter needs a range, e.g. {name}=0:1")
        raise ExprError(f"unknown name {_show(name)} at character {at}: {why}", at)

    def call(self, t: Token) -> Node:
        fn, lo, hi = FUNCTIONS[t.text]
        open_ = self.take()
        self.enter()
        args = []
        if self.tok.text == ")":
            self.fail(f"{t.text} needs an argument")
        while True:
            args.append(self.expr())
            if self.tok.text == ",":
                self.take()
                continue
            if self.tok.text == ")":
                self.take()
                break
            self.fail(f"expected ',' or ')' in the call of {t.text} opened at character "
                      f"{open_.pos + 1}")
        self.depth -= 1
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = (f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}")
            raise ExprError(f"{t.text} at character {t.pos + 1} takes {want} argument"
                            f"{'s' if want != '1' else ''} (got {len(args)})", t.pos + 1)
        return self.node("call", t.pos, name=t.text, args=tuple(args))


# ------------------------------------------------------------------ the public objects
@dataclass(frozen=True)
class Formula:
    """A parsed formula: its tree, its canonical text and the names it uses."""
    tree: Node
    text: str
    names: frozenset          # parameters and x that appear in it (not constants)

    @property
    def uses_x(self) -> bool:
        return VARIABLE in self.names

    @property
    def params(self) -> tuple:
        return tuple(sorted(self.names - {VARIABLE}))

    def evaluate(self, x: torch.Tensor, params: dict) -> torch.Tensor:
        """The values at x for the parameters (tensors broadcasting with x, e.g. x [T, M] and
        each parameter [T, 1]); the result has x's shape and dtype (numbers are made in x's
        dtype). Domain errors give NaN or inf, as torch does; nothing raises for values."""
        env = {VARIABLE: x, **params}

        def ev(n: Node):
            if n.op == "num":
                return torch.tensor(n.value, dtype=x.dtype, device=x.device)
            if n.op == "var":
                return env[n.name]
            if n.op == "neg":
                return torch.neg(ev(n.args[0]))
            if n.op == "pos":
                return ev(n.args[0])
            if n.op == "call":
                return FUNCTIONS[n.name][0](*[ev(a) for a in n.args])
            return _BINARY[n.op](ev(n.args[0]), ev(n.args[1]))

        missing = sorted(self.names - set(env))
        if missing:
            raise ExprError(f"no value given for {', '.join(missing)}")
        out = ev(self.tree).to(x.dtype)
        return torch.broadcast_tensors(out, x)[0]      # (torch.broadcast_shapes imports sympy)


def parse(text, params=()) -> Formula:
    """Parse a formula in x and the allowed parameter names; ExprError (one line) if refused."""
    if not isinstance(text, str):
        raise ExprError(f"a formula must be text (got {type(text).__name__})")
    size = len(text) - text.count(" ") - text.count("\t")
    if size > MAX_LENGTH or len(text) > MAX_RAW:
        raise ExprError(f"the formula is too long ({size} characters besides spaces, {len(text)} "
                        f"in all; at most {MAX_LENGTH} and {MAX_RAW})")
    for name in params:
        check_param_name(name)
    tree = _Parser(text, frozenset(params)).parse()
    names, stack = set(), [tree]
    while stack:
        n = stack.pop()
        if n.op == "var":
            names.add(n.name)
        stack.extend(n.args)
    return Formula(tree, unparse(tree), frozenset(names))


def check_param_name(name) -> None:
    """A parameter's name: a letter, then letters, digits or '_' (at most MAX_NAME characters),
    and not x, a function, a constant or a Python keyword."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ExprError(f"{_show(str(name))} cannot name a parameter: use a letter followed by "
                        f"letters, digits or '_'")
    if len(name) > MAX_NAME:
        raise ExprError(f"the parameter name {_show(name)} is too long (at most {MAX_NAME} "
                        f"characters)")
    if name == VARIABLE or name in FUNCTIONS or name in CONSTANTS or keyword.iskeyword(name) \
            or keyword.issoftkeyword(name):
        raise ExprError(f"{name!r} cannot name a parameter: it is x, a function, a constant or a "
                        f"Python keyword")


def parse_range(value, what: str = "the range") -> tuple:
    """'LO:HI' (each side a number or a formula of numbers, pi and e), or [LO, HI] -> (lo, hi)
    floats with lo < hi, both finite. ExprError otherwise."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                  for v in value):
            raise ExprError(f"{what} must be two numbers LO:HI (got {_show(str(value), 40)})")
        lo, hi = float(value[0]), float(value[1])
    elif isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ExprError(f"{what} must look like LO:HI, e.g. 0.1:5 or 0:pi "
                            f"(got {_show(value, 40)})")
        ends = []
        for side, p in zip(("low", "high"), parts):
            try:
                f = parse(p)
                if f.names:
                    raise ExprError("a name")
            except ExprError:
                raise ExprError(f"{what}: the {side} end {_show(p.strip())} is not a number "
                                f"(numbers, pi, e and arithmetic of them only)")
            ends.append(float(f.evaluate(torch.zeros((), dtype=torch.float64), {})))
        lo, hi = ends
    else:
        raise ExprError(f"{what} must look like LO:HI, e.g. 0.1:5 (got {_show(str(value), 40)})")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ExprError(f"{what} must have finite ends (got {lo:g}:{hi:g})")
    if not lo < hi:
        raise ExprError(f"{what} is empty ({lo:g}:{hi:g}): the low end must be below the high end")
    return lo, hi

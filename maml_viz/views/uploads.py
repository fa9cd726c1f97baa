"""A user's own points (an uploaded or pasted CSV), read safely: decoded from UTF-8 (with or
without a byte-order mark), UTF-16 or Latin-1, parsed as a table, every cell checked, and the
points checked against the range the model was meta-trained on, before anything is adapted.

    parse_upload(raw_bytes, family)  ->  Points(x [n, in_dim], y [n], warnings)

Every problem raises `UploadError` (a ValueError) with one plain sentence saying what is wrong
(naming the line of the file) and what to do. Nothing is executed or unpickled: it is text.
"""
from __future__ import annotations

import codecs
import csv
import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..engine.tasks import ClassificationFamily, RegressionFamily, TaskFamily

MAX_ROWS = 1000
MAX_BYTES = 1_000_000
FAR = 10.0            # y further than FAR spans outside the meta-training range is refused


class UploadError(ValueError):
    pass


_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def escape_md(text) -> str:
    """Text from a user, a file or a link, safe to put in a Streamlit Markdown string: every
    Markdown / HTML character backslash-escaped (a link or an image in it shows as text)."""
    return _MD.sub(r"\\\1", str(text))


@dataclass
class Points:
    x: np.ndarray                      # [n, in_dim] float
    y: np.ndarray                      # [n] float (regression) or int (class labels)
    warnings: list = field(default_factory=list)


# ----------------------------------------------------------------------------- bytes -> text
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16")]


def decode(raw: bytes | str) -> str:
    """Text of an uploaded file: UTF-8 (BOM or not), UTF-16/32 (BOM, or UTF-16 without one),
    else Latin-1. Refuses what is not text."""
    if isinstance(raw, str):
        text = raw
    else:
        if len(raw) > MAX_BYTES:
            raise UploadError(f"the file is {len(raw):,} bytes; at most {MAX_BYTES:,} bytes "
                              f"({MAX_ROWS:,} points) are allowed")
        encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), None)
        head = raw[:2000]
        if encoding is None and len(head) >= 4 and head.count(0) >= len(head) // 4:
            # UTF-16 without a byte-order mark: every other byte of ASCII text is zero
            encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            text = raw.decode(encoding) if encoding else raw.decode("utf-8")
        except UnicodeDecodeError:
            if encoding:
                raise UploadError(f"the file starts like {encoding.upper()} text but is not valid "
                                  f"{encoding.upper()}: save it again as UTF-8 CSV")
            text = raw.decode("latin-1")
    bad = sum(1 for c in text[:5000] if ord(c) < 32 and c not in "\r\n\t")
    if "\x00" in text or bad > 2:
        raise UploadError("this is not a text (CSV) file: save your table as CSV and upload that")
    return text


# ----------------------------------------------------------------------------- text -> table
def read_table(raw: bytes | str) -> pd.DataFrame:
    """The table in an uploaded file, every cell as the text it holds (None if empty)."""
    text = decode(raw).lstrip("\ufeff")
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    lines = [ln for _, ln in numbered]
    if not lines:
        raise UploadError("the file is empty: give a header line naming the columns and one point "
                          "per line")
    header = lines[0]
    sep = ";" if header.count(";") > header.count(",") else "\t" if "\t" in header and \
        "," not in header else ","
    decimal = "," if sep == ";" and any(re.search(r"\d,\d", ln) for ln in lines[1:50]) else "."
    try:
        rows = list(csv.reader(lines, delimiter=sep, skipinitialspace=True))
    except csv.Error as e:
        raise UploadError(f"the file is not a table of values separated by '{sep}' ({e})")
    width = len(rows[0])
    for (n, _), row in zip(numbered[1:], rows[1:]):
        if len(row) != width:
            raise UploadError(f"line {n} has {len(row)} values but the header has {width}: give "
                              f"the same number of values, separated by '{sep}', on every line")
    clean = lambda v: None if not v.strip() else v.strip().replace(",", ".") if decimal == "," \
        else v.strip()
    df = pd.DataFrame([[clean(v) for v in row] for row in rows[1:]],
                      columns=[c.strip().lower() for c in rows[0]], dtype=object)
    df.attrs["lines"] = [n for n, _ in numbered[1:]]          # line of the file of each row
    return df


# ----------------------------------------------------------------------------- table -> numbers
_WORDS = {"nan": "NaN, 'not a number'", "inf": "infinity", "+inf": "infinity",
          "-inf": "minus infinity", "infinity": "infinity", "-infinity": "minus infinity",
          "+infinity": "infinity"}


def _numbers(df: pd.DataFrame, name: str, col) -> np.ndarray:
    out = np.empty(len(df))
    lines = df.attrs.get("lines") or range(2, len(df) + 2)      # the header is line 1
    for i, v in enumerate(df[col].tolist()):
        line = lines[i]
        if v is None:
            raise UploadError(f"line {line}: the {name} value is empty: every point needs a "
                              f"number in each column")
        if isinstance(v, float) and np.isnan(v):          # a table read by pandas: empty or NaN
            raise UploadError(f"line {line}: the {name} value is empty or not a number (NaN): "
                              f"every point needs an ordinary number in each column")
        text = str(v).strip()
        word = _WORDS.get(text.lower())
        if word:
            raise UploadError(f"line {line}: the {name} value is {word} ({text!r}), not a finite "
                              f"number; use ordinary numbers like 1.5")
        try:
            out[i] = float(text)
        except ValueError:
            raise UploadError(f"line {line}: the {name} value {text[:30]!r} is not a number; "
                              f"write numbers like 1.5 or -0.25")
        if not np.isfinite(out[i]):
            raise UploadError(f"line {line}: the {name} value {text[:30]!r} is too large: not a "
                              f"finite number; use ordinary numbers like 1.5")
    return out


def parse_points(df: pd.DataFrame, max_rows: int = MAX_ROWS, columns=("x", "y")):
    """The named numeric columns of a table of points, as float arrays (one per column), or
    UploadError saying what is wrong (a ValueError)."""
    if df is None or len(df) == 0:
        raise UploadError(f"the file has no rows of points: give a header line "
                          f"({','.join(columns)}) and one point per line")
    cols = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in columns if c not in cols]
    if missing:
        found = ", ".join(map(str, df.columns)) or "none"
        raise UploadError(f"missing column(s) {', '.join(missing)}: the first line must be a header "
                          f"naming the columns {', '.join(columns)} (found: {found[:80]})")
    if len(df) > max_rows:
        raise UploadError(f"the file has {len(df)} points; at most {max_rows} are allowed")
    return tuple(_numbers(df, c, cols[c]) for c in columns)


# ----------------------------------------------------------------------------- per family
@functools.singledispatch
def columns_for(family: TaskFamily) -> tuple:
    """The CSV columns a family's points need."""
    raise UploadError(f"{family.label} has no points to upload")


@columns_for.register
def _(family: RegressionFamily) -> tuple:
    return ("x", "y") if family.in_dim == 1 else tuple(f"x{i + 1}" for i in range(family.in_dim)) \
        + ("y",)


@columns_for.register
def _(family: ClassificationFamily) -> tuple:
    return tuple(f"x{i + 1}" for i in range(family.in_dim)) + ("label",)


def _fmt(v: float) -> str:
    return f"{v:g}".replace("-", "−")


def _check_x(family, x: np.ndarray, names, lines) -> None:
    lo, hi = family.x_range()
    bad = np.argwhere((x < lo) | (x > hi))
    if len(bad):
        i, j = bad[0]
        raise UploadError(f"{names[j]} must lie in [{_fmt(lo)}, {_fmt(hi)}], the range the model "
                          f"was meta-trained on (line {lines[i]} has {names[j]} = {x[i, j]:g}); "
                          f"{len(np.unique(bad[:, 0]))} point(s) are outside it")


@functools.lru_cache(maxsize=32)
def _y_range(family) -> tuple:
    """The targets seen in meta-training (2,000 tasks x 50 points from the training distribution)."""
    gen = torch.Generator().manual_seed(0)
    tasks = family.sample_tasks(2000, gen)
    _, y = family.sample_points(tasks, 50, gen)
    return float(y.min()), float(y.max())


@functools.singledispatch
def _check_y(family, y: np.ndarray, lines) -> tuple:
    return y, []


@_check_y.register
def _(family: RegressionFamily, y: np.ndarray, lines) -> tuple:
    lo, hi = _y_range(family)
    span = hi - lo
    far = (y < lo - FAR * span) | (y > hi + FAR * span)
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise UploadError(f"line {lines[i]}: y = {y[i]:g} is far outside the values the model was "
                          f"meta-trained on (about {_fmt(round(lo, 1))} to {_fmt(round(hi, 1))}); "
                          f"a few gradient steps cannot reach it: rescale your data into that "
                          f"range")
    out = (y < lo) | (y > hi)
    warn = [f"{int(out.sum())} point(s) have y outside {_fmt(round(lo, 1))} to "
            f"{_fmt(round(hi, 1))}, the values seen in meta-training: the adapted model may fit "
            f"them poorly"] if out.any() else []
    return y, warn


@_check_y.register
def _(family: ClassificationFamily, y: np.ndarray, lines) -> tuple:
    n = family.n_classes
    bad = np.flatnonzero((y != np.round(y)) | (y < 0) | (y >= n))
    if len(bad):
        i = int(bad[0])
        raise UploadError(f"line {lines[i]}: the label {y[i]:g} is not a class: labels are whole "
                          f"numbers from 0 to {n - 1}")
    return y.astype(np.int64), []


def check_points(family, x: np.ndarray, y: np.ndarray, lines=None) -> Points:
    """Refuse points outside the meta-training input range (and absurd targets); warn about
    targets outside the range seen in meta-training. lines: the file's line of each point."""
    names = columns_for(family)[:-1]
    x = np.asarray(x, dtype=float).reshape(len(y), -1)
    lines = list(lines) if lines is not None else list(range(2, len(y) + 2))
    _check_x(family, x, names, lines)
    y, warnings = _check_y(family, np.asarray(y, dtype=float), lines)
    return Points(x, y, warnings)


def parse_upload(raw: bytes | str, family, max_rows: int = MAX_ROWS) -> Points:
    """Decode, parse and check a user's CSV of points for `family`."""
    cols = columns_for(family)
    df = read_table(raw)
    values = parse_points(df, max_rows, cols)
    return check_points(family, np.stack(values[:-1], 1), values[-1], df.attrs.get("lines"))

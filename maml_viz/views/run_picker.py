"""Compare's list of runs as data: one row per run a family offers (labels in full, where it came
from), which of the ticked ones the charts draw (at most MAX_DRAWN, the first ticked), and a
small picture of each drawn run's line (its colour and dash, as the charts draw it).
"""
from __future__ import annotations

from urllib.parse import quote

import pandas as pd

from .links import run_fields

MAX_DRAWN = 5
# plotly's dash names as SVG stroke-dasharray (for a 3 px line)
_DASHES = {"solid": "", "dash": "9,5", "dot": "3,4", "dashdot": "9,4,3,4", "longdash": "16,5",
           "longdashdot": "16,4,3,4"}


def swatch(color: str, dash: str = "solid") -> str:
    """A data: URL of a short line in this colour and dash (a table's image cell)."""
    arr = _DASHES.get(dash or "solid", "")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="60" height="14">'
           f'<line x1="2" y1="7" x2="58" y2="7" stroke="{color}" stroke-width="3.5"'
           + (f' stroke-dasharray="{arr}"' if arr else "") + "/></svg>")
    return "data:image/svg+xml;utf8," + quote(svg)


BLANK = "data:image/svg+xml;utf8," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="14"/>')   # a run not drawn


def drawn(ticked: list, max_drawn: int = MAX_DRAWN) -> list:
    """The ticked runs the charts draw: the first max_drawn, in the order they were ticked."""
    return list(ticked)[:max_drawn]


def table(entries: list, drawn_keys: list, colors: dict, dashes: dict) -> pd.DataFrame:
    """Rows for the run picker. entries: [{key, config, info, default, bundled, when, label,
    trained}] (trained False: not stored yet, it can be trained from the page); drawn_keys: the
    runs drawn now; colors/dashes: their styles. Columns: line (a picture, empty when not
    drawn), algorithm, K, iterations, seed, other settings, origin, key (hidden)."""
    rows = []
    for e in entries:
        f = run_fields(e["config"], e.get("info"), e.get("default"), e.get("bundled", False),
                       e.get("when"), e.get("label"))
        f["origin"] = f["origin"].replace("trained ", "")         # the column says "trained"
        if not e.get("trained", True):
            f["origin"] = "not trained yet (ticking it offers to train it)"
        k = e["key"]
        line = swatch(colors[k], dashes.get(k, "solid")) if k in drawn_keys else BLANK
        rows.append({"line": line, **f, "key": k})
    return pd.DataFrame(rows, columns=["line", "algorithm", "task", "K", "iterations", "seed",
                                       "other settings", "origin", "key"])


def drawn_note(ticked: list, drawn_keys: list, names: dict) -> str:
    """What the page says when more runs are ticked than the charts draw ('' otherwise)."""
    if len(ticked) <= len(drawn_keys):
        return ""
    rest = [names.get(k, k) for k in ticked if k not in drawn_keys]
    return (f"{len(ticked)} runs are ticked; the charts draw the first {len(drawn_keys)} you "
            f"ticked (the rows with a line). Not drawn: {', '.join(rest)}. Untick one to draw "
            f"another.")

"""The colours every chart and page share: one per algorithm and per class (plain data and
string functions, no numpy or plotly: the Learn page's first screen and the in-page components
use them without loading either). figures/style.py re-exports them."""
from __future__ import annotations

import zlib

COLORS = {
    "maml": "#0072B2", "fomaml": "#56B4E9", "reptile": "#009E73", "anil": "#CC79A7",
    "metasgd": "#D55E00", "pretrained": "#E69F00", "scratch": "#7F7F7F", "oracle": "#000000",
    "support": "#555555",   # support-set curves (not an algorithm)
}
# algorithms from plugins (or any other name): muted colours that no built-in algorithm has,
# the same one for a name everywhere (a hash of it, not the order of loading)
OTHER_COLORS = ["#8C564B", "#6B6B00", "#5B3A8C", "#2F4F4F"]
CLASS_NAMES = ["red", "violet", "orange", "green", "blue", "gray", "yellow"]
CLASS_COLORS = ["#9E303B", "#6F33B8", "#9B4519", "#0C5A44", "#244FB4", "#686255", "#956B0F"]
BEFORE = "#9E9E9E"          # "before adapting" is grey everywhere
TRUE = dict(color="black", dash="dash", width=2)
FONT = dict(size=13)
STEP_SLIDER = "step"        # the name of every step slider (pages/_shared/ui.py looks for it)


def color(algo: str) -> str:
    """An algorithm's colour (a built-in's own; any other name, e.g. a plugin's, one of
    OTHER_COLORS); a '#rrggbb' colour is itself."""
    if algo in COLORS or str(algo).startswith("#"):
        return COLORS.get(algo, algo)
    return OTHER_COLORS[zlib.crc32(str(algo).encode()) % len(OTHER_COLORS)]


def class_color(c: int) -> str:
    return CLASS_COLORS[int(c) % len(CLASS_COLORS)]


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"

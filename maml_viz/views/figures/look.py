"""How each algorithm's line and mark look on the Learn page's charts (figures/learn.py), apart
from its colour (style.COLORS); plain data, so that the page's words can name the marks without
importing plotly."""
LOOK = {"maml": dict(dash="solid", symbol="circle", width=4),
        "fomaml": dict(dash="dash", symbol="square", width=4),
        "reptile": dict(dash="dot", symbol="triangle-up", width=4),
        "pretrained": dict(dash="dashdot", symbol="star", width=3)}

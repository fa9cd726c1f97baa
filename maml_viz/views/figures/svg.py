"""Static pictures as SVG text, for charts a reader only looks at (no hover, no slider): they
need no Plotly.js, so a page can show them the moment its script has run. Pure functions of
plain numbers; they import nothing but the standard library (the Learn page's first screen
imports no numpy and no plotly). Every text is escaped."""
from __future__ import annotations

import html

INK, GRID, ZERO = "#808495", "#E6EAF1", "#C9CED8"     # Streamlit's chart theme: ticks, grid
FONT = '"Source Sans", "Source Sans Pro", sans-serif'


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v == v else "0"


def _tick(v: float) -> str:
    return ("−" if v < 0 else "") + f"{abs(v):g}"              # Plotly's minus sign


def task_gallery_svg(x, ys, titles, cols: int = 4, width: int = 940, panel_height: int = 170,
                     x_ticks=(-4, 0, 4), y_ticks=None, y_range=None, label: str = "") -> str:
    """Small multiples like figures/regression.task_gallery: one curve per panel, all on one
    scale (y_range, default ±1.1·max|y|), titles above the panels, y ticks on the first column
    and x ticks under the last row. Returns an <svg> that scales to its container's width."""
    x = [float(v) for v in x]
    ys = [[float(v) for v in y] for y in ys]
    n = len(ys)
    rows = (n + cols - 1) // cols
    if y_range is None:
        top = max((abs(v) for y in ys for v in y if v == v), default=1.0) * 1.1 or 1.0
        y_range = (-top, top)
    lo, hi = float(y_range[0]), float(y_range[1])
    if y_ticks is None:
        step = 5 if hi - lo > 6 else 1
        y_ticks = [t for t in range(int(lo // step) * step, int(hi) + 1, step) if lo <= t <= hi]
    left, right, top_m, bottom, gap_x, gap_y, title_h = 34, 6, 4, 26, 18, 16, 20
    pw = (width - left - right - gap_x * (cols - 1)) / cols
    height = top_m + rows * (title_h + panel_height) + (rows - 1) * gap_y + bottom
    x0, x1 = min(x), max(x)
    sx = lambda v, c: left + c * (pw + gap_x) + (v - x0) / (x1 - x0) * pw            # noqa: E731
    sy = lambda v, r: (top_m + r * (title_h + panel_height + gap_y) + title_h        # noqa: E731
                       + (hi - v) / (hi - lo) * panel_height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
           f'width="100%" role="img" aria-label="{html.escape(label, quote=True)}" '
           f'style="display:block;max-width:{width}px;font-family:{html.escape(FONT)}">']
    for i, y in enumerate(ys):
        r, c = divmod(i, cols)
        px, py = left + c * (pw + gap_x), top_m + r * (title_h + panel_height + gap_y) + title_h
        for t in y_ticks:                                         # grid and zero line
            yy = sy(t, r)
            out.append(f'<line x1="{px:.1f}" x2="{px + pw:.1f}" y1="{yy:.1f}" y2="{yy:.1f}" '
                       f'stroke="{ZERO if t == 0 else GRID}" stroke-width="1"/>')
            if c == 0:
                out.append(f'<text class="tick" x="{px - 6:.1f}" y="{yy + 4:.1f}" text-anchor="end" '
                           f'font-size="12" fill="{INK}">{_tick(t)}</text>')
        if r == rows - 1 or i + cols >= n:
            for t in x_ticks:
                out.append(f'<text class="tick" x="{sx(t, c):.1f}" y="{py + panel_height + 17:.1f}" '
                           f'text-anchor="middle" font-size="12" fill="{INK}">{_tick(t)}</text>')
        title = html.escape(str(titles[i]) if i < len(titles) else "")
        out.append(f'<text class="title" x="{px + pw / 2:.1f}" y="{py - 7:.1f}" text-anchor="middle" '
                   f'font-size="12" fill="{INK}">{title}</text>')
        pts = " ".join(f"{sx(a, c):.1f},{sy(min(max(b, lo), hi), r):.1f}"
                       for a, b in zip(x, y) if b == b)
        out.append(f'<polyline points="{pts}" fill="none" stroke="black" stroke-width="2" '
                   f'stroke-linejoin="round"/>')
    out.append("</svg>")
    return "".join(out)

"""Checks that what a caption says is what its chart draws, read back from the figure JSON the
page sends (AppTest) — independent of the code that wrote the caption:

- every legend entry has a visible trace (a point with a finite value, in its legend group);
- every value off the fixed axis has an edge marker that writes its value;
- an order a caption names ("After 1 step, best first: A 0.37, B 0.46, …") is the order of the
  chart's values at that step, with the values it writes, and the pairs it calls level are exactly
  the neighbours whose 95% intervals overlap;
- the runs a caption says are off the chart are exactly those with edge markers.
"""
import base64
import re

import numpy as np


def arr(v):
    """Plotly 7 encodes arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if isinstance(v.get("shape"), str):
            return a.reshape([int(s) for s in v["shape"].split(",")])
        return a
    return np.asarray(v if v is not None else [], dtype=float)


def plain(text: str) -> str:
    """What a Markdown text whose punctuation is backslash-escaped shows."""
    return re.sub(r"\\(.)", r"\1", text)


def legend_entries_visible(fig) -> list:
    """The legend entries (names) that have no visible point: should be []."""
    groups = {}
    for t in fig["data"]:
        g = t.get("legendgroup") or t.get("name")
        ys = arr(t.get("y", t.get("z")))
        groups.setdefault(g, []).append(bool(np.isfinite(ys.astype(float)).any()) if ys.size else False)
    bad = []
    for t in fig["data"]:
        if t.get("showlegend") is False or not t.get("name") or t.get("type") == "heatmap":
            continue
        if t.get("mode") == "text":
            continue
        if not any(groups[t.get("legendgroup") or t.get("name")]):
            bad.append(t["name"])
    return bad


def curve_values(fig) -> dict:
    """{legend name: {step: (value, ci)}} from an error-against-steps chart: the line's points,
    and for the steps off the chart the edge markers' values (which must be written beside them:
    asserted here); a diverged step reads NaN. ci: the 95% half-width the line's hover shows."""
    out, cis = {}, {}
    for t in fig["data"]:
        name = t.get("name") or ""
        if t.get("mode") == "lines+markers":
            ci = arr(t.get("customdata"))
            for i, (x, y) in enumerate(zip(arr(t["x"]), arr(t["y"]))):
                cis.setdefault(name, {})[int(x)] = float(ci[i]) if ci.size else np.nan
                if np.isfinite(y):
                    out.setdefault(name, {})[int(x)] = float(y)
    for t in fig["data"]:
        name = t.get("name") or ""
        if name.endswith(" off the chart"):
            base, vals = name[:-len(" off the chart")], arr(t["customdata"])
            assert "text" in t["mode"] and list(t["text"]) == [f"{v:.3g}" for v in vals], \
                f"{name}: an off-chart value without its value written"
            for x, v in zip(arr(t["x"]), vals):
                out.setdefault(base, {})[int(x)] = float(v)
        elif name.endswith(" diverged"):
            out.setdefault(name[:-len(" diverged")], {})[int(arr(t["x"])[0])] = np.nan
    return {n: {s: (v, cis.get(n, {}).get(s, np.nan)) for s, v in d.items()} for n, d in out.items()}


def sentences(caption: str) -> list:
    """The sentences of `caption` (one ends with '.' before a space and a capital letter, or at
    the end: '0.37' is not an end)."""
    return [s for s in re.split(r"(?<=\.) (?=[A-Z])", plain(caption).strip()) if s]


def names_in(text: str, names) -> list:
    """The names that occur in text, in the order they occur (a name inside a longer one, MAML
    in FOMAML, is not counted: the longer names are found first and masked)."""
    found = []
    for name in sorted(names, key=len, reverse=True):
        for m in re.finditer(re.escape(name) + r"(?=[ ,;.]|$)", text):
            if text[max(0, m.start() - 1)] not in "#" and (m.start() == 0 or not text[m.start() - 1].isalnum()):
                found.append((m.start(), name))
                text = text[:m.start()] + "#" * len(name) + text[m.end():]
                break
    return [name for _, name in sorted(found)]


def check_ranking(caption: str, fig, higher_is_better: bool) -> int:
    """Check every "After N step(s), best first: …" sentence against the chart (the order, the
    values written, diverged last) and the "Level within their 95% intervals" sentence after it
    (exactly the neighbours whose intervals overlap). Returns how many orders were checked."""
    values = curve_values(fig)
    names = sorted(values, key=len, reverse=True)          # longest first: "MAML" in "FOMAML"
    sents, n = sentences(caption), 0
    for j, sent in enumerate(sents):
        m = re.match(r"After (\d+) steps?, best first: (.*)\.$", sent)
        if not m:
            continue
        step, body = int(m.group(1)), m.group(2)
        order = names_in(body, names)
        assert sorted(order) == sorted(x for x in values if step in values[x]), (sent, order)
        vals = [values[name][step][0] for name in order]
        finite = [v for v in vals if np.isfinite(v)]
        assert finite == sorted(finite, reverse=higher_is_better), f"{sent}: the chart has {vals}"
        assert all(np.isfinite(v) for v in vals[:len(finite)]), f"{sent}: diverged not last"
        for name in order:                                 # the value written is the chart's
            v = values[name][step][0]
            written = re.search(re.escape(name) + r" (-?[\d,]+\.?\d*|diverged)", body).group(1)
            assert written == "diverged" if not np.isfinite(v) else \
                abs(float(written.replace(",", "")) - v) <= 0.0006 + 1e-3 * abs(v), (name, written, v)
        level = set()
        for a, b in zip(order, order[1:]):
            (ma, ca), (mb, cb) = values[a][step], values[b][step]
            if np.isfinite(ma) and np.isfinite(mb) and abs(ma - mb) <= np.nan_to_num(ca) + np.nan_to_num(cb):
                level.add((a, b))
        said = set()
        nxt = sents[j + 1] if j + 1 < len(sents) else ""
        if nxt.startswith("All of them are level within their 95% intervals"):
            said = set(zip(order, order[1:]))
        elif nxt.startswith("Level within their 95% intervals (order not sure): "):
            for chain in nxt[len("Level within their 95% intervals (order not sure): "):-1].split("; "):
                members = names_in(chain, names)
                said |= set(zip(members, members[1:]))
        assert said == level, f"after {step}: caption says level {said}, the chart's intervals {level}"
        n += 1
    return n


def off_chart_runs(caption: str) -> set:
    """The runs a caption says are above/below the chart."""
    return {m.group(1) for m in re.finditer(r"([^.]*?) is (?:above|below) the chart", plain(caption))}


def edge_marked_runs(fig) -> set:
    return {t["name"][:-len(" off the chart")] for t in fig["data"]
            if (t.get("name") or "").endswith(" off the chart") and len(arr(t.get("x")))}

"""What a page shows, read from an AppTest run: Streamlit's own charts and captions, and the
charts the page draws itself from the figures handed to it: Compare's averaged chart
(pages/_shared/avg_chart.py: the figure at the page's K and its caption; the charts ahead it also
holds are read by `held`) and Handwriting's grids (pages/_shared/hw_grids.py)."""
import json


def _avg(at):
    for el in at.get("bidi_component"):
        d = json.loads(el.proto.json)
        if isinstance(d, dict) and {"sig", "k", "charts"} <= set(d) and not d.get("feed"):
            return d
    return None


def held(at) -> dict:
    """{K: (figure, caption)} of every averaged chart the page was handed in this run."""
    d = _avg(at)
    return {} if d is None else {int(k): (json.loads(c["spec"]), c["caption"])
                                 for k, c in json.loads(d["charts"]).items()}


def averaged(at):
    """(figure, caption) of the averaged chart at the page's K, or None."""
    d = _avg(at)
    return None if d is None else held(at)[int(d["k"])]


def grids(at) -> tuple:
    """([figure], [caption]) of Handwriting's grids as the page draws them (the drawings shown),
    or ([], [])."""
    for el in at.get("bidi_component"):
        d = json.loads(el.proto.json)
        if isinstance(d, dict) and "button" in d and not d.get("feed"):
            c = json.loads(d["charts"])[str(d["draw"])]
            figs = [json.loads(s) for s in c["specs"]]
            for f in figs[1:]:                            # "first": the first grid's drawings
                if f["data"][0]["z"] == "first":
                    f["data"][0]["z"] = figs[0]["data"][0]["z"]
            return figs, c["captions"]
    return [], []


def figures(at) -> list:
    """Handwriting's grids, Streamlit's Plotly figures, then Compare's averaged chart."""
    out = grids(at)[0] + [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    a = averaged(at)
    return out + ([a[0]] if a else [])


def captions(at) -> list:
    """Handwriting's grids' captions, Streamlit's captions (Markdown-escaped, as sent), then
    Compare's averaged chart's (plain)."""
    a = averaged(at)
    return grids(at)[1] + [c.value for c in at.caption] + ([a[1]] if a else [])


def live(at) -> dict:
    """The data of the one-task chart computed in the page (pages/_shared/compare_component.py)."""
    return next(d for el in at.get("bidi_component")
                if isinstance(d := json.loads(el.proto.json), dict) and "payloads" in d)

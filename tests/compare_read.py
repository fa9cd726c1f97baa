"""What the Compare page shows, read from an AppTest run: Streamlit's own charts and captions,
and the averaged chart that the page draws itself (pages/_shared/avg_chart.py: the figure at the
page's K and its caption; the charts at K ± 1 it also holds are read by `held`)."""
import json


def _avg(at):
    for el in at.get("bidi_component"):
        d = json.loads(el.proto.json)
        if isinstance(d, dict) and "charts" in d and not d.get("feed"):
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


def figures(at) -> list:
    """Streamlit's Plotly figures, then the averaged chart's."""
    out = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    a = averaged(at)
    return out + ([a[0]] if a else [])


def captions(at) -> list:
    """Streamlit's captions (Markdown-escaped, as sent), then the averaged chart's (plain)."""
    a = averaged(at)
    return [c.value for c in at.caption] + ([a[1]] if a else [])


def live(at) -> dict:
    """The data of the one-task chart computed in the page (pages/_shared/compare_component.py)."""
    return next(d for el in at.get("bidi_component")
                if isinstance(d := json.loads(el.proto.json), dict) and "payloads" in d)

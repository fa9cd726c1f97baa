"""The Navigation page says only what its charts show (issue 20, items 1-3). For every algorithm
it offers, the page is rendered (AppTest) and each claim of its words is checked against the
figure's own data: the numbers and orderings named, every legend entry drawn, every value off
the chart marked on the edge with its value, a mark named in a caption present, one wording of
the x-axis on both charts, an oracle never said to adapt; the default goal shows the story
(Pretrained clearly below MAML at every step shown) and the page says what the chart shows."""
import json
import os
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import algorithms_for, make_config
from maml_viz.runs.store import RunStore
from maml_viz.views import navigation as nav
from maml_viz.views.adaptation import metric_range
from maml_viz.views.figures.navigation import STEPS_TITLE, labelled_edges, navigation_steps
from maml_viz.views.figures.style import edge_traces
from maml_viz.views.text import unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM = r"(-?\d+\.\d)"


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path_factory.getbasetemp() / "nav-runs"))


@pytest.fixture(autouse=True)
def server_chart(request, monkeypatch):
    """The plane the server draws for runs the browser cannot roll out (a plugin's family or
    inner loop): the bundled runs drawn that way, except in the tests marked `live`."""
    if "live" not in request.keywords:
        import pages._shared.nav_component as live
        monkeypatch.setattr(live, "supported", lambda *runs: False)


@pytest.fixture(scope="module")
def store():
    return RunStore([os.path.join(ROOT, "assets", "runs")])


def page(**query):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    at.switch_page("pages/4_Navigation.py")
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def arr(v):
    import base64
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.array([np.nan if x is None else x for x in (v or [])], dtype=float)


def charts(at):
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def texts(at):
    return [unescape(m.value) for m in at.markdown] + [unescape(c.value) for c in at.caption]


def on_panel(t, panel):
    return t.get("xaxis", "x") == ("x" if panel == 1 else f"x{panel}")


def legend_drawn(fig):
    """Every legend entry of the figure (as opened) draws something."""
    for t in fig["data"]:
        if t.get("showlegend", True) is False:
            continue
        xs = arr(t.get("x"))
        assert len(xs) and np.isfinite(arr(t.get("y"))).any(), f"legend entry {t.get('name')!r} draws nothing"


def edge_marks(fig, panel=None):
    """{(trace name, step): text} of the off-chart markers."""
    out = {}
    for t in fig["data"]:
        if (t.get("name") or "").endswith("off the chart") and (panel is None or on_panel(t, panel)):
            for x, text in zip(arr(t["x"]), t.get("text") or [None] * len(arr(t["x"]))):
                out[(t["name"][:-len(" off the chart")], int(x))] = text
    return out


def curve_values(fig, name, panel=None):
    """A named curve's value at each step: the line where it is on the chart, else its edge
    marker's value (the marker must say it)."""
    t = next(t for t in fig["data"] if t.get("name") == name and (panel is None or on_panel(t, panel)))
    y = arr(t["y"]).copy()
    for (n, x), text in edge_marks(fig, panel).items():
        if n == name and np.isnan(y[x]):
            assert text is not None, f"{name}'s value at step {x} is off the chart with no value"
            y[x] = float(text)
    return y


# ----------------------------------------------------------------------------- the figure builders
def test_off_chart_values_are_marked_on_the_edge_with_their_value():
    r = np.array([-40.0, -130.5, -20.0, -560.0])
    marks = labelled_edges(edge_traces(np.arange(4), r, (-83, 0), False, "#000", "Pretrained"))
    assert len(marks) == 1 and marks[0]["mode"] == "markers+text"
    assert list(marks[0]["x"]) == [1, 3] and marks[0]["text"] == ["-130.5", "-560.0"]
    pos = np.zeros((4, 3, 5, 2))
    fig = navigation_steps(pos, r, (0.1, 0.1), "pretrained", "Pretrained", (-83, 0),
                           reference=("MAML", "maml", np.array([-40.0, -90.0, -3.0, -2.0])))
    spec = json.loads(fig.to_json())
    assert edge_marks(spec, 2) == {("Pretrained", 1): "-130.5", ("Pretrained", 3): "-560.0",
                                   ("MAML", 1): "-90.0"}
    assert np.allclose(curve_values(spec, "MAML on this goal (for comparison)", 2)[[0, 2, 3]],
                       [-40, -3, -2])
    assert spec["layout"]["meta"]["goal_plane"] and spec["layout"]["dragmode"] is False


def test_the_story_goal_is_stored_for_the_bundled_runs_and_still_tells_the_story(store):
    maml, pre = (store.get(make_config(family="navigation", algo=a)) for a in ("maml", "pretrained"))
    goal = nav.story_goal(maml.key, pre.key)
    assert goal != nav.FALLBACK_GOAL, "assets/navigation_story.json is not for the bundled runs"
    stored = json.loads(nav.STORY.read_text())
    steps = stored["steps"]
    rm = nav.rollouts(maml, goal, steps, stored["seed"])[1]
    rp = nav.rollouts(pre, goal, steps, stored["seed"])[1]
    np.testing.assert_allclose(rm, stored["meta"], atol=1e-3)     # the page draws these
    np.testing.assert_allclose(rp, stored["baseline"], atol=1e-3)
    assert (rm[1:] - rp[1:] >= 5).all(), (rm, rp)                  # clearly worse, every step
    lo, hi = metric_range(maml.family)
    assert (np.r_[rm, rp] >= lo).all()                             # both curves on the chart
    assert nav.story_goal("other", pre.key) == nav.FALLBACK_GOAL


# ----------------------------------------------------------------------------- the page
def check_plane(at, store, algo):
    fig = charts(at)[0]
    run = store.get(make_config(family="navigation", algo=algo))
    legend_drawn(fig)
    names = [t.get("name", "") for t in fig["data"]]
    if not nav.adapts(run):
        assert not any("after adapting" in n for n in names), names
        assert "before adapting" not in names
    assert fig["layout"]["xaxis2"]["title"]["text"] == STEPS_TITLE
    goal = next(t for t in fig["data"] if t.get("name") == "goal")
    assert goal["marker"]["symbol"] == "star" and goal["marker"]["color"] == "#D62728"
    label = next(n for n in names if n.endswith("after adapting") or n.endswith("(never adapts)"))
    label = label.rsplit(" after adapting", 1)[0].rsplit("'s tries", 1)[0]
    ret = curve_values(fig, "return", 2)
    marks = edge_marks(fig, 2)
    for s, v in enumerate(ret):       # the line breaks off the chart: its mark says the value
        if np.isnan(v):
            assert marks.get((label, s)) is not None, (s, marks)
            ret[s] = float(marks[(label, s)])
    lo, hi = fig["layout"]["yaxis2"]["range"]
    for (who, s), text in marks.items():              # and every mark is off the chart
        if who == label:
            assert not lo <= float(text) <= hi, (s, text)
    story = next(t for t in texts(at) if t.startswith(("At this goal", f"{label} is told")))
    ref = next((n for n in names if n.endswith("(for comparison)")), None)
    own = story.split(f" {ref.split(' on this goal')[0]} on the same goal")[0] if ref else story
    if nav.adapts(run):
        said = re.findall(NUM + r" (?:after (\d+) steps?|before adapting)", own)
        assert len(said) >= 2, own
        for value, s in said:
            assert f"{ret[int(s) if s else 0]:.1f}" == value, (own, ret)
    else:
        m = re.search(r"stays between " + NUM + " and " + NUM, own)
        assert m and (m[1], m[2]) == (f"{ret.min():.1f}", f"{ret.max():.1f}"), (own, ret)
    if ref is not None:
        rv = curve_values(fig, ref, 2)
        who = ref.split(" on this goal")[0]
        m = re.search(re.escape(who) + r" on the same goal \(dotted\): " + NUM + r" after (\d+) "
                      r"steps?, (above|below) .*'s " + NUM, story)
        assert m, story
        assert f"{rv[int(m[2])]:.1f}" == m[1] and f"{ret[int(m[2])]:.1f}" == m[4]
        assert (rv[int(m[2])] > ret[int(m[2])]) == (m[3] == "above")
    caption = next(t for t in texts(at) if t.startswith(("Grey:", "Coloured:")))
    assert "red star" in caption and "▼" in caption
    return fig, ret


def check_all_algorithms(at):
    curves = next(f for f in charts(at) if f["layout"]["yaxis"].get("title", {}).get("text") ==
                  "average return" and "frames" not in f)
    assert curves["layout"]["xaxis"]["title"]["text"] == STEPS_TITLE
    caption = next(t for t in texts(at) if t.startswith("Average return against"))
    lines = {t["name"]: t for t in curves["data"] if t.get("mode") == "lines+markers"}
    legend_drawn({"data": list(lines.values())})
    val = {n: curve_values(curves, n) for n in lines}
    ci = {n: arr(t["customdata"]) for n, t in lines.items()}
    for who, v in re.findall(r"(\w[\w-]*) is told the goal and never adapts \(" + NUM + r"\): the "
                             r"ceiling", caption):
        assert f"{val[who][-1]:.1f}" == v
        assert all((val[who] >= val[o]).all() for o in val if o != who)
    m = re.search(r"After (\d+) steps the meta-learned starts are, best first: ", caption)
    assert m, caption
    last = int(m[1])
    order = re.findall(r"([A-Z][\w-]*(?: [a-z]+)?) " + NUM, caption[m.end():].split(". ")[0])
    assert len(order) >= 2
    for who, v in order:
        assert f"{val[who][last]:.1f}" == v, (who, v, val[who])
    assert [float(v) for _, v in order] == sorted((float(v) for _, v in order), reverse=True)
    lv = re.search(r"([^.]+) are level: their 95% intervals overlap", caption)
    if lv:
        group = [w for w, _ in order if w in lv[1]]
        assert len(group) >= 2
        for a in group:
            for b in group:
                assert abs(val[a][last] - val[b][last]) <= ci[a][last] + ci[b][last]
    meta_floor = min(val[w][last] for w, _ in order)
    for who, v0, v1, rest in re.findall(r"([A-Z][\w ]*?) goes from " + NUM + r" before adapting to "
                                        + NUM + r" after \d+ steps([^.]*)", caption):
        assert f"{val[who][0]:.1f}" == v0 and f"{val[who][last]:.1f}" == v1
        if "ends below every meta-learned start" in rest:
            assert val[who][last] < meta_floor
        if "climbs at every step" in rest:
            assert (np.diff(val[who]) > 0).all()
        if "gets worse after its first step" in rest:
            assert val[who][2] < val[who][1]
    if "marked" in caption or "▼" in caption:         # a mark named in the caption exists
        assert edge_marks(curves) and all(t is not None for t in edge_marks(curves).values())
    hist = next((t for t in texts(at) if t.startswith("Meta-training")), None)
    if hist and "Every curve rose" in hist:
        hfig = next(f for f in charts(at) if f["layout"]["xaxis"].get("title", {}).get("text") ==
                    "meta-training iteration")
        for t in hfig["data"]:
            if t.get("showlegend", True) is not False:
                y = arr(t["y"])
                k = max(1, len(y) // 10)
                assert y[-k:].mean() > y[:k].mean(), t["name"]


@pytest.mark.parametrize("algo", algorithms_for("navigation", baselines=True))
def test_every_claim_on_the_page_holds_for_each_algorithm(store, algo):
    at = page(algo=algo)
    fig, _ = check_plane(at, store, algo)
    if algo == "maml":
        check_all_algorithms(at)


def test_the_default_goal_shows_the_story_and_the_page_says_what_it_shows(store):
    at = page()
    fig = charts(at)[0]
    goal = next(t for t in fig["data"] if t.get("name") == "goal")
    maml, pre = (store.get(make_config(family="navigation", algo=a)) for a in ("maml", "pretrained"))
    g = (float(arr(goal["x"])[0]), float(arr(goal["y"])[0]))
    assert g == nav.story_goal(maml.key, pre.key)
    at = page(algo="pretrained")                      # a newcomer who picks Pretrained first
    fig, ret = check_plane(at, store, "pretrained")
    maml_ret = curve_values(fig, "MAML on this goal (for comparison)", 2)
    assert (maml_ret[1:] - ret[1:] >= 5).all(), (maml_ret, ret)
    story = next(t for t in texts(at) if t.startswith("At this goal Pretrained"))
    assert "MAML on the same goal" in story and "above Pretrained's" in story


@pytest.mark.live
def test_the_page_hands_the_browser_plane_its_runs_goal_and_words(store):
    """Bundled runs: the plane is computed in the browser (tests/test_navigation_view.py checks
    its maths and words against the engine's). The page hands it the chosen run and the one drawn
    for comparison, a link's goal, seed, steps and step, and the words under the chart."""
    at = page(algo="pretrained", goal="0.25,-0.3", seed=7, steps=2, step=2)
    live = json.loads(at.get("bidi_component")[-1].proto.json)
    pre, maml = (store.get(make_config(family="navigation", algo=a)) for a in ("pretrained", "maml"))
    assert (live["run"]["run"]["key"], live["ref"]["run"]["key"]) == (pre.key, maml.key)
    assert (live["goal"], live["seed"], live["steps"], live["step"]) == ([0.25, -0.3], 7, 2, 2)
    assert live["caption"] == nav.plane_caption(pre, "Pretrained") and live["adapting"]
    assert live["label"] == "Pretrained" and live["ref_label"] == "MAML"
    assert "Random goal" not in [b.label for b in at.button]      # the plane's own button
    assert not charts(at)[0].get("frames")                        # no server plane drawn

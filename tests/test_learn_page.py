"""The Learn page in AppTest: predictions reveal their chart and say why; every widget has help;
every italic term is in the glossary and linked once; the charts' sliders, legends and marks say
what they draw (issue 20 item 6: each of those tests failed on main before the fix); the racers'
colours stay apart for colour-blind readers; presenter mode walks the scenes; ?hide= hides
controls; every page has the same glossary."""
import json
import os
import re

import numpy as np
import pytest

from maml_viz.views import glossary, learn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


WIDGETS = ["button", "selectbox", "multiselect", "slider", "select_slider", "number_input",
           "text_input", "text_area", "radio", "toggle", "checkbox"]


def learn_app(**query):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at):
    """The Learn page's charts (pages/_shared/lazy_chart.py: drawn by the browser from the
    figure's Plotly JSON, which the component receives)."""
    out = []
    for e in at.get("bidi_component"):
        d = json.loads(e.proto.json)
        if isinstance(d, dict) and "spec" in d:
            out.append(json.loads(d["spec"]))
    return out


def arr(v):
    """Plotly 7 encodes arrays as {"dtype", "bdata"} (base64)."""
    import base64
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def answer_all(at):
    for r in at.radio:
        r.set_value(r.options[1])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def answered():
    return answer_all(learn_app())


def test_predict_then_reveal(answered):
    at = learn_app()
    titles = lambda at: [f["layout"].get("title", {}).get("text", "") for f in charts(at)]
    before = titles(at)
    assert not any(t.startswith(("Pretrained: error", "MAML: error", "From the MAML start",
                                 "Arithmetic")) for t in before)
    assert sum(t.startswith(("Pretrained: error", "MAML: error")) for t in titles(answered)) == 2
    assert any(t.startswith("From the MAML start") for t in titles(answered))
    assert any(t.startswith("Arithmetic") for t in titles(answered))
    # §3's hands-on chart shows §2's answer: on the scrolling page it waits for that answer
    # (presenter mode shows one scene at a time, in order: no wait there)
    gate = lambda at: any("Answer the question in section 2" in e.value for e in at.info)
    assert gate(at) and not gate(answered) and not gate(learn_app(demo=1, scene=3))
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    asks = learn.predictions(data)
    said = [e.value for e in [*answered.success, *answered.info]]
    for ask, r in zip(asks.values(), answered.radio):       # the verdict and the why, per answer
        assert any(ask["why"] in v and (v.startswith("Right") == (r.value == ask["answer"]))
                   for v in said)


def test_every_widget_has_help_and_every_italic_term_is_explained(answered):
    bare = [(kind, el.label) for kind in WIDGETS for el in answered.get(kind) if not el.help]
    assert not bare, bare
    texts = [e.value for e in [*answered.markdown, *answered.caption, *answered.success,
                               *answered.info]]
    unexplained = sorted({t for v in texts for t in glossary.unknown_terms(v)})
    assert not unexplained, f"italic terms with no glossary entry: {unexplained}"
    assert any("](#g-" in v for v in texts), "jargon links to the glossary"
    nested = [v[:80] for v in texts if "[[" in v or "*](#g-" in re.sub(r"\[\*[^*\]]+\*\]\(#g-", "", v)]
    assert not nested, f"a term linked twice (the paragraph then shows as raw text): {nested}"
    html = "".join(e.proto.body for e in answered.get("html"))
    for e in glossary.GLOSSARY:
        assert f'id="{e.slug}"' in html
    nexts = [e.proto.page for e in answered.get("page_link") if "Handwriting" in e.proto.label]
    assert len(nexts) >= 2, "Learn's Next list (and the sidebar) include Handwriting"


def _spec(at, title_start):
    return next(f for f in charts(at)
                if f["layout"].get("title", {}).get("text", "").startswith(title_start))


def test_meta_training_slider_ticks_are_true_to_the_iterations(answered):
    """Issue 20 item 6: the slider's evenly spaced ticks stood for uneven iterations."""
    for title in ("iteration 0", "Meta-training, iteration"):
        fig = _spec(answered, title)
        steps = fig["layout"]["sliders"][0]["steps"]
        its = [int(s["args"][0][0]) for s in steps]
        assert len(set(np.diff(its))) == 1, f"{title}: frames not evenly spaced: {its}"
        assert all(s["label"] in ("", str(it)) for s, it in zip(steps, its))
        assert [f["name"] for f in fig["frames"]] == [str(i) for i in its]


def test_weight_plane_legend_names_what_it_draws(answered):
    """Issue 20 item 6: 'red = large error' with no colour scale; grey rings not in the legend;
    the one-step segments hidden under the dots."""
    for who in ("Pretrained", "MAML"):
        fig = _spec(answered, f"From the {who} start")
        names = [t.get("name", "") for t in fig["data"]]
        dots = next(i for i, t in enumerate(fig["data"]) if t.get("name", "").startswith("after one step"))
        seg = names.index("one gradient step")
        assert seg > dots, "the step segments are drawn above the dots"
        m = fig["data"][dots]["marker"]
        assert m.get("showscale") and "error" in m["colorbar"]["title"]["text"]
        rings = next(t for t in fig["data"] if t["type"] == "contour")
        assert rings.get("showlegend") and "rings" in rings["name"]
        assert not any("red" in n for n in names) or "Red" in json.dumps(m.get("colorscale"))


def test_update_arrows_are_told_apart(answered):
    """Issue 20 item 6: MAML and FOMAML were two similar blues, overlapping."""
    fig = _spec(answered, "Which way each algorithm moves θ")
    arrows = {t["name"]: t for t in fig["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    assert len(arrows) == 3
    looks = {(t["line"]["color"], t["line"].get("dash", "solid")) for t in arrows.values()}
    assert len({d for _, d in looks}) == 3, "each arrow its own dash"
    assert all(t.get("text", [""])[-1] == n for n, t in arrows.items()), "named at their tips"
    assert len({t["textposition"] for t in arrows.values()}) == 3


def test_race_and_costs_are_drawn_from_the_data(answered):
    data = learn.load(os.path.join(ROOT, "assets", "learn.json"))
    r = data["race"]
    fig = _spec(answered, "Meta-training, iteration")
    marks = {t["name"]: t for t in fig["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    assert len({t["marker"]["symbol"] for t in marks.values()}) == 3
    assert len({t["marker"]["color"] for t in marks.values()}) == 3
    last = fig["frames"][-1]
    order = [fig["data"][i]["name"] for i in last["traces"]]
    for a in r["algos"]:
        k = order.index(learn.LABELS[a])
        at_end = [arr(last["data"][k]["x"])[0], arr(last["data"][k]["y"])[0]]
        assert np.allclose(at_end, r["ends"][a], atol=1e-4)
    bars = _spec(answered, "Arithmetic")["data"][0]
    ops = {a: r["cost"]["wave"][a]["operations"] for a in r["algos"]}
    drawn = {y.split("<br>")[0]: x for y, x in zip(bars["y"], arr(bars["x"]).tolist())}
    assert drawn == {learn.LABELS[a]: ops[a] for a in r["algos"]}
    steps = {y.split("<br>")[0]: y.split("<br>")[1] for y in bars["y"]}
    assert all(steps[learn.LABELS[a]].startswith(f"{r['cost']['wave'][a]['inner_steps']} inner step")
               for a in r["algos"])
    ends = _spec(answered, "Where each ends")
    named = {t["name"]: t for t in ends["data"] if t.get("name") in ("MAML", "FOMAML", "Reptile")}
    for a in r["algos"]:
        t = named[learn.LABELS[a]]
        assert np.allclose([arr(t["x"])[0], arr(t["y"])[0]], r["ends"][a], atol=1e-4)
        assert t["text"][0] == learn.LABELS[a]                  # named on the chart
        cloud = next(u for u in ends["data"] if u["name"].startswith(f"{learn.LABELS[a]}: its θ"))
        assert np.allclose(np.c_[arr(cloud["x"]), arr(cloud["y"])], r["trails"][a][-10:], atol=1e-4)


# colour-vision deficiency simulation (Machado, Oliveira & Fernandes 2009, severity 1) on linear
# sRGB, distances in CIELAB (D65)
CVD = {"normal": np.eye(3),
       "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                  [-0.003882, -0.048116, 1.051998]],
       "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                  [-0.011820, 0.042940, 0.968881]],
       "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                  [0.004733, 0.691367, 0.303900]]}


def _lab(hex_color, m):
    c = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    rgb = np.clip(np.asarray(m) @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_racers_stay_apart_for_colour_blind_readers_and_in_grey():
    from maml_viz.views.figures.learn import LOOK
    from maml_viz.views.figures.style import color
    algos = ("maml", "fomaml", "reptile", "pretrained")
    for kind, m in CVD.items():
        lab = {a: _lab(color(a), m) for a in algos}
        close = [(a, b, round(float(np.linalg.norm(lab[a] - lab[b])), 1))
                 for i, a in enumerate(algos) for b in algos[i + 1:]
                 if np.linalg.norm(lab[a] - lab[b]) < 15]
        assert not close, f"{kind}: colours too close (ΔE < 15): {close}"
    # and without colour at all: each its own marker shape and its own dash
    assert len({LOOK[a]["symbol"] for a in algos}) == len({LOOK[a]["dash"] for a in algos}) == 4


def test_presenter_mode_walks_the_scenes():
    at = learn_app(demo=1, scene=3)
    assert [h.value for h in at.header] == ["3 · Try it yourself"]
    assert all(b.help for b in at.button) and not at.toggle
    at.button(key="scene_next").click().run()
    assert [h.value for h in at.header][0].startswith("4 ·") and at.query_params["scene"] == "4"
    at.button(key="scene_back").click().run()
    assert [h.value for h in at.header][0].startswith("3 ·")
    at.button(key="scene_exit").click().run()
    assert len(at.header) == 8 and "demo" not in at.query_params
    at = learn_app(demo=1, scene="99")                       # a bad scene: the first, said so
    assert [h.value for h in at.header] == ["1 · A family of tasks"]
    assert any("not one of 1 to 8" in c.value for c in at.caption)
    at = learn_app(demo=1, scene=8)
    assert at.button(key="scene_next").disabled and not any(e.label.startswith("Advanced")
                                                           for e in at.expander)


def test_the_presenter_toggle_enters_presenter_mode():
    at = learn_app()
    at.toggle(key="learn_present").set_value(True).run()
    assert at.query_params["demo"] == "1" and len(at.header) == 1


@pytest.mark.parametrize("page", ["app.py", "pages/1_Playground.py", "pages/2_Train.py",
                                  "pages/3_Compare.py", "pages/4_Navigation.py",
                                  "pages/5_Handwriting.py"])
def test_every_page_has_the_glossary(page, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    at.query_params["hide"] = "k,alpha"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    pops = [b for b in at.sidebar.children.values() if b.type == "popover"]
    assert len(pops) == 1 and pops[0].proto.popover.label == "Glossary"
    text = " ".join(m.value for m in pops[0].markdown)
    assert all(f"**{e.term}**" in text for e in glossary.GLOSSARY)
    if page == "pages/1_Playground.py":                    # the Playground's hidden controls
        css = " ".join(e.proto.body for e in at.get("html"))
        assert ".st-key-pg_k," in css and "st-key-pg_lr_" in css


def test_controls_hidden_from_the_link():
    from pages._shared import present
    keys, bad = present.parse_hidden("k,alpha,x;}body{display:none,", present.ALIASES["Playground"])
    assert keys == ["pg_k", "pg_lr"] and bad
    css = present.css_for(keys)
    assert ".st-key-pg_k," in css and '[class*="st-key-pg_lr_"]' in css and "body" not in css
    at = learn_app(hide="predict,another")                     # no questions: charts at once
    assert not at.radio and not [b for b in at.button if b.key == "learn_new"]
    assert len(charts(at)) == 9 and not at.get("plotly_chart")   # and §1's two static pictures
    assert any(".st-key-learn_new" in e.proto.body for e in at.get("html"))

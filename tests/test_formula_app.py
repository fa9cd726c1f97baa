"""The formula family (issue 24) and plugins in the app (AppTest, and the pure parts):

- Train page, family "Your formula": a formula field and one range field per parameter it names
  (and x's), pre-filled with a*sin(x+b); a refused formula or range gets the parser's message in
  ONE line right under the field that is wrong (escaped), and Start queues nothing; a good one
  draws a preview of 8 sampled tasks (each curve is its task's true function) and Start queues a
  job whose config carries the formula and ranges (another hash than the default formula's);
- a stored formula run shows with its formula on the Train list, the Playground (opened by its
  key, or by a link that carries only the formula) and Compare (and only the runs of that
  formula are offered there); a Train link with ?formula= reopens the same family;
- the example plugin's family (square) and algorithm (stepmaml) are in the pickers, with a colour
  no built-in algorithm has; plugins that failed are one escaped warning line on the Train page.
"""
import json
import os

import numpy as np
import pytest
import page_read
from claims import arr
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.saving import save
from maml_viz.views import formula as F
from maml_viz.views.figures.formula import task_gallery
from maml_viz.views.figures.style import COLORS, color
from maml_viz.views.text import unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQUARE = {"f": "a*sign(sin(x - b))", "a": "0.5:2", "b": "0:pi"}


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A fresh user store for the app (the cached backend is rebuilt around it); Compare's
    shared evaluations are waited for and closed."""
    import pages._shared.compare_ui as cui
    root = tmp_path / "runs"
    root.mkdir()
    cui.evaluations.clear()
    with app_store(root, monkeypatch):
        yield root
        assert cui.evaluations().wait(600), "background evaluations did not finish"
        cui.evaluations().close()
        cui.evaluations.clear()


def page(name, **query):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    at.switch_page(f"pages/{name}.py")
    for k, v in query.items():
        at.query_params[k] = str(v)
    return ok(at.run())


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def flat(node):
    """The page's elements in the order they are drawn (blocks walked depth first)."""
    out = []
    for child in getattr(node, "children", {}).values():
        out.append(child)
        out += flat(child)
    return out


def right_after(at, key) -> list:
    """The error messages drawn between the widget `key` and the next input widget."""
    els = flat(at.main)
    i = next(i for i, e in enumerate(els) if getattr(e, "key", None) == key)
    out = []
    for e in els[i + 1:]:
        if e.type in ("text_input", "selectbox", "multiselect", "number_input"):
            break
        if e.type == "error":
            out.append(unescape(e.value))
    return out


def formula_page(runs):
    return ok(page("2_Train").selectbox(key="tr_family").set_value("expr").run())


def start(at, **numbers):
    for label, v in numbers.items():
        next(w for w in at.number_input if w.label == label).set_value(v)
    return ok(at.button(key="FormSubmitter:train_form_expr-Start training").click().run())


def figure(at, key="tr_fx_preview"):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id and key in
                           c.proto.id).proto.spec)


# ----------------------------------------------------------------------------- pure parts
def test_fields_are_checked_into_one_line_naming_the_field():
    assert F.parameters("a*sin(x + b) + max(c, x)*pi") == ["a", "b", "c"]
    assert F.parameters("__import__('os')") == []
    good = F.check("a*sin(x+b)", {"a": "0.1:5", "b": "0:3.1416"}, "-5:5")
    assert good.ok and good.options["f"] == "a*sin(x + b)" and good.options["b"] == [0.0, 3.1416]
    assert F.from_link(F.to_link(good.options)) == good.options
    for f, ranges, x, field, words in (
            ("a*sin(x+", {"a": "1:2"}, "-5:5", "f", "ends too early"),
            ("a*sin(x).real", {"a": "1:2"}, "-5:5", "f", "attributes"),
            ("__import__('os')", {}, "-5:5", "f", "never allowed"),
            ("a*sin(x+b)", {"a": "1:2"}, "-5:5", "b", "needs a range"),
            ("a*sin(x)", {"a": "3:1"}, "-5:5", "a", "empty"),
            ("a*log(x)", {"a": "1:2"}, "-5:5", "f", "not finite"),
            ("a*sin(x)", {"a": "1:2"}, "5:-5", "x", "empty")):
        got = F.check(f, ranges, x)
        assert not got.ok and got.field == field and words in got.message, (f, got)
        assert "\n" not in got.message
    with pytest.raises(F.LinkValue, match=r"f: attributes \(a.b\) are not allowed at character 3"):
        F.from_link("os.system;x=-5:5")
    p = F.preview(good.options)
    fig = task_gallery(p.x, p.ys, p.labels, p.title)
    assert len(fig.data) == 8 and [t.name for t in fig.data] == p.labels


def test_plugin_algorithms_get_a_colour_no_built_in_has():
    assert color("stepmaml") not in COLORS.values() and color("stepmaml") == color("stepmaml")
    assert color("maml") == COLORS["maml"]


# ----------------------------------------------------------------------------- the Train page
def test_a_refused_formula_gets_one_line_under_its_field_and_nothing_trains(runs):
    at = formula_page(runs)
    assert [w.label for w in at.text_input][:4] == ["Formula: y =", "Range of a", "Range of b",
                                                    "Range of x"]
    assert at.text_input(key="tr_fx_f").value == "a*sin(x+b)" and not at.error
    for text, words in (("a*sin(x+", "ends too early"), ("__import__('os')", "never allowed"),
                        ("a*sin(x)*[b]", "subscripts")):
        ok(at.text_input(key="tr_fx_f").set_value(text).run())
        under = right_after(at, "tr_fx_f")
        assert len(under) == 1 and words in under[0] and "\n" not in under[0], (text, under)
        assert not at.get("plotly_chart") or all("tr_fx_preview" not in (c.proto.id or "")
                                                  for c in at.get("plotly_chart"))
    # a new parameter gets its own field; a wrong range is named under that field
    ok(at.text_input(key="tr_fx_f").set_value("a*exp(-(x - c)^2)").run())
    assert "Range of c" in [w.label for w in at.text_input] and not at.error
    ok(at.text_input(key="tr_fx_r_c").set_value("3:1").run())
    assert right_after(at, "tr_fx_r_c") == [
        "the range of c is empty (3:1): the low end must be below the high end"]
    assert right_after(at, "tr_fx_f") == []
    start(at, **{"Meta-iterations": 30})
    assert any("Fix the formula" in e.value for e in at.error)
    from pages._shared import ui
    assert ui.backend().jobs.jobs() == []


def test_a_good_formula_previews_8_tasks_and_trains_with_its_formula_in_the_config(runs):
    at = formula_page(runs)
    fig = figure(at)
    assert len(fig["data"]) == 8
    for tr in fig["data"]:                   # each curve is a*sin(x+b) for its own a and b
        a, b = (float(v.split("=")[1]) for v in tr["name"].split(","))
        assert 0.1 <= a <= 5 and 0 <= b <= 3.1416
        x, y = arr(tr["x"]).astype(float), arr(tr["y"]).astype(float)
        assert np.abs(y - a * np.sin(x + b)).max() < 0.005 + 5 * 0.005 + 1e-9
    assert len({tr["name"] for tr in fig["data"]}) == 8
    ok(at.text_input(key="tr_fx_f").set_value("a*sign(sin(x - b))").run())
    ok(at.text_input(key="tr_fx_r_b").set_value("0:pi").run())
    assert len(figure(at)["data"]) == 8 and not at.error
    assert "y = a*sign(sin(x - b))" in unescape(at.caption[0].value)
    assert at.query_params["formula"] == "a*sign(sin(x - b));a=0.1:5;b=0:3.141592653589793;x=-5:5"
    start(at, **{"Meta-iterations": 30, "Seed": 7})
    from pages._shared import ui
    jobs = ui.backend().jobs.jobs()
    assert len(jobs) == 1 and jobs[0].config.family_options["f"] == "a*sign(sin(x - b))"
    assert jobs[0].config.family_options["b"] == [0.0, np.pi]
    assert jobs[0].config.key() != make_config(family="expr", algo="maml", iterations=30,
                                               seed=7).key()


def test_a_train_link_with_a_formula_reopens_that_family(runs):
    at = page("2_Train", formula="a*tanh(x - c);a=0.5:2;c=-1:1;x=-3:3")
    assert at.selectbox(key="tr_family").value == "expr"
    assert at.text_input(key="tr_fx_f").value == "a*tanh(x - c)"
    assert at.text_input(key="tr_fx_r_c").value == "-1:1" and at.text_input(key="tr_fx_x").value == "-3:3"
    assert len(figure(at)["data"]) == 8
    bad = page("2_Train", formula="os.system;x=-5:5")
    assert [unescape(w.value) for w in bad.warning] == [
        "The link's formula was ignored (f: attributes (a.b) are not allowed at character 3)."]
    assert bad.selectbox(key="tr_family").value != "expr"


# ----------------------------------------------------------------------------- stored formula runs
def _save_runs(root):
    keys = []
    for algo, opts in (("maml", SQUARE), ("fomaml", SQUARE), ("maml", {})):
        cfg = make_config(family="expr", algo=algo, family_options=opts, iterations=20,
                          meta_batch=5)
        keys.append(save(train(cfg, "cpu"), root).path.name)
    return keys


def test_a_stored_formula_run_shows_with_its_formula_on_train_playground_and_compare(runs):
    square, square_fo, sine = _save_runs(runs)
    label = "y = a*sign(sin(x - b)); a ∈ [0.5, 2], b ∈ [0, 3.142], x ∈ [-5, 5]"
    # Train: the table and the run picker name the formula
    at = page("2_Train")
    table = at.dataframe[0].value
    assert sorted(table[table["family"] == label]["algorithm"]) == ["FOMAML", "MAML"]
    assert any(f"MAML on {label}" in o for o in at.selectbox(key="train_pick").options)
    # Playground, opened by the run's key: its formula is picked, its label names it
    pg = page("1_Playground", run=square)
    assert pg.selectbox(key="pg_formula").value == F.to_link(make_config(
        family="expr", family_options=SQUARE).family_options)
    run_box = pg.selectbox(key="pg_run")
    assert run_box.value == square and label in run_box.format_func(square)
    assert pg.query_params["formula"] == pg.selectbox(key="pg_formula").value
    assert not pg.slider                   # adapted in the browser (no server controls)
    # ... and by a link that carries only the family and the formula (a shared link)
    pg2 = page("1_Playground", family="expr", formula=pg.query_params["formula"])
    assert pg2.selectbox(key="pg_formula").value == pg.selectbox(key="pg_formula").value
    shown = pg2.selectbox(key="pg_run").options     # labels: the default, then the stored run
    assert len(shown) == 2 and label in shown[1]    # (the MAML run of another formula: not here)
    # Compare: the two runs of that formula, the other formula's run not offered
    cmp = page("3_Compare", runs=f"{square},{square_fo}")
    pick = next(d for d in cmp.dataframe if (d.key or "").startswith("cmp_pick_")).value
    assert square in set(pick["key"]) and square_fo in set(pick["key"])
    assert sine not in set(pick["key"]) and set(pick[pick["key"] == square]["task"]) == {label}
    live = page_read.live(cmp)      # adapted in the browser
    assert [p["run"]["key"] for p in live["payloads"]] == [square, square_fo]
    assert cmp.query_params["formula"] == pg.query_params["formula"]
    import pages._shared.compare_ui as cui          # the full evaluations of formula runs work
    assert cui.evaluations().wait(600)
    ok(cmp.run())
    assert not cmp.error and any("Numbers" == h.value for h in cmp.subheader)


# ----------------------------------------------------------------------------- plugins
def test_the_example_plugin_is_in_the_pickers_and_failed_plugins_are_one_escaped_line(
        runs, monkeypatch):
    from maml_viz.engine import plugins
    from maml_viz.engine.algorithms import get_algorithm
    from maml_viz.engine.tasks import get_family
    at = page("2_Train")                         # (the pickers show labels)
    assert get_family("square").label in at.selectbox(key="tr_family").options and not at.warning
    ok(at.selectbox(key="tr_family").set_value("square").run())
    assert get_algorithm("stepmaml").label in at.multiselect[0].options
    pg = page("1_Playground", family="square", algo="stepmaml")
    assert pg.selectbox(key="pg_algo").value == "stepmaml"
    # a stored stepmaml run: its own inner loop is adapted on the server (the browser's refuses)
    key = save(train(make_config(family="square", algo="stepmaml", iterations=10, meta_batch=3),
                     "cpu"), runs).path.name
    pg = page("1_Playground", run=key)
    assert pg.selectbox(key="pg_run").value == key and pg.get("plotly_chart")
    assert "Examples per task (K)" in [w.label for w in pg.slider]     # the server's controls
    line = "maml-viz: plugin 'bad' (entry point x = **bad**:[X](http://e) in maml_viz.families) was not loaded"
    monkeypatch.setattr(plugins, "PROBLEMS", [line])
    at = page("2_Train")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert line.removeprefix("maml-viz: ") in unescape(warnings[0]) and "**bad**" not in warnings[0]

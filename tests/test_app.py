"""AppTest: every page renders; the widgets change what is drawn; settings come from the URL
and survive page visits; bad input gets a clear message. (What the step slider does happens in
the browser: tests/test_browser.py.)"""
import base64
import json
import os
import re

import numpy as np
import page_read
import pytest
from streamlit.testing.v1 import AppTest

from maml_viz.engine.tasks import make_family
from maml_viz.views.text import unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["app.py", "pages/1_Playground.py", "pages/2_Train.py", "pages/3_Compare.py",
         "pages/4_Navigation.py", "pages/5_Handwriting.py", "pages/6_Inside.py"]


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path_factory, monkeypatch):
    # the app writes new runs here, never into the repository
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path_factory.getbasetemp() / "app-runs"))


def app(page, **query):
    """Open `page` the way a user does: the app's entrypoint, then that page (with a link's
    query parameters, if given)."""
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    return at


def arr(v):
    """Plotly 7 encodes arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if isinstance(v.get("shape"), str):
            return a.reshape([int(s) for s in v["shape"].split(",")])
        return a.reshape(v["shape"]) if isinstance(v.get("shape"), list) else a
    return np.asarray(v if v is not None else [], dtype=float)


def charts(at):
    """The page's Plotly figures: Compare's averaged chart and Handwriting's grids (drawn by the
    page), Streamlit's charts and those the browser draws from the figure's JSON
    (pages/_shared/lazy_chart.py)."""
    lazy = [d for el in at.get("bidi_component")
            if isinstance(d := json.loads(el.proto.json), dict) and "spec" in d]
    avg = page_read.averaged(at)                 # Compare's averaged chart, Handwriting's grids
    return ([avg[0]] if avg else []) + page_read.grids(at)[0] + [
        json.loads(el.proto.spec) for el in at.get("plotly_chart")] + [json.loads(d["spec"])
                                                                        for d in lazy]


def trace(fig, prefix):
    return next(t for t in fig["data"] if (t.get("name") or "").startswith(prefix))


def frame_y(fig, step, name):
    """The y values the chart shows at `step` for the trace called `name`."""
    i = next(i for i, t in enumerate(fig["data"]) if t.get("name") == name)
    f = fig["frames"][step]
    return arr(f["data"][f["traces"].index(i)]["y"])


def no_problems(at):
    assert not at.exception, [e.value for e in at.exception]


def live(at) -> dict:
    """The data the Playground's in-browser component received (pages/_shared/adapt_component.py)."""
    return json.loads(at.get("bidi_component")[0].proto.json)


@pytest.fixture
def server_path(monkeypatch):
    """The Playground as for a run the browser cannot adapt: the server's widgets and chart."""
    from maml_viz.views import browser

    def refuse(run):
        raise browser.BrowserUnsupported("not in this test")
    monkeypatch.setattr(browser, "check", refuse)


def key_of(family, algo):
    from maml_viz.engine.registry import make_config
    return make_config(family=family, algo=algo).key()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page):
    at = app(page)
    no_problems(at)
    assert not at.error, [e.value for e in at.error]
    if page == "pages/1_Playground.py":          # drawn in the browser from the run's payload
        assert live(at)["payload"]["run"]["key"] == key_of("sinusoid", "maml")
    elif page != "pages/2_Train.py":
        figs = charts(at)
        assert figs and all(any(len(arr(t.get("y", t.get("z")))) for t in f["data"]) for f in figs)


def test_playground_one_chart_carries_every_step_and_the_algorithm_changes_it(server_path):
    at = app("pages/1_Playground.py")
    no_problems(at)
    figs = charts(at)
    assert len(figs) == 1                                 # one chart, one step control
    fig = figs[0]
    assert len(fig["frames"]) == 11 and fig["layout"]["sliders"][0]["name"] == "step"
    assert [s.label for s in at.slider] == ["Examples per task (K)"]   # no step widget
    y1, y5 = frame_y(fig, 1, "MAML after adapting"), frame_y(fig, 5, "MAML after adapting")
    assert not np.allclose(y1, y5)
    at.selectbox(key="pg_algo").set_value("reptile").run()
    no_problems(at)
    fig = charts(at)[0]
    assert not np.allclose(frame_y(fig, 5, "Reptile after adapting"), y5)
    assert trace(fig, "Reptile after adapting")["line"]["color"] == "#009E73"   # Reptile's colour
    assert at.selectbox(key="pg_run").value == key_of("sinusoid", "reptile")


def test_playground_new_task_button_draws_another_task(server_path):
    at = app("pages/1_Playground.py")
    true0 = arr(trace(charts(at)[0], "true function")["y"])
    at.button[0].click().run()          # "New task"
    true1 = arr(trace(charts(at)[0], "true function")["y"])
    assert not np.allclose(true0, true1)
    assert at.query_params["task"] == ["1"] or at.query_params["task"] == "1"


def test_a_link_opens_the_same_view_and_it_survives_a_visit_to_another_page(server_path):
    reptile = key_of("sinusoid", "reptile")
    at = app("pages/1_Playground.py", run=reptile, k=5, step=3, steps=12, task=4)
    no_problems(at)
    assert at.selectbox(key="pg_algo").value == "reptile"
    assert at.selectbox(key="pg_run").value == reptile
    assert at.slider(key="pg_k_sinusoid").value == 5
    fig = charts(at)[0]
    assert fig["layout"]["sliders"][0]["active"] == 3 and len(fig["frames"]) == 13
    ref = app("pages/1_Playground.py", run=reptile, k=5, step=3, steps=12, task=4)
    assert np.allclose(arr(trace(charts(ref)[0], "true function")["y"]),
                       arr(trace(fig, "true function")["y"]))        # the same task
    at.switch_page("pages/4_Navigation.py").run()
    no_problems(at)
    at.query_params.clear()                 # a sidebar link carries no settings
    at.switch_page("pages/1_Playground.py").run()
    assert at.selectbox(key="pg_algo").value == "reptile" and at.slider(key="pg_k_sinusoid").value == 5


def test_a_bad_link_is_ignored_with_a_message():
    at = app("pages/1_Playground.py", k="abc", run="sinusoid-maml-000000000000")
    no_problems(at)
    assert any("k='abc'" in unescape(w.value) for w in at.warning)      # (escaped: shown as written)
    assert any("not stored here" in w.value for w in at.warning)
    assert charts(at)


def test_playground_clicked_points_join_the_task(server_path):
    at = app("pages/1_Playground.py")
    at.session_state["pg_points"] = {"sinusoid": [(1.0, 2.0)]}
    at.run()
    fig = charts(at)[0]
    assert len(arr(trace(fig, "the task's 10 points")["x"])) == 10
    assert np.allclose(arr(trace(fig, "your 1 point")["x"]), [1.0])
    assert "the task's 10 points and your 1" in at.caption[0].value
    at.toggle(key="pg_only").set_value(True).run()
    fig = charts(at)[0]
    assert not any(t.get("name", "").startswith("the task") for t in fig["data"])
    assert not any(t.get("name") == "true function" for t in fig["data"])


def test_playground_sends_the_run_once_with_the_links_settings():
    """In the browser path the page sends the run's payload and the settings a link brings;
    K, α, steps, the step, the task and points are then the browser's (tests/test_browser_playground.py)."""
    reptile = key_of("sinusoid", "reptile")
    at = app("pages/1_Playground.py", run=reptile, k=5, step=3, steps=12, task=70, pts="1.5:2,-1:0.25")
    no_problems(at)
    d = live(at)
    assert d["payload"]["run"]["key"] == reptile and d["label"] == "Reptile"
    assert d["payload"]["tasks"]["first_seed"] == 64           # the batch that holds task 70
    assert {k: v[1] for k, v in d["link"].items()} == \
        {"k": 5, "step": 3, "steps": 12, "task": 70, "pts": [[1.5, 2.0], [-1.0, 0.25]]}
    assert d["defaults"]["k"] == 10 and d["defaults"]["task"] == 70
    assert at.query_params["pts"] in ("1.5:2,-1:0.25", ["1.5:2,-1:0.25"])   # left to the browser
    assert not at.slider and not at.number_input                # no server widget for those
    at.selectbox(key="pg_algo").set_value("anil").run()
    no_problems(at)
    assert live(at)["payload"]["run"]["algo"] == "anil" and live(at)["link"] == {}
    bad = app("pages/1_Playground.py", family="blobs", pts="1:2")
    assert any("points were ignored" in w.value for w in bad.warning) and live(bad)["link"] == {}


def test_playground_pasted_points_go_to_the_browser():
    at = app("pages/1_Playground.py")
    at.text_area(key="pg_paste").set_value("x,y\n-2,1\n0,0\n2,-1\n").run()
    no_problems(at)
    up = live(at)["upload"]
    assert up["points"] == [[-2.0, 1.0], [0.0, 0.0], [2.0, -1.0]] and up["sig"].startswith("paste:")
    assert any("Using 3 points" in s.value for s in at.success)
    at.text_area(key="pg_paste").set_value("x,y\n![x](http://h/p.png),1\n").run()
    assert at.error and "![x](" not in at.error[0].value      # the file's text is escaped


@pytest.mark.parametrize("text,message", [
    ("x,y\n1,abc\n", "not a number"),
    ("x,y\n", "no rows"),
])
def test_playground_bad_csv_shows_a_clear_error(text, message):
    at = app("pages/1_Playground.py")
    at.text_area(key="pg_paste").set_value(text).run()
    no_problems(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert charts(at), "the page should stay usable"


def test_playground_pasted_points_become_the_support_set(server_path):
    at = app("pages/1_Playground.py")
    at.text_area(key="pg_paste").set_value("x,y\n-2,1\n0,0\n2,-1\n4.5,0\n").run()
    no_problems(at)
    pts = trace(charts(at)[0], "your 4 points")
    assert np.allclose(arr(pts["x"]), [-2, 0, 2, 4.5])
    assert at.toggle(key="pg_only").value is True
    # a point outside the inputs the model was meta-trained on is refused, saying the range
    at.text_area(key="pg_paste").set_value("x,y\n-2,1\n9,0\n").run()
    no_problems(at)
    assert any("x must lie in" in e.value for e in at.error)
    assert trace(charts(at)[0], "your 4 points")         # the points in use are unchanged


def test_playground_zero_step_size_is_refused_and_a_huge_one_shows_where_it_blew_up(server_path):
    at = app("pages/1_Playground.py")
    key = f"pg_lr_{key_of('sinusoid', 'maml')}"
    at.number_input(key=key).set_value(0.0).run()
    no_problems(at)
    assert any("greater than 0" in e.value for e in at.error)
    at.number_input(key=key).set_value(2.0).run()
    no_problems(at)
    assert any("blew up at step" in w.value for w in at.warning)
    fig = charts(at)[0]
    assert 1 <= len(fig["frames"]) < 11


def test_playground_decision_regions_for_classification(server_path):
    at = app("pages/1_Playground.py", family="blobs")
    no_problems(at)
    fig = charts(at)[0]
    heat = [t for t in fig["data"] if t.get("type") == "heatmap"]
    assert len(heat) == 2                       # before and after
    f0, f5 = fig["frames"][0]["data"][0], fig["frames"][5]["data"][0]
    assert f0["type"] == "heatmap" and not np.array_equal(arr(f0["z"]), arr(f5["z"]))
    assert [o for o in at.radio(key="pg_class").options][0].startswith(":red[■]")
    at.text_area(key="pg_paste").set_value("x1,x2,label\n0,0,0\n1,1,7\n").run()
    assert any("labels are whole numbers from 0 to 4" in e.value for e in at.error)
    at.text_area(key="pg_paste").set_value("x1,x2,label\n0,0,0\n2,2,1\n").run()
    no_problems(at)
    mine = trace(charts(at)[0], "your examples")
    assert np.allclose(arr(mine["x"]), [0, 2])


def ticked_runs(at):
    """The run keys drawn on Compare (the rows of its run table that show a line)."""
    table = next(d for d in at.dataframe if (d.key or "").startswith("cmp_pick_"))
    return table, [k for k, line in zip(table.value["key"], table.value["line"]) if "stroke" in line]


def tick(at, keys):
    table, _ = ticked_runs(at)
    rows = [list(table.value["key"]).index(k) for k in keys]
    at.session_state[table.key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    return at


def test_compare_three_runs_give_three_curves_with_bands_and_a_fixed_axis():
    keys = [key_of("sinusoid", a) for a in ("maml", "reptile", "pretrained")]
    at = app("pages/3_Compare.py", runs=",".join(keys))
    no_problems(at)
    assert sorted(ticked_runs(at)[1]) == sorted(keys)
    live = page_read.live(at)                                    # the one-task chart
    assert [p["run"]["key"] for p in live["payloads"]] == keys and live["steps"] == 10
    curves = charts(at)[0]
    lines = [t for t in curves["data"] if t.get("mode") == "lines+markers"]
    assert {t["name"] for t in lines} == {"MAML", "Reptile", "Pretrained"}
    assert sum(t.get("fill") == "toself" for t in curves["data"]) >= 3
    top = curves["layout"]["yaxis"]["range"]
    tick(at, keys[:2])
    no_problems(at)
    assert charts(at)[0]["layout"]["yaxis"]["range"] == top          # not per algorithm
    table = at.dataframe[-1].value
    assert not table.isna().any().any()


def test_compare_needs_two_runs():
    at = app("pages/3_Compare.py")
    tick(at, [key_of("sinusoid", "maml")])
    no_problems(at)
    assert any("at least two" in w.value for w in at.warning)


def test_runs_trained_by_the_user_are_offered_and_the_training_chart_uses_the_common_measure(
        tmp_path, monkeypatch):
    import pages._shared.ui as ui_mod
    from maml_viz.engine.registry import make_config
    from maml_viz.engine.train import train
    from maml_viz.runs.saving import save_run
    runs = tmp_path / "my-runs"
    mine = [make_config(family="sinusoid", algo=a, iterations=60, meta_batch=5, seed=7)
            for a in ("maml", "reptile")]
    for cfg in mine:
        save_run(train(cfg, "cpu"), runs)
    monkeypatch.setattr(ui_mod, "RUNS", runs)
    ui_mod.backend.clear()
    try:
        at = app("pages/3_Compare.py", runs=",".join(c.key() for c in mine))
        no_problems(at)
        table, drawn = ticked_runs(at)
        assert sorted(drawn) == sorted(c.key() for c in mine)
        row = table.value[table.value["key"] == mine[0].key()].iloc[0]
        assert (row["algorithm"], row["K"], row["iterations"], row["seed"]) == ("MAML", 10, "60", 7)
        assert re.fullmatch(r"\d\d \w{3} \d{4} \d\d:\d\d UTC", row["origin"])   # its own record
        val = next(f for f in charts(at) if "validation" in f["layout"]["yaxis"]["title"]["text"])
        assert {t["name"] for t in val["data"] if t.get("mode") == "lines"} == {"MAML", "Reptile"}
        assert len(arr(val["data"][0]["x"])) >= 2
        at = app("pages/1_Playground.py", run=mine[1].key())
        no_problems(at)
        assert at.selectbox(key="pg_run").value == mine[1].key()
        assert "seed 7" in at.selectbox(key="pg_run").format_func(mine[1].key())
    finally:
        monkeypatch.undo()
        ui_mod.backend.clear()


def test_navigation_frames_goal_button_bands_and_before_adapting(monkeypatch):
    import pages._shared.nav_component as live          # the server's plane (see its tests)
    monkeypatch.setattr(live, "supported", lambda *runs: False)
    at = app("pages/4_Navigation.py")
    no_problems(at)
    fig = charts(at)[0]
    assert len(fig["frames"]) == 4
    f0, f1 = fig["frames"][0], fig["frames"][1]
    assert fig["data"][f0["traces"][0]]["name"] == "MAML after adapting"
    assert len(arr(f0["data"][0]["x"])) == 0 < len(arr(f1["data"][0]["x"]))   # step 0: only "before"
    assert trace(fig, "before adapting")["line"]["color"] == "#9E9E9E"
    goal0 = arr(trace(fig, "goal")["x"])
    at.button[0].click().run()                                  # "Random goal"
    goal1 = arr(trace(charts(at)[0], "goal")["x"])
    assert not np.allclose(goal0, goal1)
    curves = charts(at)[1]
    assert sum(t.get("fill") == "toself" for t in curves["data"]) >= 2
    assert curves["layout"]["yaxis"]["range"][1] == 0
    at = app("pages/4_Navigation.py", goal="0.55,0.1")
    assert any("outside the square" in w.value for w in at.warning)


def test_train_without_algorithm_shows_error():
    at = app("pages/2_Train.py")
    at.multiselect[0].set_value([])      # form widgets: set, then submit in the same run
    at.button(key="FormSubmitter:train_form_sinusoid-Start training").click().run()
    no_problems(at)
    assert any("at least one algorithm" in e.value for e in at.error)


def test_train_invalid_hidden_sizes_names_the_field():
    at = app("pages/2_Train.py")
    at.text_input[0].set_value("40,abc")
    at.button(key="FormSubmitter:train_form_sinusoid-Start training").click().run()
    no_problems(at)
    assert any("hidden" in e.value for e in at.error)


def test_corrupted_run_in_the_users_store_never_hides_the_bundled_one(tmp_path, monkeypatch):
    import pages._shared.ui as ui_mod  # imported before the env changes: RUNS is read at import
    from maml_viz.engine.registry import make_config
    runs = tmp_path / "my-runs"
    bad = runs / make_config(family="sinusoid", algo="maml").key()   # same config as a bundled run
    bad.mkdir(parents=True)
    (bad / "config.json").write_text('{"family": "sinusoid", "algo": "maml", "lr": "x"}')
    (bad / "meta_params.safetensors").write_bytes(b"\x00garbage")
    monkeypatch.setenv("MAML_VIZ_RUNS", str(runs))
    monkeypatch.setattr(ui_mod, "RUNS", runs)
    ui_mod.backend.clear()
    try:
        at = app("pages/1_Playground.py")
        no_problems(at)
        assert not at.error and charts(at)          # the bundled run is drawn, no error
        at = app("pages/2_Train.py")
        no_problems(at)
        table = at.dataframe[0].value
        assert table["health"].str.contains("unknown setting").any()
        assert any("damaged" in w.value for w in at.warning)
    finally:
        monkeypatch.undo()            # back to the test store first, then drop the cached one
        ui_mod.backend.clear()


def test_stored_runs_table_shows_each_familys_own_score():
    at = app("pages/2_Train.py")
    no_problems(at)
    table = at.dataframe[0].value
    labels = {"sinusoid": "Sine waves", "blobs": "2D point classes", "navigation": "2D navigation (RL)"}
    for family, metric in (("sinusoid", "mse"), ("blobs", "accuracy"), ("navigation", "return")):
        rows = table[(table["family"] == labels[family]) & (table["algorithm"] == "MAML")]
        assert (rows["metric"] == metric).all() and len(rows) == 1, family
        assert rows["before"].notna().all() and rows["after 1 step"].notna().all(), family
    nav = table[(table["family"] == labels["navigation"]) & (table["algorithm"] == "MAML")].iloc[0]
    assert nav["after 1 step"] > nav["before"]                  # a return: higher is better


def test_handwriting_page_pickers_change_the_task():
    at = app("pages/5_Handwriting.py")
    no_problems(at)
    grid = charts(at)[0]
    last = make_family("omniglot").eval_steps                  # the protocol's steps (3)
    assert len(grid["frames"]) == last + 1
    assert grid["layout"]["sliders"][0]["steps"][last]["label"] == str(last)
    before = grid["data"][0]["z"]
    at.button[1].click().run()                 # other drawings of the same characters
    no_problems(at)
    assert charts(at)[0]["data"][0]["z"] != before
    at.selectbox(key="hw_alphabet").select("Tagalog").run()
    no_problems(at)
    assert "Tagalog" in at.multiselect[0].options[0] or at.multiselect[0].value
    chars = at.multiselect[0]
    chars.unselect(chars.value[0]).run()        # four characters: a clear message, no chart
    assert at.warning and "Pick five" in at.warning[0].value


WIDGETS = ["button", "selectbox", "multiselect", "slider", "select_slider", "number_input",
           "text_input", "text_area", "radio", "toggle", "checkbox"]


@pytest.mark.parametrize("page,query", [(p, {}) for p in PAGES] +
                         [("pages/1_Playground.py", {"family": "blobs"})])
def test_every_widget_explains_itself(page, query):
    at = app(page, **query)
    no_problems(at)
    seen = [(kind, el.label) for kind in WIDGETS for el in at.get(kind)]
    assert seen, "the page shows no widget at all?"
    bare = [(kind, el.label) for kind in WIDGETS for el in at.get(kind) if not el.help]
    assert not bare, f"widgets without help text: {bare}"

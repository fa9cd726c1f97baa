"""AppTest: every page renders; the widgets change what is drawn; bad input gets a clear message."""
import base64
import json
import os

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["app.py", "pages/1_Playground.py", "pages/2_Train.py", "pages/3_Compare.py",
         "pages/4_Navigation.py", "pages/5_Handwriting.py"]


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path_factory, monkeypatch):
    # the app writes new runs here, never into the repository
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path_factory.getbasetemp() / "app-runs"))


def app(page):
    """Open `page` the way a user does: the app's entrypoint, then that page."""
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    at.run()
    return at


def arr(v):
    """Plotly 7 encodes arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(v["shape"]) if "shape" in v and isinstance(v["shape"], list) else a
    return np.asarray(v if v is not None else [], dtype=float)


def charts(at):
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def trace(fig, prefix):
    return next(t for t in fig["data"] if (t.get("name") or "").startswith(prefix))


def no_problems(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page):
    at = app(page)
    no_problems(at)
    assert not at.error, [e.value for e in at.error]
    if page != "pages/2_Train.py":
        figs = charts(at)
        assert figs and all(any(len(arr(t.get("y", t.get("z")))) for t in f["data"]) for f in figs)


def test_playground_step_slider_and_algorithm_change_the_adapted_curve():
    at = app("pages/1_Playground.py")
    y1 = arr(trace(charts(at)[0], "after 1 step")["y"])
    at.slider(key="pg_step_sinusoid").set_value(5).run()
    no_problems(at)
    y5 = arr(trace(charts(at)[0], "after 5 steps")["y"])
    assert not np.allclose(y1, y5)
    at.selectbox(key="pg_algo").set_value("reptile").run()
    no_problems(at)
    y5r = arr(trace(charts(at)[0], "after 5 steps")["y"])
    assert not np.allclose(y5, y5r)
    assert charts(at)[0]["data"][-2]["line"]["color"] == "#009E73"   # Reptile's colour


def test_playground_new_task_button_draws_another_task():
    at = app("pages/1_Playground.py")
    true0 = arr(trace(charts(at)[0], "true function")["y"])
    at.button[0].click().run()          # "New task"
    true1 = arr(trace(charts(at)[0], "true function")["y"])
    assert not np.allclose(true0, true1)


@pytest.mark.parametrize("text,message", [
    ("x,y\n1,abc\n", "not a number"),
    ("a,b\n1,2\n", "missing column"),
    ("x,y\n1,nan\n", "not a number"),
    ("x,y\n1,inf\n", "not a finite number"),
    ("x,y\n" + "1,2\n" * 1001, "at most 1000"),
    ("x,y\n", "no rows"),
])
def test_playground_bad_csv_shows_a_clear_error(text, message):
    at = app("pages/1_Playground.py")
    at.text_area(key="pg_paste").set_value(text).run()
    no_problems(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert charts(at), "the page should stay usable"


def test_playground_pasted_points_become_the_support_set_and_k_warning():
    at = app("pages/1_Playground.py")
    at.text_area(key="pg_paste").set_value("x,y\n-2,1\n0,0\n2,-1\n").run()
    no_problems(at)
    pts = trace(charts(at)[0], "the 3 points")
    assert np.allclose(arr(pts["x"]), [-2, 0, 2])
    at.slider(key="pg_k_sinusoid").set_value(2).run()
    assert any("using the first 2" in w.value for w in at.warning)


def test_playground_zero_step_size_is_refused_with_a_message():
    at = app("pages/1_Playground.py")
    at.number_input(key="pg_lr_sinusoid_maml").set_value(0.0).run()
    no_problems(at)
    assert any("greater than 0" in e.value for e in at.error)


def test_playground_decision_regions_for_classification():
    at = app("pages/1_Playground.py")
    at.selectbox(key="pg_family").set_value("blobs").run()
    no_problems(at)
    figs = charts(at)
    heat = [f for f in figs if any(t.get("type") == "heatmap" for t in f["data"])]
    assert len(heat) == 2                       # before and after
    z0 = arr(next(t for t in heat[0]["data"] if t["type"] == "heatmap")["z"])
    z1 = arr(next(t for t in heat[1]["data"] if t["type"] == "heatmap")["z"])
    assert z0.shape == z1.shape and not np.array_equal(z0, z1)
    at.text_area(key="pg_paste").set_value("x1,x2,label\n0,0,0\n1,1,7\n").run()
    assert any("labels must be whole numbers from 0 to 4" in e.value for e in at.error)
    at.text_area(key="pg_paste").set_value("x1,x2,label\n0,0,0\n2,2,1\n").run()
    no_problems(at)
    sup = trace(charts(at)[1], "labelled examples")
    assert np.allclose(arr(sup["x"]), [0, 2])


def test_compare_three_algorithms_give_three_curves_with_bands():
    at = app("pages/3_Compare.py")
    at.multiselect(key="cmp_algos").set_value(["maml", "reptile", "pretrained"]).run()
    no_problems(at)
    fig = next(f for f in charts(at) if "Figure 3" in f["layout"]["title"]["text"])
    bands = [t for t in fig["data"] if t.get("fill") == "toself"]
    lines = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    assert len(bands) == 3 and len(lines) == 3
    assert {t["name"] for t in lines} == {"MAML", "Reptile", "Pretrained"}
    assert "95% CI" in fig["layout"]["title"]["subtitle"]["text"]
    for band, line in zip(bands, lines):
        y, m = arr(band["y"]), arr(line["y"])
        assert np.all(y[: len(m)] >= m - 1e-9)          # upper edge above the mean


def test_compare_needs_two_algorithms():
    at = app("pages/3_Compare.py")
    at.multiselect(key="cmp_algos").set_value(["maml"]).run()
    no_problems(at)
    assert any("at least two" in w.value for w in at.warning)


def test_train_without_algorithm_shows_error():
    at = app("pages/2_Train.py")
    at.multiselect[0].set_value([])      # form widgets: set, then submit in the same run
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    no_problems(at)
    assert any("at least one algorithm" in e.value for e in at.error)


def test_train_invalid_hidden_sizes_names_the_field():
    at = app("pages/2_Train.py")
    at.text_input[0].set_value("40,abc")
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    no_problems(at)
    assert any("hidden" in e.value for e in at.error)


def test_navigation_step_slider_goal_button_and_bands():
    at = app("pages/4_Navigation.py")
    no_problems(at)
    traj = charts(at)[0]
    after1 = arr(trace(traj, "after adapting")["y"])
    at.slider(key="nav_step").set_value(3).run()
    no_problems(at)
    after3 = arr(trace(charts(at)[0], "after adapting")["y"])
    assert after1.shape != after3.shape or not np.allclose(after1, after3, equal_nan=True)
    goal0 = arr(trace(charts(at)[0], "goal")["x"])
    at.button[0].click().run()                                  # "Random goal"
    goal1 = arr(trace(charts(at)[0], "goal")["x"])
    assert not np.allclose(goal0, goal1)
    curves = next(f for f in charts(at) if "policy-gradient steps" in f["layout"]["title"]["text"])
    assert sum(t.get("fill") == "toself" for t in curves["data"]) >= 2


def test_corrupted_run_in_the_users_store_gives_a_message_not_a_crash(tmp_path, monkeypatch):
    import pages._shared.ui as ui_mod          # imported before the env changes: RUNS is read at import
    from maml_viz.registry import make_config
    runs = tmp_path / "my-runs"
    bad = runs / make_config(family="sinusoid", algo="maml").key()   # shadows the bundled one
    bad.mkdir(parents=True)
    (bad / "config.json").write_text('{"family": "sinusoid", "algo": "maml", "lr": "x"}')
    (bad / "meta_params.safetensors").write_bytes(b"\x00garbage")
    monkeypatch.setenv("MAML_VIZ_RUNS", str(runs))
    monkeypatch.setattr(ui_mod, "RUNS", runs)
    ui_mod.backend.clear()
    try:
        at = app("pages/1_Playground.py")
        no_problems(at)
        assert any("could not be read" in e.value and "train it again" in e.value for e in at.error)
        at = app("pages/2_Train.py")
        no_problems(at)
        table = at.dataframe[0].value
        assert table["problem"].str.contains("unknown setting").any()
    finally:
        monkeypatch.undo()            # back to the test store first, then drop the cached one
        ui_mod.backend.clear()


def test_stored_runs_table_shows_each_familys_own_score():
    at = app("pages/2_Train.py")
    no_problems(at)
    table = at.dataframe[0].value.set_index("run")
    for family, metric in (("sinusoid", "mse"), ("blobs", "accuracy"), ("navigation", "return")):
        rows = table[(table["family"] == family) & (table["algorithm"] == "MAML")]
        assert (rows["metric"] == metric).all() and len(rows) == 1, family
        assert rows["before"].notna().all() and rows["after 1 step"].notna().all(), family
    nav = table[(table["family"] == "navigation") & (table["algorithm"] == "MAML")].iloc[0]
    assert nav["after 1 step"] > nav["before"]                  # a return: higher is better


def test_handwriting_page_pickers_change_the_task():
    at = app("pages/5_Handwriting.py")
    no_problems(at)
    grid = charts(at)[0]
    assert len(grid["frames"]) == 6 and grid["layout"]["sliders"][0]["steps"][5]["label"] == "5"
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

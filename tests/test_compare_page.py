"""The Compare page says what its charts show and behaves as a person expects (issue 20 items 5, 7,
9; issue 21 item 2), in AppTest:

- for each family it offers, every claim of its captions is checked against the figures' data
  (tests/claims.py): the orders it names, the values it writes, the pairs it calls level, the runs
  off the chart (each with a marker that writes its value), every legend entry visible, why a run
  has no training curve, a run whose validation measure falls (numbers from the curve), no
  caption pointing to a file a visitor cannot open;
- the decision maps have tick labels, the task's test points, and per map and step a count of
  the points right that matches the crosses drawn;
- a family change selects that family's default runs; the runs are a table with full labels and
  each drawn run's line in its chart colour; more than five ticked: five drawn and a note;
- a new K shows a first estimate at once with the progress at the top of the page, then the full
  evaluation; the bundled runs' stored evaluations are never computed again; "Another task"
  draws another task (that it redraws only its chart: tests/test_browser_compare.py).
"""
import json
import os
import re
from urllib.parse import unquote

import numpy as np
import pytest
import page_read
from claims import (arr, check_ranking, edge_marked_runs, legend_entries_visible, off_chart_runs,
                    plain)
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = ["sinusoid", "linear", "wave", "blobs"]


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    """A fresh user store (the bundled runs only) and fresh shared evaluations; a test waits for
    the background evaluations it started."""
    import maml_viz.services.evals as evals
    import pages._shared.compare_ui as cui
    import pages._shared.ui as ui_mod
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(ui_mod, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(evals, "FULL_TASKS", 40)          # the same protocol, fewer tasks
    ui_mod.backend.clear()
    cui.evaluations.clear()
    yield
    assert cui.evaluations().wait(600), "background evaluations did not finish"
    cui.evaluations().close()
    ui_mod.backend().jobs.shutdown()
    ui_mod.backend.clear()
    cui.evaluations.clear()


def page(**query):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    at.switch_page("pages/3_Compare.py")
    for k, v in query.items():
        at.query_params[k] = str(v)
    return ok(at.run())


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at):
    """The page's figures (not the empty, hidden one that makes Streamlit load Plotly.js), the
    averaged chart (drawn by the page) last."""
    return [f for f in page_read.figures(at) if f.get("data")]


def averaged(at):
    return next(f for f in charts(at) if "new tasks" in str(f["layout"]["yaxis"].get("title")))


def validation(at):
    return next((f for f in charts(at) if "validation tasks" in str(f["layout"]["yaxis"].get("title"))),
                None)


def captions(at):
    return [plain(c) for c in page_read.captions(at)]


def picker(at):
    return next(d for d in at.dataframe if (d.key or "").startswith("cmp_pick_"))


def tick(at, keys):
    """Tick exactly these runs in the run table (as a click on their rows does)."""
    table = picker(at)
    rows = [list(table.value["key"]).index(k) for k in keys]
    at.session_state[table.key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return ok(at.run())


def key(family, algo):
    return make_config(family=family, algo=algo).key()


# ----------------------------------------------------------------------------- captions vs data
@pytest.mark.parametrize("family", FAMILIES)
def test_every_caption_claim_matches_the_charts(family):
    from maml_viz.engine.tasks import FAMILIES as REG
    hib = REG[family].higher_is_better
    at = page(family=family)
    figs = charts(at)
    for f in figs:
        assert legend_entries_visible(f) == [], f"legend entries with nothing drawn: {f['layout']}"
    cap = next(c for c in captions(at) if c.startswith("Lower is better") or
               c.startswith("Higher is better"))
    assert cap.startswith("Higher" if hib else "Lower")
    curves_fig = averaged(at)
    assert check_ranking(cap, curves_fig, hib) == 2          # after 1 step and after the last
    assert off_chart_runs(cap) == edge_marked_runs(curves_fig)
    # the training curves: Random init has none because it is never trained (said so), and a
    # run that ends clearly worse than it started is named with the curve's own numbers
    val, note = validation(at), next(c for c in captions(at) if c.startswith("Every few iterations"))
    drawn = {t["name"]: arr(t["y"]) for t in val["data"] if t.get("mode") == "lines"}
    assert "Random init" not in drawn and "Random init is not trained" in note
    assert "trained before" not in note and "older version" not in note
    lo, hi = val["layout"]["yaxis"]["range"]
    for name, y in drawn.items():
        y = y[np.isfinite(y)]
        n = int(np.ceil(0.1 * len(y)))
        a, b = y[:n].mean(), y[-n:].mean()
        worse = (a - b if hib else b - a) > 0.05 * (hi - lo)
        said = re.search(re.escape(name) + r"'s \w+ (?:falls|rises) while it trains "
                         r"\(([\d.]+) at the start, ([\d.]+) at the end", note)
        assert bool(said) == worse, (name, a, b, note)
        if said:
            assert abs(float(said.group(1)) - a) < 0.006 and abs(float(said.group(2)) - b) < 0.006
    # the protocol is said on the page; nothing points to a file a visitor cannot open
    text = " ".join(captions(at) + [m.value for m in at.markdown])
    assert "held-out tasks with K =" in text
    assert not re.search(r"metrics\.json|README|\.json\b", text), text


def test_pretrained_falling_accuracy_on_blobs_is_explained_with_the_curves_numbers():
    at = page(family="blobs")
    note = next(c for c in captions(at) if c.startswith("Every few iterations"))
    m = re.search(r"Pretrained's accuracy falls while it trains \(([\d.]+) at the start, ([\d.]+) "
                  r"at the end", note)
    assert m and float(m.group(1)) > float(m.group(2)) + 0.1
    assert "nothing in its training rewards a start that adapts well" in note


@pytest.fixture
def server_chart(monkeypatch):
    """The one-task chart the server draws for runs the browser cannot adapt (e.g. a plugin's
    own inner loop): the bundled runs drawn that way."""
    import pages._shared.compare_component as live
    monkeypatch.setattr(live, "supported", lambda runs: False)


def test_decision_maps_have_ticks_test_points_and_counts_that_match_the_crosses(server_chart):
    at = page(family="blobs")
    fig = charts(at)[0]
    assert fig["frames"] and fig["layout"]["sliders"]
    axes = [v for k, v in fig["layout"].items() if re.fullmatch(r"[xy]axis\d*", k)]
    assert len(axes) == 10 and all(a.get("showticklabels", True) for a in axes)
    tests = [t for t in fig["data"] if t.get("legendgroup") == "query"]
    assert len(tests) == 5 and all(len(arr(t["x"])) == 75 for t in tests)
    titles = [i for i, t in enumerate(fig["data"]) if (t.get("name") or "").endswith(" title")]
    wrong = [i for i, t in enumerate(fig["data"]) if t.get("legendgroup") == "wrong"]
    assert len(titles) == len(wrong) == 5
    for frame in fig["frames"]:
        data = dict(zip(frame["traces"], frame["data"]))
        for ti, wi in zip(titles, wrong):
            m = re.search(r": (\d+)/75 right \((\d+)%\)$", data[ti]["text"][0])
            assert m, data[ti]["text"]
            assert int(m.group(1)) == 75 - len(arr(data[wi]["x"]))        # crosses drawn
            assert int(m.group(2)) == round(100 * int(m.group(1)) / 75)
    shown = [fig["data"][i]["text"][0] for i in titles]
    first = dict(zip(fig["frames"][1]["traces"], fig["frames"][1]["data"]))
    assert shown == [first[i]["text"][0] for i in titles]              # the figure opens at step 1


# ----------------------------------------------------------------------------- behaviour
def test_a_family_change_selects_that_familys_default_runs():
    at = page()
    ok(at.selectbox(key="cmp_family").set_value("blobs").run())
    assert not any("at least two" in w.value for w in at.warning)
    lines = {t["name"] for t in averaged(at)["data"] if t.get("mode") == "lines+markers"}
    assert lines == {"MAML", "FOMAML", "Reptile", "Pretrained", "Random init"}
    ok(at.selectbox(key="cmp_family").set_value("sinusoid").run())   # and back: its own ticks
    assert {t["name"] for t in averaged(at)["data"] if t.get("mode") == "lines+markers"} == lines
    assert at.query_params["family"] == "sinusoid"


def test_the_runs_are_a_table_with_full_labels_and_the_charts_colours():
    at = page()
    table = picker(at).value
    row = table[table["algorithm"] == "MAML"].iloc[0]
    assert (row["K"], row["iterations"], row["seed"], row["origin"]) == (10, "20,000", 0, "bundled")
    colors = {t["name"]: (t["line"]["color"], t["line"].get("dash", "solid"))
              for t in averaged(at)["data"] if t.get("mode") == "lines+markers"}
    drawn = table[table["key"].isin([key("sinusoid", a) for a in
                                     ("maml", "fomaml", "reptile", "pretrained", "scratch")])]
    assert len(drawn) == 5
    for _, r in table.iterrows():
        svg = unquote(r["line"])
        if r["algorithm"] in colors:                         # drawn: its line, as the chart's
            assert f'stroke="{colors[r["algorithm"]][0]}"' in svg
        else:
            assert "stroke" not in svg
    # six ticked: the first five (in the order ticked) are drawn, and the page says so
    six = [key("sinusoid", a) for a in ("maml", "fomaml", "reptile", "pretrained", "scratch", "anil")]
    at = tick(at, six)
    names = {t["name"] for t in averaged(at)["data"] if t.get("mode") == "lines+markers"}
    assert "ANIL" not in names and len(names) == 5
    assert any("6 runs are ticked" in plain(i.value) and "Not drawn: ANIL" in plain(i.value)
               for i in at.info)
    at = tick(at, six[:1])
    assert any("at least two" in w.value for w in at.warning)


def test_a_new_k_shows_a_first_estimate_at_once_then_the_full_evaluation(monkeypatch):
    import threading

    import maml_viz.services.evals as evals
    import pages._shared.compare_ui as cui
    gate, real = threading.Event(), evals.EvalProcess.evaluate

    def held(self, *a, **kw):                    # the full evaluations wait for the test
        assert gate.wait(600)
        return real(self, *a, **kw)
    monkeypatch.setattr(evals.EvalProcess, "evaluate", held)
    try:
        at = page()
        ok(at.number_input(key="cmp_k_sinusoid").set_value(7).run())   # reruns the fragments
        assert not [w for w in at.selectbox if w.key == "cmp_family"]   # only fragments ran
        bars = [plain(p.proto.text) for p in at.get("progress")]
        assert any("Evaluating each run at K = 7" in b and "first estimate on 20 tasks" in b
                   for b in bars), bars
        cap = " ".join(captions(at))
        assert "adapts to 20 new held-out tasks with K = 7" in cap
        assert "First estimate on 20 tasks" in cap
        ok(at.run())                             # the whole page, still refining: the progress
        tree = list(at.main.children.values())   # line comes before every chart
        has = lambda e, kind: getattr(e, "type", "") == kind or (hasattr(e, "children")
                                                                 and bool(e.get(kind)))
        bar = next(i for i, e in enumerate(tree) if has(e, "progress"))
        chart = next(i for i, e in enumerate(tree) if has(e, "plotly_chart"))
        assert bar < chart
    finally:
        gate.set()
    assert cui.evaluations().wait(600)
    ok(at.run())                                 # what the page's poll does when it is done
    assert not at.get("progress")
    cap = " ".join(captions(at))
    assert "adapts to 40 new held-out tasks with K = 7" in cap and "First estimate" not in cap


def test_the_bundled_runs_stored_evaluations_are_never_computed_again(monkeypatch):
    import maml_viz.services.evals as evals

    def refuse(*a, **kw):
        raise AssertionError("evaluated again")
    monkeypatch.setattr(evals, "evaluate", refuse)
    monkeypatch.setattr(evals.EvalProcess, "evaluate", refuse)
    for family in FAMILIES:
        at = page(family=family)
        assert not at.get("progress") and not at.error
        assert "First estimate" not in " ".join(captions(at))


def test_the_browser_gets_every_runs_payload_the_settings_and_the_links_task():
    """The small families' one-task chart is computed in the page (tests/test_compare_view.py
    checks it against the engine): the page hands it each drawn run (the first with the batch
    of tasks that holds the link's task), K, the steps and the link's task and step."""
    at = page(family="linear", task=70, step=2, k=7, steps=6)
    live = page_read.live(at)
    runs = str(at.query_params["runs"]).split(",")
    assert [p["run"]["key"] for p in live["payloads"]] == runs and len(runs) >= 2
    assert live["payloads"][0]["tasks"]["first_seed"] == 64 and all(
        p["tasks"] is None for p in live["payloads"][1:])
    assert (live["k"], live["steps"], live["task"], live["step"]) == (7, 6, 70, 2)
    assert not at.button or "Another task" not in [b.label for b in at.button]
    assert str(at.query_params["task"]) == "70"


def test_another_task_draws_another_task_and_keeps_it_in_the_link(server_chart):
    at = page()
    before = charts(at)[0]
    ok(at.button[0].click().run())
    assert at.button[0].label == "Another task"
    assert charts(at)[0]["data"] != before["data"] and at.query_params["task"] == "1"


def test_the_claims_checker_catches_a_caption_its_chart_contradicts():
    """tests/claims.py must fail on a wrong order, a wrong value, a missing level pair, an
    off-chart run not named: a check that cannot fail checks nothing."""
    at = page()
    fig = averaged(at)
    cap = next(c for c in captions(at) if c.startswith("Lower is better"))
    assert check_ranking(cap, fig, False) == 2
    for wrong in (cap.replace("MAML 0.368, FOMAML 0.457", "FOMAML 0.457, MAML 0.368", 1),
                  cap.replace("MAML 0.368", "MAML 0.300", 1),
                  re.sub(r" Level within[^.]*\)?: [^.]*\.", "", cap, count=1)):
        assert wrong != cap
        with pytest.raises(AssertionError):
            check_ranking(wrong, fig, False)
    off = json.loads(json.dumps(fig))
    off["data"].append({"type": "scatter", "name": "MAML off the chart", "x": [3], "y": [5.0],
                        "mode": "markers", "customdata": [9.1]})
    with pytest.raises(AssertionError):                       # a value off the chart, unwritten
        check_ranking(cap, off, False)
    assert off_chart_runs(cap) != edge_marked_runs(off)


def test_families_without_stored_runs_offer_training_and_draw_nothing():
    """The formula families (and plugins) have no bundled runs: the page says they are not
    trained and offers to train them; no chart, so no caption to contradict."""
    from pages._shared import ui
    empty = [f for f in ui.families(supervised=True) if f not in FAMILIES]
    for family in empty:
        at = page(family=family)
        assert any("Not trained yet" in i.value for i in at.info), family
        assert any("at least two" in w.value for w in at.warning)
        assert not charts(at)

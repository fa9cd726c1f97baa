"""What the exploration pages show, without Streamlit: step figures with frames, fixed axes,
blow-ups and divergence, points and clicks, URL settings, run labels, and the common validation
measure the Trainer records."""
import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import Trainer
from maml_viz.runs.files import load_run
from maml_viz.runs.saving import save_run
from maml_viz.runs.store import RunStore
from maml_viz.views.adaptation import grid, metric_range, trajectory, value_range
from maml_viz.views.compare import compare_task, fmt, summary_table, validation_histories
from maml_viz.views.figures.curves import error_vs_steps
from maml_viz.views.figures.style import BEFORE, STEP_SLIDER
from maml_viz.views.links import float_in, int_in, key_list, one_of, read_query, run_label, styles
from maml_viz.views.navigation import goal_cast, navigation
from maml_viz.views.playground import playground
from maml_viz.views.points import clicked, points_from_upload, support

ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets", "runs")


@pytest.fixture(scope="module")
def store():
    return RunStore([ASSETS])


def bundled(store, family, algo):
    return store.get(make_config(family=family, algo=algo))


def frame_traces(fig):
    return [(f.name, list(f.traces), [d.type for d in f.data]) for f in fig.frames]


def check_frames(fig, n):
    """n frames named 0..n-1 updating the same traces in the same order, a slider named "step"
    with one step per frame, and the figure's own traces showing the active frame."""
    assert [f.name for f in fig.frames] == [str(s) for s in range(n)]
    first = frame_traces(fig)[0][1:]
    assert all(t[1:] == first for t in frame_traces(fig))
    slider = fig.layout.sliders[0]
    assert slider.name == STEP_SLIDER and len(slider.steps) == n
    assert [list(s.args[0]) for s in slider.steps] == [[str(s)] for s in range(n)]
    active = fig.frames[slider.active]
    for i, d in zip(active.traces, active.data):
        for k in ("y", "z"):
            if getattr(d, k, None) is not None:
                np.testing.assert_array_equal(np.asarray(getattr(fig.data[i], k), float),
                                              np.asarray(getattr(d, k), float))
    json.loads(fig.to_json())                      # serialisable as the page sends it


def test_playground_frames_hold_every_step_of_the_trajectory(store):
    run = bundled(store, "sinusoid", "maml")
    sup = support(run, 3, 10)
    chart = playground(run, sup, 10, active=2, label="MAML")
    fig = chart.figure
    check_frames(fig, 11)
    assert chart.steps == 10 and not chart.notes and chart.click_trace == 0
    assert fig.data[0].name == "click to add"
    tr = trajectory(run, sup.xs, sup.ys, 10, x_grid=grid(run, 200), task=sup.task)
    moving = next(i for i, t in enumerate(fig.data) if t.name == "MAML after adapting")
    for s in (0, 4, 10):
        f = fig.frames[s]
        y = f.data[list(f.traces).index(moving)].y
        np.testing.assert_allclose(np.asarray(y, float), tr["preds"][s, :, 0], rtol=1e-6, atol=1e-6)


def test_axes_are_fixed_per_family_not_per_algorithm_or_task(store):
    ranges = set()
    for algo, seed in (("maml", 0), ("pretrained", 1), ("scratch", 2), ("reptile", 3)):
        run = bundled(store, "sinusoid", algo)
        fig = playground(run, support(run, seed, 10), 10).figure
        ranges.add((tuple(fig.layout.yaxis.range), tuple(fig.layout.yaxis2.range)))
    assert len(ranges) == 1
    (y, err), = ranges
    assert y == value_range(run.family) and y[0] <= -5 and y[1] >= 5
    line = bundled(store, "linear", "maml").family
    assert value_range(line) != y                  # per family
    nav = bundled(store, "navigation", "maml").family
    assert metric_range(nav) == metric_range(nav, averaged=True)
    assert metric_range(nav)[1] == 0 and metric_range(nav)[0] < -50
    assert metric_range(bundled(store, "blobs", "maml").family) == (0.0, 1.0)


def test_a_step_size_that_blows_up_shows_the_steps_before_and_says_when(store):
    run = bundled(store, "sinusoid", "maml")
    chart = playground(run, support(run, 0, 10), 10, lr=2.0, label="MAML")
    assert chart.notes and "blew up at step" in chart.notes[0]
    b = int(chart.notes[0].split("blew up at step ")[1].split()[0])
    assert 1 <= b <= 10 and chart.steps == b - 1 and len(chart.figure.frames) == b
    assert all(np.isfinite(np.asarray(f.data[0].y, float)).all() for f in chart.figure.frames)


def test_diverged_values_are_a_labelled_marker_on_the_edge_and_tables_say_diverged():
    df = pd.DataFrame({"algo": ["anil"] * 4 + ["maml"] * 4, "step": [0, 1, 2, 3] * 2,
                       "mean": [3.0, 0.8, np.nan, np.nan, 3.0, 0.4, 9.0, 0.2],
                       "ci95": [0.2, 0.1, np.nan, np.nan, 0.2, 0.05, 0.1, 0.02]})
    fig = error_vs_steps(df, "mse", y_range=(0, 4.8))
    assert tuple(fig.layout.yaxis.range) == (0, 4.8)
    div = [t for t in fig.data if (t.name or "").endswith("diverged")]
    assert len(div) == 1 and div[0].text == ("diverged (step 2)",) and div[0].y == (4.8,)
    off = [t for t in fig.data if (t.name or "").endswith("off the chart")]
    assert len(off) == 1 and off[0].customdata[0] == 9.0 and off[0].y == (4.8,)
    assert fmt(float("nan"), 0.1) == "diverged" and fmt(0.37, 0.029) == "0.370 ± 0.029"


def test_table_says_diverged_instead_of_nan(store):
    runs = {"a": bundled(store, "sinusoid", "anil"), "m": bundled(store, "sinusoid", "maml")}
    df = pd.DataFrame({"run": ["a"] * 3 + ["m"] * 3, "step": [0, 1, 2] * 2,
                       "mean": [3.0, np.nan, np.nan, 3.0, 0.4, 0.2], "ci95": [0.1] * 6})
    t = summary_table(df, runs, {"a": "ANIL", "m": "MAML"}, "mse")
    assert list(t["mse after 1 step"]) == ["diverged", "0.400 ± 0.100"]
    assert not t.isna().any().any()


def test_clicks_join_the_task_and_only_mine_replaces(store):
    run = bundled(store, "sinusoid", "maml")
    sup = support(run, 0, 10, [(1.0, 2.0), (7.0, 0.0)])
    assert sup.xs.shape == (1, 12, 1) and sup.task is not None
    assert len(sup.task_points[0]) == 10 and len(sup.my_points[0]) == 2
    assert sup.notes and "outside" in sup.notes[0] and "(7)" in sup.notes[0]
    only = support(run, 0, 10, [(1.0, 2.0)], only_mine=True)
    assert only.xs.shape == (1, 1, 1) and only.task is None
    blobs = bundled(store, "blobs", "maml")
    sup = support(blobs, 0, 1, [(0.5, 0.5, 3)])
    assert sup.ys.shape == (1, 6) and int(sup.ys[0, -1]) == 3
    sel = {"selection": {"points": [{"curve_number": 7, "x": 1, "y": 1},
                                    {"curve_number": 0, "x": 1.23456, "y": -2}]}}
    assert clicked(run.family, sel, 0) == (1.235, -2.0)
    assert clicked(blobs.family, sel, 0, cls=2) == (1.235, -2.0, 2)
    assert clicked(run.family, sel, 3) is None


def test_uploaded_points_become_the_pages_points(store):
    fam = bundled(store, "sinusoid", "maml").family
    rows, notes = points_from_upload(fam, "x,y\n1,2\n-0.5,0.25\n".encode("utf-16"))
    assert rows == [(1.0, 2.0), (-0.5, 0.25)] and notes == []
    blobs = bundled(store, "blobs", "maml").family
    rows, _ = points_from_upload(blobs, "x1,x2,label\n1,2,3\n")
    assert rows == [(1.0, 2.0, 3)]
    with pytest.raises(ValueError, match="x must lie in"):
        points_from_upload(fam, "x,y\n1000,1\n")


def test_classification_regions_and_navigation_step_zero(store):
    blobs = bundled(store, "blobs", "maml")
    chart = playground(blobs, support(blobs, 0, 1), 10, active=5)
    check_frames(chart.figure, 11)
    assert chart.figure.data[chart.click_trace].name == "click to add"
    assert [t.type for t in chart.figure.data[:2]] == ["heatmap", "heatmap"]
    nav = bundled(store, "navigation", "maml")
    chart = navigation(nav, (0.7, 0.1), steps=2, seed=0, active=1, label="MAML", n=4)
    check_frames(chart.figure, 3)
    before = next(t for t in chart.figure.data if t.name == "before adapting")
    assert before.line.color == BEFORE
    step0 = chart.figure.frames[0].data[0]
    assert len(step0.x) == 0                          # at step 0 only the grey "before" is drawn
    assert chart.notes and "outside the square" in chart.notes[0]


def test_compare_moves_every_run_with_one_slider(store):
    runs = {a: bundled(store, "sinusoid", a) for a in ("maml", "reptile", "anil")}
    names, colors, dashes = styles(runs, str.upper)
    chart = compare_task(runs, support(runs["maml"], 0, 10), 10, 1, names,
                         colors, dashes)
    check_frames(chart.figure, 11)
    assert len(chart.figure.frames[0].traces) == 6    # 3 curves + 3 markers
    two = {"a": runs["maml"], "b": bundled(store, "sinusoid", "maml")}
    names, colors, dashes = styles(two)
    assert colors["a"] == colors["b"] and dashes["a"] != dashes["b"] and names["a"] != "maml"


def test_query_settings_parse_or_say_why():
    casts = {"k": int_in(1, 50), "lr": float_in(0, 10),
             "family": one_of(["sinusoid", "blobs"]), "goal": goal_cast,
             "runs": key_list}
    values, problems = read_query(
        {"k": "12", "lr": "abc", "family": "blobs", "goal": "0.3,-0.2", "runs": "a,b", "x": "1"},
        casts)
    assert values == {"k": 12, "family": "blobs", "goal": (0.3, -0.2), "runs": ["a", "b"]}
    assert len(problems) == 1 and "lr='abc'" in problems[0]
    _, problems = read_query({"k": "99", "family": "mnist"}, casts)
    assert len(problems) == 2 and "1 to 50" in problems[0]


def test_run_labels_say_what_differs_and_where_it_came_from():
    d = make_config(family="sinusoid", algo="maml")
    c = make_config(family="sinusoid", algo="maml", seed=3, iterations=2000, inner_lr=0.02)
    label = run_label(c, {"partial": True, "iterations_done": 500}, d, False, 0, "MAML")
    assert label.startswith("MAML · K=10 · 2,000 it · seed 3") and "α 0.02" in label
    assert "stopped at 500" in label
    assert run_label(d, {}, d, True, None, "MAML").endswith("bundled")


def test_validation_measure_is_recorded_and_leaves_training_bit_for_bit(tmp_path):
    for algo in ("maml", "reptile"):
        cfg = make_config(family="sinusoid", algo=algo, iterations=40, meta_batch=4)
        a, b = Trainer(cfg, "cpu", validate_every=10), Trainer(cfg, "cpu", validate_every=0)
        a.run(25), a.run(15), b.run(40)
        assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
        assert "val_metric" not in b.history
        val = dict(zip(a.history["iteration"], a.history["val_metric"]))
        assert [i for i, v in val.items() if v is not None] == [10, 20, 30, 40]
        assert all(0 < v < 50 for v in val.values() if v is not None)
    run = load_run(save_run(a.result(), tmp_path))
    assert run.history["val_metric"] == pytest.approx(a.history["val_metric"], rel=1e-5)
    assert validation_histories({"r": run})["r"][0] == [10, 20, 30, 40]
    # the same validation tasks for every algorithm: a network that predicts 0 scores the same
    zero = {k: torch.zeros_like(v) for k, v in a.params.items()}
    assert a.validator(zero) == pytest.approx(Trainer(make_config(
        family="sinusoid", algo="maml", iterations=40, meta_batch=4), "cpu").validator(zero))

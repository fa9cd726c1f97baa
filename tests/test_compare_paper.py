"""Compare like a methods paper (issue 23, the app): with three or more training seeds per run the
probability-of-improvement matrix (its cells are runs.stats' on the same per-task scores) and the
IQM with its bootstrap interval in the table; with fewer, one sentence and no numbers; the MAML
paper's figures as reference marks on the averaged chart (their values are runs.paper's, the
caption still checked against the chart); tables out as CSV and LaTeX (the LaTeX parses as a
tabular with the table's rows); charts out as PNG and SVG (the export script on the page)."""
import os
import re

import numpy as np
import pytest
import page_read
from claims import check_ranking, legend_entries_visible, off_chart_runs, edge_marked_runs
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs import paper, stats, tables
from maml_viz.runs.evaluate import evaluate, to_json
from maml_viz.runs.saving import save_run
from maml_viz.runs.store import RunStore
from maml_viz.views import compare_stats
from maml_viz.views.compare import stored_evaluation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = {"maml": (7, 8, 9), "fomaml": (7, 8, 9), "reptile": (7, 8)}
K = 5                       # the MAML paper reports the sinusoid at K = 5


def cfg(algo, seed):
    return make_config(family="sinusoid", algo=algo, seed=seed, iterations=60, meta_batch=5)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Tiny sinusoid runs: three seeds of MAML and FOMAML, two of Reptile, each stored with an
    evaluation at K = 5 and 10 (40 tasks, 10 steps: the page's steps) with per-task scores."""
    root = tmp_path_factory.mktemp("paper-runs")
    for algo, seeds in SEEDS.items():
        for s in seeds:
            run = train(cfg(algo, s), "cpu")
            run.metrics = to_json(evaluate(run, k_shots=(K, 10), n_tasks=40))
            save_run(run, root)
    return root


@pytest.fixture
def app_runs(store, monkeypatch):
    with app_store(store, monkeypatch):
        yield store


@pytest.fixture
def media(monkeypatch):
    """The bytes behind the download buttons of the AppTests in this test."""
    import streamlit.testing.v1.app_test as app_test
    kept = []

    class Kept(app_test.MemoryMediaFileStorage):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            kept.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Kept)

    def data(button) -> bytes:
        fid = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
        for m in reversed(kept):
            try:
                return m.get_file(fid).content
            except Exception:
                continue
        raise AssertionError(f"no file behind {button.label}")
    return data


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def compare_page(keys, k=K):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=180)
    at.switch_page("pages/3_Compare.py")
    at.query_params["runs"] = ",".join(keys)
    at.query_params["k"] = str(k)
    return ok(at.run())


def figures(at):
    return page_read.figures(at)


def curves_chart(at):
    return next(f for f in figures(at)
                if "gradient steps" in (f["layout"]["xaxis"].get("title") or {}).get("text", "")
                and "validation" not in f["layout"]["yaxis"]["title"]["text"]
                and f["data"] and not f.get("frames"))


def poi_chart(at):
    found = [f for f in figures(at) if f["data"] and f["data"][0].get("type") == "heatmap"
             and f["data"][0].get("name") == "probability of improvement"]
    return found[0] if found else None


def scores(store, algo, step, k=K):
    """[seeds, tasks] per-task scores of an algorithm's stored seeds at (K, step)."""
    rs = RunStore(store)
    return np.stack([stored_evaluation(rs.get(cfg(algo, s)), k, 10).attrs["task_scores"][k][:, step]
                     for s in SEEDS[algo]])


def arr(v):
    import base64
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(x) for x in v["shape"].split(",")]) if isinstance(
            v.get("shape"), str) else a
    return np.asarray(v, dtype=float)


# ------------------------------------------------------------------ the data
def test_robust_matches_stats_and_says_why_not_with_two_seeds(store):
    rs = RunStore(store)
    frames = {a: {s: stored_evaluation(rs.get(cfg(a, s)), K, 10) for s in SEEDS[a]} for a in SEEDS}
    labels = {a: a.upper() for a in SEEDS}
    three = {a: frames[a] for a in ("maml", "fomaml")}
    r = compare_stats.robust(three, labels, K, 10, False, reps=500)
    m = {a: np.stack([frames[a][s].attrs["task_scores"][K][:, 10] for s in SEEDS[a]])
         for a in three}
    want = stats.poi_matrix(m, False, reps=500)
    assert r.poi == want
    assert abs(r.poi["value"][0][1] + r.poi["value"][1][0] - 1) < 1e-12
    assert r.iqm["maml"] == stats.iqm_interval(m["maml"], False, reps=500)
    assert "Each cell" in r.reading and ("MAML over FOMAML" in r.reading
                                         or "FOMAML over MAML" in r.reading)
    two = compare_stats.robust(frames, labels, K, 10, False, reps=200)
    assert not two.estimated and "at least 3 training seeds" in two.note
    assert "fewest here: 2" in two.note and not re.search(r"\d\.\d", two.note)   # no estimates


def test_paper_marks_are_the_papers_figures():
    runs = {"a": type("R", (), {"config": cfg("maml", 0)})(),
            "b": type("R", (), {"config": cfg("reptile", 0)})()}
    marks = compare_stats.paper_marks(runs, 5, 10, (0.0, 4.8))
    want = paper.targets_for("sinusoid", 5, range(11), algos=["maml"])
    assert [(m["step"], m["value"], m["source"]) for m in marks] == \
        [(t.step, t.value, t.source) for t in want] and len(marks) == 3
    assert compare_stats.paper_marks(runs, 10, 10) == []            # K = 10: no table in the paper
    assert compare_stats.paper_marks(runs, 5, 10, (0.0, 0.5)) == [m for m in marks
                                                                    if m["value"] <= 0.5]
    text = compare_stats.marks_sentence(marks)
    assert "0.670 after 1 step" in text and "0.350 after 10 steps" in text


# ------------------------------------------------------------------ the page
def test_compare_with_three_seeds_shows_the_poi_matrix_iqm_and_the_paper_marks(app_runs, media):
    at = compare_page([cfg("maml", 7).key(), cfg("fomaml", 7).key()])
    assert at.toggle(key="cmp_seeds").value is True
    # the probability-of-improvement matrix: stats.poi_matrix on the same per-task scores
    fig = poi_chart(at)
    assert fig is not None and fig["layout"]["meta"]["step"] == 10
    want = stats.poi_matrix({"m": scores(app_runs, "maml", 10), "f": scores(app_runs, "fomaml", 10)}, False)
    z, cd = arr(fig["data"][0]["z"]), arr(fig["data"][0]["customdata"])
    assert z[0, 1] == pytest.approx(want["value"][0][1], abs=1e-12)
    assert z[1, 0] == pytest.approx(want["value"][1][0], abs=1e-12)
    assert cd[0, 1].tolist() == pytest.approx([want["low"][0][1], want["high"][0][1]], abs=1e-12)
    assert fig["data"][0]["text"][0][1] == f"{want['value'][0][1]:.2f}"
    assert any("Each cell: the probability" in c.value.replace("\\", "") for c in at.caption)
    # IQM with its bootstrap interval beside the mean ± t-interval, as runs.stats computes it
    table = at.dataframe[-1].value
    ref = table[table["run"] == "MAML (MAML paper)"]          # the paper's figure as a row
    assert len(ref) == 1 and ref.iloc[0]["mse after 1 step"] == "0.670"
    assert ref.iloc[0]["mse after 10 steps"] == "0.350" and "Table 2" in ref.iloc[0]["source"]
    table = table[table["run"] != "MAML (MAML paper)"]
    col = "IQM after 10 steps [95% CI]"
    assert table[col].tolist() == [stats.iqm_interval(scores(app_runs, a, 10), False).text(3)
                                   for a in ("maml", "fomaml")]
    assert "IQM after 1 step [95% CI]" in table.columns and "mse after 10 steps" in table.columns
    # the paper's figures as marks, their values runs.paper's, the caption still the chart's
    chart = curves_chart(at)
    marks = [t for t in chart["data"] if "MAML paper" in (t.get("name") or "")]
    assert len(marks) == 1 and marks[0]["name"] == "MAML: MAML paper, Appendix C.1, Table 2"
    want = paper.targets_for("sinusoid", K, range(11), algos=["maml"])
    assert list(arr(marks[0]["x"])) == [t.step for t in want]
    assert list(arr(marks[0]["y"])) == pytest.approx([t.value for t in want])
    assert "Appendix C.1, Table 2" in marks[0]["hovertemplate"]
    cap = next(c for c in page_read.captions(at) if "Lower is better" in c)
    assert check_ranking(cap, chart, False) == 2 and legend_entries_visible(chart) == []
    assert off_chart_runs(cap) == edge_marked_runs(chart)
    assert "Reference marks" in cap.replace("\\", "") and "0.670 after 1 step" in cap.replace("\\", "")
    # every chart out as PNG and SVG: the export script is on the page with its size
    assert any("__mavizExport" in h.proto.body and '"width": 900' in h.proto.body
               and '"cmp_"' in h.proto.body for h in at.get("html"))


def test_latex_and_csv_downloads_hold_the_tables_rows(app_runs, media):
    at = compare_page([cfg("maml", 7).key(), cfg("fomaml", 7).key()])
    table = at.dataframe[-1].value
    buttons = {b.label: b for b in at.get("download_button")}
    tex = media(next(b for b in at.get("download_button") if b.proto.id.endswith("cmp_table_tex")
                     or "cmp_table_tex" in b.proto.id)).decode()
    body = re.search(r"\\begin\{tabular\}\{([lrc]+)\}\n(.*?)\\end\{tabular\}", tex, re.S)
    assert body and len(body.group(1)) == len(table.columns)
    rows = [r.strip() for r in body.group(2).split("\n")
            if r.strip().endswith("\\\\") and not r.startswith("\\")]
    assert len(rows) == len(table) + 1                       # the header and one per run
    cells = [c.strip() for c in rows[1][:-2].split(" & ")]
    assert len(cells) == len(table.columns)
    assert cells[0] == tables.latex_escape(table.iloc[0, 0])
    assert tables.latex_escape(table.iloc[0]["IQM after 10 steps [95% CI]"]) in cells
    csv = media(next(b for b in at.get("download_button") if "cmp_table_csv" in b.proto.id))
    import io

    import pandas as pd
    back = pd.read_csv(io.StringIO(csv.decode()), dtype=str, keep_default_na=False)
    assert back.columns.tolist() == table.columns.tolist()
    assert back["run"].tolist() == table["run"].tolist()
    assert "Table as LaTeX" in buttons and "Table as CSV" in buttons
    poi_tex = media(next(b for b in at.get("download_button")
                         if "cmp_poi_table_tex" in b.proto.id)).decode()
    assert "\\begin{tabular}{lll}" in poi_tex and poi_tex.count("\\\\") == 3


def test_compare_with_two_seeds_says_it_cannot_estimate(app_runs):
    at = compare_page([cfg("maml", 7).key(), cfg("reptile", 7).key()])
    assert at.toggle(key="cmp_seeds").value is True
    assert poi_chart(at) is None
    notes = [i.value.replace("\\", "") for i in at.info]
    said = [n for n in notes if "need at least 3 training seeds" in n]
    assert len(said) == 1 and not re.search(r"\d\.\d", said[0])
    assert not any(c.startswith("IQM") for c in at.dataframe[-1].value.columns)
    # off: one run each, no seeds statistics at all
    ok(at.toggle(key="cmp_seeds").set_value(False).run())
    assert poi_chart(at) is None
    assert not any("need at least 3 training seeds" in i.value.replace("\\", "") for i in at.info)


def test_navigation_return_chart_marks_the_papers_table_4(tmp_path, monkeypatch):
    with app_store(tmp_path / "runs", monkeypatch):                   # the bundled runs
        at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=180)
        at.switch_page("pages/4_Navigation.py")
        ok(at.run())
        fig = next(f for f in figures(at) if any("MAML paper" in (t.get("name") or "")
                                                  for t in f["data"]))
        mark = next(t for t in fig["data"] if "MAML paper" in (t.get("name") or ""))
        want = paper.targets_for("navigation", 40, range(4), algos=["maml"])
        assert mark["name"] == "MAML: MAML paper, Appendix C.2, Table 4"
        assert list(arr(mark["x"])) == [0, 1, 2, 3]
        assert list(arr(mark["y"])) == pytest.approx([t.value for t in want])
        assert any("Reference marks" in plain for plain in
                   (c.replace("\\", "") for c in page_read.captions(at)))

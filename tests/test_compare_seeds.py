"""Training seeds in the app (issue 13, item 2): Compare draws the mean over the stored seeds of a
config with the between-seed 95% t-interval and says how many seeds (the over-tasks interval of
one run stays a toggle away), its CSV has one row per seed; the Train page queues a sweep
(algorithms x seeds) through the job queue."""
import math
import os
import re

import pandas as pd
import pytest
import page_read
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.evaluate import PROTOCOL_VERSION, evaluate, to_json
from maml_viz.runs.saving import save_run
from maml_viz.runs.seeds import t_quantile
from maml_viz.views.compare import evaluation, seed_curves, seed_groups

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = {"maml": (7, 8, 9), "reptile": (7, 8)}


def cfg(algo, seed, **kw):
    return make_config(family="sinusoid", algo=algo, seed=seed, iterations=60, meta_batch=5, **kw)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory):
    """Tiny sinusoid runs, several seeds of two configs, each stored with an evaluation under the
    current protocol at the page's default K and steps (50 tasks, so that it is cheap); one more
    seed of MAML stopped early (not a seed: partial), and MAML with another α (another config)."""
    root = tmp_path_factory.mktemp("seed-runs")
    for algo, seeds in SEEDS.items():
        for s in seeds:
            run = train(cfg(algo, s), "cpu")
            run.metrics = to_json(evaluate(run, n_tasks=50))
            save_run(run, root)
    part = train(cfg("maml", 10), "cpu")
    part.info["partial"] = True
    save_run(part, root)
    save_run(train(cfg("maml", 7, inner_lr=0.02), "cpu"), root)
    return root


@pytest.fixture
def app_runs(seed_runs, monkeypatch):
    with app_store(seed_runs, monkeypatch):
        yield seed_runs


def plain(text: str) -> str:
    """What a Markdown text escaped by compare_notes.esc shows."""
    return re.sub(r"\\(.)", r"\1", text)


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def compare_page(keys):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/3_Compare.py")
    at.query_params["runs"] = ",".join(keys)
    return ok(at.run())


def curves_chart(at):
    return next(f for f in page_read.figures(at)
                if "gradient steps" in f["layout"]["xaxis"]["title"]["text"]
                and "validation" not in f["layout"]["yaxis"]["title"]["text"]
                and f["data"] and not f.get("frames"))


# ------------------------------------------------------------------ the data (maml_viz.views.compare)
def test_seed_groups_curves_and_per_seed_rows(seed_runs):
    from maml_viz.runs.store import RunStore
    store = RunStore(seed_runs)
    entries = store.list()
    runs = {c.key(): store.get(c) for c in (cfg("maml", 8), cfg("reptile", 7), cfg("maml", 9))}
    groups = seed_groups(runs, entries)
    # maml seed 9 is the same config as seed 8: listed once; the partial seed 10 and the other
    # alpha are not seeds of it
    assert list(groups) == [cfg("maml", 8).key(), cfg("reptile", 7).key()]
    assert [c.seed for c in groups[cfg("maml", 8).key()]] == [7, 8, 9]
    assert [c.seed for c in groups[cfg("reptile", 7).key()]] == [7, 8]
    frames = {k: {c.seed: evaluation(store.get(c), 10, 10) for c in cs}
              for k, cs in groups.items()}
    for f in frames[cfg("maml", 8).key()].values():     # the stored evaluation, not a new one
        assert f.attrs["protocol"]["tasks"] == 50 and f.attrs["protocol"]["version"] == PROTOCOL_VERSION
    labels = {k: k.split("-")[1] for k in groups}
    curves, legend, table, per_seed = seed_curves(frames, labels, "mse")
    key = cfg("maml", 8).key()
    one = curves[(curves.run == key) & (curves.step == 1)].iloc[0]
    vals = [frames[key][s].set_index("step").loc[1, "mean"] for s in (7, 8, 9)]
    mean = sum(vals) / 3
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / 2)
    assert one["n_seeds"] == 3 and one["mean"] == pytest.approx(mean)
    assert one["ci95"] == pytest.approx(t_quantile(0.975, 2) * sd / math.sqrt(3))
    assert legend == {key: "maml · 3 seeds", cfg("reptile", 7).key(): "reptile · 2 seeds"}
    assert table["seeds"].tolist() == ["7, 8, 9", "7, 8"] and "±" in table.iloc[0, 2]
    assert len(per_seed) == 5 * 11 and per_seed["seed"].tolist()[:2] == [7, 7]
    assert {"run", "seed", "k_shot", "step", "mean", "ci95 over tasks", "lr_scale"} <= set(per_seed)
    # a run evaluated under an older protocol, or at another K, is evaluated again
    old = store.get(cfg("maml", 7))
    old.metrics = dict(old.metrics, protocol=dict(old.metrics["protocol"], version=1))
    assert evaluation(old, 10, 10, n_tasks=20).attrs["protocol"]["tasks"] == 20
    assert evaluation(store.get(cfg("maml", 7)), 5, 10, n_tasks=20)["k_shot"].eq(5).all()


# ------------------------------------------------------------------ the pages (AppTest)
def test_compare_draws_the_mean_over_seeds_and_the_single_run_view_stays(app_runs):
    keys = [cfg("maml", 7).key(), cfg("reptile", 7).key()]
    at = compare_page(keys)
    toggle = at.toggle(key="cmp_seeds")
    assert toggle.value is True and toggle.help
    fig = curves_chart(at)
    lines = {t["name"] for t in fig["data"] if t.get("mode") == "lines+markers"}
    assert lines == {"MAML · 3 seeds", "Reptile · 2 seeds"}
    # between-seed intervals: a band, or an error bar where it is wider than a quarter of the
    # axis (two seeds of 60 iterations: t(0.975, 1) = 12.7)
    assert sum(t.get("fill") == "toself" or "error_y" in t for t in fig["data"]) >= 2
    assert any("t-interval over seeds" in plain(c) for c in page_read.captions(at))
    table = at.dataframe[-1].value
    assert table["seeds"].tolist() == ["7, 8, 9", "7, 8"]
    assert any("every seed" in b.label for b in at.get("download_button"))
    ok(at.toggle(key="cmp_seeds").set_value(False).run())                  # one run each
    fig = curves_chart(at)
    assert {t["name"] for t in fig["data"] if t.get("mode") == "lines+markers"} == {"MAML", "Reptile"}
    assert any("95% confidence interval of each average over the tasks" in plain(c)
               for c in page_read.captions(at))
    assert "K (trained)" in at.dataframe[-1].value.columns


def test_compare_without_other_seeds_keeps_the_toggle_off(tmp_path, monkeypatch):
    import pages._shared.ui as ui_mod
    monkeypatch.setattr(ui_mod, "RUNS", tmp_path)          # only the bundled runs
    ui_mod.backend.clear()
    keys = [make_config(family="sinusoid", algo=a).key() for a in ("maml", "fomaml")]
    at = compare_page(keys)
    assert at.toggle(key="cmp_seeds").value is False and at.toggle(key="cmp_seeds").disabled
    ui_mod.backend().jobs.shutdown()
    monkeypatch.undo()
    ui_mod.backend.clear()


def test_train_page_queues_a_sweep_of_algorithms_by_seeds_within_the_limits(app_runs):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/2_Train.py")
    ok(at.run())
    ok(at.selectbox(key="tr_family").set_value("linear").run())
    box = next(w for w in at.number_input if w.label == "Seeds (a sweep)")
    assert box.help and box.value == 1
    box.set_value(3)
    next(w for w in at.number_input if w.label == "Seed").set_value(20)
    next(w for w in at.number_input if w.label == "Meta-iterations").set_value(300_000)
    at.multiselect[0].set_value(["maml", "fomaml"])
    ok(at.button(key="FormSubmitter:train_form_linear-Start training").click().run())
    texts = [p.proto.text for p in at.get("progress")]
    # 2 algorithms x 3 seeds = 6 jobs; the queue takes 5 per session and says so for the sixth
    assert sum("yours" in t for t in texts) == 5
    assert {s for s in (20, 21, 22) if any(f"seed {s}" in t for t in texts)} == {20, 21, 22}
    assert any("1 of 6 trainings not queued" in e.value and "Press Start again" in e.value
               for e in at.error), [e.value for e in at.error]
    ui_jobs = __import__("pages._shared.ui", fromlist=["backend"]).backend().jobs
    assert sorted((j.config.algo, j.config.seed) for j in ui_jobs.active()) == sorted(
        [("maml", 20), ("maml", 21), ("maml", 22), ("fomaml", 20), ("fomaml", 21)])
    assert isinstance(at.dataframe[0].value, pd.DataFrame)

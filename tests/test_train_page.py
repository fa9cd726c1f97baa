"""The Train page (AppTest): defaults that follow the family, help on every input, everyone's
jobs listed with the right controls for each session, delete that asks first and only moves a
run to the trash, refusals with a message."""
import os
import time

import pytest
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.saving import save
from maml_viz.runs.store import RunStore
from maml_viz.views.text import unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A fresh user store for the app (the cached backend is rebuilt around it)."""
    root = tmp_path / "runs"
    root.mkdir()
    with app_store(root, monkeypatch):
        yield root


def page():
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/2_Train.py")
    return at.run()


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at, label):
    return next(b for b in at.button if b.label == label)


def progress_texts(at):
    return [unescape(p.proto.text) for p in at.get("progress")]      # (the page escapes them)


def test_form_starts_from_the_familys_defaults_and_every_input_explains_itself(runs):
    at = ok(page())
    value = lambda label: next(w.value for w in at.number_input if w.label == label)
    assert value("Meta-iterations") == 20_000 and value("Tasks per iteration") == 25
    for family, iterations, hidden, k in (("navigation", 300, "100,100", 20),
                                          ("blobs", 3000, "40,40", 1), ("linear", 2000, "", 10)):
        ok(at.selectbox(key="tr_family").set_value(family).run())
        assert value("Meta-iterations") == iterations and value("Examples per task (K)") == k
        assert at.text_input[0].value == hidden, family
    widgets = [*at.number_input, *at.text_input, *at.selectbox, *at.multiselect, *at.button]
    assert widgets and all(w.help for w in widgets), [w.label for w in widgets if not w.help]
    # what cannot fit is refused with the estimate and the limit, and nothing is queued
    at.text_input[0].set_value("4096,4096,4096")
    next(w for w in at.number_input if w.label == "Tasks per iteration").set_value(10_000)
    ok(at.button(key="FormSubmitter:train_form_linear-Start training").click().run())
    assert any("memory" in e.value and "GB" in e.value for e in at.error)
    assert not progress_texts(at)


def test_delete_asks_first_names_the_run_and_moves_only_it_to_the_restorable_trash(runs):
    run = train(make_config(family="linear", algo="fomaml", iterations=10, seed=3), "cpu")
    path = save(run, runs).path
    (runs / "Documents").mkdir()
    (runs / "Documents" / "letter.txt").write_text("keep me")
    at = ok(page())
    assert "Left alone (not runs): Documents" in [c.value for c in at.caption]
    ok(at.selectbox(key="train_pick").set_value(str(path)).run())
    ok(button(at, "Delete…").click().run())
    assert path.is_dir()                                   # nothing happens before confirming
    assert any("FOMAML on Straight lines (K=10, 10 iterations, seed 3)" in unescape(w.value)
               and "trash" in w.value for w in at.warning)          # (names are escaped)
    ok(button(at, "Yes, delete it").click().run())
    assert not path.exists() and (runs / "Documents" / "letter.txt").read_text() == "keep me"
    assert len(RunStore(runs).trash()) == 1
    name = "FOMAML on Straight lines (K=10, 10 iterations, seed 3)"
    assert name not in at.selectbox(key="train_pick").options
    ok(button(at, "Restore").click().run())
    assert path.is_dir() and name in at.selectbox(key="train_pick").options


def test_jobs_show_for_every_session_but_only_their_owner_can_stop_them(runs):
    a, b = ok(page()), None
    ok(a.selectbox(key="tr_family").set_value("linear").run())
    next(w for w in a.number_input if w.label == "Seed").set_value(11)
    next(w for w in a.number_input if w.label == "Meta-iterations").set_value(300_000)
    ok(a.button(key="FormSubmitter:train_form_linear-Start training").click().run())
    assert any("seed 11" in t and "yours" in t for t in progress_texts(a))
    b = ok(page())                                          # another browser session
    assert any("seed 11" in t and "another user's (read-only)" in t for t in progress_texts(b))
    assert not [x for x in b.button if x.label in ("Stop", "Cancel")]
    t0 = time.time()
    while not any("training ·" in t for t in progress_texts(ok(a.run()))):
        assert time.time() - t0 < 120
        time.sleep(0.5)
    assert any("Training now:" in m.value for m in a.sidebar.markdown)
    ok(button(a, "Stop").click().run())
    t0 = time.time()
    while not any("stopped at" in t for t in progress_texts(ok(b.run()))):
        assert time.time() - t0 < 120
        time.sleep(0.5)
    assert not any("Training now:" in m.value for m in b.sidebar.markdown)
    assert any("seed 11" in t and "another user's" in t for t in progress_texts(b))
    assert [x for x in b.get("page_link") if "Playground" in x.proto.label]


def test_a_damaged_copy_of_a_bundled_run_is_listed_apart_and_only_it_can_be_deleted(runs):
    import shutil
    bundled = os.path.join(ROOT, "assets", "runs", make_config(family="sinusoid", algo="maml").key())
    mine = runs / os.path.basename(bundled)
    shutil.copytree(bundled, mine)
    (mine / "metrics.json").write_text('{"training": "x", "evaluation": null}')
    at = ok(page())
    table = at.dataframe[0].value
    bad = table[table["health"].str.startswith("damaged")]
    assert len(bad) == 1 and bad.iloc[0]["algorithm"] == "MAML" and "metrics.json" in bad.iloc[0]["health"]
    ok(at.selectbox(key="train_pick").set_value(bundled).run())
    assert button(at, "Delete").disabled                    # bundled runs are read-only
    ok(at.selectbox(key="train_pick").set_value(str(mine)).run())
    ok(button(at, "Delete…").click().run())
    assert any("damaged" in w.value and "bundled" not in w.value.split("?")[0] for w in at.warning)
    ok(button(at, "Yes, delete it").click().run())
    assert not mine.exists() and os.path.isdir(bundled)


def test_stored_runs_say_when_they_were_trained_from_their_own_record_and_the_protocol(runs):
    """Issue 20 item 8: a bundled run without a record of when it was trained says "bundled"
    (not its files' time: when the app was installed); a run saved now records
    training.finished and shows it; the caption says the protocol instead of pointing to a file."""
    import json
    import re
    cfg = make_config(family="linear", algo="maml", iterations=30, meta_batch=5, seed=11)
    path = save(train(cfg, "cpu"), runs).path
    finished = json.loads((path / "metrics.json").read_text())["training"]["finished"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", finished)
    os.utime(path, (0, 0))                                  # the folder's time says 1970
    at = ok(page())
    table = at.dataframe[0].value
    bundled = table[table["bundled"]]
    assets = os.path.join(ROOT, "assets", "runs")
    in_assets = [d for d in os.listdir(assets) if not d.startswith(".")]
    recorded = {d for d in in_assets if json.loads(open(os.path.join(assets, d, "metrics.json"))
                                                   .read()).get("training", {}).get("finished")}
    assert len(bundled) == len(in_assets)
    # bundled runs without a record say "bundled"; those trained since the record exists, a date
    n_dated = sum(bool(re.search(r"\d\d \w{3} \d{4} \d\d:\d\d UTC$", t)) for t in bundled["trained"])
    assert n_dated == len(recorded) and (bundled["trained"] == "bundled").sum() == len(in_assets) - n_dated
    mine = table[(table["seed"] == 11) & (table["family"] == "Straight lines")]
    stamp = time.strftime("%d %b %Y %H:%M UTC", time.strptime(finished, "%Y-%m-%dT%H:%M:%SZ"))
    assert mine["trained"].tolist() == [stamp]
    assert (table[table["bundled"]]["test tasks"] > 0).all()
    text = " ".join(c.value for c in at.caption)
    assert "metrics.json" not in text and "held-out test tasks" in text


def test_the_download_button_zips_a_run_only_when_asked_and_once_per_version(runs, monkeypatch):
    """Issue 26, item 10: no zip is built on a rerun (a 129 MB run cost 3.7 s and 360 MB per
    rerun); asking twice for the same files builds one; a changed file builds a new one."""
    import zipfile

    from pages._shared import runs_ui
    built = []
    real = zipfile.ZipFile

    class Counting(real):
        def __init__(self, *a, **kw):
            if "w" in a[1:2] or kw.get("mode") == "w":
                built.append(a[0])
            super().__init__(*a, **kw)

    monkeypatch.setattr(runs_ui.zipfile, "ZipFile", Counting)
    run = train(make_config(family="linear", algo="maml", iterations=10, seed=4), "cpu")
    path = save(run, runs).path
    at = ok(page())
    ok(at.selectbox(key="train_pick").set_value(str(path)).run())
    for _ in range(3):
        ok(at.run())
    assert built == []                                      # reruns build nothing
    runs_ui.zipped.clear()
    sig = runs_ui.signature(path)
    data = runs_ui.zipped(str(path), path.name, sig)
    assert runs_ui.zipped(str(path), path.name, sig) == data and len(built) == 1
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        assert sorted(z.namelist()) == sorted(f"{path.name}/{f.name}" for f in path.iterdir())
    (path / "history.csv").write_text((path / "history.csv").read_text())
    assert runs_ui.zipped(str(path), path.name, runs_ui.signature(path)) and len(built) == 2

"""The Handwriting page says only what its data show (issue 20, item 7): every number in its
captions is the one its charts draw, no caption points to a file a web visitor cannot open, and
the random init beating the pretrained network gets one sentence, with the table's numbers,
only when the stored evaluation shows it. Also: the adaptation kept apart from recognising
drawings gives the same guesses, and the drawing pad's input is checked."""
import base64
import os
import re
import time

import numpy as np
import page_read
import pytest
from streamlit.testing.v1 import AppTest

from maml_viz.engine.registry import make_config
from maml_viz.runs.store import RunStore
from maml_viz.views import handwriting as hw
from pages._shared import ui
from pages._shared.drawing_pad import clean

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAML_VIZ_RUNS", str(tmp_path_factory.getbasetemp() / "hw-runs"))


@pytest.fixture(scope="module")
def at():
    t = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    t.switch_page("pages/5_Handwriting.py")
    t.run()
    assert not t.exception, [e.value for e in t.exception]
    return t


def charts(at):
    """The grids (drawn by the page from their figures), then Streamlit's charts."""
    return page_read.figures(at)


def arr(v):
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.asarray(v, float)


def words(at):
    return [m.value for m in at.markdown] + page_read.captions(at)


def frame_trace(fig, step, name_start):
    f = next(f for f in fig["frames"] if f["name"] == str(step))
    return next(d for d in f["data"] if (d.get("name") or "").startswith(name_start))


def test_no_caption_sends_the_visitor_to_a_file(at):
    for text in words(at):
        assert not re.search(r"README|\.json|\.py\b|\.md\b|\.csv", text), text


def test_the_captions_numbers_are_the_charts(at):
    grids, probs = charts(at)[:2], charts(at)[2]
    right = {}
    for fig in grids:
        who, rest = fig["layout"]["title"]["text"].split(": ", 1)
        last = len(fig["frames"]) - 1
        n = {s: int(re.search(r"(\d+) of (\d+) right", frame_trace(fig, s, "score")["text"][0])[1])
             for s in (0, last)}
        total = int(re.search(r"of (\d+) right", frame_trace(fig, 0, "score")["text"][0])[1])
        assert rest == f"{n[0] / total:.0%} → {n[last] / total:.0%} after {last} steps"
        right[who] = n[last]
    cap = next(t for t in words(at) if t.startswith("The same task for a network trained"))
    m = re.search(r"after (\d+) steps it gets (\d+) of (\d+) right, MAML (\d+)", cap)
    assert m and int(m[2]) == right["Pretrained"] and int(m[4]) == right["MAML"]
    cap = next(t for t in words(at) if t.startswith("Before adapting, a network cannot know"))
    true = next(i for i, c in enumerate(probs["data"][0]["x"]) if "right answer" in c)
    said = re.findall(r"after (\d+) steps?: ([^;]+?)(?:;|\.$)", cap)
    assert [s for s, _ in said] == ["1", str(len(probs["frames"]) - 1)], cap
    for step, text in said:
        pairs = re.findall(r"(\w+) (\d+)%", text)
        assert [w for w, _ in pairs] == ["MAML", "Pretrained"], text
        for who, pct in pairs:
            bars = next(d for d in next(f for f in probs["frames"] if f["name"] == step)["data"]
                        if d["name"] == who)
            assert f"{arr(bars['y'])[true]:.0%}" == f"{pct}%", (who, step)
    intro = words(at)[0]
    for a in hw.alphabets():
        assert hw.alphabet_name(a) in intro
    assert f"meta-trained on {len(hw.training_alphabets())} alphabets" in intro


def test_random_init_above_pretrained_is_explained_with_the_tables_numbers(at):
    table = at.dataframe[0].value
    final = [c for c in table.columns if c.startswith("after ") and c != "after 1 step"][0]
    acc = dict(zip(table["algorithm"], table[final]))
    note = [t for t in words(at) if t.startswith("Why does")]
    if acc["Random init"] > acc["Pretrained"]:
        assert len(note) == 1
        m = re.match(r"Why does Random init \(([\d.]+)%\) beat Pretrained \(([\d.]+)%\) after "
                     r"(\d+) steps\?", note[0])
        assert m and f"after {m[3]} steps" == final
        assert float(m[1]) == round(100 * acc["Random init"], 1)
        assert float(m[2]) == round(100 * acc["Pretrained"], 1)
    else:
        assert not note


def test_the_explanation_appears_only_when_the_data_show_it():
    labels = {"scratch": "Random init", "pretrained": "Pretrained", "maml": "MAML"}
    kinds = {"scratch": "random", "pretrained": "pretrained", "maml": "meta"}
    alike = np.full((6, 15, 5), 0.2)
    text = hw.random_beats_pretrained({"scratch": (5, 0.55), "pretrained": (5, 0.38)}, labels,
                                      kinds, alike)
    assert "55.0%" in text and "38.0%" in text and "between 20% and 20%" in text
    assert hw.random_beats_pretrained({"scratch": (5, 0.3), "pretrained": (5, 0.38)}, labels,
                                      kinds) is None
    varied = np.random.default_rng(0).dirichlet(np.ones(5), (6, 15))
    text = hw.random_beats_pretrained({"scratch": (5, 0.55), "pretrained": (5, 0.38)}, labels,
                                      kinds, varied)
    assert "same answer" not in text             # not claimed where the task shown disagrees


def test_adapting_once_and_classifying_later_gives_the_same_guesses():
    store = RunStore([os.path.join(ROOT, "assets", "runs")])
    run = store.get(make_config(family="omniglot", algo="maml"))
    ep = hw.episode(hw.pick_characters(hw.alphabets()[0], 5, 0), 0)
    kept = hw.adapt_steps(run, ep, 2)
    mine = hw.with_drawing(ep, hw.rasterize([[(0.2, 0.2), (0.8, 0.8)]]))
    np.testing.assert_allclose(hw.classify(kept, mine["xq"]), hw.guesses(run, mine, 2)["probs"],
                               atol=1e-6)
    assert (hw.guesses(run, ep, 2, kept)["guess"] == hw.guesses(run, ep, 2)["guess"]).all()


def test_the_drawing_pad_keeps_only_well_formed_strokes():
    assert clean([[[0.1, 0.2], [1.5, -1]], "x", [[None, 1]], [], [[float("nan"), 0.3]]]) == \
        [[(0.1, 0.2), (1.0, 0.0)]]
    assert clean(None) == [] and clean({"a": 1}) == []
    assert len(clean([[[0.5, 0.5]] * 5000] * 100)) == 40            # bounded
    assert hw.escape("Japanese_(katakana)") == "Japanese\\_\\(katakana\\)"


def test_other_characters_takes_one_run_and_its_next_task_is_computed_ahead():
    """"Other characters" moves to the next five characters in the run of the press (its
    callback, before the script), and the task after that is being prepared meanwhile: its two
    networks adapted and its grids built by the memo's worker (the next press finds them)."""
    t = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=300)
    t.switch_page("pages/5_Handwriting.py")
    t.run()
    alphabet = t.selectbox(key="hw_alphabet").value
    assert t.multiselect(key=f"hw_chars_{alphabet}_0").value == hw.pick_characters(alphabet, 5, 0)
    next(b for b in t.button if b.label == "Other characters").click()
    t.run()
    assert not t.exception, [e.value for e in t.exception]
    assert t.session_state["hw_seed"] == 1
    assert t.multiselect(key=f"hw_chars_{alphabet}_1").value == hw.pick_characters(alphabet, 5, 1)
    memo, ahead = ui.memo("hw"), tuple(hw.pick_characters(alphabet, 5, 2))
    for _ in range(600):                                  # the worker: at most a minute
        if any(isinstance(k, tuple) and ahead in k and "grids" in k for k in list(memo._done)):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the next characters' grids were not computed ahead")

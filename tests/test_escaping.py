"""Issue 26, item 2 (and the link messages of item 11): nothing a link, a file or a folder name
says is rendered as Markdown or HTML, and printed shell commands quote their arguments. The
escaping helper (views/text.esc) on Markdown images, links and HTML; the pages' messages built
from outside values (AppTest); `runs --trash` and `runs --restore` (CLI); link values explained
in our own words, never Python's. The real-browser check (no request to the image's host, the
text shown literally) is in test_escaping_browser.py."""
import os
import re
import shlex
import shutil

import pytest
from conftest import app_store
from streamlit.testing.v1 import AppTest

from maml_viz import cli
from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.saving import TRASH, save
from maml_viz.views.links import float_in, int_in, key_list, one_of, read_query
from maml_viz.views.navigation import goal_cast
from maml_viz.views.text import esc, unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTACK = "![x](http://127.0.0.1:9/p.png) [log in](http://x/phish)"
NASTY = [ATTACK, "<img src=x onerror=alert(1)>", "<b>bold</b> &amp; <script>alert(1)</script>",
         "http://x/autolink www.x.com", ":red[red] :material/home: $x^2$ **b** _i_ `c`",
         "line\n# heading\n\n    code\n- item\n> quote", "a | b\n---|---", "~~s~~ [ref]: /u"]


@pytest.mark.parametrize("value", NASTY)
def test_esc_leaves_no_markup_and_reads_back_as_written(value):
    out = esc(value)
    assert "\n" not in out and "\r" not in out
    # every ASCII punctuation character is escaped: nothing can open a link, an image, a tag,
    # an emphasis, a directive, a formula or an entity
    for i, ch in enumerate(out):
        if ch in "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~":
            assert i > 0 and out[i - 1] == "\\", (out, i)
    assert unescape(out) == value.replace("\n", " ")
    assert "](" not in out.replace("\\]\\(", "")


def test_esc_cuts_very_long_values_and_takes_any_object():
    assert esc("a" * 5000).endswith("…") and len(esc("a" * 5000)) == 2001
    assert esc(ValueError("bad [x](y)")) == "bad \\[x\\]\\(y\\)"
    assert esc(3.5) == "3\\.5"


# ------------------------------------------------------------------ pages (AppTest)
@pytest.fixture
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    root.mkdir()
    with app_store(root, monkeypatch):
        yield root


def markdown_bodies(at):
    out = []
    for kind in ("warning", "error", "info", "success", "caption", "markdown"):
        out += [e.proto.body if hasattr(e.proto, "body") else e.value for e in at.get(kind)]
    return out


def assert_literal(bodies, value):
    """Some body shows value literally (escaped), and no body carries it as live Markdown."""
    assert any(value.replace("\n", " ") in unescape(b) for b in bodies), bodies
    for b in bodies:
        assert "](http" not in b and "<img" not in b, b


def test_a_deep_link_value_is_shown_literally_on_the_playground(runs):
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/1_Playground.py")
    at.query_params["run"] = ATTACK
    at.query_params["k"] = "[x](http://x/k)"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = [w.proto.body for w in at.warning]
    assert_literal(bodies, ATTACK)
    assert_literal(bodies, "[x](http://x/k)")
    assert not any("invalid literal" in unescape(b) for b in bodies)


def test_folder_names_and_file_contents_on_the_train_page_are_escaped(runs):
    (runs / "![x](http:__127.0.0.1:9_p.png)").mkdir()               # a user's folder: left alone
    run = train(make_config(family="linear", algo="maml", iterations=5), "cpu")
    bad = save(run, runs).path
    (bad / "history.csv").write_text("[log in](http://x/phish),<b>b</b>,c\n")
    at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
    at.switch_page("pages/2_Train.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = markdown_bodies(at)
    assert_literal(bodies, "![x](http:__127.0.0.1:9_p.png)")        # "Left alone"
    assert_literal(bodies, "[log in](http://x/phish),<b>b</b>,c")      # the damaged-run reason
    assert not any("<b>b</b>" in b for b in bodies)


# ------------------------------------------------------------------ the command line
def test_runs_trash_prints_restore_commands_a_shell_runs_as_written(tmp_path, capsys):
    root = tmp_path / "my runs; $(touch pwned)"
    run = train(make_config(family="linear", algo="maml", iterations=5), "cpu")
    path = save(run, root).path
    entry = f"{path.name}~$(touch pwned)`id`~'x'"
    (root / TRASH).mkdir()
    shutil.move(path, root / TRASH / entry)
    assert cli.main(["runs", "--runs-dir", str(root), "--trash"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    cmd = out[0].split("restore with: ", 1)[1].rstrip(")")
    assert shlex.split(cmd) == ["python", "-m", "maml_viz", "runs", "--runs-dir", str(root),
                                "--restore", entry]
    # and the command does what it says (run through the same parser, not a shell)
    assert cli.main(shlex.split(cmd)[3:]) == 0
    assert "restored" in capsys.readouterr().out and (root / path.name).is_dir()
    assert not (tmp_path / "pwned").exists()


def test_restoring_a_damaged_run_says_it_is_damaged(tmp_path, capsys):
    root = tmp_path / "runs"
    run = train(make_config(family="linear", algo="maml", iterations=5), "cpu")
    path = save(run, root).path
    (path / "history.csv").write_text("nonsense\n")
    (root / TRASH).mkdir()
    shutil.move(path, root / TRASH / f"{path.name}~x~y")
    assert cli.main(["runs", "--runs-dir", str(root), "--restore", f"{path.name}~x~y"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("restored ") and "but it is damaged (history.csv has the header" in out


# ------------------------------------------------------------------ link values, in our words
PYTHON_WORDS = re.compile(r"invalid literal|could not convert|not enough values|too many values|"
                          r"unpack|base 10|NoneType|Traceback")


@pytest.mark.parametrize("name,text", [("k", "abc"), ("k", "1e3"), ("k", ""), ("k", "99"),
                                       ("lr", "x"), ("lr", "nan"), ("lr", "1e999"), ("lr", "-1"),
                                       ("goal", "1"), ("goal", "1,2,3"), ("goal", "a,b"),
                                       ("goal", "99,0"), ("family", "mnist"), ("runs", ",,,"),
                                       ("runs", ",".join("abcdefghijk"))])
def test_link_values_are_explained_in_plain_words(name, text):
    casts = {"k": int_in(1, 50), "lr": float_in(0, 10), "goal": goal_cast,
             "family": one_of(["sinusoid", "blobs"]), "runs": key_list}
    values, problems = read_query({name: text}, casts)
    assert not values and len(problems) == 1
    msg = problems[0]
    assert msg.startswith(f"The link's {name}=") and "was ignored (" in msg
    assert not PYTHON_WORDS.search(msg), msg
    assert "must be" in msg or "not allowed" in msg


def test_a_link_value_is_quoted_short(monkeypatch):
    _, problems = read_query({"k": "9" * 500}, {"k": int_in(1, 50)})
    assert len(problems[0]) < 200 and "…" in problems[0]

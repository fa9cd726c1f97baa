"""Plugins by entry point (maml_viz/plugins.py) and the example plugin examples/maml_viz_square
(installed by .ci/run with `pip install -e examples/maml_viz_square`): its family and algorithm
are in the CLI's help, the registries the pages list, training, evaluation and a sweep; a broken
plugin (a temporary distribution on sys.path with bad entry points) is reported in one line
naming it while everything else keeps working.

Ray stays on loopback as in tests/test_sweep.py (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 set below,
before Ray is imported; the local instance binds 127.0.0.1)."""
import json
import os
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pytest  # noqa: E402

from maml_viz import cli
from maml_viz.engine import plugins  # noqa: E402
from maml_viz.engine.algorithms import ALGORITHMS, _plugin_algorithm  # noqa: E402
from maml_viz.engine.registry import algorithms_for, families, make_config  # noqa: E402
from maml_viz.engine.tasks import FAMILIES, _plugin_family  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALL = "the example plugin is not installed: pip install -e examples/maml_viz_square"


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "maml_viz", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env=env)


def flat(text: str) -> str:
    """argparse wraps help text (and breaks names at '-'): one line, no wrapping."""
    return " ".join(re.sub(r"-\n\s*", "-", text).split())


# ------------------------------------------------------------------ the example plugin
def test_the_example_plugin_is_registered_everywhere_the_built_ins_are():
    assert "square" in FAMILIES and "stepmaml" in ALGORITHMS, INSTALL
    assert plugins.source(plugins.FAMILY_GROUP, "square") == "maml-viz-square"
    assert plugins.source(plugins.ALGORITHM_GROUP, "stepmaml") == "maml-viz-square"
    assert plugins.source(plugins.FAMILY_GROUP, "sinusoid") is None
    assert not [p for p in plugins.PROBLEMS if "maml-viz-square" in p], plugins.PROBLEMS
    assert "square" in families(supervised=True)                 # Playground, Compare
    assert "stepmaml" in algorithms_for("square") and "stepmaml" in algorithms_for("expr")
    assert "stepmaml" not in algorithms_for("navigation")       # it says: supervised only
    import pages._shared.ui as ui  # what the pages list
    assert "square" in ui.families(supervised=True) and "square" in ui.families()
    assert "stepmaml" in ui.algos(family="square") and ui.family_label("square")


def test_train_help_lists_the_plugins_and_a_plugin_run_trains_and_evaluates(tmp_path):
    h = run_cli("train", "--help")
    assert h.returncode == 0, h.stderr
    text = flat(h.stdout)
    assert "square (plugin maml-viz-square)" in text, text
    assert "stepmaml (plugin maml-viz-square)" in text
    assert "sinusoid" in text and "expr" in text and "maml, fomaml" in text
    runs = str(tmp_path / "runs")
    r = run_cli("train", "--family", "square", "--algo", "stepmaml", "--inner-steps", "2",
                "--iterations", "15", "--eval-tasks", "20", "--runs-dir", runs, "--quiet",
                "--device", "cpu")
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip().splitlines()[-1]
    assert os.path.basename(path).startswith("square-stepmaml-")
    ev = run_cli("evaluate", path, "--steps", "2", "--tasks", "20", "--json")
    assert ev.returncode == 0, ev.stderr
    out = json.loads(ev.stdout)
    assert [x["step"] for x in out["results"]] == [0, 1, 2]
    assert all(x["mean"] is not None for x in out["results"])
    listing = run_cli("runs", "--runs-dir", runs)
    assert os.path.basename(path) in listing.stdout and "DAMAGED" not in listing.stdout


def test_sweep_with_the_plugins_family_and_algorithm(tmp_path, capsys):
    runs = tmp_path / "runs"
    rc = cli.main(["sweep", "--family", "square", "--algos", "maml,stepmaml", "--seeds", "0",
                   "--iterations", "10", "--runs-dir", str(runs), "--quiet", "--no-compile"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 trained" in err and "0 failed" in err
    assert sorted(p.name.split("-")[1] for p in runs.iterdir()) == ["maml", "stepmaml"]
    assert "stepmaml" in out                       # the summary's row


# ------------------------------------------------------------------ broken plugins
BROKEN_MODULE = '''
"""A plugin with everything wrong (for maml-viz's tests)."""
from maml_viz.engine.algorithms.maml import MAML
from maml_viz.engine.tasks.sinusoid import Sinusoid

NOT_A_FAMILY = 42


class SecondSine(Sinusoid):            # inherits the name "sinusoid": taken
    pass


class BadName(MAML):
    name = "Bad Name!"


def make():
    return "nothing"
'''
BROKEN_ENTRY_POINTS = """
[maml_viz.families]
missing = brokenplug_nowhere:Family
number = brokenplug:NOT_A_FAMILY
taken = brokenplug:SecondSine
crash = brokenplug_crash:Family

[maml_viz.algorithms]
function = brokenplug:make
badname = brokenplug:BadName
"""


@pytest.fixture
def broken_plugin(tmp_path):
    """A distribution 'brokenplug' on a temporary path entry: metadata with bad entry points,
    a module with wrong objects, a module that raises when imported."""
    site = tmp_path / "site"
    info = site / "brokenplug-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(BROKEN_ENTRY_POINTS))
    (site / "brokenplug.py").write_text(BROKEN_MODULE)
    (site / "brokenplug_crash.py").write_text("raise RuntimeError('plugin bug\\nsecond line')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), ROOT]))
    return SimpleNamespace(site=site, env=env)


def test_a_broken_plugin_is_reported_in_one_line_each_and_the_rest_works(broken_plugin, tmp_path):
    h = run_cli("train", "--help", env=broken_plugin.env)
    assert h.returncode == 0, h.stderr
    lines = [ln for ln in h.stderr.splitlines() if ln.strip()]
    assert all("plugin 'brokenplug'" in ln for ln in lines), lines     # one line per problem
    want = {"missing": "failed to import (ModuleNotFoundError: No module named 'brokenplug_nowhere')",
            "number": "it gives 42 (of type int), not a task family",
            "taken": "the name 'sinusoid' is taken by a built-in one",
            "crash": "failed to import (RuntimeError: plugin bug second line)",
            "function": "it gives the function brokenplug.make, not an algorithm",
            "badname": "its name 'Bad Name!' must be lower-case letters"}
    assert len(lines) == len(want), lines
    for ep, why in want.items():
        assert any(f"(entry point {ep} = " in ln and why in ln for ln in lines), (ep, lines)
    text = flat(h.stdout)                    # everything else is still there, the good plugin too
    assert "sinusoid" in text and "expr" in text and "square (plugin maml-viz-square)" in text
    assert "Bad Name" not in text and "brokenplug" not in text
    runs = str(tmp_path / "runs")
    r = run_cli("train", "--family", "linear", "--algo", "maml", "--iterations", "5",
                "--eval-tasks", "10", "--runs-dir", runs, "--quiet", "--device", "cpu",
                env=broken_plugin.env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == len(want) + 1


def test_no_plugins_with_the_switch(broken_plugin):
    env = dict(broken_plugin.env, MAML_VIZ_NO_PLUGINS="1")
    h = run_cli("train", "--help", env=env)
    assert h.returncode == 0 and h.stderr == "", h.stderr
    assert "square" not in h.stdout and "sinusoid" in h.stdout


def test_plugin_checks_in_process(monkeypatch):
    """plugins.load with stand-in entry points: what is accepted and what is refused."""
    from maml_viz.engine.algorithms.maml import MAML
    from maml_viz.engine.tasks import RegressionFamily
    from maml_viz.engine.tasks.sinusoid import Sinusoid

    class Good(Sinusoid):
        name = "good_sine"

    class GoodAlgo(MAML):
        name = "good_algo"

    class NoName(RegressionFamily):
        pass

    class BadDefaults(Sinusoid):
        name = "bad_defaults"
        amp_min: float = 9.0              # not a dataclass field: the class attribute only

        def check(self):
            raise ValueError("amp_min must be below amp_max")

    class EP:
        def __init__(self, name, obj):
            self.name, self.value, self.obj = name, f"test:{name}", obj
            self.dist = SimpleNamespace(name="test-plugin")

        def load(self):
            if isinstance(self.obj, BaseException):
                raise self.obj
            return self.obj

    def load(group, eps, registry, accept):
        monkeypatch.setattr(plugins, "_entry_points", lambda g: eps if g == group else [])
        monkeypatch.setattr(plugins, "PROBLEMS", [])
        monkeypatch.setattr(plugins, "SOURCES", {})
        return plugins.load(group, registry, accept), plugins.PROBLEMS

    fams = dict(FAMILIES)
    added, problems = load(plugins.FAMILY_GROUP,
                           [EP("good", Good), EP("noname", NoName), EP("base", RegressionFamily),
                            EP("defaults", BadDefaults), EP("exit", SystemExit(3)),
                            EP("again", Good), EP("algo", GoodAlgo)], fams, _plugin_family)
    assert added == ["good_sine"] and fams["good_sine"] is Good
    assert set(fams) == set(FAMILIES) | {"good_sine"}
    assert len(problems) == 6 and all(p.count("\n") == 0 for p in problems)
    assert any("noname" in p and "does not set its name" in p for p in problems)
    assert any("(entry point base " in p and "not a task family" in p for p in problems)
    assert any("defaults" in p and "ValueError: amp_min must be below amp_max" in p
               for p in problems)
    assert any("exit" in p and "failed to import (SystemExit: 3)" in p for p in problems)
    assert any("again" in p and "taken by plugin 'test-plugin'" in p for p in problems)
    assert any("(entry point algo " in p and "not a task family" in p for p in problems)
    algos = dict(ALGORITHMS)
    added, problems = load(plugins.ALGORITHM_GROUP,
                           [EP("a", GoodAlgo), EP("b", GoodAlgo()), EP("c", Good),
                            EP("d", ImportError("no"))], algos, _plugin_algorithm)
    assert added == ["good_algo"] and isinstance(algos["good_algo"], GoodAlgo)
    assert len(problems) == 3
    assert make_config(family="sinusoid", algo="maml").algo == "maml"   # untouched


def test_runs_of_a_plugin_that_is_gone_are_listed_as_unreadable(tmp_path):
    """A run trained with a plugin's family, then read where the plugin is not loaded: the runs
    listing says why instead of failing."""
    runs = tmp_path / "runs"
    r = run_cli("train", "--family", "square", "--algo", "maml", "--iterations", "5",
                "--eval-tasks", "10", "--runs-dir", str(runs), "--quiet", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    gone = run_cli("runs", "--runs-dir", str(runs),
                   env=dict(os.environ, MAML_VIZ_NO_PLUGINS="1"))
    assert gone.returncode == 0, gone.stderr
    assert "DAMAGED" in gone.stdout and "unknown family 'square'" in gone.stdout


def test_a_plugin_run_is_drawn_on_the_playground(tmp_path, monkeypatch):
    """The Playground lists the plugin's family and algorithm and draws a stored run of them."""
    from conftest import app_store
    from streamlit.testing.v1 import AppTest

    from maml_viz.engine.train import train
    from maml_viz.runs.saving import save

    root = tmp_path / "runs"
    root.mkdir()
    run = train(make_config(family="square", algo="stepmaml", iterations=10, hidden=(16,)), "cpu")
    key = save(run, root).path.name
    with app_store(root, monkeypatch):
        at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
        at.switch_page("pages/1_Playground.py").run()
        assert "Square waves (plugin)" in at.selectbox(key="pg_family").options   # its label
        at.selectbox(key="pg_family").set_value("square").run()
        assert "MAML, one step size per step (plugin)" in at.selectbox(key="pg_algo").options
        at.selectbox(key="pg_algo").set_value("stepmaml").run()
        at.selectbox(key="pg_run").set_value(key).run()
        assert not at.exception, [e.value for e in at.exception]
        charts = at.get("plotly_chart")
        assert charts, "no chart drawn"
        spec = json.loads(charts[0].proto.spec)
        assert spec["layout"]["yaxis"]["range"] == [-6.0, 6.0]     # square waves of height ≤ 5

"""The formula family `expr` (maml_viz/tasks/expr.py): options in the config and its hash, the
tasks it draws, what it refuses (one line each, naming the option and where), training and
evaluation with every algorithm that applies, the app's fixed ranges and run labels, the CLI
(exit 2 with one line for a bad formula) and a sweep on Ray.

Ray stays on loopback as in tests/test_sweep.py: the driver runs with
RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (set below, before Ray is imported) and the local instance
the sweep starts binds 127.0.0.1."""
import json
import math
import os
import subprocess
import sys

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pytest  # noqa: E402
import torch  # noqa: E402

from maml_viz import cli  # noqa: E402
from maml_viz.engine.config import ConfigError  # noqa: E402
from maml_viz.engine.registry import algorithms_for, config_from_dict, make_config  # noqa: E402
from maml_viz.engine.tasks import make_family  # noqa: E402
from maml_viz.engine.train import train  # noqa: E402
from maml_viz.runs.evaluate import evaluate  # noqa: E402
from maml_viz.services import jobs  # noqa: E402
from maml_viz.views import links  # noqa: E402
from maml_viz.views.adaptation import metric_range, value_range  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SINE = {"f": "a*sin(x+b)", "a": "0.1:5", "b": "0:3.1416", "x": "-5:5"}


def expr(**kw):
    kw.setdefault("iterations", 20)
    return make_config(family="expr", **kw)


# ------------------------------------------------------------------ options and the config
def test_options_are_resolved_into_the_config_and_its_hash():
    cfg = expr(family_options=SINE)
    assert cfg.family_options == {"f": "a*sin(x + b)", "a": [0.1, 5.0], "b": [0.0, 3.1416],
                                  "x": [-5.0, 5.0]}
    assert config_from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg   # a stored config
    # spacing and redundant parentheses are the same formula, the same run
    same = expr(family_options={**SINE, "f": " a * (sin((x + b))) ", "a": [0.1, 5]})
    assert same.key() == cfg.key()
    # the formula and every range are part of the key
    keys = {cfg.key()}
    for change in ({"f": "a*cos(x+b)"}, {"a": "0.1:4"}, {"b": "0:pi"}, {"x": "-4:5"}):
        keys.add(expr(family_options={**SINE, **change}).key())
    assert len(keys) == 5
    # no options: the sine family of the MAML paper
    default = expr()
    assert default.family_options == {"f": "a*sin(x - b)", "a": [0.1, 5.0],
                                      "b": [0.0, math.pi], "x": [-5.0, 5.0]}
    # only a range: the default formula with that range
    assert expr(family_options={"a": "1:2"}).family_options["a"] == [1.0, 2.0]
    # a formula near the length limit whose canonical text is longer (spaces): stored and read
    long = expr(family_options={"f": "+".join(["a*sin(x)"] * 44), "a": "0:1"})
    assert len(long.family_options["f"]) > 400
    assert config_from_dict(json.loads(json.dumps(long.to_dict()))) == long


def test_the_default_formula_draws_exactly_the_sinusoid_tasks():
    fam, sine = make_family("expr"), make_family("sinusoid")
    for dt in (torch.float32, torch.float64):
        a = fam.sample_batches(3, 5, 4, 6, torch.Generator().manual_seed(7))
        b = sine.sample_batches(3, 5, 4, 6, torch.Generator().manual_seed(7))
        for k in a:
            assert torch.equal(a[k].to(dt), b[k].to(dt)), k
    tasks = fam.sample_tasks(4, torch.Generator().manual_seed(0)).double()
    x = torch.rand(4, 9, 1, dtype=torch.float64)
    assert fam.target(tasks, x).dtype == torch.float64
    assert torch.equal(fam.target(tasks, x), sine.target(tasks, x))
    assert fam.describe_task(tasks[0]).startswith("a = ")


def test_parameters_are_drawn_from_their_ranges_in_name_order():
    fam = make_family("expr", {"f": "amp*x + c", "c": "-1:0", "amp": "10:20", "x": "0:1"})
    tasks = fam.sample_tasks(500, torch.Generator().manual_seed(0))
    assert fam.params[0][0] == "amp" and fam.params[1][0] == "c"
    assert 10 <= float(tasks[:, 0].min()) and float(tasks[:, 0].max()) <= 20
    assert -1 <= float(tasks[:, 1].min()) and float(tasks[:, 1].max()) <= 0
    x, y = fam.sample_points(tasks, 20, torch.Generator().manual_seed(1))
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert torch.allclose(y, tasks[:, 0, None, None] * x + tasks[:, 1, None, None])


REFUSED = [
    ({"f": "__import__('os').system('ls')"}, "family_options.f", "'__import__' at character 1"),
    ({"f": "os"}, "family_options.f", "unknown name 'os'"),
    ({"f": "x.real*a", "a": "0:1"}, "family_options.f", "attributes"),
    ({"f": "x[0]*a", "a": "0:1"}, "family_options.f", "subscripts"),
    ({"f": "lambda: a", "a": "0:1"}, "family_options.f", "'lambda'"),
    ({"f": "'a'"}, "family_options.f", "strings"),
    ({"f": "a*sin(x +* b)", "a": "0:1", "b": "0:1"}, "family_options.f", "at character 10"),
    ({"f": "a*sin(x+b)", "a": "0.1:5"}, "family_options.f", "unknown name 'b' at character 9"),
    ({"f": "a*x", "a": "1:1"}, "family_options.a", "empty"),
    ({"f": "a*x", "a": "2:1"}, "family_options.a", "empty"),
    ({"f": "a*x", "a": "5"}, "family_options.a", "LO:HI"),
    ({"f": "a*x", "a": 5}, "family_options.a", "LO:HI"),
    ({"f": "a*x", "a": [True, 2]}, "family_options.a", "two numbers"),
    ({"f": "a*x", "a": "0:1", "x": "3:-3"}, "family_options.x", "empty"),
    ({"f": "a*x", "a": "0:1", "b": "0:1"}, "family_options.b", "does not use it"),
    ({"f": "a*x", "a": "0:1", "_b": "0:1"}, "family_options._b", "cannot name a parameter"),
    ({"f": "a*x", "a": "0:1", "sin": "0:1"}, "family_options.sin", "cannot name a parameter"),
    ({"f": "log(x) + a", "a": "0:1"}, "family_options.f", "not finite (nan) for x from -5 to 0"),
    ({"f": "a/x", "a": "1:2"}, "family_options.f", "not finite (infinite) at x = 0 when a = 1"),
    ({"f": "sqrt(x - a)", "a": "0:1", "x": "0:5"}, "family_options.f", "when a = 1"),
    ({"f": "exp(a*x)", "a": "1:10"}, "family_options.f", "reaches 5.18e+21 at x = 5 when a = 10"),
    ({"f": "a*floor(x/100)", "a": "1:2", "x": "0:5"}, "family_options.f",
     "does not change with x over x ∈ [0, 5]"),
    ({"f": "a*(x - x)", "a": "1:2"}, "family_options.f", "does not change with x"),
    ({"f": "a + 1", "a": "1:2"}, "family_options.f", "does not use x"),
    ({"f": "sin(x)"}, "family_options.f", "no parameters"),
    ({"f": "x" + "+x" * 300, "a": "0:1"}, "family_options.f", "too long"),
    ({"f": "(" * 40 + "a*x" + ")" * 40, "a": "0:1"}, "family_options.f", "nested too deeply"),
    ({"f": ["x"]}, "family_options.f", "must be a formula"),
    ({"f": "a*x", **{f"p{i}": "0:1" for i in range(9)}, "a": "0:1"}, "family_options",
     "at most 8 parameters"),
]


@pytest.mark.parametrize("opts,field,why", REFUSED)
def test_bad_options_are_refused_in_one_line_naming_the_option(opts, field, why):
    with pytest.raises(ConfigError) as err:
        expr(family_options=opts)
    assert err.value.field == field, err.value
    assert why in str(err.value) and "\n" not in str(err.value), str(err.value)


# ------------------------------------------------------------------ training and evaluation
def test_every_algorithm_that_applies_trains_and_evaluates_on_a_formula():
    algos = algorithms_for("expr")
    assert {"maml", "fomaml", "reptile", "anil", "metasgd", "pretrained", "scratch"} <= set(algos)
    assert "oracle" not in algos                      # RL only, as for the sine waves
    assert algos == algorithms_for("sinusoid")
    opts = {"f": "a*x^2 + b*tanh(x)", "a": "-1:1", "b": "-2:2", "x": "-2:2"}
    for algo in algos:
        run = train(expr(algo=algo, iterations=6, hidden=(16,), meta_batch=4,
                         family_options=opts), "cpu")
        df = evaluate(run, n_tasks=12, steps=2)
        assert list(df["step"]) == [0, 1, 2] and df["mean"].map(math.isfinite).all(), algo


def test_meta_training_on_a_formula_learns():
    cfg = expr(algo="maml", iterations=300, family_options={"f": "a*x + b", "a": "-2:2",
                                                            "b": "-3:3", "x": "-2:2"},
               hidden=(), inner_lr=0.3, outer_lr=0.01)
    run = train(cfg, "cpu")
    df = evaluate(run, n_tasks=200, steps=1, lr="trained")
    before, after = df["mean"].tolist()
    assert after < 0.5 * before, (before, after)       # one step from the learned start fits


# ------------------------------------------------------------------ what the app shows
def test_fixed_axes_and_labels_follow_the_formula():
    fam = make_family("expr", {"f": "a*x^2", "a": "1:2", "x": "-3:3"})
    lo, hi = value_range(fam)
    assert lo < 0 < 18 < hi <= 20                      # 0 .. 2·3² with a margin
    assert metric_range(fam)[1] > 0
    cfg = expr(family_options={"f": "a*x^2", "a": "1:2", "x": "-3:3"})
    label = "y = a*x^2; a ∈ [1, 2], x ∈ [-3, 3]"
    assert label in links.run_label(cfg)
    assert jobs.run_label(cfg).startswith(f"MAML on {label} (K=")
    sine = make_config(family="sinusoid", iterations=20)
    assert "y =" not in links.run_label(sine) and "on Sine waves" in jobs.run_label(sine)


# ------------------------------------------------------------------ the command line
def test_cli_trains_the_issues_command_line_and_refuses_bad_formulas(tmp_path, capsys):
    runs = str(tmp_path / "runs")
    rc = cli.main(["train", "--family", "expr", "--option", "f=a*sin(x+b)", "--option", "a=0.1:5",
                   "--option", "b=0:3.1416", "--option", "x=-5:5", "--algo", "maml",
                   "--iterations", "20", "--eval-tasks", "20", "--runs-dir", runs, "--quiet",
                   "--device", "cpu"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    path = out.strip().splitlines()[-1]
    stored = json.loads(open(os.path.join(path, "config.json")).read())
    assert stored["family_options"]["f"] == "a*sin(x + b)"
    assert stored["family_options"]["b"] == [0.0, 3.1416]
    for opts, why in [(["f=__import__('os').system('ls')"], "'__import__' at character 1"),
                      (["f=a*sin(x+b)", "a=0.1:5"], "unknown name 'b' at character 9"),
                      (["f=log(x)*a", "a=1:2"], "not finite"),
                      (["f=a*x", "a=3:1"], "family_options.a: the range of a is empty")]:
        args = [a for o in opts for a in ("--option", o)]
        rc = cli.main(["train", "--family", "expr", *args, "--runs-dir", runs, "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2, (opts, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and why in lines[0], err


def test_cli_refuses_a_bad_formula_with_exit_2_from_a_shell():
    r = subprocess.run([sys.executable, "-m", "maml_viz", "train", "--family", "expr",
                        "--option", "f=a*x+os", "--option", "a=0:1"], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == (
        "error: family_options.f: unknown name 'os' at character 5: not x, a parameter with a "
        "range (parameters: a), a function or a constant (pi, e); a new parameter needs a range, "
        "e.g. os=0:1")


def test_sweep_of_a_formula_on_ray(tmp_path, capsys):
    runs = tmp_path / "runs"
    opts = ["--option", "f=a*tanh(x - b)", "--option", "a=0.5:2", "--option", "b=-1:1"]
    rc = cli.main(["sweep", "--family", "expr", *opts, "--algos", "maml,fomaml", "--seeds", "0",
                   "--iterations", "10", "--runs-dir", str(runs), "--quiet", "--no-compile"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 trained" in err and "0 failed" in err
    stored = sorted(p.name for p in runs.iterdir())
    assert len(stored) == 2 and all(n.startswith("expr-") for n in stored)
    for n in stored:
        cfg = json.loads((runs / n / "config.json").read_text())
        assert cfg["family_options"]["f"] == "a*tanh(x - b)"


def test_a_formula_run_is_drawn_on_the_playground_with_its_formula(tmp_path, monkeypatch):
    from conftest import app_store
    from streamlit.testing.v1 import AppTest

    from maml_viz.runs.saving import save

    root = tmp_path / "runs"
    root.mkdir()
    opts = {"f": "a*x^2 + b", "a": "-1:1", "b": "0:1", "x": "-2:2"}
    run = train(expr(algo="maml", iterations=10, hidden=(16,), family_options=opts), "cpu")
    key = save(run, root).path.name
    with app_store(root, monkeypatch):
        at = AppTest.from_file(os.path.join(ROOT, "app.py"), default_timeout=120)
        at.switch_page("pages/1_Playground.py")
        at.query_params["run"] = key               # a link to the run: its family and formula
        at.run()
        assert at.selectbox(key="pg_family").value == "expr" and at.selectbox(key="pg_run").value == key
        assert not at.exception, [e.value for e in at.exception]
        assert any("y = a*x^2 + b; a ∈ [-1, 1], b ∈ [0, 1], x ∈ [-2, 2]" in o
                   for o in at.selectbox(key="pg_run").options)
        # drawn in the browser from the run's payload: the formula's own value range
        live = json.loads(at.get("bidi_component")[0].proto.json)
        assert live["payload"]["run"]["key"] == key
        assert live["payload"]["family"]["value_range"] == [-5.0, 6.0]   # a·x² + b over its ranges

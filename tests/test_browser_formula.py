"""The browser's adaptation engine (assets/js/adapt.js) on formula-family runs (issue 24): the
Playground adapts a run of a typed formula in the browser, so adapt.js must agree with the engine
on it exactly as on the bundled families (tests/test_browser_adapt.py's cases and checks: the
same support points bit for bit, curves and losses to 1e-4, the same blow-up step). The runs are
trained here briefly (MAML and Meta-SGD, whose step sizes are per weight) on two formulas, and
saved to a temporary store. A plugin algorithm with its own inner loop (stepmaml) is refused by
the browser payload and adapts on the server."""
import json

import pytest
import torch
from test_browser_adapt import DIVERGE, RUNNER, cases, check, page  # noqa: F401  (page: fixture)

from maml_viz.engine.registry import make_config
from maml_viz.engine.train import train
from maml_viz.runs.files import load_run
from maml_viz.runs.saving import save
from maml_viz.views import browser as browser_payload

FORMULAS = {"sine": {"f": "a*sin(x+b)", "a": "0.1:5", "b": "0:3.1416", "x": "-5:5"},
            "bumps": {"f": "a*exp(-(x - c)^2/w)", "a": "0.5:3", "c": "-3:3", "w": "0.5:2"}}


@pytest.mark.parametrize("algo", ["maml", "metasgd"])
@pytest.mark.parametrize("formula", list(FORMULAS))
def test_browser_adapts_a_formula_run_like_the_engine(page, tmp_path, monkeypatch, formula, algo):  # noqa: F811
    torch.set_num_threads(1)
    monkeypatch.setitem(DIVERGE, "expr", 3.0)       # a step size every such run blows up with
    cfg = make_config(family="expr", algo=algo, family_options=FORMULAS[formula],
                      iterations=200, meta_batch=5)
    run = load_run(save(train(cfg, "cpu"), tmp_path).path)
    browser_payload.check(run)
    payload = browser_payload.payload(run, n_tasks=4)
    cs = cases(run)
    got = page.evaluate(RUNNER, {"payload": json.loads(browser_payload.to_json(payload)),
                                 "cases": cs})
    for case, g in zip(cs, got):
        check(run, payload, case, g)


def test_a_plugin_algorithm_with_its_own_inner_loop_adapts_on_the_server():
    run = train(make_config(family="square", algo="stepmaml", iterations=5, meta_batch=3), "cpu")
    with pytest.raises(browser_payload.BrowserUnsupported, match="its own inner loop"):
        browser_payload.check(run)

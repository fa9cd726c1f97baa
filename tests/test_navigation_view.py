"""The Navigation plane computed in the browser (assets/js/navroll.js, navview.js) against the
engine, for every bundled navigation run (all algorithms and baselines, the oracle included). A
blank Chromium page rolls the policy out; the test requires:

- the noise (noise.normal) and the goals "Random goal" places (noise.goal) are the engine's, bit
  for bit, over many seeds;
- every try's positions at every step and the mean returns equal rl.goal_trajectories' (what
  the server's chart draws; both in float64 from the stored float32 weights): positions to 1e-9,
  returns (sums of 100 moves) to 1e-7, for goals inside and outside the trained square, several
  seeds and numbers of steps;
- the view's words are the server's: the story under the chart is views.navigation.goal_story
  of the returns drawn, the warning is goal_note, the heading names the goal; every return off the
  chart is marked on its edge with its value, and the plane draws the tries of the step shown.
"""
import glob
import json
import os

import numpy as np
import pytest
import torch
from browser import blank_page

from maml_viz.engine import noise
from maml_viz.runs.files import load_run
from maml_viz.views import browser as browser_payload
from maml_viz.views import navigation as nav

RUNS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "assets", "runs",
                                     "navigation-*")))
CASES = [((0.4, 0.2), 3, 0), ((-0.31, 0.47), 2, 17), ((0.9, -0.8), 3, 5), ((0.0, -0.12), 1, 3)]

ROLL = """(args) => {
  const E = MamlNav.load(args.payload);
  return args.cases.map((c) => {
    const r = MamlNav.trajectories(E, c.goal, c.steps, c.seed, 20);
    return { ret: r.ret, paths: r.paths.map((p) => Array.from(p)), n: r.n, H: r.H };
  });
}"""
VIEW = """(args) => {
  const E = MamlNav.load(args.payload);
  const r = MamlNav.trajectories(E, args.goal, args.steps, args.seed, 20);
  const v = MamlNavView.build({ res: r, ref: args.ref, goal: args.goal, step: args.step, label: args.label,
    color: '#1f77b4', adapting: args.adapting, show: 5, range: args.range, square: args.square,
    extent: 0.6, phone: false });
  return { ret: r.ret, path: Array.from(r.paths[args.step]), view: v };
}"""


@pytest.fixture(scope="module")
def page():
    with blank_page("adapt.js", "navroll.js", "pgview.js", "navview.js") as pg:
        yield pg


@pytest.fixture(scope="module", params=[os.path.basename(p) for p in RUNS])
def run(request):
    return load_run(os.path.join(os.path.dirname(RUNS[0]), request.param), "cpu")


def test_the_noise_and_the_random_goals_are_the_engines_bit_for_bit(page):
    got = page.evaluate("""() => ({ z: [1, 2, 1e9].map((s) => Array.from(MamlNav.normals(s, 12345, 4000))),
        g: Array.from({ length: 200 }, (_, s) => MamlNav.randomGoal(s, -0.5, 0.5)) })""")
    for s, z in zip((1, 2, 10**9), got["z"]):
        assert np.array_equal(np.array(z, np.float32), noise.normal(s, 12345, 4000))
    assert [tuple(g) for g in got["g"]] == [noise.goal(s, -0.5, 0.5) for s in range(200)]
    assert len(set(map(tuple, got["g"]))) > 190                     # they do move
    assert [nav.random_goal(type("F", (), {})(), s) for s in range(5)] == \
        [tuple(g) for g in got["g"][:5]]


def test_the_tries_and_returns_are_the_engines(page, run):
    payload = browser_payload.navigation_payload(run)
    got = page.evaluate(ROLL, {"payload": payload, "cases": [
        {"goal": list(g), "steps": s, "seed": seed} for g, s, seed in CASES]})
    for (goal, steps, seed), js in zip(CASES, got):
        pos, ret = nav.rollouts(run, goal, steps, seed)           # what the server would draw
        H, n = js["H"], js["n"]
        paths = np.array(js["paths"]).reshape(steps + 1, H + 1, n, 2).transpose(0, 2, 1, 3)
        np.testing.assert_allclose(paths, pos, atol=1e-9, rtol=0)
        np.testing.assert_allclose(js["ret"], ret, atol=1e-7, rtol=0)     # sums of 100 moves


@pytest.mark.parametrize("step", [0, 1, 3])
def test_the_views_words_are_the_servers_and_hold_for_what_it_draws(page, run, step):
    payload = browser_payload.navigation_payload(run)
    fam = run.family
    lo, hi = payload["family"]["metric_range"]
    goal, steps, seed = (0.9, -0.8), 3, 5                   # outside the square: a warning
    ref = {"label": "Ref", "color": "#ff7f0e", "ret": [-30.0, -90.0, -5.0, -2.0]}
    out = page.evaluate(VIEW, {"payload": payload, "goal": list(goal), "steps": steps, "seed": seed,
                               "step": step, "label": "Lbl", "adapting": nav.adapts(run),
                               "ref": ref, "range": [lo, hi],
                               "square": [fam.goal_low, fam.goal_high]})
    v, ret = out["view"], np.array(out["ret"])
    assert v["story"] == nav.goal_story("Lbl", ret, nav.adapts(run), ("Ref", ref["ret"]))
    assert v["notes"][:1] == [nav.goal_note(fam, goal)]
    assert v["head"] == "Lbl toward the goal (0.90, -0.80)"
    plane, rets = v["panels"]
    names = [t["name"] for t in plane["data"]]
    assert ("before adapting" in names) == nav.adapts(run)
    tries = next(t for t in plane["data"] if t["name"].startswith("Lbl"))
    drawn = [(x, y) for x, y in zip(tries["x"], tries["y"]) if x is not None]
    if step == 0 and nav.adapts(run):
        assert drawn == []                                  # step 0: the grey tries alone
    else:
        n, H = 20, fam.horizon
        path = np.array(out["path"]).reshape(H + 1, n, 2)
        want = [(round(path[t, i, 0], 4), round(path[t, i, 1], 4)) for i in range(5)
                for t in range(H + 1)]
        np.testing.assert_allclose(drawn, want, atol=1e-4)
    marks = {}
    for t in rets["data"]:
        if "off the chart" in t["name"]:
            for x, val, text in zip(t["x"], t["customdata"], t["text"]):
                assert text == nav.fmt(val)             # written as the story writes returns
                marks[(t["name"].split(" off the chart")[0], x)] = val
    for who, values in (("Lbl", ret), ("Ref", ref["ret"])):
        for s, val in enumerate(values):
            if not lo <= val <= hi:
                assert marks[(who, s)] == pytest.approx(val)
    assert ("Ref", 1) in marks                               # -90 is below every range drawn
    now = next(t for t in rets["data"] if t["name"] == "Lbl now")
    assert now["x"] == [step] and now["y"][0] == pytest.approx(min(max(ret[step], lo), hi))


def test_a_chart_still_rolling_out_draws_what_is_done_and_waits_to_tell_the_story(page):
    run = load_run(next(p for p in RUNS if "navigation-maml-" in p), "cpu")
    payload = browser_payload.navigation_payload(run)
    out = page.evaluate("""(args) => {
      const E = MamlNav.load(args.payload), seen = [];
      const r = MamlNav.trajectories(E, [0.2, 0.3], 3, 4, 20, (s) => seen.push(s));
      const part = { paths: r.paths.slice(0, 2), ret: r.ret.slice(0, 2), n: r.n, H: r.H };
      const build = (res, ref) => MamlNavView.build({ res: res, ref: ref, goal: [0.2, 0.3], steps: 3,
        step: 3, label: 'L', color: '#000', adapting: true, show: 5, range: [-80, 0],
        square: [-0.5, 0.5], extent: 0.6, phone: false });
      return { seen: seen, part: build(part, { label: 'R', color: '#111', ret: r.ret }),
               noref: build(r, { label: 'R', color: '#111', ret: r.ret.slice(0, 3) }),
               whole: build(r, { label: 'R', color: '#111', ret: r.ret }) };
    }""", {"payload": payload})
    assert out["seen"] == [0, 1, 2, 3]                         # each step handed over when done
    part = out["part"]
    line = next(t for t in part["panels"][1]["data"] if t["name"] == "return")
    assert line["x"] == [0, 1] and part["step"] == 1 and part["steps"] == 3
    assert part["panels"][1]["layout"]["xaxis"]["range"] == [-0.4, 3.6]     # room for every step
    assert part["story"] == "" and out["noref"]["story"] == ""            # waits for both runs
    assert out["whole"]["story"].startswith("At this goal L's average return")


def test_a_policy_trained_on_is_another_policy_to_the_pages_caches():
    run = load_run(next(p for p in RUNS if "navigation-maml-" in p), "cpu")
    before = browser_payload.navigation_payload(run)["run"]["weights"]
    run.info = {**run.info, "iterations_done": (run.info.get("iterations_done") or 0) + 1}
    assert browser_payload.navigation_payload(run)["run"]["weights"] != before
    run.info = {**run.info, "partial": True}
    assert browser_payload.weights_id(run).endswith("-partial")

"""The Learn page's data: every number and curve it draws, computed with the engine from the
bundled runs and saved as JSON, so that the home page draws without importing torch (the first
page is then ready in a few seconds).

`compute` needs torch and the runs; `load` needs only the json module. The app recomputes §2
live (`sine`) when the reader asks for another task; `tests/test_learn.py` checks the file
against a fresh computation.  Regenerate with:  python -m maml_viz learn-data

Sections (keys of the saved dict):
  gallery   eight sine-wave tasks                                   (§1)
  sine      pretrained vs MAML 40-40 networks, one step on 5 points (§2)
  plane     the 2-weight model y = a·sin(x − b) (family `wave`): each task's best weights, the
            MAML and pretrained starts, every task's one-step move from each start, the error
            after it, and the average-error-after-one-step landscape                      (§3)
  rules     from one θ on the same few tasks: MAML's and FOMAML's meta-gradients and Reptile's
            move, from the algorithms' own code                                            (§4)
  training  θ every few meta-iterations of the bundled MAML run, retraced with the Trainer,
            and its curve before/after one step on a held-out task at each snapshot        (§5)
  race      MAML, FOMAML and Reptile meta-trained from the same start on the same tasks (their
            bundled runs retraced), where each ends, and each one's arithmetic per
            meta-iteration (views/learn_race.py)                                           (§7)
  try       the sine networks of §2 as the browser's adaptation engine reads them
            (views/browser.py payloads), for the hands-on chart                            (§3)
The page's sentences are views/learn_text.py; its glossary views/glossary.py.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from . import learn_race
from .figures.svg import task_gallery_svg
from .learn_base import PLANE_FAMILY, stored_run
from .learn_base import ab as _xy
from .learn_base import default_config as _config
from .learn_base import protocol_row as _protocol_row
from .learn_base import rounded as _r
from .learn_text import predictions, texts  # noqa: F401  (the page's words, re-exported)


VERSION = 3
GALLERY_SEED, TASK_SEED, K_SINE = 7, 3, 5
PLANE_TASKS, PLANE_SEED = 20, 0
LANDSCAPE_TASKS, LANDSCAPE_SIZE = 100, 41
RULE_TASKS, RULE_SEED = 5, 1
# §5's held-out task: app stream seed 8, a wave shifted about 1.1 from MAML's start (a step has
# work to do; its error after one step, 0.32, is typical: the protocol's mean is 0.56)
ANIM_SEED, ANIM_POINTS = 8, 100
LABELS = {"maml": "MAML", "pretrained": "Pretrained", "fomaml": "FOMAML", "reptile": "Reptile"}
TRY_TASKS = 8                  # tasks in the hands-on chart's payloads (seeds 0..7: §2's is one)
TUNE_ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
AMP_RANGE, PHASE_RANGE = (0.0, 5.0), (-0.5, math.pi + 0.5)   # the plane drawn, in weights

def compute(store, task_seed: int = TASK_SEED) -> dict:
    """Everything the page draws (see the module docstring)."""
    return {"version": VERSION, "gallery": gallery(), "sine": sine(store, task_seed),
            "plane": plane(store), "rules": rules(store), "training": training(store),
            "race": learn_race.race(store), "try": try_payloads(store)}


def try_payloads(store) -> dict:
    """The hands-on chart's engines: the sinusoid MAML and pretrained runs as
    assets/js/adapt.js reads them (views/browser.payload, TRY_TASKS pre-sampled tasks), and
    which of those tasks and how many points it opens with (§2's)."""
    from .browser import payload

    runs = {a: stored_run(store, "sinusoid", a) for a in ("pretrained", "maml")}
    (alo, ahi), (plo, phi) = runs["maml"].family.task_ranges()
    return {"task": TASK_SEED, "k": K_SINE, "steps": 10, "amp_range": [alo, ahi],
            "phase_range": [plo, phi],
            "runs": {a: payload(run, n_tasks=TRY_TASKS, algo_label=LABELS[a])
                     for a, run in runs.items()}}


def gallery() -> dict:
    import torch

    from ..engine.tasks import make_family
    from .adaptation import task_generator

    fam = make_family("sinusoid")
    tasks = fam.sample_tasks(8, task_generator(GALLERY_SEED))
    xg = torch.linspace(*fam.x_range(), 200).reshape(1, 200, 1)
    return {"x": _r(xg.reshape(-1)), "titles": [fam.describe_task(t) for t in tasks],
            "ys": [_r(y) for y in fam.target(tasks, xg.expand(8, -1, -1))[:, :, 0]]}


def sine(store, task_seed: int = TASK_SEED) -> dict:
    """§2: the pretrained and MAML networks before and after one step on K_SINE points of one
    new task; the pretrained curve's height (half its peak-to-peak range) before the step."""
    import torch

    from .adaptation import sample_task, trajectory

    out = {}
    for algo in ("pretrained", "maml"):
        run = stored_run(store, "sinusoid", algo)
        xg = torch.linspace(*run.family.x_range(), 200).reshape(1, 200, 1)
        task, xs, ys = sample_task(run, task_seed, K_SINE)
        tr = trajectory(run, xs, ys, 1, x_grid=xg, task=task)
        before = tr["preds"][0, :, 0]
        out[algo] = {"key": run.key, "inner_lr": run.config.inner_lr, "before": _r(before),
                     "after": _r(tr["preds"][1, :, 0]), "error": _r(tr["grid_error"]),
                     "height": _r((before.max() - before.min()) / 2, 3),
                     "moved": _r(abs(tr["preds"][1, :, 0] - before).mean(), 3)}
        out.update(x=_r(xg.reshape(-1)), true=_r(tr["true"][:, 0]), xs=_r(xs.reshape(-1)),
                   ys=_r(ys.reshape(-1)), task=_r(task[0], 3),
                   amp_range=[run.family.amp_min, run.family.amp_max])
    return out


def plane(store) -> dict:
    """§3: one step from the MAML start and from the pretrained start, for PLANE_TASKS new tasks
    of the 2-weight family, and the landscape of the average error after one step."""
    import torch

    from .adaptation import task_generator

    runs = {a: stored_run(store, PLANE_FAMILY, a) for a in ("pretrained", "maml")}
    fam, model, cfg = runs["maml"].family, runs["maml"].model, runs["maml"].config
    gen = task_generator(PLANE_SEED)
    tasks = fam.sample_tasks(PLANE_TASKS, gen)
    xs, ys = fam.sample_points(tasks, cfg.k_shot, gen)
    xg = torch.linspace(*fam.x_range(), 200).reshape(1, 200, 1).expand(PLANE_TASKS, -1, -1)
    true = fam.target(tasks, xg)
    out = {"k": cfg.k_shot, "inner_lr": cfg.inner_lr, "optima": _r(tasks, 4), "starts": {},
           "amp_range": [fam.amp_min, fam.amp_max], "phase_range": [fam.phase_min, fam.phase_max],
           "adapted": {}, "before": {}, "after": {}, "keys": {}, "protocol": {}, "mean_after": {},
           "mean_before": {}}
    with torch.no_grad():
        for algo, run in runs.items():
            ad = run.algorithm.adapt(model, fam, run.params, xs, ys, 1, run.config)
            out["starts"][algo] = _r(_xy(run.params)[0], 4)
            out["adapted"][algo] = _r(_xy(ad), 4)
            out["before"][algo] = _r(fam.score(model(run.params, xg), true), 4)
            out["after"][algo] = _r(fam.score(model(ad, xg), true), 4)
            out["mean_after"][algo] = mean_ci(out["after"][algo])
            out["mean_before"][algo] = mean_ci(out["before"][algo])
            out["keys"][algo] = run.key
            out["protocol"][algo] = {"before": _protocol_row(run, 0), "after": _protocol_row(run, 1)}
        opt = tasks[:, :2]
        out["spread"] = _r(((opt - opt.mean(0)) ** 2).sum(1).mean().sqrt(), 4)
        out["distance"] = _r(torch.dist(_xy(runs["maml"].params)[0], _xy(runs["pretrained"].params)[0]), 4)
        out["landscape"] = landscape(runs["maml"])
        out["tuned"] = tuned(runs)
    return out


def mean_ci(values) -> list:
    """[mean, 95% CI half-width (1.96·sd/√n)] of a list of per-task values."""
    n = len(values)
    m = sum(values) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / max(1, n - 1))
    return [_r(m, 4), _r(1.96 * sd / math.sqrt(n), 4)]


def _landscape_tasks(fam, k):
    import torch

    from .adaptation import task_generator

    gen = task_generator(PLANE_SEED + 1)
    tasks = fam.sample_tasks(LANDSCAPE_TASKS, gen)
    xs, ys = fam.sample_points(tasks, k, gen)
    xg = torch.linspace(*fam.x_range(), 100).reshape(1, 100, 1).expand(LANDSCAPE_TASKS, -1, -1)
    return xs, ys, xg, fam.target(tasks, xg)


def tuned(runs) -> dict:
    """The fairness check: one step from the pretrained start with each step size in
    TUNE_ALPHAS (mean error over LANDSCAPE_TASKS tasks), and from MAML's start with its own."""
    fam, model = runs["maml"].family, runs["maml"].model
    xs, ys, xg, true = _landscape_tasks(fam, runs["maml"].config.k_shot)

    def err(run, lr):
        ad = run.algorithm.adapt(model, fam, run.params, xs, ys, 1, run.config, lr=lr)
        return _r(fam.score(model(ad, xg), true).mean(), 4)

    pre = [err(runs["pretrained"], a) for a in TUNE_ALPHAS]
    best = min(range(len(pre)), key=pre.__getitem__)
    return {"alphas": list(TUNE_ALPHAS), "pretrained": pre, "best_alpha": TUNE_ALPHAS[best],
            "best_pretrained": pre[best], "maml": err(runs["maml"], None),
            "tasks": LANDSCAPE_TASKS}


def landscape(run) -> dict:
    """The average error (over LANDSCAPE_TASKS new tasks, on the plotting grid) after one step
    from every start θ on a LANDSCAPE_SIZE² grid of the plane: what MAML minimises."""
    import torch

    fam, model, cfg = run.family, run.model, run.config
    xs, ys, xg, true = _landscape_tasks(fam, cfg.k_shot)
    amps = torch.linspace(*AMP_RANGE, LANDSCAPE_SIZE)
    phases = torch.linspace(*PHASE_RANGE, LANDSCAPE_SIZE)
    z = []
    with torch.no_grad():
        for b in phases:                      # one row of starts at a time, all tasks at once
            n = len(amps)
            theta = {"amp": amps.repeat_interleave(LANDSCAPE_TASKS).reshape(-1, 1),
                     "phase": b.expand(n * LANDSCAPE_TASKS).reshape(-1, 1)}
            rep = lambda t: t.repeat(n, 1, 1)
            ad = run.algorithm.adapt(model, fam, theta, rep(xs), rep(ys), 1, cfg)
            err = fam.score(model(ad, rep(xg)), rep(true)).reshape(n, LANDSCAPE_TASKS).mean(1)
            z.append(_r(err, 3))
    return {"amp": _r(amps, 4), "phase": _r(phases, 4), "after": z, "tasks": LANDSCAPE_TASKS}


def rules(store) -> dict:
    """§4: from the pretrained start, on the same RULE_TASKS tasks, the direction each algorithm
    moves θ: MAML's and FOMAML's −meta-gradient (metagrad.meta_gradient with the algorithm's
    own step size, steps and first-order flag) and Reptile's θ_new − θ (Reptile.step itself)."""
    import torch

    from ..engine.algorithms import get_algorithm
    from ..engine.metagrad import meta_gradient
    from .adaptation import task_generator

    start = stored_run(store, PLANE_FAMILY, "pretrained")
    fam, model = start.family, start.model
    theta = {k: v.detach().clone() for k, v in start.params.items()}
    cfg = _config(PLANE_FAMILY, "maml")
    batch = fam.sample_batch(RULE_TASKS, cfg.k_shot, cfg.k_query, task_generator(RULE_SEED))
    arrows, info = {}, {}
    for algo in ("maml", "fomaml"):
        alg, c = get_algorithm(algo), _config(PLANE_FAMILY, algo)
        th, lr, keys = alg.adapt_spec(theta, c, model)
        _, g, _ = meta_gradient(model, fam, th, batch, c.inner_steps, lr,
                                first_order=alg.first_order, keys=keys)
        arrows[algo] = _r(-_xy(g)[0], 5)
        info[algo] = {"steps": c.inner_steps, "inner_lr": c.inner_lr}
    alg, c = get_algorithm("reptile"), _config(PLANE_FAMILY, "reptile")
    moved = {k: v.clone() for k, v in theta.items()}
    alg.step(model, fam, moved, alg.make_optimizer(moved, c), batch, c)
    arrows["reptile"] = _r((_xy(moved) - _xy(theta))[0], 5)
    with torch.no_grad():
        ends = alg.adapt(model, fam, theta, batch["xs"], batch["ys"], c.inner_steps, c)
    info["reptile"] = {"steps": c.inner_steps, "inner_lr": c.inner_lr, "epsilon": c.outer_lr,
                       "ends": _r(_xy(ends), 4)}
    vec = {a: torch.tensor(v) for a, v in arrows.items()}
    angle = lambda a, b: math.degrees(math.acos(max(-1.0, min(1.0, float(
        vec[a] @ vec[b] / (vec[a].norm() * vec[b].norm() + 1e-12))))))
    return {"theta": _r(_xy(theta)[0], 4), "from": "pretrained", "key": start.key,
            "tasks": _r(batch["tasks"], 4), "k": cfg.k_shot, "arrows": arrows, "info": info,
            "angles": {"fomaml": _r(angle("maml", "fomaml"), 1),
                       "reptile": _r(angle("maml", "reptile"), 1)}}


def snapshot_iterations(total: int, frames: int = 40) -> list:
    """When §5 looks at θ: every total/frames meta-iterations (evenly spaced, so that the
    slider's evenly spaced ticks are true to the iterations), and the last."""
    every = max(1, total // frames)
    return sorted(set(range(0, total + 1, every)) | {total})


def training(store) -> dict:
    """§5: θ at `snapshot_iterations` of the bundled MAML run on the 2-weight family, retraced
    with the Trainer (same config, same seed: the same run); at each snapshot the
    curve before and after one step on a held-out task (ANIM_POINTS grid points)."""
    import torch

    from ..engine.train import Run, Trainer
    from .adaptation import sample_task, trajectory

    stored = stored_run(store, PLANE_FAMILY, "maml")
    cfg = stored.config
    tr = Trainer(cfg, device="cpu")
    task, xs, ys = sample_task(stored, ANIM_SEED, cfg.k_shot)
    xg = torch.linspace(*stored.family.x_range(), ANIM_POINTS).reshape(1, ANIM_POINTS, 1)
    its, thetas, before, after, errors = [], [], [], [], []
    for it in snapshot_iterations(tr.total):
        tr.run(it - tr.iteration)
        snap = {k: v.detach().clone() for k, v in tr.params.items()}
        t = trajectory(Run(cfg, snap), xs, ys, 1, x_grid=xg, task=task)
        its.append(tr.iteration)
        thetas.append(_r(_xy(snap)[0], 4))
        before.append(_r(t["preds"][0, :, 0], 3))
        after.append(_r(t["preds"][1, :, 0], 3))
        errors.append(_r(t["grid_error"], 3))
    return {"key": stored.key, "iterations": its, "thetas": thetas, "stored": _r(_xy(stored.params)[0], 4),
            "x": _r(xg.reshape(-1), 4), "true": _r(t["true"][:, 0], 3), "task": _r(task[0], 3),
            "xs": _r(xs.reshape(-1), 3), "ys": _r(ys.reshape(-1), 3), "before": before,
            "after": after, "errors": errors, "inner_lr": cfg.inner_lr, "k": cfg.k_shot,
            "meta_batch": cfg.meta_batch}


def save(data: dict, path) -> None:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(path)


FIGURES = "learn_figures.json"     # beside learn.json: pictures(data) as Plotly JSON


def save_pictures(data: dict, path) -> None:
    """pictures(data) at scale 1 as Plotly JSON, under the data's fingerprint: a fresh server
    then draws the Learn page without building a figure (building them was about 0.75 s of the
    first visitor's wait on the 2-core machine, reading them back 0.05 s)."""
    import plotly.io as pio
    figs = {k: json.loads(pio.to_json(f, validate=False)) for k, f in pictures(data).items()}
    save({"fingerprint": fingerprint(data), "figures": figs}, path)


def gallery_svgs(data: dict) -> dict:
    """§1's eight tasks as static SVG pictures: {"wide": 4 columns, "narrow": 2 columns (a
    phone)}. No Plotly.js is needed to show them, so the page's first screen is complete as
    soon as its script has run."""
    g = data["gallery"]
    label = "Eight sine waves drawn at random from the family, " + "; ".join(g["titles"])
    return {name: task_gallery_svg(g["x"], g["ys"], g["titles"], cols=cols, width=width,
                                   label=label)
            for name, cols, width in (("wide", 4, 940), ("narrow", 2, 360))}


def stored_specs(data: dict, path) -> dict | None:
    """{name: (Plotly JSON, height in pixels)} of the figures save_pictures wrote for this very
    data, or None if the file is missing, unreadable or made from other data."""
    try:
        saved = json.loads(Path(path).read_text())
        if saved.get("fingerprint") != fingerprint(data):
            return None
        return {str(k): (json.dumps(v, separators=(",", ":")),
                         int(v.get("layout", {}).get("height") or 420))
                for k, v in saved["figures"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def specs(data: dict, scale: float = 1.0) -> dict:
    """{name: (Plotly JSON, height in pixels)} of pictures(data, scale), built now."""
    import plotly.io as pio
    return {k: (pio.to_json(f, validate=False), int(f.layout.height or 420))
            for k, f in pictures(data, scale).items()}


def load(path) -> dict | None:
    """The saved data, or None if missing, unreadable or of another version."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


def fingerprint(data: dict) -> str:
    """A short hash of the data (what the page caches its figures under)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- the pictures
def pictures(data: dict, scale: float = 1.0) -> dict:
    """Every chart of the page, by name, built from `data` (pure; no torch). scale > 1: bigger
    type and taller charts (presenter mode, for a projector). The page caches them: building
    Plotly figures is most of the page's server time."""
    from .figures.learn import (cost_bars, race_animation, race_ends, training_animation,
                                update_arrows, weight_steps)
    from .figures.regression import adaptation, task_gallery
    from .figures.style import color

    g, s, p, r, t = data["gallery"], data["sine"], data["plane"], data["rules"], data["training"]
    race = data["race"]
    plane = dict(amp_range=AMP_RANGE, phase_range=PHASE_RANGE)
    L = p["landscape"]
    rings = (L["amp"], L["phase"], L["after"])
    out = {f"gallery-{name}": task_gallery(g["x"], g["ys"], g["titles"], cols=cols)
           .update_xaxes(tickvals=[-4, 0, 4]) for name, cols in (("wide", 4), ("narrow", 2))}
    err_max = max(max(p["after"][a]) for a in ("pretrained", "maml"))
    for algo in ("pretrained", "maml"):
        d, lab = s[algo], LABELS[algo]
        fig = adaptation(
            s["x"], s["true"], support=(s["xs"], s["ys"]),
            curves=[(f"{lab} before", d["before"], algo, "dot"),
                    (f"{lab} after 1 step", d["after"], algo, "solid")],
            title=f"{lab}: error {d['error'][0]:.2f} → {d['error'][1]:.2f}",
            subtitle=f"one gradient step (α = {d['inner_lr']:g}) on the {len(s['xs'])} black points",
            y_range=(-6, 6), height=470)
        # the legend below the x-axis title, in pixels from the bottom (it never meets the
        # title, however many rows a narrow screen gives it)
        out[f"sine-{algo}"] = fig.update_layout(
            legend=dict(yref="container", y=0, yanchor="bottom"), margin=dict(b=150))
        m = p["mean_after"][algo]
        out[f"plane-{algo}"] = weight_steps(
            p["optima"], p["starts"][algo], p["adapted"][algo], p["after"][algo], algo, lab,
            landscape=rings, title=f"From the {lab} start",
            subtitle=f"error after one step: {m[0]:.2f} ± {m[1]:.2f}", err_max=err_max, **plane)
    out["arrows"] = update_arrows(r["theta"], r["tasks"], r["arrows"], labels=LABELS,
                                  ends=r["info"]["reptile"]["ends"],
                                  title="Which way each algorithm moves θ", **plane)
    out["training"] = training_animation(
        t["iterations"], t["thetas"], t["x"], t["true"], t["before"], t["after"],
        (t["xs"], t["ys"]), t["errors"], optimum=t["task"], **plane)
    pre_end = race["pretrained"]["end"]
    out["race"] = race_animation(
        race["iterations"], race["trails"], LABELS, race["amp_range"], race["phase_range"],
        others=[("where pretraining ends (same start)", pre_end, color("pretrained"),
                 "star-open")], landscape=rings, **plane)
    mid = [sum(race["amp_range"]) / 2, sum(race["phase_range"]) / 2]
    out["race-ends"] = race_ends(race["ends"], race["trails"], LABELS, mid, tail=learn_race.JITTER)
    cost = race["cost"][learn_race.PLANE_FAMILY]
    out["cost"] = cost_bars(race["algos"], {a: cost[a]["operations"] for a in race["algos"]},
                            {a: cost[a]["inner_steps"] for a in race["algos"]}, LABELS,
                            title="Arithmetic in one meta-iteration (counted)",
                            subtitle=f"{cost['maml']['meta_batch']} tasks × {cost['maml']['k']} "
                                     f"points, the 2-weight model")
    if scale != 1:
        for fig in out.values():
            fig.update_layout(font_size=round(13 * scale),
                              height=round((fig.layout.height or 420) * min(scale, 1.25)))
    return out

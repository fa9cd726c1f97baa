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
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path


VERSION = 2
GALLERY_SEED, TASK_SEED, K_SINE = 7, 3, 5
PLANE_FAMILY, PLANE_TASKS, PLANE_SEED = "wave", 20, 0
LANDSCAPE_TASKS, LANDSCAPE_SIZE = 100, 41
RULE_TASKS, RULE_SEED = 5, 1
# §5's held-out task: app stream seed 8, a wave shifted about 1.1 from MAML's start (a step has
# work to do; its error after one step, 0.32, is typical: the protocol's mean is 0.56)
ANIM_SEED, ANIM_POINTS = 8, 100
TUNE_ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
AMP_RANGE, PHASE_RANGE = (0.0, 5.0), (-0.5, math.pi + 0.5)   # the plane drawn, in weights

GLOSSARY = [
    ("Task", "one small problem to learn, here one sine wave; a family is many related tasks."),
    ("Support points", "the few examples of a new task the model gets to learn from (K of them)."),
    ("Query points", "other examples of the same task, used only to check how well it learned."),
    ("Gradient step", "one small change of every weight in the direction that lowers the error on "
                      "the support points fastest (the gradient is that direction)."),
    ("Step size α", "how far one gradient step goes. Too small and nothing changes; too big and "
                    "it overshoots."),
    ("Meta-training", "training the starting weights θ on many tasks so that a few gradient steps "
                      "on a new task work well."),
    ("Meta-iteration", "one round of meta-training: pick a few tasks, adapt to each, move θ."),
    ("Pretrained", "the usual alternative: one network trained on the data of all tasks at once, "
                   "then given the same gradient steps on the new task."),
    ("95% CI", "confidence interval: the average is within ± this of its true value with 95% "
               "probability (1.96 × spread / √number of tasks)."),
    ("Return", "in reinforcement learning, the total reward of one attempt (here: minus the "
               "distances to the goal, so closer to 0 is better)."),
]


def _r(v, nd=5):
    """Plain (rounded) floats for JSON, from a tensor, array or number."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, list):
        return [_r(u, nd) for u in v]
    return round(float(v), nd)


def _config(family: str, algo: str):
    from ..engine.registry import make_config
    return make_config(family=family, algo=algo)


def _run(store, family: str, algo: str):
    cfg = _config(family, algo)
    run = store.get(cfg)
    if run is None:
        raise LookupError(f"no stored run for {cfg.key()}")
    return run


def compute(store, task_seed: int = TASK_SEED) -> dict:
    """Everything the page draws (see the module docstring)."""
    return {"version": VERSION, "gallery": gallery(), "sine": sine(store, task_seed),
            "plane": plane(store), "rules": rules(store), "training": training(store)}


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
        run = _run(store, "sinusoid", algo)
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


def _xy(params):
    """The 2-weight model's (amplitude, phase) as rows [T, 2] (or [1, 2] for shared θ)."""
    import torch
    return torch.stack([params["amp"].reshape(-1), params["phase"].reshape(-1)], 1)


def _protocol_row(run, step: int) -> dict | None:
    """The evaluation protocol's result (1000 held-out tasks, stored with the run) at a step."""
    ev = run.metrics or {}
    row = next((r for r in ev.get("results", []) if r["step"] == step
                and r["k_shot"] == run.config.k_shot), None)
    if row is None:
        return None
    lr = row.get("lr")          # the step size the protocol used (chosen on validation tasks)
    return {"mean": _r(row["mean"], 4), "ci95": _r(row["ci95"], 4),
            "tasks": ev.get("protocol", {}).get("tasks"),
            "lr": lr if isinstance(lr, (int, float)) else None}


def plane(store) -> dict:
    """§3: one step from the MAML start and from the pretrained start, for PLANE_TASKS new tasks
    of the 2-weight family, and the landscape of the average error after one step."""
    import torch

    from .adaptation import task_generator

    runs = {a: _run(store, PLANE_FAMILY, a) for a in ("pretrained", "maml")}
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

    start = _run(store, PLANE_FAMILY, "pretrained")
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


def snapshot_iterations(total: int) -> list:
    """When §5 looks at θ: often in the first quarter of training (where θ travels), then
    every 5%."""
    early = list(range(0, total // 4, max(1, total // 80)))
    return sorted(set(early + list(range(total // 4, total + 1, max(1, total // 20))) + [total]))


def training(store) -> dict:
    """§5: θ at `snapshot_iterations` of the bundled MAML run on the 2-weight family, retraced
    with the Trainer (same config, same seed: the same run); at each snapshot the
    curve before and after one step on a held-out task (ANIM_POINTS grid points)."""
    import torch

    from ..engine.train import Run, Trainer
    from .adaptation import sample_task, trajectory

    stored = _run(store, PLANE_FAMILY, "maml")
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


def load(path) -> dict | None:
    """The saved data, or None if missing, unreadable or of another version."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data


# ----------------------------------------------------------------------------- words with numbers
def _num(v: float) -> str:
    return f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.1g}"


def _lr_note(pa: dict) -> str:
    """', each with the step size chosen on validation tasks (MAML α = .., pretrained α = ..)'
    when the stored evaluation says which step size it used."""
    lrs = [pa[a]["after"].get("lr") for a in ("maml", "pretrained")]
    if None in lrs:
        return ""
    return (f", each with the step size chosen on validation tasks (MAML α = {lrs[0]:g}, "
            f"pretrained α = {lrs[1]:g})")


def texts(data: dict) -> dict:
    """The page's sentences that state numbers, filled in from `data` (nothing written by hand
    that the data could contradict). Pure: json data in, strings out."""
    s, p, r, t = data["sine"], data["plane"], data["rules"], data["training"]
    pre, maml = s["pretrained"], s["maml"]
    lo, hi = s["amp_range"]
    ma, pa = p["mean_after"], p["protocol"]
    tun = p["tuned"]
    sp, sm = p["starts"]["pretrained"], p["starts"]["maml"]
    deg = r["angles"]
    rep = r["info"]["reptile"]
    e0, e1 = t["errors"][0], t["errors"][-1]
    return {
        "sine": (
            "The obvious idea is to train one network on data from all tasks at once "
            "(*pretrained*). But the tasks disagree: at any x some waves go up and others go "
            "down, so that network learns their average, a wave only "
            f"{pre['height']:.1f} high (the tasks' heights go from {lo:g} to {hi:g}). One small "
            f"step on {len(s['xs'])} points of a new wave moves its curve by {pre['moved']:.2f} on "
            f"average (error {pre['error'][0]:.2f} → {pre['error'][1]:.2f}). MAML instead learns "
            f"weights that are *ready to change*: the same step moves its curve by "
            f"{maml['moved']:.2f}, onto the new wave (error {maml['error'][0]:.2f} → "
            f"{maml['error'][1]:.2f})."),
        "plane": (
            f"Grey rings: the average error after one step from a start at that point (over "
            f"{p['landscape']['tasks']} tasks). Averaging waves that are shifted against each other "
            f"flattens them, so pretraining starts from a flat wave (a = {sp[0]:.2f}; the tasks' "
            f"heights are {p['amp_range'][0]:g} to {p['amp_range'][1]:g}). How far a step slides "
            f"the shift b grows with the start's height a, so from the flat wave the steps are "
            f"short: error after one step {ma['pretrained'][0]:.2f} ± {ma['pretrained'][1]:.2f}. "
            f"MAML's start is a full-height wave (a = {sm[0]:.2f}), in the middle of the rings: "
            f"one step slides each wave to its task's shift, error {ma['maml'][0]:.2f} ± "
            f"{ma['maml'][1]:.2f} (mean ± 95% CI over these {len(p['optima'])} tasks, K = "
            f"{p['k']} points, one step, α = {p['inner_lr']:g}). On "
            f"{pa['maml']['after']['tasks']} new tasks{_lr_note(pa)}: "
            f"{pa['maml']['after']['mean']:.2f} ± "
            f"{pa['maml']['after']['ci95']:.2f} against {pa['pretrained']['after']['mean']:.2f} ± "
            f"{pa['pretrained']['after']['ci95']:.2f}. Even with the step size that suits it best "
            f"(α = {tun['best_alpha']:g}), the pretrained start gets to {tun['best_pretrained']:.2f}, "
            f"MAML's {tun['maml']:.2f} ({tun['tasks']} tasks). Before any step, MAML's start is the "
            f"worse guess ({pa['maml']['before']['mean']:.2f} against "
            f"{pa['pretrained']['before']['mean']:.2f}): it is made to adapt, not to be right."),
        "rules": [
            ("MAML", "asks: if θ moved a little, how would the error *after* the step change? It "
                     "follows that, so it also counts that a taller start makes the step itself "
                     "longer. This is the exact direction (the meta-gradient)."),
            ("FOMAML", "measures which way the error goes down at the adapted weights θ′ and applies "
                       "that to θ, as if the step did not depend on where it started. Cheaper; "
                       f"here {deg['fomaml']:.0f}° off MAML's direction."),
            ("Reptile", f"computes no error after adapting at all: it takes {rep['steps']} plain "
                        f"steps on each task and moves θ toward where they end (green circles), "
                        f"averaged over the tasks; here {deg['reptile']:.0f}° off MAML's."),
        ],
        "rules_caption": (
            f"From the pretrained start (star), on the same {len(r['tasks'])} tasks (grey dots, "
            f"{r['k']} points each, one step with α = {r['info']['maml']['inner_lr']:g} for MAML "
            f"and FOMAML, {rep['steps']} steps for Reptile): the direction each algorithm would move θ, "
            f"computed by the algorithms' own code. The arrows are drawn the same length: they "
            f"take steps of different sizes, so only the directions compare."),
        "training": (
            f"Meta-training of the 2-weight model from a random start (a = {t['thetas'][0][0]:.2f}, "
            f"b = {t['thetas'][0][1]:.2f}): each meta-iteration takes {t['meta_batch']} tasks, one "
            f"step on {t['k']} points of each (α = {t['inner_lr']:g}), and moves θ so that the "
            f"error after the step goes down. Below, a task it never trained on (A = "
            f"{t['task'][0]:.2f}, φ = {t['task'][1]:.2f}): from θ at the start, one step leaves an "
            f"error of {_num(e0[1])}; from θ after {t['iterations'][-1]} meta-iterations, "
            f"{_num(e1[1])}. Snapshots every {t['iterations'][1]} meta-iterations at first, "
            f"where θ moves most, then every {t['iterations'][-1] - t['iterations'][-2]}. Press play, "
            f"or drag the slider."),
        "advanced": (
            f"Bundled runs (assets/runs): "
            f"{', '.join(sorted({*p['keys'].values(), r['key'], t['key'], pre['key'], maml['key']}))}. "
            f"§5's snapshots retrace the run {t['key']} with the Trainer, same config and seed; "
            f"the last one, θ = {t['thetas'][-1]}, is the stored θ = {t['stored']}. The arrows of "
            f"§4 come from metagrad.meta_gradient (MAML, FOMAML) and Reptile.step. Learn data "
            f"version {data['version']}; regenerate with `python -m maml_viz learn-data`."),
    }


def fingerprint(data: dict) -> str:
    """A short hash of the data (what the page caches its figures under)."""
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- the pictures
LABELS = {"maml": "MAML", "pretrained": "Pretrained", "fomaml": "FOMAML", "reptile": "Reptile"}


def pictures(data: dict) -> dict:
    """Every chart of the page, by name, built from `data` (pure; no torch). The page caches
    them: building Plotly figures is most of the page's server time."""
    from .figures.learn import training_animation, update_arrows, weight_steps
    from .figures.regression import adaptation, task_gallery

    g, s, p, r, t = data["gallery"], data["sine"], data["plane"], data["rules"], data["training"]
    plane = dict(amp_range=AMP_RANGE, phase_range=PHASE_RANGE)
    out = {f"gallery-{name}": task_gallery(g["x"], g["ys"], g["titles"], cols=cols)
           .update_xaxes(tickvals=[-4, 0, 4]) for name, cols in (("wide", 4), ("narrow", 2))}
    for algo in ("pretrained", "maml"):
        d, lab = s[algo], LABELS[algo]
        out[f"sine-{algo}"] = adaptation(
            s["x"], s["true"], support=(s["xs"], s["ys"]),
            curves=[(f"{lab} before", d["before"], algo, "dot"),
                    (f"{lab} after 1 step", d["after"], algo, "solid")],
            title=f"{lab}: error {d['error'][0]:.2f} → {d['error'][1]:.2f}",
            subtitle=f"one gradient step (α = {d['inner_lr']:g}) on the {len(s['xs'])} black points",
            y_range=(-6, 6), height=380)
        m, L = p["mean_after"][algo], p["landscape"]
        out[f"plane-{algo}"] = weight_steps(
            p["optima"], p["starts"][algo], p["adapted"][algo], p["after"][algo], algo, lab,
            landscape=(L["amp"], L["phase"], L["after"]), title=f"From the {lab} start",
            subtitle=f"error after one step: {m[0]:.2f} ± {m[1]:.2f}", **plane)
    out["arrows"] = update_arrows(r["theta"], r["tasks"], r["arrows"], labels=LABELS,
                                  ends=r["info"]["reptile"]["ends"],
                                  title="Which way each algorithm moves θ", **plane)
    out["training"] = training_animation(
        t["iterations"], t["thetas"], t["x"], t["true"], t["before"], t["after"],
        (t["xs"], t["ys"]), t["errors"], optimum=t["task"], **plane)
    return out

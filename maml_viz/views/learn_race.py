"""The Learn page's race (its data and its sentences): MAML, FOMAML and Reptile meta-trained on
the 2-weight plane (family `wave`) from the same start on the same tasks, and what one
meta-iteration costs each.

The trails are the bundled runs themselves, retraced with the Trainer (same config, same seed):
the three default configs share the seed, the meta-batch and K, so they start from the same θ₀
and draw the same task batches (tests/test_learn.py checks both, and that each trail ends on the
stored run's θ). Cost is counted the same way for all three: the arithmetic their own `step`
does in one meta-iteration (`count_operations`: every number an elementwise operation or a
reduction computes counts one, a matrix product counts its multiply-adds, moving numbers counts
nothing), on the 2-weight model and on the 1-40-40-1 sine network of §2; beside it, the time
the bundled runs' training took (measured by the Trainer when they were trained).
"""
from __future__ import annotations

from .learn_base import PLANE_FAMILY, ab, protocol_row, rounded, stored_run

RACE = ("maml", "fomaml", "reptile")
NAMES = {"maml": "Model-Agnostic Meta-Learning", "fomaml": "First-Order MAML",
         "reptile": "Reptile"}
SHORT = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "pretrained": "Pretrained"}
RACE_EVERY = 50                 # a snapshot every 50 meta-iterations: evenly spaced frames
JITTER = 10                     # the last snapshots over which "still moves" is measured
COST_FAMILIES = (PLANE_FAMILY, "sinusoid")
# operations that only move, view or create numbers (no arithmetic): counted as zero. Any other
# operation that is neither elementwise, a reduction, a matrix product nor a foreach update is
# reported in "uncounted" (the test fails on it, so nothing is silently left out)
MOVES = {"view", "_unsafe_view", "expand", "transpose", "t", "permute", "unsqueeze", "squeeze",
         "detach", "alias", "clone", "copy_", "_to_copy", "cat", "stack", "split",
         "split_with_sizes", "unbind", "select", "slice", "zeros_like", "ones_like",
         "empty_like", "zeros", "ones", "empty", "new_zeros", "fill_", "zero_", "lift_fresh",
         "reshape", "as_strided", "index_select"}
MATMUL = {"mm": (0, 1), "bmm": (0, 1), "addmm": (1, 2), "baddbmm": (1, 2)}


def count_operations(fn):
    """Run fn() and count its arithmetic (see the module docstring). Returns (fn's result,
    operations, {aten op: operations}, sorted names of ops neither counted nor known moves)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.by_op, self.unknown = {}, set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            name = func.overloadpacket.__name__
            if name in MATMUL:
                a, b = (args[i] for i in MATMUL[name])
                n = a.numel() * b.shape[-1]                     # multiply-adds
            elif name.startswith("_foreach_"):
                n = sum(t.numel() for t in args[0])
            elif torch.Tag.reduction in func.tags:
                n = args[0].numel()
            elif torch.Tag.pointwise in func.tags:
                o = out[0] if isinstance(out, (tuple, list)) else out
                n = o.numel() if isinstance(o, torch.Tensor) else 0
            else:
                n = 0
                if name not in MOVES:
                    self.unknown.add(name)
            if n:
                self.by_op[name] = self.by_op.get(name, 0) + n
            return out

    with Counter() as c:
        result = fn()
    return result, sum(c.by_op.values()), dict(sorted(c.by_op.items())), sorted(c.unknown)


def iteration_cost(family: str, algo: str) -> dict:
    """The operations of one meta-iteration of algo's default config on `family` (its own step,
    on one batch of the config's size, from the config's own start)."""
    import torch

    from ..engine.algorithms import get_algorithm
    from ..engine.tasks import make_family
    from .learn_base import default_config

    cfg = default_config(family, algo)
    fam, alg = make_family(cfg.family, cfg.family_options), get_algorithm(algo)
    model = fam.make_model(cfg.hidden)
    gen = torch.Generator().manual_seed(cfg.seed)
    params = {k: v.requires_grad_(True) for k, v in alg.init_params(model, cfg, gen).items()}
    opt = alg.make_optimizer(params, cfg, lr_scale=getattr(model, "lr_scale", None))
    batch = fam.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query, gen)
    _, n, by_op, unknown = count_operations(
        lambda: alg.step(model, fam, params, opt, batch, cfg))
    return {"operations": n, "by_op": by_op, "uncounted": unknown,
            "inner_steps": cfg.inner_steps, "meta_batch": cfg.meta_batch, "k": cfg.k_shot,
            "k_query": cfg.k_query, "hidden": list(cfg.hidden)}


def race(store) -> dict:
    """θ every RACE_EVERY meta-iterations of the bundled MAML, FOMAML and Reptile runs on the
    2-weight plane (retraced), where each ends, its protocol error before / after one step, the
    pretrained run's θ for reference, and each one's cost per iteration (see module docstring)."""
    import torch

    from ..engine.train import Trainer

    runs = {a: stored_run(store, PLANE_FAMILY, a) for a in RACE}
    out = {"algos": list(RACE), "every": RACE_EVERY, "trails": {}, "ends": {}, "keys": {},
           "protocol": {}, "configs": {}, "cost": {}, "train_seconds": {}}
    for algo, run in runs.items():
        cfg = run.config
        tr = Trainer(cfg, device="cpu", validate_every=0)
        trail = [rounded(ab(tr.params)[0], 4)]
        while tr.iteration < tr.total:
            tr.run(min(RACE_EVERY, tr.total - tr.iteration))
            trail.append(rounded(ab({k: v.detach() for k, v in tr.params.items()})[0], 4))
        out["trails"][algo] = trail
        out["ends"][algo] = rounded(ab(run.params)[0], 4)
        out["keys"][algo] = run.key
        out["protocol"][algo] = {"before": protocol_row(run, 0), "after": protocol_row(run, 1)}
        out["configs"][algo] = {"inner_steps": cfg.inner_steps, "inner_lr": cfg.inner_lr,
                                "outer_lr": cfg.outer_lr, "meta_batch": cfg.meta_batch,
                                "k": cfg.k_shot, "k_query": cfg.k_query, "seed": cfg.seed,
                                "iterations": cfg.iterations}
    out["iterations"] = list(range(0, runs["maml"].config.iterations + 1, RACE_EVERY))
    if out["iterations"][-1] != runs["maml"].config.iterations:
        out["iterations"].append(runs["maml"].config.iterations)
    pre = stored_run(store, PLANE_FAMILY, "pretrained")
    out["pretrained"] = {"end": rounded(ab(pre.params)[0], 4), "key": pre.key,
                         "after": protocol_row(pre, 1)}
    fam = runs["maml"].family
    out["amp_range"], out["phase_range"] = [fam.amp_min, fam.amp_max], [fam.phase_min, fam.phase_max]
    with torch.no_grad():
        for family in COST_FAMILIES:
            out["cost"][family] = {a: iteration_cost(family, a) for a in RACE}
            for a in RACE:
                run = stored_run(store, family, a)
                out["train_seconds"].setdefault(family, {})[a] = {
                    "seconds": run.info.get("train_seconds"), "iterations": run.config.iterations,
                    "step": run.info.get("step")}
    return out


# ----------------------------------------------------------------------------- what it says
def _fmt(n: int) -> str:
    return f"{n:,}"


def facts(r: dict) -> dict:
    """What the race shows, computed from its data (pure): the cheapest per iteration and per
    inner step, the most expensive, each end's distance to MAML's and to the middle of the
    tasks, and whether the measured run times rank the algorithms as the counts do."""
    import math

    cost = {a: r["cost"][PLANE_FAMILY][a]["operations"] for a in r["algos"]}
    steps = {a: r["cost"][PLANE_FAMILY][a]["inner_steps"] for a in r["algos"]}
    per_step = {a: cost[a] / steps[a] for a in cost}
    mid = [sum(r["amp_range"]) / 2, sum(r["phase_range"]) / 2]
    dist = lambda p, q: math.hypot(p[0] - q[0], p[1] - q[1])
    net = {a: r["cost"]["sinusoid"][a]["operations"] for a in r["algos"]}
    secs = {a: r["train_seconds"]["sinusoid"][a]["seconds"] for a in r["algos"]}
    order = lambda d: sorted(d, key=d.get)
    return {"cheapest": order(cost)[0], "dearest": order(cost)[-1], "order": order(cost),
            "cheapest_per_step": order(per_step)[0], "per_step": per_step,
            "net_order": order(net), "time_order": order(secs) if None not in secs.values() else None,
            "to_maml": {a: dist(r["ends"][a], r["ends"]["maml"]) for a in r["algos"]},
            "to_middle": {a: dist(r["ends"][a], mid) for a in r["algos"]}, "middle": mid,
            "pretrained_to_middle": dist(r["pretrained"]["end"], mid),
            "jitter": {a: _spread(r["trails"][a][-JITTER:]) for a in r["algos"]}}


def _spread(points) -> float:
    """Root-mean-square distance of the points from their mean (how much θ still moves)."""
    import math
    n = len(points)
    ma, mb = sum(p[0] for p in points) / n, sum(p[1] for p in points) / n
    return math.sqrt(sum((p[0] - ma) ** 2 + (p[1] - mb) ** 2 for p in points) / n)


def texts(r: dict) -> dict:
    """The race's sentences, every number and ranking from the data."""
    import math

    f = facts(r)
    c = r["cost"][PLANE_FAMILY]
    S, ops = SHORT, {a: c[a]["operations"] for a in r["algos"]}
    cfg, n_it = r["configs"], r["configs"]["maml"]["iterations"]
    secs = r["train_seconds"]["sinusoid"]
    end = lambda a: f"a = {r['ends'][a][0]:.2f}, b = {r['ends'][a][1]:.2f}"
    prot = lambda a: r["protocol"][a]["after"]
    cheap, dear = f["cheapest"], f["dearest"]
    lo, hi = r["amp_range"]
    (plo, phi), start = r["phase_range"], r["trails"]["maml"][0]
    box = math.hypot(hi - lo, phi - plo)
    full = [a for a in r["algos"] if lo <= r["ends"][a][0] <= hi
            and abs(r["ends"][a][1] - (plo + phi) / 2) < 0.15 * (phi - plo)]
    close = max(f["to_maml"].values()) < 0.2 * box
    pre_a = r["pretrained"]["end"][0]
    ends = (
        f"All three start from the same θ (a = {start[0]:.2f}, b = {start[1]:.2f}"
        + (", a nearly flat wave" if start[0] < 0.25 * lo else "") + ") and see the same "
        f"{cfg['maml']['meta_batch']} tasks at every one of their {n_it:,} meta-iterations. "
        f"They end {'close together' if close else 'apart'}: MAML at {end('maml')}, FOMAML at "
        f"{end('fomaml')} ({f['to_maml']['fomaml']:.2f} away), Reptile at {end('reptile')} "
        f"({f['to_maml']['reptile']:.2f} away)"
        + (": each a full-height wave (the tasks' heights are "
           f"{lo:g} to {hi:g}) shifted to the middle of the tasks' shifts, where one step can "
           "reach any of them." if len(full) == len(r["algos"]) else
           "." if not full else
           f"; {', '.join(S[a] for a in full)} at a full-height wave shifted to the middle of "
           f"the tasks' shifts.")
        + (f" Pretraining, from the same start, ends at a low wave (a = {pre_a:.2f}, below every task's height)."
           if pre_a < lo else f" Pretraining, from the same start, ends at a = {pre_a:.2f}."))
    jit = f["jitter"]
    shaky = max(jit, key=jit.get)
    if jit[shaky] > 2 * sorted(jit.values())[-2]:
        ends += (f" Over the last {JITTER} snapshots {S[shaky]}'s θ still moves about "
                 f"{jit[shaky]:.2f} around its average ("
                 + ", ".join(f"{S[a]} {jit[a]:.2f}" for a in r["algos"] if a != shaky) + ")"
                 + (f": with ε = {cfg[shaky]['outer_lr']:g} it jumps all the way to where each "
                    f"batch's steps end." if shaky == "reptile" and cfg[shaky]["outer_lr"] >= 0.5
                    else "."))
    if all(prot(a) for a in r["algos"]):
        ends += (" After one step on a new task (K = " f"{cfg['maml']['k']}, {prot('maml')['tasks']} "
                 "held-out tasks), the error is " + ", ".join(
                     f"{S[a]} {prot(a)['mean']:.2f} ± {prot(a)['ci95']:.2f}" for a in r["algos"]) +
                 (f", Pretrained {r['pretrained']['after']['mean']:.2f} ± "
                  f"{r['pretrained']['after']['ci95']:.2f}" if r["pretrained"]["after"] else "") + ".")
    cost = (
        f"Counted the same way for all three (every multiply-add and every other arithmetic "
        f"operation of one meta-iteration on {cfg['maml']['meta_batch']} tasks × "
        f"{cfg['maml']['k']} points): " + ", ".join(f"{S[a]} {_fmt(ops[a])}" for a in f["order"]) +
        f". {S[cheap]} is the cheapest per iteration"
        + (": it skips the second derivatives, the part of MAML's meta-gradient that asks how "
           "the step itself changes when θ moves." if cheap == "fomaml" else ".")
        + (f" Reptile needs no second derivatives either, and no gradient on query points, so "
           f"each of its inner steps is the cheapest ({_fmt(round(f['per_step']['reptile']))} per "
           f"step); but it takes {cfg['reptile']['inner_steps']} steps per task where MAML and "
           f"FOMAML take {cfg['maml']['inner_steps']}, so one of its iterations costs "
           f"{'the most' if dear == 'reptile' else 'more than ' + S[cheap] + chr(39) + 's'}."
           if cfg["reptile"]["inner_steps"] > cfg["maml"]["inner_steps"] else "")
        + f" Every run here is {n_it:,} iterations, so per run the order is the same.")
    if f["time_order"] is not None:
        cost += (f" Measured: on the sine network of §2 (two hidden layers of 40), the bundled "
                 f"{secs['maml']['iterations']:,}-iteration runs trained in " + ", ".join(
                     f"{secs[a]['seconds']:.0f} s ({S[a]})" for a in f["time_order"]) +
                 (" — the same order as the counts there ("
                  + ", ".join(f"{S[a]} {_fmt(r['cost']['sinusoid'][a]['operations'])}"
                              for a in f["net_order"]) + " per iteration)."
                  if f["time_order"] == f["net_order"] else
                  "; on that network the counts rank them " + ", ".join(S[a] for a in f["net_order"])
                  + " (the clock also counts everything around the arithmetic)."))
    return {"ends": ends, "cost": cost}

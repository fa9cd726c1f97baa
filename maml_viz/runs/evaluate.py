"""The evaluation protocol, the same for every algorithm and baseline:

- held-out **test** tasks from an evaluation seed (a random stream disjoint from training's), K
  support points per task (per class for classification; RL: trajectories per step), the metric
  on fresh query points (regression: 100 points uniform over the input range; classification: 15
  per class; RL: the return of fresh trajectories) after 0..S plain SGD / policy-gradient steps;
- the **test-time step size** is chosen on **validation** tasks (another random stream, disjoint
  from the test stream and from training's, as many tasks as the test) from a small grid: the
  run's own step size times m, m in LR_GRID = {0.1, 0.2, 0.5, 1, 2, 5, 10} (the own step size is
  the α it was trained with: the baselines' α is the family's default, Meta-SGD's its learned
  step sizes; RL: α for the first step, α/2 after, both times m). The choice is made for each K and
  each number of steps s: the m with the best validation mean after s steps; m = 1 (the trained
  α) is kept unless another value is strictly better. The same rule for every algorithm and
  baseline; `lr="trained"` evaluates at m = 1 only;
- per (K, step): mean and 95% CI over tasks (1.96·sd/√tasks), the median, and how many tasks
  diverged (a non-finite metric, or a loss above DIVERGED_FACTOR times the task's loss before
  adapting); the per-task scores behind them in attrs['task_scores'] (scores.py), stored with the
  run for robust statistics across seeds;
- attrs['protocol']['reproduce']: what re-running the row needs (versions, the config and its
  hash, the evaluation's seed and settings, the command).
"""
from __future__ import annotations

import functools
import math
import platform

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..engine import rl
from ..engine.config import ConfigError, stream_seed
from ..engine.nets import proto_head
from ..engine.tasks import RLFamily, SupervisedFamily
from ..engine.train import Run
from .scores import TaskScores

DEFAULT_SEED = 1234
# 1: the trained α only; 2: step size validated per (K, steps) from {0.1 .. 2}, median and
# diverged tasks per row; 3: the grid extended to {0.1 .. 10}
PROTOCOL_VERSION = 3
# multiples of the run's own step size; two decades each way (the baselines' best step often
# lies above the meta-learners' trained one: blobs' pretrained and random init chose the top of
# {0.1 .. 2} every time)
LR_GRID = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
DIVERGED_FACTOR = 100.0


def evaluate(run: Run, k_shots=(None,), steps: int | None = None, n_tasks: int | None = None,
             seed: int = DEFAULT_SEED, chunk: int = 500, n_query=None,
             lr="validated", n_way: int | None = None, progress=None) -> pd.DataFrame:
    """Metric after 0..steps adaptation steps, per K (None: the run's k_shot; RL: ignored, the
    family's trajectories per step). lr: "validated" (the protocol: step size chosen on
    validation tasks, see the module doc), "trained" (m = 1), or a multiplier m > 0.
    n_way: tasks of another number of classes than the run was trained for (classification
    families with an n_way option): each task's head is then set from its support set
    (`nets.proto_head`), and the protocol says so. progress(done, total): called as tasks are
    adapted (validation and test tasks together).

    Returns a DataFrame (algo, k_shot, step, mean, ci95, median, diverged, tasks, lr_scale, lr,
    metric) with .attrs['protocol']. steps/n_tasks None: the family's protocol defaults."""
    fam, cfg = _family(run, n_way), run.config
    steps = fam.eval_steps if steps is None else steps
    n_tasks = fam.eval_tasks if n_tasks is None else n_tasks
    if lr == "trained":
        lr = 1.0
    if lr != "validated" and (isinstance(lr, bool) or not isinstance(lr, (int, float))
                              or not math.isfinite(lr) or lr <= 0):
        raise ConfigError("lr", f"must be 'validated', 'trained' or a multiplier > 0 (got {lr!r})")
    ks = _shots(fam, run, k_shots)
    n_val = min(n_tasks, getattr(fam, "val_tasks", None) or n_tasks)
    # tasks to adapt: validation per step size, then test per chosen step size (1 expected)
    counter = _Counter(progress, len(ks) * ((n_val * len(LR_GRID) if lr == "validated" else 0)
                                            + n_tasks))
    val_query = n_query or getattr(fam, "val_query_points", None)
    rows, per_task = [], {}
    for k in ks:
        def scores(m, purpose, n, q=n_query, only=None):
            return _task_scores(fam, run, k, steps, n, seed, m, purpose, chunk, q, counter,
                                only)

        if lr == "validated":     # step 0 does not depend on m: scored once, at m = 1
            val = {1.0: scores(1.0, "val", n_val, val_query)}
            for m in LR_GRID:
                if m != 1.0:
                    val[m] = scores(m, "val", n_val, val_query, only=range(1, steps + 1))
                    val[m][:, 0] = val[1.0][:, 0]
            chosen = choose_scales(val, fam.higher_is_better)
        else:
            chosen = [float(lr)] * (steps + 1)
        counter.total += n_tasks * (len(set(chosen)) - 1)
        # each step scored only at its chosen step size (step 0 does not depend on it)
        test = {m: scores(m, "eval", n_tasks, only=[s for s, c in enumerate(chosen) if c == m])
                for m in sorted(set(chosen))}
        per_task[int(k)] = torch.stack([test[m][:, step] for step, m in enumerate(chosen)],
                                       1).numpy()
        before = test[chosen[0]][:, 0]
        for step, m in enumerate(chosen):
            s = test[m]
            rows.append({"algo": cfg.algo, "k_shot": k, "step": step,
                         **task_stats(s[:, step], before, fam.higher_is_better),
                         "lr_scale": m, "lr": _lr_label(run, m), "metric": fam.metric})
    df = pd.DataFrame(rows)
    proto = _protocol(fam, run, ks, steps, n_tasks, seed, n_query)
    proto["version"] = PROTOCOL_VERSION
    proto["step_size"] = (
        f"chosen per K and number of steps on {n_val} validation tasks "
        f"({getattr(fam, 'validation_source', 'a random stream disjoint from the test tasks')}"
        f"{'; queries: ' + str(fam.query_label(val_query)) if val_query else ''}):"
        f" the run's own step size times m, m in "
        f"{{{', '.join(f'{m:g}' for m in LR_GRID)}}}, best validation mean; the trained one "
        f"(m = 1) unless another is strictly better" if lr == "validated"
        else f"the run's own step size times {float(lr):g}, fixed")
    proto["diverged"] = (f"a task whose metric is not finite" +
                         ("" if fam.higher_is_better else
                          f" or above {DIVERGED_FACTOR:g}x its value before adapting"))
    proto["reproduce"] = reproduce(run, "evaluate", [
        f"--k-shot {','.join(str(k) for k in ks)}", f"--steps {steps}", f"--tasks {n_tasks}",
        f"--seed {seed}", f"--step-size {lr if lr == 'validated' else format(float(lr), 'g')}"]
        + ([f"--n-way {n_way}"] if n_way is not None else []))
    proto.update(_head_and_splits(run, fam))
    df.attrs["protocol"] = proto
    df.attrs["task_scores"] = TaskScores(per_task)
    return df


def reproduce(run: Run, command: str, flags: list) -> dict:
    """What re-running an evaluation row needs: the code and library versions, the run's config
    and its hash (the run's folder name), its training seed, the device, and the command."""
    device = next(iter(run.params.values())).device if run.params else torch.device("cpu")
    return {"maml_viz": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "protocol_version": PROTOCOL_VERSION,
            "config_key": run.key, "config": run.config.to_dict(),
            "training_seed": run.config.seed, "device": str(device.type),
            "command": f"python -m maml_viz {command} <runs-dir>/{run.key} " + " ".join(flags)}


def _head_and_splits(run: Run, fam) -> dict:
    """What the protocol says about the classes (N, the head) and the data splits, where the
    family has them."""
    out = {}
    if hasattr(fam, "n_way"):
        trained = run.model.out_dim
        out["n_way"] = fam.n_way
        out["head"] = (f"as trained ({trained}-way)" if fam.n_classes == trained else
                       f"the network was trained for {trained}-way tasks: each task's "
                       f"{fam.n_classes}-way head is set from its support set (Proto-MAML: class "
                       f"k's weights 2·c_k and bias −‖c_k‖², c_k the mean embedding of its "
                       f"support images), then adapted with the rest")
    if hasattr(fam, "splits_text"):
        out["splits"] = fam.splits_text()
    return out


class _Counter:
    """Tasks adapted so far, reported to progress(done, total) (or nowhere)."""

    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def add(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _family(run: Run, n_way):
    """The run's family, or the same with n_way classes (ConfigError if it has no such option
    or the run's algorithm cannot take another head)."""
    fam = run.family
    if n_way is None or n_way == getattr(fam, "n_way", None):
        return fam
    if not hasattr(fam, "n_way") or not hasattr(run.model, "features"):
        raise ConfigError("n_way", f"the {fam.name} family's runs are evaluated at the number "
                                   f"of classes they were trained for")
    return fam.make(dict(run.config.family_options, n_way=int(n_way)))


def choose_scales(val: dict, higher_is_better: bool) -> list:
    """{m: validation scores [tasks, S+1]} -> the chosen m for each step 0..S: the best
    validation mean (a non-finite mean never wins); m = 1 unless another is strictly better;
    step 0 does not depend on m (1)."""
    n_steps = next(iter(val.values())).shape[1]
    sign = -1.0 if higher_is_better else 1.0
    chosen = [1.0]
    for step in range(1, n_steps):
        best_m, best = 1.0, math.inf
        if 1.0 in val:
            v = sign * float(val[1.0][:, step].mean())
            best = v if math.isfinite(v) else math.inf
        for m in sorted(val):
            v = sign * float(val[m][:, step].mean())
            if math.isfinite(v) and v < best:
                best_m, best = m, v
        chosen.append(best_m)
    return chosen


def task_stats(s: torch.Tensor, before: torch.Tensor, higher_is_better: bool) -> dict:
    """Per-task scores of one (K, step) -> mean, ci95, median, diverged (count), tasks."""
    s = s.double()
    n = s.numel()
    bad = ~torch.isfinite(s)
    if not higher_is_better:
        bad |= s > DIVERGED_FACTOR * before.double().abs().clamp_min(1e-12)
    mean = float(s.mean())
    sd = float(s.std(unbiased=True)) if n > 1 else float("nan")
    finite = s[torch.isfinite(s)]
    if len(finite) == n:
        median = float(s.median()) if n % 2 else float(s.sort().values[n // 2 - 1:n // 2 + 1].mean())
    else:   # non-finite tasks count as the worst
        worst = -math.inf if higher_is_better else math.inf
        filled = torch.where(torch.isfinite(s), s, torch.full_like(s, worst)).sort().values
        median = float(filled[n // 2]) if n % 2 else float(filled[n // 2 - 1:n // 2 + 1].mean())
    return {"mean": mean, "ci95": 1.96 * sd / math.sqrt(n) if n > 1 else float("nan"),
            "median": median, "diverged": int(bad.sum()), "tasks": n}


def _lr_label(run: Run, m: float):
    lr = run.algorithm.adapt_spec(run.params, run.config, run.model)[1]
    if isinstance(lr, dict):
        return "learned" if m == 1.0 else f"learned x {m:g}"
    return lr * m


# ------------------------------------------------------------------ per family type
@functools.singledispatch
def _task_scores(family, run, k, steps, n_tasks, seed, scale, purpose, chunk, n_query,
                 counter=None, only=None):
    """Per-task metric [tasks, steps+1] at step size scale x the run's own. only: the steps to
    score (None: all); a family may leave the others NaN and adapt no further than the last
    one asked for (the caller has them from another step size)."""
    raise NotImplementedError(f"no evaluation protocol for {type(family).__name__}")


@_task_scores.register
def _(family: RLFamily, run, k, steps, n_tasks, seed, scale, purpose, chunk, n_query,
      counter=None, only=None):
    out = rl.task_scores(run, steps, n_tasks, seed, n_traj=k, scale=scale, purpose=purpose)
    if counter is not None:
        counter.add(n_tasks)
    return out


@_task_scores.register
@torch.no_grad()
def _(family: SupervisedFamily, run, k, steps, n_tasks, seed, scale, purpose, chunk, n_query,
      counter=None, only=None):
    """... steps not in `only` are not scored (NaN; the query forward passes are most of an
    evaluation's time), and the adaptation stops at the last one that is."""
    fam, algo, cfg = family, run.algorithm, run.config
    model = fam.make_model(cfg.hidden, algo.goal_conditioned)     # another N: a wider head
    n_query = n_query or fam.query_points
    device = next(iter(run.params.values())).device
    gen = torch.Generator(device).manual_seed(stream_seed(purpose, seed))
    chunk = min(chunk, getattr(fam, "eval_chunk", chunk))   # tasks at a time (memory)
    wanted = set(range(steps + 1) if only is None else only)
    last = max(wanted, default=0)
    scores = []
    for start in range(0, n_tasks, chunk):
        n = min(chunk, n_tasks - start)
        b = fam.eval_batch(n, k, n_query, gen, split="validation" if purpose == "val" else "test")
        xs, ys, xq, yq = b["xs"], b["ys"], b["xq"], b["yq"]
        theta = proto_head(run.model, run.params, xs, ys, fam.n_classes) \
            if model.out_dim != run.model.out_dim else run.params
        lr = algo.adapt_spec(theta, cfg, model)[1]
        lr = {key: v * scale for key, v in lr.items()} if isinstance(lr, dict) else lr * scale
        traj = algo.adapt(model, fam, theta, xs, ys, last, cfg, trajectory=True, lr=lr) \
            if last > 0 else [theta]
        nan = yq.new_full((n,), math.nan, dtype=xq.dtype)
        scores.append(torch.stack([fam.score(fam.predict(model, traj[i], xq, cfg.k_query), yq)
                                   if i in wanted else nan for i in range(steps + 1)], 1))
        if counter is not None:
            counter.add(n)
    return torch.cat(scores).double().cpu()            # [tasks, steps+1]


@functools.singledispatch
def _shots(family, run, k_shots) -> list:
    return [run.config.k_shot if k is None else int(k) for k in k_shots]


@_shots.register
def _(family: RLFamily, run, k_shots) -> list:
    return [family.query_points]            # trajectories per adaptation step


@functools.singledispatch
def _protocol(family, run, k_shots, steps, n_tasks, seed, n_query) -> dict:
    fam = run.family
    n_query = n_query or fam.query_points
    return {
        "family": run.config.family, "algo": run.config.algo, "metric": fam.metric,
        "tasks": n_tasks, "k_shot": list(k_shots), "steps": steps,
        "query_points": fam.query_label(n_query),
        "inner_lr": _lr_label(run, 1.0),            # "learned" where the algorithm learns it
        "seed": seed, "ci": "95% normal approximation, 1.96·sd/√tasks",
        "iterations": run.config.iterations,
    }


@_protocol.register
def _(family: RLFamily, run, k_shots, steps, n_tasks, seed, n_query) -> dict:
    return rl.protocol(run, steps, n_tasks, k_shots[0], seed)


@torch.no_grad()
def benchmark(run: Run, name: str, steps: int | None = None, predict=None,
              scales=None) -> pd.DataFrame:
    """A fixed benchmark of the run's family (Omniglot: "lake20", Lake's 20 one-shot runs):
    its tasks' support sets, accuracy on their queries after 0..steps adaptation steps, mean
    and 95% CI over the tasks; the same DataFrame as `evaluate` (one K). The step size: the
    run's own, or with scales (one multiplier per step 0..steps, e.g. the `lr_scale` column
    of an evaluation at the benchmark's N, chosen on validation tasks) that many times it. A
    network trained for another number of classes gets each task's head from its support
    set (`nets.proto_head`). `predict(xs, ys, xq, steps)` -> predicted labels
    [steps+1, tasks, queries] replaces the run's adaptation (for tests)."""
    fam, cfg, algo = run.family, run.config, run.algorithm
    tasks_for = getattr(fam, "benchmark_tasks", None)
    if tasks_for is None:
        raise ConfigError("benchmark", f"the {fam.name} family has no fixed benchmark")
    b = tasks_for(name)
    steps = fam.eval_steps if steps is None else steps
    device = next(iter(run.params.values())).device
    xs, ys, xq, yq = (b[k].to(device) for k in ("xs", "ys", "xq", "yq"))
    wide = _family(run, b["n_way"])
    scales = [1.0] * (steps + 1) if scales is None else [float(m) for m in scales]
    if len(scales) != steps + 1:
        raise ValueError(f"scales: one multiplier per step 0..{steps} (got {len(scales)})")
    if predict is None:
        model = wide.make_model(cfg.hidden)
        params = proto_head(run.model, run.params, xs, ys, b["n_way"])
        lr = algo.adapt_spec(params, cfg, model)[1]
        by_m = {}
        for m in sorted(set(scales)):
            lm = {key: v * m for key, v in lr.items()} if isinstance(lr, dict) else lr * m
            traj = algo.adapt(model, wide, params, xs, ys, steps, cfg, trajectory=True, lr=lm)
            by_m[m] = [wide.predict(model, p, xq, cfg.k_query).argmax(-1) for p in traj]
        labels = torch.stack([by_m[m][st] for st, m in enumerate(scales)])
    else:
        labels = predict(xs, ys, xq, steps)
    s = (labels == yq).double().mean(-1).T.cpu()                     # [tasks, steps+1]
    n = s.shape[0]
    df = pd.DataFrame([{"algo": cfg.algo, "k_shot": b["k_shot"], "step": st,
                        **task_stats(s[:, st], s[:, 0], higher_is_better=True),
                        "lr_scale": scales[st], "lr": _lr_label(run, scales[st]),
                        "metric": "accuracy"} for st in range(steps + 1)])
    df.attrs["protocol"] = {
        "family": cfg.family, "algo": cfg.algo, "metric": "accuracy", "benchmark": name,
        "description": b["description"], "tasks": n, "k_shot": [b["k_shot"]],
        "steps": steps, "query_points": f"{yq.shape[1]} per task",
        "inner_lr": cfg.inner_lr if cfg.algo != "metasgd" else "learned",
        "step_size": ("the run's own step size (as trained), fixed" if set(scales) == {1.0}
                      else f"the run's own step size times {', '.join(f'{m:g}' for m in scales)}"
                           f" at steps 0..{steps} (given: chosen on validation tasks)"),
        "ci": "95% normal approximation, 1.96·sd/√tasks", "iterations": cfg.iterations,
        **_head_and_splits(run, wide),
        "reproduce": reproduce(run, "evaluate", [f"--benchmark {name}", f"--steps {steps}"]),
    }
    df.attrs["task_scores"] = TaskScores({int(b["k_shot"]): s.numpy()})
    return df


# ------------------------------------------------------------------ JSON
def to_json(df: pd.DataFrame, task_scores: bool = True) -> dict:
    """Strict JSON: a non-finite mean (the adaptation diverged) becomes null with diverged=true
    (older runs' results have no median/diverged count; newer ones carry them). task_scores:
    keep the per-task scores (scores.py) when the frame has them."""
    results = []
    for r in df.to_dict(orient="records"):
        ok = math.isfinite(r["mean"])          # one task has a mean but no interval (null)
        row = {"k_shot": int(r["k_shot"]), "step": int(r["step"]),
               "mean": r["mean"] if ok else None,
               "ci95": r["ci95"] if ok and math.isfinite(r["ci95"]) else None}
        if not ok:
            row["diverged"] = True
        if "median" in r:
            med = r["median"]
            row["median"] = med if math.isfinite(med) else None
            row["diverged_tasks"] = int(r["diverged"])
            row["tasks"] = int(r["tasks"])
            row["lr_scale"] = float(r["lr_scale"])
            row["lr"] = r["lr"] if isinstance(r["lr"], str) else float(r["lr"])
        results.append(row)
    out = {"protocol": df.attrs.get("protocol", {}), "results": results}
    kept = df.attrs.get("task_scores")
    if task_scores and kept:
        out["task_scores"] = TaskScores(kept).to_json()
    return out


def from_json(d: dict) -> pd.DataFrame:
    df = pd.DataFrame(d["results"])
    df["mean"] = df["mean"].astype(float)
    df["ci95"] = df["ci95"].astype(float)
    if "median" in df.columns:
        df["median"] = df["median"].astype(float)
    if "diverged_tasks" in df.columns:
        df = df.drop(columns=["diverged"], errors="ignore").rename(
            columns={"diverged_tasks": "diverged"})
    elif "diverged" in df.columns:       # older results: a flag on non-finite means only
        df = df.drop(columns=["diverged"])
    df.attrs["protocol"] = d.get("protocol", {})
    if d.get("task_scores"):
        df.attrs["task_scores"] = TaskScores.from_json(d["task_scores"])
    return df

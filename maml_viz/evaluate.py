"""The evaluation protocol, the same for every algorithm and baseline:

held-out tasks from an evaluation seed (a random stream disjoint from training's), K support
points per task (per class for classification), the metric on fresh query points (regression:
100 points uniform over the input range; classification: 15 per class) after 0..S plain SGD steps
from the meta-learned θ with the step size it was trained with; mean and 95% CI over tasks.
"""
from __future__ import annotations

import functools
import math

import pandas as pd
import torch

from . import rl
from .config import ConfigError, stream_seed
from .nets import widen_head
from .tasks import RLFamily, SupervisedFamily
from .train import Run

DEFAULT_SEED = 1234


def protocol(run: Run, k_shots, steps, n_tasks, seed, n_query=None) -> dict:
    fam = run.family
    n_query = n_query or fam.query_points
    return {
        "family": run.config.family, "algo": run.config.algo, "metric": fam.metric,
        "tasks": n_tasks, "k_shot": list(k_shots), "steps": steps,
        "query_points": fam.query_label(n_query),
        "inner_lr": run.config.inner_lr if run.config.algo != "metasgd" else "learned",
        "seed": seed, "ci": "95% normal approximation, 1.96·sd/√tasks",
        "iterations": run.config.iterations,
    }


def evaluate(run: Run, k_shots=(None,), steps: int | None = None, n_tasks: int | None = None,
             seed: int = DEFAULT_SEED, chunk: int = 500, n_query=None) -> pd.DataFrame:
    """Metric after 0..steps adaptation steps, per K. K=None means the run's k_shot.
    Returns a DataFrame (algo, k_shot, step, mean, ci95, metric) with .attrs['protocol'].
    steps/n_tasks None: the family's protocol defaults. RL families use their own protocol
    (rl.evaluate: held-out goals, return)."""
    return _evaluate(run.family, run, k_shots, steps, n_tasks, seed, chunk, n_query)


@functools.singledispatch
def _evaluate(family, run, k_shots, steps, n_tasks, seed, chunk, n_query):
    raise NotImplementedError(f"no evaluation protocol for {type(family).__name__}")


@_evaluate.register
def _(family: RLFamily, run, k_shots, steps, n_tasks, seed, chunk, n_query):
    return rl.evaluate(run, steps=steps, n_tasks=n_tasks, seed=seed)


@_evaluate.register
@torch.no_grad()
def _(family: SupervisedFamily, run, k_shots, steps, n_tasks, seed, chunk, n_query):
    fam, model, algo, cfg = family, run.model, run.algorithm, run.config
    steps = fam.eval_steps if steps is None else steps
    n_tasks = fam.eval_tasks if n_tasks is None else n_tasks
    k_shots = [cfg.k_shot if k is None else int(k) for k in k_shots]
    n_query = n_query or fam.query_points
    device = next(iter(run.params.values())).device
    chunk = min(chunk, getattr(fam, "eval_chunk", chunk))   # tasks at a time (memory)
    rows = []
    for k in k_shots:
        gen = torch.Generator(device).manual_seed(stream_seed("eval", seed))
        scores = []
        for start in range(0, n_tasks, chunk):
            n = min(chunk, n_tasks - start)
            b = fam.eval_batch(n, k, n_query, gen)
            xs, ys, xq, yq = b["xs"], b["ys"], b["xq"], b["yq"]
            traj = algo.adapt(model, fam, run.params, xs, ys, steps, cfg, trajectory=True)
            scores.append(torch.stack([fam.score(model(p, xq), yq) for p in traj], 1))
        s = torch.cat(scores).double().cpu()            # [tasks, steps+1]
        mean, sd = s.mean(0), s.std(0, unbiased=True)
        for step in range(steps + 1):
            rows.append({"algo": cfg.algo, "k_shot": k, "step": step, "mean": float(mean[step]),
                         "ci95": float(1.96 * sd[step] / math.sqrt(n_tasks)), "metric": fam.metric})
    df = pd.DataFrame(rows)
    df.attrs["protocol"] = protocol(run, k_shots, steps, n_tasks, seed, n_query)
    return df


@torch.no_grad()
def benchmark(run: Run, name: str, steps: int | None = None, predict=None) -> pd.DataFrame:
    """A fixed benchmark of the run's family (Omniglot: "lake20", Lake's 20 one-shot runs):
    its tasks' support sets, accuracy on their queries after 0..steps adaptation steps, mean and
    95% CI over the tasks; the same DataFrame as `evaluate` (one K). A network trained for fewer
    classes gets the averaged head of `nets.widen_head`. `predict(xs, ys, xq, steps)` ->
    predicted labels [steps+1, tasks, queries] replaces the run's adaptation (for tests)."""
    fam, cfg, algo = run.family, run.config, run.algorithm
    tasks_for = getattr(fam, "benchmark_tasks", None)
    if tasks_for is None:
        raise ConfigError("benchmark", f"the {fam.name} family has no fixed benchmark")
    b = tasks_for(name)
    steps = fam.eval_steps if steps is None else steps
    device = next(iter(run.params.values())).device
    xs, ys, xq, yq = (b[k].to(device) for k in ("xs", "ys", "xq", "yq"))
    if predict is None:
        wide = fam.make(dict(cfg.family_options, n_way=b["n_way"]))
        model = wide.make_model(cfg.hidden)
        params = widen_head(run.model, run.params, b["n_way"])
        traj = algo.adapt(model, wide, params, xs, ys, steps, cfg, trajectory=True)
        labels = torch.stack([model(p, xq).argmax(-1) for p in traj])
    else:
        labels = predict(xs, ys, xq, steps)
    s = (labels == yq).double().mean(-1).T.cpu()                     # [tasks, steps+1]
    n = s.shape[0]
    mean, sd = s.mean(0), s.std(0, unbiased=True)
    df = pd.DataFrame([{"algo": cfg.algo, "k_shot": b["k_shot"], "step": st,
                        "mean": float(mean[st]), "ci95": float(1.96 * sd[st] / math.sqrt(n)),
                        "metric": "accuracy"} for st in range(steps + 1)])
    df.attrs["protocol"] = {
        "family": cfg.family, "algo": cfg.algo, "metric": "accuracy", "benchmark": name,
        "description": b["description"], "tasks": n, "n_way": b["n_way"], "k_shot": [b["k_shot"]],
        "steps": steps, "query_points": f"{yq.shape[1]} per task",
        "inner_lr": cfg.inner_lr if cfg.algo != "metasgd" else "learned",
        "ci": "95% normal approximation, 1.96·sd/√tasks", "iterations": cfg.iterations,
        "head": ("as trained" if b["n_way"] == fam.out_dim else
                 f"{fam.out_dim}-way head averaged into {b['n_way']} outputs"),
    }
    return df


def to_json(df: pd.DataFrame) -> dict:
    """Strict JSON: a non-finite mean (the adaptation diverged) becomes null with diverged=true."""
    results = []
    for r in df[["k_shot", "step", "mean", "ci95"]].to_dict(orient="records"):
        ok = math.isfinite(r["mean"]) and math.isfinite(r["ci95"])
        results.append({"k_shot": int(r["k_shot"]), "step": int(r["step"]),
                        "mean": r["mean"] if ok else None, "ci95": r["ci95"] if ok else None,
                        **({} if ok else {"diverged": True})})
    return {"protocol": df.attrs.get("protocol", {}), "results": results}


def from_json(d: dict) -> pd.DataFrame:
    df = pd.DataFrame(d["results"])
    df["mean"] = df["mean"].astype(float)
    df["ci95"] = df["ci95"].astype(float)
    df.attrs["protocol"] = d.get("protocol", {})
    return df

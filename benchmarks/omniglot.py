"""Omniglot table: the bundled runs evaluated on the test alphabets (Korean + Tagalog) and on Lake
et al.'s 20 official one-shot runs, beside the MAML paper's and Lake's numbers.

Every figure comes from `evaluate` (the protocol: step size chosen on the validation alphabet,
Early Aramaic, per number of steps; 600 test tasks, 15 query drawings per character, mean and
95% CI over tasks) or `benchmark` (Lake's 20 runs, CI over the runs, at the step sizes the same
network's evaluation at 20-way chose). A network evaluated at another N than it was trained for
(the 5-way runs on 20-way tasks and Lake's runs) gets each task's head from its support set
(Proto-MAML), and the table says so. The figures are stored in assets/omniglot/results.json (with
each figure's protocol and the machine that trained and evaluated it) and the table is printed
from it; each run's 5-way (or 20-way) evaluation is also stored with the run (metrics.json), so
neither the app nor a second call recomputes it.

    python benchmarks/omniglot.py [--runs-dir assets/runs] [--algos maml,...] [--tasks 600]
    python benchmarks/omniglot.py --table          # the table from results.json, no computing
"""
import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402

from maml_viz.engine.malloc import keep_freed_memory  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.train import machine_name  # noqa: E402
from maml_viz.runs.evaluate import benchmark, evaluate, from_json, to_json  # noqa: E402
from maml_viz.runs.store import RunStore  # noqa: E402

RESULTS = os.path.join(os.path.dirname(__file__), "..", "assets", "omniglot", "results.json")
ALGOS = ("maml", "fomaml", "anil", "reptile", "pretrained", "scratch")
TWENTY = {"meta_batch": 16, "iterations": 2000, "family_options": {"n_way": 20}}
# accuracy %: the MAML paper (Finn et al. 2017, Table 1; 1200 training characters of 30
# alphabets, 20 other alphabets to test, 3 test steps at 5-way, 5 at 20-way) and Lake et al.
# (2015) on the 20 official runs (error rates 4.5% people, 3.3% BPL, 8.0% Siamese net)
PAPER = {"MAML (MAML paper)": ("98.7 ± 0.4", "95.8 ± 0.3"),
         "first-order MAML (MAML paper)": ("98.3 ± 0.5", "89.4 ± 0.5")}
LAKE = {"people": 95.5, "Bayesian program learning": 96.7, "Siamese convnet": 92.0}


def configs(algos):
    """(name, config) of every run of the table: the 5-way defaults, and MAML trained 20-way."""
    out = [(a, make_config(family="omniglot", algo=a)) for a in algos]
    if "maml" in algos:
        out.insert(1, ("maml-20way", make_config(family="omniglot", algo="maml", **TWENTY)))
    return out


def current(metrics, n_way, tasks):
    """The run's stored evaluation if it is this table's: the default protocol at its own N."""
    p = (metrics or {}).get("protocol") or {}
    return (p.get("version", 1) >= 3 and p.get("n_way") == n_way and p.get("tasks") == tasks
            and p.get("steps") == 3 and "splits" in p)


def figures(run, store, tasks, progress):
    """{what: evaluation JSON} for one run: its own N, the other N (Proto-MAML head), lake20."""
    n = run.family.n_way
    out = {}
    if current(run.metrics, n, tasks):
        out[f"{n}way"] = run.metrics
    else:
        out[f"{n}way"] = to_json(evaluate(run, n_tasks=tasks, progress=progress))
        run.metrics = out[f"{n}way"]
        store.put(run)                                   # the app reads it from metrics.json
    other = 20 if n == 5 else 5
    out[f"{other}way"] = to_json(evaluate(run, n_tasks=tasks, n_way=other, progress=progress))
    at20 = from_json(out["20way"])                       # step sizes chosen at 20-way
    out["lake20"] = to_json(benchmark(run, "lake20", steps=len(at20) - 1,
                                      scales=list(at20["lr_scale"])))
    return out


def cell(ev, step):
    if ev is None:
        return "–"
    r = next(x for x in ev["results"] if x["step"] == step)
    if r["mean"] is None:
        return "diverged"
    ci = f" ± {100 * r['ci95']:.1f}" if r["ci95"] is not None else ""
    lr = r.get("lr")
    return f"{100 * r['mean']:.1f}{ci} (α {lr:g})" if isinstance(lr, float) else \
        f"{100 * r['mean']:.1f}{ci}"


def table(results) -> str:
    rows = ["| run | trained as | iterations | trained on (s) | test 5-way 1-shot, 1 step | "
            "3 steps | test 20-way 1-shot, 1 step | 3 steps | Lake's 20 runs, 1 step | 3 steps |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["runs"].items():
        c, t = r["config"], r["training"]
        n = c["family_options"]["n_way"]
        mark = {"5way": "" if n == 5 else " ᴾ", "20way": "" if n == 20 else " ᴾ"}
        ev = r["figures"]
        rows.append(
            f"| {name} | {n}-way, {c['meta_batch']} tasks/it, {c['inner_steps']} step α "
            f"{c['inner_lr']:g} | {c['iterations']} | {t.get('machine', t.get('device'))} "
            f"({t.get('train_seconds', 0):.0f}) | {cell(ev.get('5way'), 1)}{mark['5way']} | "
            f"{cell(ev.get('5way'), 3)}{mark['5way']} | {cell(ev.get('20way'), 1)}{mark['20way']}"
            f" | {cell(ev.get('20way'), 3)}{mark['20way']} | {cell(ev.get('lake20'), 1)}"
            f"{mark['20way']} | {cell(ev.get('lake20'), 3)}{mark['20way']} |")
    for who, (five, twenty) in PAPER.items():
        rows.append(f"| {who} | | 60000 | | | {five} | | {twenty} | | |")
    for who, acc in LAKE.items():
        rows.append(f"| {who} (Lake et al. 2015) | | | | | | | | | {acc} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs-dir", default="assets/runs")
    ap.add_argument("--algos", default=",".join(ALGOS))
    ap.add_argument("--tasks", type=int, default=600)
    ap.add_argument("--table", action="store_true", help="print the table from results.json")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", action="store_true",
                    help="keep a run's figures already in results.json (same run, same training)")
    a = ap.parse_args()
    if a.table:
        print(table(json.load(open(RESULTS))))
        return
    keep_freed_memory()
    torch.set_num_threads(a.threads)
    store = RunStore(a.runs_dir)
    results = json.load(open(RESULTS)) if os.path.exists(RESULTS) else {"runs": {}}
    for name, cfg in configs(a.algos.split(",")):
        run = store.get(cfg)
        old = results["runs"].get(name, {})
        same = ("iterations_done", "train_seconds", "partial")      # the same training
        if a.keep and run is not None and old.get("key") == cfg.key() and \
                all(old.get("training", {}).get(f) == run.info.get(f) for f in same) and \
                {"5way", "20way", "lake20"} <= set(old["figures"]):
            print(f"  {name}: kept from {RESULTS} (--keep)", file=sys.stderr)
            continue
        if run is None or run.info.get("partial"):
            print(f"  {name}: no finished run of {cfg.key()} in {a.runs_dir}: skipped",
                  file=sys.stderr)
            continue
        t0 = time.time()
        done = {"n": 0}

        def progress(i, total):
            if i - done["n"] >= 100 or i == total:
                done["n"] = i
                print(f"  {name}: {i}/{total} tasks", file=sys.stderr, flush=True)

        figs = figures(run, store, a.tasks, progress)
        results["runs"][name] = {
            "key": cfg.key(), "config": cfg.to_dict(), "training": run.info, "figures": figs,
            "evaluated_on": f"{machine_name()}, torch {torch.__version__}, {a.threads} thread(s)",
            "evaluation_seconds": round(time.time() - t0, 1)}
        print(f"  {name}: evaluated in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        results["python"] = platform.python_version()
        with open(RESULTS, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))


if __name__ == "__main__":
    main()

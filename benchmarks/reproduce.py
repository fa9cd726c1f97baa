"""Reproduction table: every algorithm at its default config on a family, the standard protocol
(1000 held-out tasks, 100 query points, K = 5 and 10, 0..10 steps), ours beside the MAML paper's
5-shot sinusoid figures. Runs are saved (reused if present) so they double as bundled assets:

    python benchmarks/reproduce.py --family sinusoid --runs-dir assets/runs
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402

from maml_viz.engine.algorithms import ALGORITHMS  # noqa: E402
from maml_viz.engine.registry import algorithms_for, make_config  # noqa: E402
from maml_viz.engine.train import Trainer  # noqa: E402
from maml_viz.runs.evaluate import evaluate, to_json  # noqa: E402
from maml_viz.runs.store import RunStore  # noqa: E402

PAPER_5SHOT = {"maml": (0.67, 0.38, 0.35), "pretrained": (2.41, 2.23, 2.19)}  # steps 1, 5, 10
# MAML paper, 2D navigation (Table 4 / Figure 4, the authors' result files), return after 0..3 steps
PAPER_NAV = {"maml": (-40.4, -11.7, -3.3, -3.2), "pretrained": (-40.8, -19.7, -11.7, -8.5),
             "scratch": (-82.7, -58.0, -53.8, -46.8)}


def div(row) -> str:
    """' (n div.)' when n tasks of the row diverged."""
    n = int(row.get("diverged", 0) or 0)
    return f" ({n} div.)" if n else ""


def navigation_table(rows):
    print("| algorithm | it | train s | step 0 | step 1 | step 2 | step 3 |")
    print("|---|---|---|---|---|---|---|")
    for algo, cfg, run, df in rows:
        g = df.set_index("step")
        cells = "".join(f" {g.loc[s, 'mean']:.1f} ± {g.loc[s, 'ci95']:.1f}{div(g.loc[s])} |"
                        for s in range(4))
        print(f"| {algo} | {cfg.iterations} | {run.info.get('train_seconds', 0):.0f} |{cells}")
        if algo in PAPER_NAV:
            print(f"| {algo} (MAML paper) | | |" + "".join(f" {v} |" for v in PAPER_NAV[algo]))


def get_run(store, cfg, log=print):
    run = store.get(cfg)
    if run is not None and not run.info.get("partial"):
        return run
    tr = Trainer(cfg, "cpu")
    while not tr.done:
        p = tr.run(1000)
    run = tr.result()
    run.metrics = to_json(evaluate(run))
    log(f"  trained {cfg.algo} ({cfg.iterations} it) in {run.info['train_seconds']:.1f} s")
    return store.put(run)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--family", default="sinusoid")
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--algos", default=",".join(ALGORITHMS))
    ap.add_argument("--k-shot-train", type=int, default=None, help="train with this K instead of the default")
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--step-size", default="validated",
                    help="validated (the protocol: chosen on validation tasks) or trained")
    a = ap.parse_args()
    lr = a.step_size
    how = ("step size chosen on validation tasks per K and step (the protocol)"
           if lr == "validated" else "SGD with the trained step size")
    torch.set_num_threads(1)
    store = RunStore(a.runs_dir)
    if a.family == "navigation":
        rows = []
        for algo in a.algos.split(","):
            try:
                cfg = make_config(family=a.family, algo=algo)
            except Exception:
                continue
            run = get_run(store, cfg)
            rows.append((algo, cfg, run, evaluate(run, lr=lr)))
        print(f"# navigation: 40 held-out goals (eval seed 1234), 40 trajectories each, return after "
              f"0..3 policy-gradient steps (α, then α/2, {how}), mean ± 95% CI (tasks diverged, if any); "
              f"{os.cpu_count()}-core CPU")
        navigation_table(rows)
        return
    ks = (5, 10) if a.family != "blobs" else (1, 5)
    print(f"# {a.family}: protocol = {a.tasks} held-out tasks (eval seed 1234), K in {ks}, "
          f"metric on {'100 query points' if a.family != 'blobs' else '15 query points per class'}, "
          f"{how}, mean ± 95% CI (tasks diverged, if any); machine: {os.cpu_count()}-core CPU, "
          f"torch {torch.__version__}")
    rows = []
    for algo in a.algos.split(","):
        if algo not in algorithms_for(a.family):
            continue
        cfg = make_config(family=a.family, algo=algo, k_shot=a.k_shot_train)
        t0 = time.time()
        run = get_run(store, cfg)
        df = evaluate(run, k_shots=ks, steps=10, n_tasks=a.tasks, lr=lr)
        rows.append((algo, cfg, run, df))
    head = f"| algorithm | train K | it | train s |" + "".join(
        f" K={k} step {s} |" for k in ks for s in (0, 1, 5, 10))
    print(head)
    print("|" + "---|" * (4 + 4 * len(ks)))
    for algo, cfg, run, df in rows:
        g = df.set_index(["k_shot", "step"])
        cells = "".join(f" {g.loc[(k, s), 'mean']:.3f} ± {g.loc[(k, s), 'ci95']:.3f}"
                        f"{div(g.loc[(k, s)])} |" for k in ks for s in (0, 1, 5, 10))
        print(f"| {algo} | {cfg.k_shot} | {cfg.iterations} | {run.info.get('train_seconds', 0):.0f} |{cells}")
    if a.family == "sinusoid":
        print("\n| 5-shot sinusoid | step 1 | step 5 | step 10 |\n|---|---|---|---|")
        for algo, cfg, run, df in rows:
            if algo in PAPER_5SHOT:
                g = df.set_index(["k_shot", "step"])["mean"]
                print(f"| {algo} (ours, trained K={cfg.k_shot}) | {g[5, 1]:.2f} | {g[5, 5]:.2f} | {g[5, 10]:.2f} |")
                p = PAPER_5SHOT[algo]
                print(f"| {algo} (MAML paper) | {p[0]:.2f} | {p[1]:.2f} | {p[2]:.2f} |")


if __name__ == "__main__":
    main()

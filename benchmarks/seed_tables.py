"""The README's tables from several training seeds: every algorithm's default config on a family,
the stored evaluation of each seed (the standard protocol, step size chosen on validation tasks),
mean ± 95% t-interval over seeds; beside each mean the median over tasks (the seeds' medians,
averaged) and how many tasks diverged (all seeds together).

Make the runs first (any order; a sweep resumes and re-evaluates runs from an older protocol):

    nice -n 10 python -m maml_viz sweep --family sinusoid --algos all --seeds 0-4 --runs-dir runs/seeds
    python benchmarks/seed_tables.py --family sinusoid --runs-dir runs/seeds
"""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from maml_viz.engine.registry import algorithms_for, make_config  # noqa: E402
from maml_viz.runs.seeds import across_seeds, stored_frames  # noqa: E402
from maml_viz.runs.store import RunStore  # noqa: E402
from maml_viz.services.sweep import parse_seeds, stale  # noqa: E402
from maml_viz.services.sweep_table import evaluated_k, k_label  # noqa: E402

# MAML paper, 2D navigation (the authors' result files): return after 0..3 steps
PAPER_NAV = {"maml": (-40.4, -11.7, -3.3, -3.2), "pretrained": (-40.8, -19.7, -11.7, -8.5),
             "scratch": (-82.7, -58.0, -53.8, -46.8)}
STEPS = {"navigation": (0, 1, 2, 3), "blobs": (0, 1, 5, 10)}


def cell(r, digits) -> str:
    f = f"{{:.{digits}f}}"
    mean = "diverges" if r["mean"] != r["mean"] else f.format(r["mean"])
    ci = "" if r["ci95"] != r["ci95"] else " ± " + f.format(r["ci95"])
    extra = []
    if "task_median" in r and r["task_median"] == r["task_median"]:
        extra.append("med " + f.format(r["task_median"]))
    if "diverged_tasks" in r and r.get("tasks"):
        extra.append(f"{int(r['diverged_tasks'])}/{int(r['tasks'])} div.")
    return mean + ci + (f" ({'; '.join(extra)})" if extra else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="sinusoid")
    ap.add_argument("--algos", help="default: all that apply to the family")
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--runs-dir", default="runs/seeds")
    ap.add_argument("--steps", help="steps shown, e.g. 0,1,5,10")
    a = ap.parse_args()
    algos = a.algos.split(",") if a.algos else algorithms_for(a.family)
    seeds = parse_seeds(a.seeds)
    steps = ([int(s) for s in a.steps.split(",")] if a.steps
             else STEPS.get(a.family, (0, 1, 5, 10)))
    store = RunStore(a.runs_dir)
    digits = 1 if a.family == "navigation" else 3
    rows, chosen, protocol = [], {}, None
    for algo in algos:
        runs = [store.get(make_config(family=a.family, algo=algo, seed=s)) for s in seeds]
        runs = [r for r in runs if r is not None and r.metrics and not stale(r)]
        if not runs:
            print(f"(no stored runs of {algo} under the current protocol)", file=sys.stderr)
            continue
        protocol = protocol or runs[0].metrics["protocol"]
        s = across_seeds(stored_frames(runs))
        s = s[s["k_shot"] == evaluated_k(runs[0].config, s["k_shot"])].set_index("step")
        rows.append((algo, len(runs), [s.loc[st] if st in s.index else None for st in steps]))
        # which step sizes validation chose (multiples of the trained one), over seeds and steps
        chosen[algo] = Counter(x["lr_scale"] for r in runs for x in r.metrics["results"]
                               if x["step"] > 0)
    if not rows:
        raise SystemExit("nothing to tabulate")
    cfg0 = make_config(family=a.family, algo=rows[0][0])
    print(f"{a.family}: {protocol['metric']} at {k_label(cfg0, protocol)} on {protocol['tasks']} "
          f"held-out tasks per seed, {protocol['iterations'] if rows[0][0] != 'scratch' else cfg0.iterations} "
          f"meta-iterations; mean ± 95% t-interval over seeds (med: median over tasks, the seeds' "
          f"medians averaged; div.: tasks that diverged, all seeds)\n")
    print("| algorithm | seeds | " + " | ".join(f"step {st}" for st in steps) + " |")
    print("|---|---|" + "---|" * len(steps))
    for algo, n, cells in rows:
        print(f"| {algo} | {n} | "
              + " | ".join("-" if c is None else cell(c, digits) for c in cells) + " |")
        if a.family == "navigation" and algo in PAPER_NAV:
            print(f"| {algo} (MAML paper) | | "
                  + " | ".join(f"{PAPER_NAV[algo][st]}" if st < 4 else "" for st in steps) + " |")
    print("\nstep sizes chosen on validation (multiples of the trained one: how often, over seeds "
          "and steps >= 1):")
    for algo, c in chosen.items():
        print(f"  {algo}: " + ", ".join(f"x{m:g} {n}" for m, n in sorted(c.items())))


if __name__ == "__main__":
    main()

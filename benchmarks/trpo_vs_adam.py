"""Navigation: the paper's TRPO outer update (--option trpo_kl=0.01) against the Adam default,
same seeds, same protocol. Trains what is not stored yet (the Adam default's seed-0 run is bundled
in assets/runs), evaluates both on the protocol's 40 held-out goals and on 400 (a tighter CI), and
prints the returns after 0..3 policy-gradient steps with the training time.

    nice -n 19 python benchmarks/trpo_vs_adam.py --seeds 0 --runs-dir runs   # ~35 min per TRPO
                                                                             # seed on 2 cores
    python benchmarks/trpo_vs_adam.py --seeds 0,1 --device cuda              # on a GPU
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402

from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.train import Trainer, device_name, resolve_device  # noqa: E402
from maml_viz.runs.evaluate import evaluate, to_json  # noqa: E402
from maml_viz.runs.store import RunStore  # noqa: E402

ASSETS = os.path.join(os.path.dirname(__file__), "..", "assets", "runs")


def get_run(store, cfg, device, iterations_note):
    run = store.get(cfg)
    if run is not None and not run.info.get("partial"):
        return run
    tr = Trainer(cfg, device)
    while not tr.done:
        p = tr.run(10)
        print(f"  {iterations_note}: iteration {p.iteration}/{p.total}, {p.elapsed:.0f} s, "
              f"post-update training return {p.loss:.1f}", flush=True)
    run = tr.result()
    run.metrics = to_json(evaluate(run))
    return store.put(run)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--kl", type=float, default=0.01)
    ap.add_argument("--iterations", type=int, help="default: the family's (300)")
    ap.add_argument("--algo", default="maml")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--goals", default="40,400", help="held-out goals for the evaluation")
    a = ap.parse_args()
    device = resolve_device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(1)
    store = RunStore([a.runs_dir, ASSETS], device)
    rows = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        for name, opts in (("Adam (default)", None), (f"TRPO (KL {a.kl})", {"trpo_kl": a.kl})):
            cfg = make_config(family="navigation", algo=a.algo, seed=seed,
                              iterations=a.iterations, family_options=opts)
            run = get_run(store, cfg, device, f"{name}, seed {seed}")
            for goals in [int(g) for g in a.goals.split(",")]:
                df = evaluate(run, n_tasks=goals).set_index("step")
                rows.append((name, seed, goals, run.info.get("train_seconds", 0),
                             run.info.get("device", "?"), df))
    print(f"\n# navigation {a.algo}, {cfg.iterations} iterations; return after 0..3 policy-gradient "
          f"steps (α, then α/2), 40 trajectories per held-out goal (eval seed 1234), mean ± 95% CI; "
          f"trained on {device_name(device)} unless stated")
    print("| outer update | seed | goals | train s (device) | step 0 | step 1 | step 2 | step 3 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, seed, goals, secs, dev, df in rows:
        cells = "".join(f" {df.loc[s, 'mean']:.2f} ± {df.loc[s, 'ci95']:.2f} |" for s in range(4))
        print(f"| {name} | {seed} | {goals} | {secs:.0f} ({dev}) |{cells}")
    print("| MAML paper (TRPO) | | | | -40.4 | -11.7 | -3.3 | -3.2 |")


if __name__ == "__main__":
    main()

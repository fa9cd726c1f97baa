"""How well a bundled Omniglot MAML run does on tasks of its own *training* characters against
held-out ones (the generalisation gap that bounds what longer training can reach on this
subset of Omniglot): N-way 1-shot tasks, 15 query drawings per class, the run's own step size,
after 0..3 steps, 100 tasks of each (one stream each).

Run:  python benchmarks/omniglot_train_gap.py [run_dir ...] [--tasks 100] [--threads 1]
Default: the two bundled MAML runs (5-way and 20-way). About 4 minutes on one thread of the
2-core development machine.
"""
import argparse
import glob
import os
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from maml_viz.engine.config import stream_seed  # noqa: E402
from maml_viz.runs.files import load_run  # noqa: E402


def accuracy(run, split: str, n_tasks: int) -> list:
    fam, model, cfg = run.family, run.model, run.config
    gen = torch.Generator().manual_seed(stream_seed("train-gap-" + split, 0))
    out = []
    for start in range(0, n_tasks, 20):
        tasks = fam._tasks(min(20, n_tasks - start), gen, split)
        (xs, ys), (xq, yq) = fam._points(tasks, (1, 15), gen)
        traj = run.algorithm.adapt(model, fam, run.params, xs, ys, 3, cfg, trajectory=True)
        with torch.no_grad():
            out.append(torch.stack([fam.score(fam.predict(model, p, xq, cfg.k_query), yq)
                                    for p in traj], 1))
    return [float(v) for v in torch.cat(out).mean(0)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="*")
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dirs = a.runs or sorted(glob.glob(os.path.join(ROOT, "assets", "runs", "omniglot-maml-*")))
    print("| run | N | characters | after 0 / 1 / 2 / 3 steps |")
    print("|---|---|---|---|")
    for d in dirs:
        run = load_run(d)
        for split, what in (("train", "training (with rotations)"), ("test", "held-out (test)")):
            acc = accuracy(run, split, a.tasks)
            print(f"| {os.path.basename(d)} | {run.family.n_way} | {what} | "
                  + " / ".join(f"{100 * v:.1f}%" for v in acc) + " |", flush=True)


if __name__ == "__main__":
    main()

"""Seconds per meta-iteration on Omniglot's default config (5-way 1-shot, meta-batch 32, 4x32
conv net, 1 query drawing per class) for each algorithm, and the choices behind it, measured
side by side in one process (interleaved rounds, median), in CPU seconds of this process
(time.process_time: robust to other work on a shared machine) and wall seconds:

- MAML: autograd through `outer_loss` (what training runs for the ConvNet) against FOMAML's
  hand-written meta-gradient (a lower bound for any second-order step: it skips the
  second-order term) and against the usual per-task Python loop (the tutorial MAML);
- 32 against 64 filters, 1 against 15 query drawings per class.

    python benchmarks/omniglot_speed.py [--rounds 3]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.train import Trainer  # noqa: E402


def tutorial_step(tr):
    """The usual MAML: a Python loop over tasks, autograd.grad(create_graph=True) per task."""
    fam, model, cfg, params = tr.family, tr.model, tr.cfg, tr.params
    b = fam.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query, tr.task_gen)
    tr.opt.zero_grad()
    total = 0.0
    for i in range(cfg.meta_batch):
        xs, ys, xq, yq = b["xs"][i:i + 1], b["ys"][i], b["xq"][i:i + 1], b["yq"][i]
        loss = F.cross_entropy(model(params, xs)[0], ys)
        g = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        fast = {k: v - cfg.inner_lr * gk for (k, v), gk in zip(params.items(), g)}
        total = total + F.cross_entropy(model(fast, xq)[0], yq)
    (total / cfg.meta_batch).backward()
    tr.opt.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cases = {
        "MAML (autograd through outer_loss)": ("maml", {}),
        "MAML, tutorial per-task loop": ("maml", {"tutorial": True}),
        "FOMAML (hand-written meta-gradient)": ("fomaml", {}),
        "ANIL": ("anil", {}),
        "Reptile (5 inner steps)": ("reptile", {}),
        "Pretrained": ("pretrained", {}),
        "MAML, 64 filters": ("maml", {"hidden": (64,) * 4}),
        "FOMAML, 64 filters": ("fomaml", {"hidden": (64,) * 4}),
        "MAML, 15 query drawings per class": ("maml", {"k_query": 15}),
    }
    trainers = {}
    for name, (algo, kw) in cases.items():
        kw = dict(kw)
        tut = kw.pop("tutorial", False)
        tr = Trainer(make_config(family="omniglot", algo=algo, **kw), "cpu", validate_every=0)
        step = (lambda t=tr: tutorial_step(t)) if tut else (lambda t=tr: t.run(1))
        step()                                                     # warm-up
        trainers[name] = step
    cpu = {n: [] for n in cases}
    wall = {n: [] for n in cases}
    for _ in range(a.rounds):
        for name, step in trainers.items():
            c0, w0 = time.process_time(), time.perf_counter()
            step()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    ref = statistics.median(cpu["MAML (autograd through outer_loss)"])
    print(f"# omniglot default config, 1 thread, median of {a.rounds} interleaved rounds; "
          f"{os.cpu_count()}-core CPU, torch {torch.__version__}, load {os.getloadavg()[0]:.1f}")
    print("| step | CPU s/it | wall s/it | CPU time vs MAML |\n|---|---|---|---|")
    for name in cases:
        c = statistics.median(cpu[name])
        print(f"| {name} | {c:.3f} | {statistics.median(wall[name]):.3f} | {c / ref:.2f}× |")


if __name__ == "__main__":
    main()

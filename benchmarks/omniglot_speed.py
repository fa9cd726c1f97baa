"""Seconds per meta-iteration on Omniglot (the paper's 64-filter net; 5-way: meta-batch 32,
20-way: 16; one query drawing per class) for each algorithm, and the choices behind it,
measured side by side in one process (interleaved rounds, median), in CPU seconds of this process
(time.process_time: robust to other work on a shared machine) and wall seconds:

- MAML with the hand-derived double backward of batch norm (conv_ops.bn_backward, what training
  runs) against autograd's own (`batchnorm_double_backward`), and against the usual per-task
  Python loop (the tutorial MAML);
- the first-order algorithms and the baselines at the same config.

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

import maml_viz.engine.nets as nets  # noqa: E402
from maml_viz.engine.conv_ops import _native  # noqa: E402
from maml_viz.engine.malloc import keep_freed_memory  # noqa: E402
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
    ap.add_argument("--no-malloc", action="store_true",
                    help="leave glibc's malloc as it is (the CLI tunes it: cli.keep_freed_memory)")
    a = ap.parse_args()
    if not a.no_malloc:
        keep_freed_memory()
    torch.set_num_threads(1)
    twenty = {"meta_batch": 16, "family_options": {"n_way": 20}}
    cases = {
        "MAML (batch norm's double backward by hand)": ("maml", {}),
        "MAML, autograd's batch-norm double backward": ("maml", {"native_bn": True}),
        "MAML, tutorial per-task loop": ("maml", {"tutorial": True}),
        "MAML 20-way, meta-batch 16": ("maml", twenty),
        "FOMAML (hand-written meta-gradient)": ("fomaml", {}),
        "ANIL": ("anil", {}),
        "Reptile (5 inner steps)": ("reptile", {}),
        "Pretrained": ("pretrained", {}),
    }
    mine = nets.bn_backward

    def native(dy, z, g, mean, invstd, eps, mask):
        return _native(dy, z, g, mean, invstd, eps, list(mask))

    steps = {}
    for name, (algo, kw) in cases.items():
        kw = dict(kw)
        tut, nat = kw.pop("tutorial", False), kw.pop("native_bn", False)
        tr = Trainer(make_config(family="omniglot", algo=algo, **kw), "cpu", validate_every=0)

        def step(t=tr, tut=tut, nat=nat):
            nets.bn_backward = native if nat else mine
            tutorial_step(t) if tut else t.run(1)

        step()                                                     # warm-up
        steps[name] = step
    cpu = {n: [] for n in cases}
    wall = {n: [] for n in cases}
    for _ in range(a.rounds):
        for name, step in steps.items():
            c0, w0 = time.process_time(), time.perf_counter()
            step()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    nets.bn_backward = mine
    ref = statistics.median(cpu["MAML (batch norm's double backward by hand)"])
    print(f"# omniglot, 64 filters, 1 thread, median of {a.rounds} interleaved rounds; "
          f"{os.cpu_count()}-core CPU, torch {torch.__version__}, malloc "
          f"{'as is' if a.no_malloc else 'tuned'}, load {os.getloadavg()[0]:.1f}")
    print("| step | CPU s/it | wall s/it | CPU time vs MAML |\n|---|---|---|---|")
    for name in cases:
        c = statistics.median(cpu[name])
        print(f"| {name} | {c:.3f} | {statistics.median(wall[name]):.3f} | {c / ref:.2f}× |")


if __name__ == "__main__":
    main()

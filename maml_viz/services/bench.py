"""Throughput benchmark: the project's vectorised meta-step against the usual tutorial MAML
(a Python loop over tasks, one autograd.grad per task), on the same batches, interleaved in one
process. Prints it/s and the ratio for MAML, FOMAML and Reptile, then our it/s for the other
algorithms and the effect of intra-op threads. Run: python -m maml_viz bench
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ..engine import stepper
from ..engine.algorithms import get_algorithm
from ..engine.config import stream_seed
from ..engine.registry import make_config
from ..engine.tasks import make_family
from ..engine.train import Trainer


# ----------------------------------------------------------------- the tutorial baseline
def _tutorial_net(params, x):
    """nn.Linear-style forward for ONE task (x: [M, 1])."""
    n = len(params) // 2
    h = x
    for i in range(n):
        h = F.linear(h, params[f"l{i}.w"].t(), params[f"l{i}.b"])
        if i < n - 1:
            h = F.relu(h)
    return h


def tutorial_maml_step(params, opt, batch, cfg, first_order=False):
    opt.zero_grad()
    total = 0.0
    for i in range(batch["xs"].shape[0]):                       # loop over tasks
        fast = dict(params)
        for _ in range(cfg.inner_steps):
            loss = F.mse_loss(_tutorial_net(fast, batch["xs"][i]), batch["ys"][i])
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=not first_order)
            fast = {k: v - cfg.inner_lr * g for (k, v), g in zip(fast.items(), grads)}
        total = total + F.mse_loss(_tutorial_net(fast, batch["xq"][i]), batch["yq"][i])
    loss = total / batch["xs"].shape[0]
    loss.backward()
    opt.step()
    return loss.detach()


def tutorial_reptile_step(params, opt, batch, cfg):
    deltas = {k: torch.zeros_like(v) for k, v in params.items()}
    for i in range(batch["xs"].shape[0]):
        fast = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        for _ in range(cfg.inner_steps):
            loss = F.mse_loss(_tutorial_net(fast, batch["xs"][i]), batch["ys"][i])
            grads = torch.autograd.grad(loss, list(fast.values()))
            fast = {k: (v - cfg.inner_lr * g).detach().requires_grad_(True)
                    for (k, v), g in zip(fast.items(), grads)}
        for k in params:
            deltas[k] += fast[k].detach() - params[k].detach()
    with torch.no_grad():
        for k, v in params.items():
            v.add_(cfg.outer_lr * deltas[k] / batch["xs"].shape[0])
    return loss.detach()


# ----------------------------------------------------------------- timing
def _setup(algo, device="cpu", seed=0):
    cfg = make_config(algo=algo)
    fam = make_family(cfg.family)
    model = fam.make_model(cfg.hidden)
    alg = get_algorithm(algo)
    gen = torch.Generator(torch.device(device)).manual_seed(stream_seed("init", seed))
    params = {k: v.requires_grad_(True) for k, v in alg.init_params(model, cfg, gen).items()}
    return cfg, fam, model, alg, params


def _batches(fam, cfg, n, device="cpu"):
    gen = torch.Generator(torch.device(device)).manual_seed(stream_seed("bench", 0))
    return [fam.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query, gen) for _ in range(n)]


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _rate(step, batches, seconds, device="cpu"):
    """Iterations per second of step(batch) over `seconds` (cycling through batches; on a GPU
    the queue is drained before the clock stops, checked every 20 steps)."""
    step(batches[0])                                            # warm-up
    _sync(device)
    n, t0 = 0, time.perf_counter()
    while True:
        step(batches[n % len(batches)])
        n += 1
        if n % 20 == 0 or torch.device(device).type != "cuda":
            _sync(device)
            dt = time.perf_counter() - t0
            if dt >= seconds:
                return n / dt


def compare(algo, seconds=3.0, rounds=3, compiled=False, device="cpu"):
    """Ours vs the tutorial loop on the same batches, interleaved; returns (ours, loop) it/s."""
    cfg, fam, model, alg, p_ours = _setup(algo, device)
    p_loop = {k: v.detach().clone().requires_grad_(True) for k, v in p_ours.items()}
    opt_ours = alg.make_optimizer(p_ours, cfg)
    opt_loop = torch.optim.Adam(list(p_loop.values()), lr=cfg.outer_lr) if algo != "reptile" else None
    batches = _batches(fam, cfg, 50, device)
    ours = lambda b: alg.step(model, fam, p_ours, opt_ours, b, cfg)
    if compiled:
        if opt_ours is not None:
            opt_ours.capturable()
        ours = stepper.Compiled(ours)
        t0 = time.perf_counter()
        ours(batches[0])
        print(f"  ({algo}: torch.compile took {time.perf_counter() - t0:.1f} s, once per process)")
    if algo == "reptile":
        loop = lambda b: tutorial_reptile_step(p_loop, None, b, cfg)
    else:
        loop = lambda b: tutorial_maml_step(p_loop, opt_loop, b, cfg, first_order=(algo == "fomaml"))
    r_ours, r_loop = [], []
    for _ in range(rounds):                                      # interleave A B A B ...
        r_ours.append(_rate(ours, batches, seconds / rounds, device))
        r_loop.append(_rate(loop, batches, seconds / rounds, device))
    return sorted(r_ours)[rounds // 2], sorted(r_loop)[rounds // 2]


def ours_only(algo, seconds=2.0, threads=None, device="cpu"):
    if threads:
        torch.set_num_threads(threads)
    cfg, fam, model, alg, params = _setup(algo, device)
    opt = alg.make_optimizer(params, cfg)
    batches = _batches(fam, cfg, 50, device)
    return _rate(lambda b: alg.step(model, fam, params, opt, b, cfg), batches, seconds, device)


def trainer_rate(algo="maml", iterations=3000, device="cpu", compiled=False, cuda_graph=None):
    """End to end, as `train` runs: task sampling, meta-step, optimiser and logging, it/s over
    `iterations` after a 100-iteration warm-up (compilation / graph capture in the warm-up)."""
    cfg = make_config(algo=algo, iterations=iterations + 100)
    tr = Trainer(cfg, device=device, compiled=compiled, cuda_graph=cuda_graph)
    tr.run(100)
    _sync(device)
    t0 = time.perf_counter()
    tr.run(iterations)
    _sync(device)
    return iterations / (time.perf_counter() - t0)


def main(seconds=3.0, quick=False, compiled=False, device="cpu"):
    if torch.device(device).type == "cuda":
        return main_gpu(seconds, compiled, device)
    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    if quick:
        seconds = min(seconds, 0.5)
    dev = "cpu"
    print(f"maml-viz throughput on {dev} (torch {torch.__version__}, 1 intra-op thread), sinusoid, "
          f"meta-batch 25, K=10, 40-40 MLP; median of 3 interleaved rounds, {seconds:.1f} s each side")
    print(f"{'algorithm':<12}{'ours it/s':>12}{'loop it/s':>12}{'ratio':>9}")
    if quick:
        compiled = False
    for algo in ("maml", "fomaml", "reptile"):
        o, l = compare(algo, seconds)
        print(f"{algo:<12}{o:>12.1f}{l:>12.1f}{o / l:>8.1f}x")
    if compiled:
        for algo in ("maml", "fomaml"):
            o, l = compare(algo, seconds, compiled=True)
            print(f"{algo + ' (compiled)':<12}{o:>12.1f}{l:>12.1f}{o / l:>8.1f}x")
    for algo in ("anil", "metasgd", "pretrained"):
        print(f"{algo:<12}{ours_only(algo, seconds / 2):>12.1f}{'-':>12}{'-':>9}")
    its = 300 if quick else 2000
    for c in (False, True) if compiled else (False,):
        print(f"{'train maml' + (' (compiled)' if c else ''):<12}"
              f"{trainer_rate('maml', its, compiled=c):>12.1f}{'-':>12}{'-':>9}"
              f"   (end to end: sampling, step, Adam, logging)")
    one = ours_only("maml", seconds / 2, threads=1)
    many = ours_only("maml", seconds / 2, threads=default_threads)
    torch.set_num_threads(1)
    print(f"threads: MAML ours {one:.1f} it/s on 1 thread vs {many:.1f} it/s on {default_threads} "
          f"(the CLI and app use 1 on the CPU)")


def main_gpu(seconds=3.0, compiled=False, device="cuda"):
    """On a GPU: the meta-step against the tutorial loop on the same device, then end-to-end
    training throughput (what `train --device cuda` gets)."""
    print(f"maml-viz throughput on {torch.cuda.get_device_name(device)} (torch {torch.__version__}), "
          f"sinusoid, meta-batch 25, K=10, 40-40 MLP; median of 3 interleaved rounds")
    print(f"{'algorithm':<22}{'ours it/s':>12}{'loop it/s':>12}{'ratio':>9}")
    for algo in ("maml", "fomaml", "reptile"):
        o, l = compare(algo, seconds, device=device)
        print(f"{algo:<22}{o:>12.1f}{l:>12.1f}{o / l:>8.1f}x")
    if compiled:
        for algo in ("maml", "fomaml"):
            o, l = compare(algo, seconds, compiled=True, device=device)
            print(f"{algo + ' (compiled)':<22}{o:>12.1f}{l:>12.1f}{o / l:>8.1f}x")
    for algo in ("maml", "fomaml"):
        for graph in (False, True):
            print(f"{'train ' + algo + (' (CUDA graph)' if graph else ''):<22}"
                  f"{trainer_rate(algo, device=device, cuda_graph=graph):>12.1f}"
                  f"{'-':>12}{'-':>9}   (end to end: sampling, step, optimiser, logging)")
    if compiled:
        print(f"{'train maml (compiled + graph)':<22}"
              f"{trainer_rate('maml', device=device, compiled=True, cuda_graph=True):>12.1f}"
              f"{'-':>12}{'-':>9}")

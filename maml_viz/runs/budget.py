"""How much memory and time a training or an evaluation will take, before it starts.

The estimates count the tensors the engine keeps alive at its peak (the inner loop's tape of
per-task parameters and layer activations, the rollouts of a policy-gradient step) and the
floating-point work, timed against this device's measured matmul speed plus a per-kernel
overhead. They are meant to be safe upper bounds for memory (checked against the measured peak
by benchmarks/budget_check.py) and right within a factor of about two for time. Jobs and the CLI
refuse what cannot fit in the memory available now, saying how much it needs and how much there
is.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass

import torch

from ..engine.config import TrainConfig
from ..engine.nets import ConvNet
from ..engine.tasks import Omniglot, RLFamily, SupervisedFamily
from ..engine.train import Run
from .evaluate import LR_GRID
from .files import expected_shapes

FLOAT = 4                                # bytes: everything trains in float32
SAFETY = 1.25                            # on top of the counted tensors (allocator slack)
BASE_BYTES = 64 * 2**20                  # working memory of a run besides its tensors
USABLE = 0.8                             # share of the available memory a job may take


@dataclass(frozen=True)
class Estimate:
    what: str                    # "training" | "evaluation" | "training and its evaluation"
    bytes: int                   # peak memory
    seconds: float               # the whole computation on this device
    per_iteration: float = 0.0   # training: seconds per meta-iteration
    work: tuple = ()             # (flops, floats touched, kernels) of one iteration / the whole

    def describe(self) -> str:
        return f"{self.what}: about {human_bytes(self.bytes)} of memory and {human_time(self.seconds)}"


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def human_time(s: float) -> str:
    if not math.isfinite(s):
        return "forever"
    if s < 90:
        return f"{max(s, 1):.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


# ----------------------------------------------------------------------------- the machine
def available_memory(device="cpu") -> int:
    """Bytes that can be allocated now without swapping (CPU: MemAvailable; CUDA: free)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 * 2**30


def memory_limit(device="cpu") -> int:
    """What one computation may take: USABLE of the available memory."""
    return int(USABLE * available_memory(device))


def _best_time(fn, device, reps=3) -> float:
    dev = torch.device(device)
    best = float("inf")
    for _ in range(reps):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        fn()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        best = min(best, time.perf_counter() - t0)
    return max(best, 1e-9)


@functools.lru_cache(maxsize=4)
def device_speed(device: str = "cpu") -> tuple:
    """(matmul flops/s, elementwise floats/s) of this device, measured once per process on
    tensors larger than the caches (about 0.1 s on a CPU)."""
    dev = torch.device(device)
    a = torch.randn(16, 256, 512, device=dev)
    b = torch.randn(16, 512, 512, device=dev)
    x = torch.randn(1 << 22, device=dev)
    mm = 2 * 16 * 256 * 512 * 512 / _best_time(lambda: torch.bmm(a, b), dev)
    ew = x.numel() / _best_time(lambda: torch.relu(x), dev)
    return mm, ew


def kernel_seconds(device: str = "cpu") -> float:
    """Fixed cost of one tensor operation (Python + dispatch, or a GPU launch)."""
    return 12e-6 if torch.device(device).type == "cpu" else 25e-6


def seconds(flops: float, floats: float, kernels: float, device="cpu") -> float:
    """Time of `flops` in matmuls, `floats` read or written by elementwise passes, and `kernels`
    tensor operations, on this device."""
    mm, ew = device_speed(str(torch.device(device)))
    return flops / mm + floats / ew + kernels * kernel_seconds(device)


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Shape:
    params: int          # meta-parameters (with Meta-SGD's step sizes)
    theta: int           # network parameters (what is adapted per task)
    macs: int            # multiply-adds per input point
    width: int           # activations per point (inputs of every layer + output)
    layers: int


def model_shape(cfg: TrainConfig) -> Shape:
    shapes = expected_shapes(cfg)
    theta = {k: s for k, s in shapes.items() if not k.startswith("lr.")}
    weights = [s for k, s in theta.items() if k.endswith(".w") and len(s) == 2]
    n = lambda s: math.prod(s) if s else 1
    macs, width = sum(a * b for a, b in weights), (weights[0][0] if weights else 1) + sum(
        b for _, b in weights)
    layers = max(1, len(weights))
    model = Run(cfg, {}).model
    if hasattr(model, "point_cost"):        # a conv net: its cost depends on the image size
        macs, width, layers = model.point_cost()
    return Shape(params=sum(n(s) for s in shapes.values()), theta=sum(n(s) for s in theta.values()),
                 macs=macs, width=width, layers=layers)


def _points(family, k: int) -> int:
    """Points per task when asking the family for k (classification: k per class)."""
    gen = torch.Generator().manual_seed(0)
    return int(family.sample_points(family.sample_tasks(1, gen), k, gen)[0].shape[1])


# ----------------------------------------------------------------------------- estimates
def _cost_class(algo) -> str:
    """How an algorithm's meta-step spends its work: "second" / "first" order through a tape of
    the inner loop (MAML family), "reptile" (inner loop, no tape), "pooled" (one batch: the
    pretrained baseline)."""
    if hasattr(algo, "first_order"):
        return "first" if algo.first_order else "second"
    return "pooled" if algo.is_baseline else "reptile"


@functools.singledispatch
def _train_work(fam, cfg, m, T, S, cost, two) -> tuple:
    """(floats held, flops, bytes touched, kernels) of one meta-iteration, by family type."""
    raise NotImplementedError(type(fam).__name__)


@_train_work.register
def _(fam: RLFamily, cfg, m, T, S, cost, two):
    H, n, nq = fam.horizon, cfg.k_shot, cfg.k_query
    if cost == "pooled":
        n, nq, S = n + nq, 0, 1
    elif cost == "reptile":
        nq = 0                                      # no rollouts after adapting
    per_sample = m.width * 8 + 12                  # activations kept for a 2nd derivative
    floats = (S * T * n * H * per_sample + T * nq * H * (m.width * 4 + 12)
              + T * m.params * (S + 3) + 6 * m.params)
    flops = S * T * n * H * m.macs * (2 + 6 * (1 + two)) + T * nq * H * m.macs * (2 + 6)
    touch = (S * T * n * H * m.width * (3 + 6 * (1 + two)) + T * nq * H * m.width * 9
             + (S + 1) * T * m.theta * H)          # per-task policies read at every step
    kernels = (S + 1) * H * (2 * m.layers + 12) + (S + 1) * m.layers * 30
    return floats, flops, touch, kernels


@_train_work.register
def _(fam: SupervisedFamily, cfg, m, T, S, cost, two):
    Ms, Mq = _points(fam, cfg.k_shot), _points(fam, cfg.k_query)
    floats = (S * (2 * T * Ms * m.width + 2 * T * m.theta)      # the inner loop's tape
              + 2 * T * Mq * m.width + T * m.theta                # query pass
              + 3 * T * Ms * m.width + 3 * T * m.theta            # Hessian-vector products
              + 6 * m.params)                                     # θ, gradient, Adam
    if cost == "pooled":
        flops = T * (Ms + Mq) * m.macs * 6
        touch = T * (Ms + Mq) * m.width * 6 + m.theta * 10
    else:
        flops = S * T * Ms * m.macs * (6 + 8 * two) + T * Mq * m.macs * 6
        touch = (S * T * m.theta * (6 + 8 * two) + S * T * Ms * m.width * (4 + 6 * two)
                 + T * Mq * m.width * 4 + T * m.theta * 3)
    kernels = m.layers * (S * (10 + 12 * two) + 10) + 30
    return floats, flops, touch, kernels


def train_estimate(cfg: TrainConfig, device="cpu") -> Estimate:
    """Peak memory and time of meta-training cfg (not counting its evaluation)."""
    run = Run(cfg, {})
    fam, algo, m = run.family, run.algorithm, model_shape(cfg)
    T, S, cost = cfg.meta_batch, max(1, cfg.inner_steps), _cost_class(algo)
    two = cost == "second"
    floats, flops, touch, kernels = _train_work(fam, cfg, m, T, S, cost, two)
    if not algo.trains or cfg.iterations == 0:
        floats, flops, touch, kernels = 2 * m.params, 0, 0, 0
    per_it = seconds(flops, touch, kernels, device)
    return Estimate("training", int(floats * FLOAT * SAFETY + BASE_BYTES),
                    per_it * cfg.iterations, per_it, (flops, touch, kernels))


@functools.singledispatch
def _eval_work(fam, cfg, m, S, N, k_shots, nq=None) -> tuple:
    """(floats held, flops, bytes touched, kernels) of an evaluation, by family type. nq: query
    points per task (per class for classification) when not the family's protocol's."""
    raise NotImplementedError(type(fam).__name__)


@_eval_work.register
def _(fam: RLFamily, cfg, m, S, N, k_shots, nq=None):
    n, H = fam.query_points, fam.horizon
    floats = ((S + 1) * N * n * H * 12 + N * n * H * m.width * 6
              + N * m.params * (S + 2) + 4 * m.params)
    flops = (S + 1) * N * n * H * m.macs * 8
    kernels = (S + 1) * H * (2 * m.layers + 12)
    touched = floats * 2
    return floats, flops, touched, kernels


@_eval_work.register
def _(fam: SupervisedFamily, cfg, m, S, N, k_shots, nq=None):
    ks = [cfg.k_shot if k is None else int(k) for k in k_shots]
    C = min(500, N)                                   # evaluate()'s chunk of tasks
    nq = _points(fam, fam.query_points if nq is None else nq)
    M = max(_points(fam, k) for k in ks) + nq
    # the trajectory (S+1 per-task parameter sets) of one chunk, and of the previous one
    # until it is replaced
    floats = C * m.theta * ((S + 1) * (2 if N > C else 1) + 2) + 3 * C * M * m.width \
        + 4 * m.params
    touched = len(ks) * N * (S + 1) * (m.theta * 4 + M * m.width * 3)
    flops = sum(N * (S + 1) * (_points(fam, k) * 6 + nq * 2) * m.macs for k in ks)
    kernels = len(ks) * math.ceil(N / C) * (S + 1) * m.layers * 14
    return floats, flops, touched, kernels


@_eval_work.register
def _(fam: Omniglot, cfg, m, S, N, k_shots, nq=None):
    """As for other supervised families, but the conv net adapts fam.eval_chunk tasks at a time
    and scores their queries in slices of ConvNet.MAX_IMAGES images, keeping no activations;
    a slice's tasks hold one copy of their θ per batch of queries (Omniglot.predict)."""
    _, flops, touched, kernels = _eval_work.dispatch(SupervisedFamily)(fam, cfg, m, S, N, k_shots,
                                                                       nq)
    C = min(fam.eval_chunk, N)
    ms = max(_points(fam, cfg.k_shot if k is None else int(k)) for k in k_shots)
    mq = _points(fam, fam.query_points if nq is None else nq)
    batches = max(1, (fam.query_points if nq is None else nq) // cfg.k_query)
    floats = (C * m.theta * ((S + 1) * (2 if N > C else 1) + 2)     # per-task θ trajectory
              + 2 * C * ms * m.width                                 # support pass and its grads
              + 2 * min(C * mq, ConvNet.MAX_IMAGES) * m.width        # one slice of queries
              + max(1, ConvNet.MAX_IMAGES // mq) * batches * m.theta  # its θ copies
              + 4 * m.params)
    return floats, flops, touched, kernels


def eval_estimate(cfg: TrainConfig, k_shots=(None,), steps=None, n_tasks=None,
                  device="cpu", lr="validated") -> Estimate:
    """Peak memory and time of evaluating a run of cfg under the protocol (evaluate.evaluate).
    lr="validated" (the protocol) runs the adaptation once per step size of the grid on the
    validation tasks and up to once per chosen step size on the test tasks, one after another:
    the time of that many passes (at most), the memory of one."""
    run = Run(cfg, {})
    fam, m = run.family, model_shape(cfg)
    S = fam.eval_steps if steps is None else steps
    N = fam.eval_tasks if n_tasks is None else n_tasks
    floats, flops, touched, kernels = _eval_work(fam, cfg, m, S, N, k_shots)
    if lr == "validated":       # the grid on the validation tasks, then up to S+1 test passes
        n_val = min(N, getattr(fam, "val_tasks", None) or N)
        passes = len(LR_GRID) * n_val / N + min(len(LR_GRID), S + 1)
    else:
        passes = 1
    work = (flops * passes, touched * passes, kernels * passes)
    return Estimate("evaluation", int(floats * FLOAT * SAFETY + BASE_BYTES),
                    seconds(*work, device), work=work)


def benchmark_estimate(cfg: TrainConfig, n_way: int, k_shot: int, tasks: int, queries: int,
                       steps: int, device="cpu") -> Estimate:
    """Peak memory and time of evaluate.benchmark: `tasks` fixed tasks of n_way classes, k_shot
    examples and `queries` test drawings per class, steps at the run's own step size (one pass)
    with the run's network widened to n_way outputs."""
    wide = dataclasses.replace(cfg, family_options={**cfg.family_options, "n_way": n_way})
    run = Run(wide, {})
    fam, m = run.family, model_shape(wide)
    floats, flops, touched, kernels = _eval_work(fam, wide, m, steps, tasks, (k_shot,), queries)
    return Estimate("evaluation", int(floats * FLOAT * SAFETY + BASE_BYTES),
                    seconds(flops, touched, kernels, device), work=(flops, touched, kernels))


def job_estimate(cfg: TrainConfig, eval_tasks=None, device="cpu") -> Estimate:
    """Training then its evaluation: the larger memory peak, the sum of the times."""
    tr = train_estimate(cfg, device)
    ev = eval_estimate(cfg, n_tasks=eval_tasks, device=device)
    return Estimate("training and its evaluation", max(tr.bytes, ev.bytes),
                    tr.seconds + ev.seconds, tr.per_iteration)


def too_big(est: Estimate, device="cpu", limit: int | None = None) -> str | None:
    """None if est fits in memory now, else a one-line message with the estimate and the limit."""
    limit = memory_limit(device) if limit is None else limit
    if est.bytes <= limit:
        return None
    return (f"the {est.what} would need about {human_bytes(est.bytes)} of memory but only "
            f"{human_bytes(limit)} can be used on this machine now")

"""The meta-training loop: config in, Run out.

`Trainer` holds the state (meta-parameters, optimizer, generators, history) and advances in
chunks (`run(n)`), so a CLI can show a progress bar and a UI worker can poll or stop it. Each
chunk checks the meta-loss and the parameters for NaN/inf; on divergence it restores the last
good parameters and raises `TrainingDiverged` with a message naming the likely cause.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import torch

from . import cancel, rl
from .algorithms import get_algorithm
from .config import ConfigError, TrainConfig, stream_seed
from .registry import check_config
from .tasks import RLFamily, SupervisedFamily, make_family
from .validation import Validator


class TrainingDiverged(RuntimeError):
    pass


def resolve_device(device: str = "auto") -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ConfigError("device", f"must be auto, cpu or cuda (got {device!r})")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", "cuda was asked for but no CUDA GPU is available; use cpu or auto")
    return torch.device(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


@dataclass
class Progress:
    iteration: int
    total: int
    loss: float
    its_per_s: float
    elapsed: float

    @property
    def eta(self) -> float:
        return (self.total - self.iteration) / self.its_per_s if self.its_per_s > 0 else float("nan")


@dataclass
class Run:
    """A trained (or partially trained) run: everything the store saves and the app draws."""
    config: TrainConfig
    params: dict                       # meta-parameters, on some device
    history: dict = field(default_factory=lambda: {"iteration": [], "meta_loss": [], "wall_time": []})
    info: dict = field(default_factory=dict)      # device, seconds, it/s, partial, ...
    metrics: dict | None = None                    # evaluate(...) as JSON
    path: str | None = None

    @property
    def key(self) -> str:
        return self.config.key()

    @property
    def algorithm(self):
        return get_algorithm(self.config.algo)

    @property
    def family(self):
        return make_family(self.config.family, self.config.family_options)

    @property
    def model(self):
        return self.family.make_model(self.config.hidden, self.algorithm.goal_conditioned)

    def to(self, device) -> "Run":
        return Run(self.config, {k: v.to(device) for k, v in self.params.items()}, self.history,
                   dict(self.info), self.metrics, self.path)


# ----------------------------------------------------------------------------- one meta-iteration
@functools.singledispatch
def meta_step(family, algo, model, params, opt, batch, cfg, gen, compiled=False) -> torch.Tensor:
    """One meta-iteration of `algo` on `family`'s batch; returns the (detached) meta-loss, or for
    RL the average return. Dispatches on the family's type: supervised families use the
    algorithm's own step, RL families the policy-gradient steps of rl.py."""
    raise NotImplementedError(f"no trainer for {type(family).__name__}")


@meta_step.register
def _(family: SupervisedFamily, algo, model, params, opt, batch, cfg, gen, compiled=False):
    return algo.step(model, family, params, opt, batch, cfg, compiled=compiled)


@meta_step.register
def _(family: RLFamily, algo, model, params, opt, batch, cfg, gen, compiled=False):
    return rl.meta_step(algo, model, family, params, opt, batch, cfg, gen)


class Trainer:
    def __init__(self, cfg: TrainConfig, device="auto", log_every: int | None = None,
                 compiled: bool = False, validate_every: int | None = None):
        """validate_every: record the common validation measure (validation.py) in
        history["val_metric"] every so many iterations (None: about 100 times per run; 0: never)."""
        cfg = check_config(cfg)
        self.cfg = cfg
        self.device = resolve_device(device) if not isinstance(device, torch.device) else device
        self.family = make_family(cfg.family, cfg.family_options)
        self.algo = get_algorithm(cfg.algo)
        self.model = self.family.make_model(cfg.hidden, self.algo.goal_conditioned)
        init_gen = torch.Generator(self.device).manual_seed(stream_seed("init", cfg.seed))
        self.params = {k: v.requires_grad_(True)
                       for k, v in self.algo.init_params(self.model, cfg, init_gen).items()}
        self.opt = self.algo.make_optimizer(self.params, cfg,
                                            lr_scale=getattr(self.model, "lr_scale", None))
        self.task_gen = torch.Generator(self.device).manual_seed(stream_seed("train", cfg.seed))
        self.total = cfg.iterations if self.algo.trains else 0
        self.iteration = 0
        self.seconds = 0.0
        self.log_every = log_every or max(1, self.total // 2000)
        self.history = {"iteration": [], "meta_loss": [], "wall_time": []}
        self.validator = Validator(self.family, self.algo, self.model, cfg, self.device,
                                   Validator.interval(self.total, self.log_every, validate_every))
        if self.validator.every:
            self.history["val_metric"] = []
        self._bin = []
        self.compiled = compiled

    @property
    def done(self) -> bool:
        return self.iteration >= self.total

    def run(self, n: int, should_stop=None, max_seconds: float | None = None) -> Progress:
        """Advance up to n meta-iterations (fewer at the end). Raises TrainingDiverged.

        Stopping early (for a UI): `should_stop()` is checked between iterations and, through
        `cancel.check`, between inner steps, so a stop takes effect mid-iteration; the unfinished
        iteration changes nothing. `max_seconds` ends the chunk once that much time has passed."""
        n = min(n, self.total - self.iteration)
        if n <= 0:
            return self.progress(float("nan"))
        snapshot = {k: v.detach().clone() for k, v in self.params.items()}
        cfg, t0 = self.cfg, time.perf_counter()
        losses, stamps, vals, val_s = [], [], {}, 0.0
        with cancel.scope(should_stop):
            for i in range(n):
                if (should_stop is not None and should_stop()) or (
                        max_seconds is not None and i and time.perf_counter() - t0 > max_seconds):
                    break
                if self.opt is not None:
                    self.opt.lr = cfg.outer_lr * self.family.outer_lr_factor(
                        (self.iteration + i) / max(1, self.total))
                batch = self.family.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query,
                                                 self.task_gen)
                try:
                    losses.append(meta_step(self.family, self.algo, self.model, self.params,
                                            self.opt, batch, cfg, self.task_gen,
                                            compiled=self.compiled))
                except cancel.Cancelled:
                    break
                if self.validator.due(self.iteration + i + 1, self.total):   # not timed as training
                    tv = time.perf_counter()
                    vals[self.iteration + i + 1] = self.validator(self.params)
                    val_s += time.perf_counter() - tv
                stamps.append(time.perf_counter() - val_s)
        n = len(losses)
        if n == 0:
            self.seconds += time.perf_counter() - t0
            return self.progress(float("nan"))
        losses = torch.stack(losses).float().cpu()
        finite = bool(torch.isfinite(losses).all()) and all(
            bool(torch.isfinite(v).all()) for v in self.params.values())
        if not finite:
            bad = int((~torch.isfinite(losses)).nonzero()[0]) if not torch.isfinite(losses).all() else n - 1
            with torch.no_grad():
                for k, v in self.params.items():
                    v.copy_(snapshot[k])
            raise TrainingDiverged(
                f"training diverged (meta-loss became NaN/inf near iteration {self.iteration + bad + 1}). "
                f"The likely cause is a step size that is too large: lower the inner learning rate "
                f"(now {cfg.inner_lr}) or the outer learning rate (now {cfg.outer_lr}). Nothing was saved.")
        base = self.seconds
        for i, (l, s) in enumerate(zip(losses.tolist(), stamps)):
            self._bin.append(l)
            it = self.iteration + i + 1
            if it % self.log_every == 0 or it == self.total:
                self.history["iteration"].append(it)
                self.history["meta_loss"].append(sum(self._bin) / len(self._bin))
                self.history["wall_time"].append(base + s - t0)
                if self.validator.every:
                    self.history["val_metric"].append(vals.get(it))
                self._bin = []
        self.iteration += n
        self.seconds += time.perf_counter() - t0 - val_s
        return self.progress(float(losses[-max(1, min(n, 50)):].mean()))

    def progress(self, loss: float) -> Progress:
        ips = self.iteration / self.seconds if self.seconds > 0 else 0.0
        return Progress(self.iteration, self.total, loss, ips, self.seconds)

    def result(self) -> Run:
        params = {k: v.detach().clone() for k, v in self.params.items()}
        info = {
            "device": device_name(self.device),
            "iterations_done": self.iteration,
            "train_seconds": round(self.seconds, 3),
            "its_per_s": round(self.iteration / self.seconds, 2) if self.seconds > 0 else None,
            "partial": not self.done,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "compiled": bool(self.compiled and not getattr(self.algo, "compile_failed", False)),
        }
        return Run(self.cfg, params, {k: list(v) for k, v in self.history.items()}, info)


def train(cfg: TrainConfig, device="auto", callback=None, chunk: int = 200,
          should_stop=None) -> Run:
    """Train to completion (or until should_stop() is true: then the run is marked partial)."""
    tr = Trainer(cfg, device)
    while not tr.done:
        if should_stop is not None and should_stop():
            break
        p = tr.run(chunk, should_stop)
        if callback is not None:
            callback(p)
    return tr.result()


def default_threads() -> None:
    """Tiny models on the CPU run faster on one intra-op thread (measured: benchmarks/threads.py)."""
    torch.set_num_threads(1)

"""The meta-training loop: config in, Run out.

`Trainer` holds the state (meta-parameters, optimizer, generators, history) and advances in
chunks (`run(n)`), so a CLI can show a progress bar and a UI worker can poll or stop it. Each
chunk checks the meta-loss and the parameters for NaN/inf; on divergence it restores the last
good parameters and raises `TrainingDiverged` with a message naming the likely cause.

A chunk of a supervised family draws all its batches at once and hands them to a stepper
(stepper.py: eager, compiled or CUDA-graph replay, chosen by `stepper.choose`); its losses stay
on the device until the chunk ends, so the host synchronises once per chunk, not per iteration.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import torch

from . import cancel, rl, stepper
from .algorithms import get_algorithm
from .config import ConfigError, TrainConfig, stream_seed
from .registry import check_config
from .signals import Signals
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


def machine_name() -> str:
    """The CPU this process runs on and its core count, e.g. 'AMD EPYC, 2 cores' (recorded with
    every run: which machine trained it)."""
    import os
    import platform
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores"


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
def meta_step(family, algo, model, params, opt, batch, cfg, gen) -> torch.Tensor:
    """One meta-iteration of `algo` on `family`'s batch; returns the (detached) meta-loss, or for
    RL the average return. Dispatches on the family's type: supervised families use the
    algorithm's own step, RL families the policy-gradient steps of rl.py."""
    raise NotImplementedError(f"no trainer for {type(family).__name__}")


@meta_step.register
def _(family: SupervisedFamily, algo, model, params, opt, batch, cfg, gen):
    return algo.step(model, family, params, opt, batch, cfg)


@meta_step.register
def _(family: RLFamily, algo, model, params, opt, batch, cfg, gen):
    return rl.meta_step(algo, model, family, params, opt, batch, cfg, gen)


@functools.singledispatch
def batched(family) -> bool:
    """Whether a chunk's batches can be drawn before it runs (then a stepper runs the chunk):
    yes for supervised families; RL rollouts draw from the generator as the policy changes."""
    return False


@batched.register
def _(family: SupervisedFamily) -> bool:
    return True


class Trainer:
    def __init__(self, cfg: TrainConfig, device="auto", log_every: int | None = None,
                 compiled: bool | None = None, cuda_graph: bool | None = None,
                 validate_every: int | None = None, signals: bool = True):
        """compiled / cuda_graph: True or False to force torch.compile / CUDA-graph replay of the
        meta-iteration; None (default) lets stepper.choose decide from the device and the run
        length. Notices (a compile that could not be used, ...) are collected in `notices`.
        validate_every: record the common validation measure (validation.py) in
        history["val_metric"] every so many iterations (None: about 100 times per run; 0: never),
        and with it (signals) the meta-gradient norm and support losses of signals.py."""
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
        self.signals = Signals(self.family, self.algo, self.model, cfg, self.device,
                               self.validator.every if signals else 0)
        for c in self.signals.columns:
            self.history[c] = []
        self._bin = []
        self._queue = None              # batches drawn but not run yet (a chunk cut short)
        self._validation_seconds = 0.0
        self.notices = []
        self.mode, self._stepper = "eager", None
        if batched(self.family) and self.total > 0:
            self.signature = stepper.signature(cfg, self.device)
            self.mode, notice = stepper.choose(self.device, self.total, compiled, cuda_graph,
                                               warm=stepper.is_warm(self.signature),
                                               static=self.algo.static_step(self.model))
            if notice:
                self.notices.append(notice)
            if self.mode != "eager" and self.opt is not None:
                self.opt.capturable()

    @property
    def compiled(self) -> bool:
        return self.mode.startswith("compiled")

    def _step(self, batch):
        return self.algo.step(self.model, self.family, self.params, self.opt, batch, self.cfg)

    def _draw(self, n: int) -> dict:
        """The next n iterations' batches: those left over from a chunk cut short, then new ones
        (drawing ahead and running later gives the same batches: sample_batches)."""
        cfg, q = self.cfg, self._queue
        have = 0 if q is None else q["tasks"].shape[0]
        if have < n:
            new = self.family.sample_batches(n - have, cfg.meta_batch, cfg.k_shot, cfg.k_query,
                                             self.task_gen)
            q = new if q is None else {k: torch.cat([q[k], new[k]]) for k in new}
        self._queue = q
        return {k: v[:n] for k, v in q.items()}

    def _consume(self, k: int) -> None:
        rest = {key: v[k:] for key, v in self._queue.items()}
        self._queue = rest if rest["tasks"].shape[0] else None

    def _steps(self, n: int, stop, vals: dict) -> torch.Tensor:
        """Up to n meta-iterations, fewer once stop(i) (checked before iteration i of the chunk)
        is true or a cancel.Cancelled interrupts one; returns their losses, left on the device.
        Validations due after an iteration go into vals {iteration: value}."""
        cfg, due = self.cfg, self.validator.due
        lrs = None if self.opt is None else [
            cfg.outer_lr * self.family.outer_lr_factor((self.iteration + i) / max(1, self.total))
            for i in range(n)]
        parts, done = [], 0
        while done < n:
            seg = n - done                       # up to the next validation, or the chunk's end
            if self.validator.every:
                seg = next(j for j in range(1, seg + 1)
                           if due(self.iteration + done + j, self.total) or j == seg)
            k, losses = self._segment(seg, done, stop, lrs)
            parts.append(losses)
            done += k
            if k < seg:
                break
            if due(self.iteration + done, self.total):            # not timed as training
                tv = time.perf_counter()
                vals[self.iteration + done] = self.validator(self.params)
                if self.signals.every:
                    self.signals.record(self.iteration + done, self.params)
                self._validation_seconds += time.perf_counter() - tv
        return torch.cat(parts)

    def _segment(self, n, offset, stop, lrs):
        """(iterations run, their losses) for up to n iterations from offset into the chunk."""
        cfg, sub = self.cfg, (lambda i: stop(offset + i))
        lrs = None if lrs is None else lrs[offset:offset + n]
        if batched(self.family):
            batches = self._draw(n)
            if self._stepper is None:
                self._stepper = stepper.make(self.mode, self._step, batches, self.notices.append,
                                             self.signature)
            losses = self._stepper.run(batches, n, self.opt, lrs, stop=sub)
            self.mode = self._stepper.mode          # a failed compile or capture falls back
            self._consume(losses.shape[0])
            return losses.shape[0], losses
        losses = []
        for i in range(n):                       # RL: rollouts draw as the policy changes
            if sub(i):
                break
            if lrs is not None:
                self.opt.lr = lrs[i]
            batch = self.family.sample_batch(cfg.meta_batch, cfg.k_shot, cfg.k_query, self.task_gen)
            try:
                losses.append(meta_step(self.family, self.algo, self.model, self.params,
                                        self.opt, batch, cfg, self.task_gen))
            except cancel.Cancelled:
                break
        return len(losses), (torch.stack(losses) if losses else torch.zeros(0, device=self.device))

    @property
    def done(self) -> bool:
        return self.iteration >= self.total

    def run(self, n: int, should_stop=None, max_seconds: float | None = None) -> Progress:
        """Advance up to n meta-iterations (fewer at the end). Raises TrainingDiverged.

        Stopping early (for a UI): `should_stop()` is checked between iterations and, through
        `cancel.check`, between inner steps, so a stop takes effect mid-iteration; the unfinished
        iteration changes nothing. `max_seconds` ends the chunk once that much time has passed.
        Neither changes which tasks later iterations see."""
        n = min(n, self.total - self.iteration)
        if n <= 0:
            return self.progress(float("nan"))
        snapshot = {k: v.detach().clone() for k, v in self.params.items()}
        cfg, t0, vals, val0 = self.cfg, time.perf_counter(), {}, self._validation_seconds

        def stop(i):
            return (should_stop is not None and should_stop()) or (
                max_seconds is not None and i > 0 and time.perf_counter() - t0 > max_seconds)

        with cancel.scope(should_stop):
            losses = self._steps(n, stop, vals)
        n = losses.shape[0]
        if n == 0:
            self.seconds += time.perf_counter() - t0 - (self._validation_seconds - val0)
            return self.progress(float("nan"))
        ok = torch.stack([torch.isfinite(losses).all()] +
                         [torch.isfinite(v).all() for v in self.params.values()]).all()
        losses, finite = losses.float().cpu(), bool(ok)     # the chunk's host synchronisation
        dt = time.perf_counter() - t0 - (self._validation_seconds - val0)
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
        for i, l in enumerate(losses.tolist()):
            self._bin.append(l)
            it = self.iteration + i + 1
            if it % self.log_every == 0 or it == self.total:
                self.history["iteration"].append(it)
                self.history["meta_loss"].append(sum(self._bin) / len(self._bin))
                self.history["wall_time"].append(base + dt * (i + 1) / n)   # spread over the chunk
                if self.validator.every:
                    self.history["val_metric"].append(vals.get(it))
                got = self.signals.pop(it)
                for c in self.signals.columns:
                    self.history[c].append(got.get(c))
                self._bin = []
        self.iteration += n
        self.seconds += dt
        return self.progress(float(losses[-max(1, min(n, 50)):].mean()))

    def progress(self, loss: float) -> Progress:
        ips = self.iteration / self.seconds if self.seconds > 0 else 0.0
        return Progress(self.iteration, self.total, loss, ips, self.seconds)

    def result(self) -> Run:
        params = {k: v.detach().clone() for k, v in self.params.items()}
        info = {
            "device": device_name(self.device),
            "machine": machine_name(),
            "iterations_done": self.iteration,
            "train_seconds": round(self.seconds, 3),
            "its_per_s": round(self.iteration / self.seconds, 2) if self.seconds > 0 else None,
            "partial": not self.done,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "compiled": self.compiled,
            "step": self.mode,                 # eager | compiled | cuda-graph | compiled+cuda-graph
            **({"notices": list(self.notices)} if self.notices else {}),
        }
        return Run(self.cfg, params, {k: list(v) for k, v in self.history.items()}, info)


def train(cfg: TrainConfig, device="auto", callback=None, chunk: int = 200,
          should_stop=None) -> Run:
    """Train to completion (or until should_stop() is true: then the run is marked partial)."""
    tr = Trainer(cfg, device)
    while not tr.done:
        if should_stop is not None and should_stop():
            break
        p = tr.run(chunk)
        if callback is not None:
            callback(p)
    return tr.result()


def default_threads() -> None:
    """Tiny models on the CPU run faster on one intra-op thread (measured: benchmarks/threads.py)."""
    torch.set_num_threads(1)

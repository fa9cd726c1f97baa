"""Seed sweeps on Ray: many ordinary trainings in parallel, on one machine or a cluster.

A sweep is a list of configs (algorithms × seeds × grid values). Each *trial* is an ordinary CPU
training of one config followed by the standard evaluation, exactly what `python -m maml_viz
train` does, so a trial's meta-parameters are the same bytes as a sequential training's.

What runs where (the only thing nodes share is Ray itself):
- **Workers** train and evaluate, and send the result back as plain data (arrays, lists, JSON);
  they never touch the runs directory. The `maml_viz` package travels with the job (Ray's
  `py_modules`): workers run the code as it was when the sweep started, and cluster nodes need
  no checkout, only the same Python packages (requirements.txt; the same torch build gives the
  same bytes).
- **The driver** (the machine running `sweep`) decides what to train (a config already stored is
  skipped, so a sweep resumes where it stopped), writes each result to its runs directory with the
  store's atomic write, retries a failed trial once, and on Ctrl-C (or SIGTERM) cancels what is
  running: a run is on disk complete or not at all. A stored run whose evaluation predates the
  current protocol is evaluated again (no training), so a summary never mixes protocols.

`run_sweep` does the work; `expand` builds the configs; runs/summary.py turns the stored runs
into the between-seed table with the robust statistics (IQM, probability of improvement).
Checks before Ray starts are services.preflight. Ray is imported lazily (it takes a second or two).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import torch
from tqdm import tqdm

from ..engine import stepper
from ..engine.algorithms import get_algorithm
from ..engine.config import ConfigError, TrainConfig
from ..engine.registry import algorithms_for, config_from_dict, make_config
from ..engine.tasks import make_family
from ..engine.train import Run, Trainer, TrainingDiverged, batched
from ..runs.evaluate import PROTOCOL_VERSION, evaluate, to_json
from ..runs import claims
from ..runs.files import StoreError
from ..runs.saving import save, save_run
from ..runs.store import RunStore
from . import preflight

# settings a --grid may vary (family options are allowed too); the rest have their own flags
GRID_FIELDS = ("k_shot", "k_query", "meta_batch", "inner_steps", "inner_lr", "outer_lr",
               "iterations")
TRIAL_NAME = "train_trial"      # the worker's process title while it trains: ray::train_trial
# Fault injection for tests: where this names a folder on the driver, the first attempt of every
# trial writes its pid there after its first chunk and waits (at most HOLD_SECONDS) to be killed,
# so a test can kill a trial midway however fast or busy the machine is.
HOLD_ENV = "MAML_VIZ_TEST_HOLD_TRIALS"
HOLD_SECONDS = 120.0


class SweepError(RuntimeError):
    """Ray could not be started or joined; the message says what to do."""


class SweepInterrupted(Exception):
    """Ctrl-C: running trials were cancelled; `report` says what was finished and stored."""

    def __init__(self, report):
        self.report = report
        super().__init__("interrupted")


# ------------------------------------------------------------------ parsing and expansion
def parse_seeds(text: str) -> list:
    """'0-4' -> [0..4]; '0,2,5' and '0-2,7' work too."""
    seeds = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                a, b = part.split("-", 1)
                a, b = int(a), int(b)
                if b < a:
                    raise ValueError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise ConfigError("seeds", f"must look like 0-4 or 0,1,2 (got {text!r})")
    if not seeds or any(s < 0 for s in seeds):
        raise ConfigError("seeds", f"must be integers >= 0, like 0-4 (got {text!r})")
    if len(set(seeds)) != len(seeds):
        raise ConfigError("seeds", f"lists a seed twice (got {text!r})")
    if len(seeds) > 10_000:
        raise ConfigError("seeds", f"at most 10000 seeds (got {len(seeds)})")
    return seeds


def _number(text: str):
    try:
        v = float(text)
    except ValueError:
        raise ValueError(text)
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def parse_grid(text: str) -> tuple:
    """'inner_lr=0.005,0.01' -> ('inner_lr', [0.005, 0.01])."""
    if "=" not in str(text):
        raise ConfigError("grid", f"must look like NAME=V1,V2 e.g. inner_lr=0.005,0.01 (got {text!r})")
    name, vals = str(text).split("=", 1)
    name = name.strip().replace("-", "_")
    if name in ("family", "algo", "seed", "hidden"):
        flag = {"family": "--family", "algo": "--algos", "seed": "--seeds",
                "hidden": "train --hidden"}[name]
        raise ConfigError("grid", f"{name} cannot be a grid axis here (use {flag})")
    try:
        values = [_number(v.strip()) for v in vals.split(",") if v.strip()]
    except ValueError as e:
        raise ConfigError("grid", f"values of {name} must be numbers (got {e.args[0]!r})")
    if not values:
        raise ConfigError("grid", f"{name} needs at least one value (got {text!r})")
    return name, values


def expand(family: str, algos, seeds, *, iterations=None, options=None, grid=()) -> list:
    """All configs of a sweep (algorithm-major, then grid point, then seed), validated.
    algos: names or ['all'] (every algorithm that applies to the family). grid: [(name, values)];
    a name that is not a config setting is a family option."""
    algos = [a.strip() for a in algos if a and a.strip()]
    if algos == ["all"]:
        algos = algorithms_for(family)
    if not algos:
        raise ConfigError("algos", "name at least one algorithm, e.g. maml,fomaml (or all)")
    if len(set(algos)) != len(algos):
        raise ConfigError("algos", f"lists an algorithm twice ({','.join(algos)})")
    names = [n for n, _ in grid]
    if len(set(names)) != len(names):
        raise ConfigError("grid", "names a setting twice")
    configs = []
    for algo in algos:
        for point in product(*[v for _, v in grid]):
            settings, opts = {}, dict(options or {})
            for name, value in zip(names, point):
                (settings if name in GRID_FIELDS else opts)[name] = value
            if iterations is not None and "iterations" not in settings:
                settings["iterations"] = iterations
            for seed in seeds:
                configs.append(make_config(family=family, algo=algo, seed=seed,
                                           family_options=opts or None, **settings))
    return configs


# ------------------------------------------------------------------ one trial (runs on a worker)
def cpu_path(cfg: TrainConfig) -> bool | None:
    """Whether `python -m maml_viz train` of cfg on THIS machine's CPU would run the compiled
    step (True) or the eager one (False); None where there is no choice (RL families, untrained
    baselines). The Trainer's own rule (stepper.choose: run length, a step compiled here before,
    a C compiler). Compiled and eager steps agree to float32 rounding, not bit for bit, so the
    driver decides this once per config and every worker follows it: a trial's bytes are those of
    a `train` on the driver, whatever the workers' compile caches hold."""
    family, algo = make_family(cfg.family, cfg.family_options), get_algorithm(cfg.algo)
    if not batched(family) or not algo.trains or cfg.iterations <= 0:
        return None
    cpu = torch.device("cpu")
    mode, _ = stepper.choose(cpu, cfg.iterations,
                             warm=stepper.is_warm(stepper.signature(cfg, cpu)))
    return mode.startswith("compiled")


def train_trial(config: dict, threads: int = 1, compiled: bool | None = None,
                hold: str | None = None) -> dict:
    """Train one config on this machine's CPU and evaluate it: what `train` does, as plain data.
    compiled: the path the driver chose (cpu_path); None lets this machine choose.
    hold: a folder (tests only, see HOLD_ENV): after the first chunk, write this process's pid
    there and wait to be killed.
    Returns {'config', 'params' (numpy float32), 'history', 'info', 'metrics', 'notices'} or
    {'config', 'diverged': message}."""
    torch.set_num_threads(threads)
    cfg = config_from_dict(config)
    try:
        tr = Trainer(cfg, torch.device("cpu"), compiled=compiled)
        while not tr.done:
            tr.run(200)
            if hold:
                _hold(hold)
                hold = None
        run = tr.result()
    except TrainingDiverged as e:
        return {"config": config, "diverged": str(e)}
    run.metrics = to_json(evaluate(run))
    return {"config": config, "node": _node(),
            "params": {k: v.detach().cpu().numpy() for k, v in run.params.items()},
            "history": run.history, "info": run.info, "metrics": run.metrics,
            "notices": list(tr.notices)}


def _hold(folder: str) -> None:
    """Announce this trial (a file named by its pid) and wait to be killed (tests only)."""
    path = os.path.join(folder, str(os.getpid()))
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(path + ".tmp", path)
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)


def evaluate_trial(config: dict, params: dict, threads: int = 1) -> dict:
    """Evaluate stored meta-parameters under the current protocol (a run whose stored evaluation
    predates it): no training. Returns {'config', 'metrics'}."""
    torch.set_num_threads(threads)
    run = run_from_payload({"config": config, "params": params, "history": {}, "info": {},
                            "metrics": None})
    return {"config": config, "node": _node(), "metrics": to_json(evaluate(run))}


def _node():
    ray = sys.modules.get("ray")                  # set when this runs as a Ray task
    return (ray.get_runtime_context().get_node_id()
            if ray is not None and ray.is_initialized() else None)


def stale(run: Run) -> bool:
    """Whether a stored run's evaluation predates the current protocol (or is missing), or
    lacks the per-task scores that robust statistics need."""
    proto = (run.metrics or {}).get("protocol") or {}
    return (not run.metrics or proto.get("version", 1) < PROTOCOL_VERSION
            or not run.metrics.get("task_scores"))


def run_from_payload(payload: dict) -> Run:
    cfg = config_from_dict(payload["config"])
    params = {k: torch.from_numpy(np.array(v, dtype=np.float32))
              for k, v in payload["params"].items()}
    return Run(cfg, params, payload["history"], dict(payload["info"]), payload["metrics"])


# ------------------------------------------------------------------ the driver
@dataclass
class Report:
    total: int = 0
    skipped: list = field(default_factory=list)     # keys already stored
    trained: list = field(default_factory=list)     # keys trained and stored now
    diverged: list = field(default_factory=list)    # (key, message)
    failed: list = field(default_factory=list)      # (key, message) after the retry
    retried: list = field(default_factory=list)     # (key, message of the first failure)
    invalid: list = field(default_factory=list)     # (key, message): stored but unreadable
    reevaluated: list = field(default_factory=list)  # keys stored, evaluated again (protocol)
    elsewhere: list = field(default_factory=list)   # keys another sweep trained meanwhile
    nodes: dict = field(default_factory=dict)       # node id -> trials finished there
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.failed or self.diverged or self.invalid)


def describe(cfg: TrainConfig) -> str:
    """A config on one line, for messages."""
    d = cfg.to_dict()
    opts = d.pop("family_options")
    main = " ".join(f"{k}={v}" for k, v in d.items())
    return main + (" " + " ".join(f"{k}={v}" for k, v in opts.items()) if opts else "")


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def connect(address: str | None = None, num_cpus: int | None = None):
    """Start a local Ray instance (all cores, bound to 127.0.0.1, no dashboard) or join the
    cluster at address. Returns the ray module. (If this process is already connected to Ray,
    run_sweep uses that connection instead and leaves it open.)"""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")     # no usage reports leave the machine
    host = preflight.split_address(address)[0] if address else "127.0.0.1"
    if not address:
        # a local instance protects itself with a token (~/.ray/auth_token); saying so
        # explicitly keeps it on and silences Ray's notice about the default
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        # Ray runs its workers 15 nice levels below the driver by default: on a busy machine the
        # trials would starve. Here they are the work: they run at the driver's niceness
        # (`nice -n 10 python -m maml_viz sweep …` makes them nice 10, like a sequential train)
        os.environ.setdefault("RAY_worker_niceness", "0")
    if _is_loopback(host):
        # otherwise Ray replaces 127.0.0.1 by this machine's network address (must be set
        # before ray is imported: it reads it once)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    quiet = dict(logging_level=logging.WARNING, log_to_driver=False, configure_logging=True)
    # the package travels with the job: workers run the code as it was when the sweep started
    # (editing the checkout meanwhile changes nothing), and cluster nodes need no checkout
    code = {"py_modules": [sys.modules[__package__.split(".")[0]]], "excludes": ["__pycache__"]}
    try:
        if address:
            ray.init(address=address, runtime_env=code, **quiet)
        else:
            # address="local": always a new instance, never one that `ray start` left running
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                     _node_ip_address="127.0.0.1", object_store_memory=128 * 1024 ** 2,
                     runtime_env=code, **quiet)
    except (ConnectionError, RuntimeError, ValueError, OSError, ray.exceptions.RayError) as e:
        if ray.is_initialized():
            ray.shutdown()
        detail = _error_line(e.__cause__ or e)
        if not address:
            raise SweepError(f"could not start a local Ray instance ({detail})")
        auth = "" if os.environ.get("RAY_AUTH_MODE") == "token" else (
            "; if the cluster uses token authentication, run with RAY_AUTH_MODE=token and the "
            "cluster's token in ~/.ray/auth_token (or RAY_AUTH_TOKEN)")
        raise SweepError(f"could not join the Ray cluster at {address} ({detail}){auth}")
    return ray


def run_sweep(configs, runs_dir, *, address: str | None = None, cpus_per_trial: int = 1,
              retries: int = 1, progress: bool = True, log=None, reevaluate: bool = True,
              compiled: bool | None = None, nodes: list | None = None) -> Report:
    """Train every config not stored yet under runs_dir, cpus_per_trial cores each (that many
    intra-op threads), on a local Ray instance or the cluster at address. Writes each result as it
    arrives. A stored run whose evaluation predates the current protocol is evaluated again (not
    retrained) when reevaluate. compiled: force the compiled (True) or eager (False) step of
    supervised trainings, like `train --compile/--no-compile`; None: `train`'s rule on this
    machine (cpu_path), decided here for every worker. nodes: the cluster's nodes as
    preflight.probe gives them (None: probed here, or this machine). Before Ray starts: every
    trial must fit on a node (cores, memory as `train` estimates it), a run folder's name taken
    by a foreign folder is reported, a damaged stored copy is named (training replaces it), and
    each config is claimed (runs.claims): one that another sweep is training is not trained here;
    the sweep waits for it and counts it as trained elsewhere (or trains it, if the other did not
    store it). Raises SweepInterrupted on Ctrl-C or SIGTERM (after cancelling the running
    trials)."""
    log = log or (lambda msg: tqdm.write(msg, file=sys.stderr))
    if isinstance(cpus_per_trial, bool) or not isinstance(cpus_per_trial, int) or cpus_per_trial < 1:
        raise ConfigError("cpus_per_trial", f"must be an integer >= 1 (got {cpus_per_trial!r})")
    t0 = time.perf_counter()
    unique = list({c.key(): c for c in configs}.values())
    report = Report(total=len(unique))
    store = RunStore(runs_dir)
    stored_stale: dict = {}

    def needed(cfg) -> bool:
        """Whether cfg still needs work here (records why not in the report)."""
        try:
            run = store.get(cfg)
        except StoreError as e:
            report.invalid.append((cfg.key(), str(e)))
            log(f"not trained: a stored run with this config is unreadable: {e}")
            return False
        if run is None or run.info.get("partial"):
            blocked = store.blocked(cfg)
            if blocked:
                report.invalid.append((cfg.key(), blocked))
                log(f"not trained: {describe(cfg)}: {blocked}")
                return False
            return True
        if reevaluate and stale(run):
            stored_stale[cfg.key()] = run
            return True
        return False

    todo = []
    for cfg in unique:
        if needed(cfg):
            todo.append(cfg)
        elif cfg.key() not in {k for k, _ in report.invalid}:
            report.skipped.append(cfg.key())
    if todo:       # everything that must hold is checked before Ray is started or joined
        need = preflight.check_trials(
            todo, cpus_per_trial, nodes or (preflight.probe(address) if address
                                            else preflight.local_nodes()),
            "the cluster" if address else "this machine")
        for cfg in todo:
            for path, why in store.damage(cfg):
                log(f"note: the stored copy {path} is damaged ({why}); this sweep's training "
                    f"replaces it (the damaged copy goes to the trash)")
    bar = tqdm(total=report.total, unit="trial", disable=not progress, dynamic_ncols=True,
               desc="sweep", file=sys.stderr, initial=len(report.skipped) + len(report.invalid))
    if report.skipped:
        log(f"{len(report.skipped)} of {report.total} configs already stored: skipped")
    if stored_stale:
        log(f"{len(stored_stale)} stored runs were evaluated under an older protocol: evaluating "
            f"them again (no training)")
    ray, owned, previous_term = None, False, None
    pending: dict = {}
    claimed: list = []
    try:
        # `kill` (SIGTERM) cancels cleanly like Ctrl-C, from before Ray starts (Ray's own handler
        # would kill the driver on the spot; restored in `finally`)
        if threading.current_thread() is threading.main_thread():
            previous_term = signal.signal(signal.SIGTERM, _interrupt)
        mine, elsewhere = _claim(todo, runs_dir, needed, report, log, claimed)
        hold = os.environ.get(HOLD_ENV) or None      # fault injection (tests only)
        while mine or elsewhere:
            if mine and ray is None:
                ray = sys.modules.get("ray")
                if ray is None or not ray.is_initialized():
                    owned = True               # shut down in `finally`, even if init is interrupted
                    ray = connect(address)
                    if previous_term is not None:          # ray.init installs its own handler
                        signal.signal(signal.SIGTERM, _interrupt)
                # the CPU path (compiled or eager step) of each training, decided here with
                # `train`'s rule so that workers give the bytes a `train` on this machine gives
                paths = {}
                base = dict(num_cpus=cpus_per_trial, max_retries=0, scheduling_strategy="SPREAD")
                remote = lambda cfg: ray.remote(train_trial).options(  # noqa: E731
                    name=TRIAL_NAME, memory=need.get(cfg.key(), 0) or None, **base)
                remote_eval = ray.remote(evaluate_trial).options(name="evaluate_trial", **base)
            for cfg in mine:
                if cfg.key() not in paths:
                    p = cpu_path(cfg)
                    paths[cfg.key()] = p if compiled is None or p is None else bool(compiled)

            def submit(cfg, attempt):
                old = stored_stale.get(cfg.key())
                if old is None:
                    ref = remote(cfg).remote(cfg.to_dict(), cpus_per_trial, paths[cfg.key()],
                                             hold if attempt == 0 else None)
                else:
                    ref = remote_eval.remote(cfg.to_dict(), {k: v.detach().cpu().numpy()
                                                             for k, v in old.params.items()},
                                             cpus_per_trial)
                pending[ref] = (cfg, attempt)

            for cfg in mine:
                submit(cfg, 0)
            mine = []
            _collect(ray, pending, submit, retries, report, stored_stale, runs_dir, log, bar,
                     claimed)
            if elsewhere:                      # another sweep trains these: wait for it
                mine, elsewhere = _await_others(elsewhere, runs_dir, needed, report, log,
                                                claimed, bar)
    except KeyboardInterrupt:
        if ray is not None:
            for ref in list(pending):
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    pass
        bar.close()
        report.seconds = time.perf_counter() - t0
        raise SweepInterrupted(report) from None
    finally:
        bar.close()
        for key in claimed:
            claims.release(runs_dir, key)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        ray = sys.modules.get("ray")
        if owned and ray is not None and ray.is_initialized():
            ray.shutdown()
    report.seconds = time.perf_counter() - t0
    return report


WAIT_POLL = 0.5      # seconds between looks at another sweep's claims


def _claim(todo, runs_dir, needed, report, log, claimed) -> tuple:
    """(configs claimed here, configs another sweep is training): a claimed config is checked
    again (the other may have stored it just before releasing it)."""
    mine, elsewhere = [], []
    for cfg in todo:
        other = claims.claim(runs_dir, cfg.key())
        if other is not None:
            elsewhere.append(cfg)
            log(f"another sweep (pid {other.get('pid')}) is training {describe(cfg)}: not trained "
                f"here; waiting for it")
            continue
        claimed.append(cfg.key())
        if needed(cfg):
            mine.append(cfg)
        else:
            claims.release(runs_dir, cfg.key())
            claimed.remove(cfg.key())
            report.elsewhere.append(cfg.key())
    return mine, elsewhere


def _await_others(elsewhere, runs_dir, needed, report, log, claimed, bar) -> tuple:
    """Wait until another sweep's claims are released (it finished or died); what it stored
    counts as trained elsewhere, what it did not is claimed and trained here."""
    while True:
        free = [c for c in elsewhere if claims.holder(runs_dir, c.key()) is None]
        if free:
            break
        time.sleep(WAIT_POLL)
    rest = [c for c in elsewhere if c not in free]
    mine, more = _claim(free, runs_dir, needed, report, log, claimed)
    bar.update(len(free) - len(mine) - len(more))
    return mine, rest + more


def _collect(ray, pending, submit, retries, report, stored_stale, runs_dir, log, bar, claimed):
    """Wait for the submitted trials; store each result as it arrives; retry a failure once."""
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
        for ref in done:
            cfg, attempt = pending.pop(ref)
            try:
                payload = ray.get(ref)
            except Exception as e:  # a crash, a lost node, an exception in the trial
                msg = _error_line(e)
                if attempt < retries:
                    report.retried.append((cfg.key(), msg))
                    log(f"trial failed, retrying ({attempt + 1} of {retries}): {describe(cfg)}"
                        f"\n  {msg}")
                    submit(cfg, attempt + 1)
                    continue
                report.failed.append((cfg.key(), msg))
                log(f"trial failed again, giving up: {describe(cfg)}\n  {msg}")
                bar.update(1)
                _release(runs_dir, cfg, claimed)
                continue
            if "diverged" in payload:
                report.diverged.append((cfg.key(), payload["diverged"]))
                log(f"trial diverged (deterministic, not retried; nothing stored): "
                    f"{describe(cfg)}\n  {payload['diverged']}")
            elif cfg.key() in stored_stale:
                old = stored_stale[cfg.key()]
                old.metrics = payload["metrics"]
                save_run(old, runs_dir)            # the same parameters, a new evaluation
                report.reevaluated.append(cfg.key())
            else:
                for note in payload.get("notices") or []:   # e.g. no C compiler on a node
                    log(f"note from the trial {describe(cfg)}: {note}")
                saved = save(run_from_payload(payload), runs_dir)
                if saved.note:
                    log(f"note: {describe(cfg)}: {saved.note}")
                report.trained.append(cfg.key())
            if "diverged" not in payload:
                node = payload.get("node")
                if node:
                    report.nodes[node] = report.nodes.get(node, 0) + 1
            _release(runs_dir, cfg, claimed)
            bar.update(1)


def _release(runs_dir, cfg, claimed):
    if cfg.key() in claimed:
        claims.release(runs_dir, cfg.key())
        claimed.remove(cfg.key())


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _error_line(e: BaseException) -> str:
    """The useful last line of a Ray error (the trial's own exception when there is one)."""
    cause = getattr(e, "cause", None)
    if isinstance(cause, BaseException):
        e = cause
    text = str(e).strip().splitlines()
    last = next((ln for ln in reversed(text) if ln.strip()), "")
    return f"{type(e).__name__}: {last}"[:500]

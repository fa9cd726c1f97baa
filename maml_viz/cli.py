"""Command line: `python -m maml_viz train | evaluate | bench | runs | sweep`.

Bad arguments print one line, `error: <field>: <what is allowed>`, and exit with code 2: every
number is range-checked, and what would not fit in the memory available now is refused with the
estimate and the limit. Ctrl-C exits with code 130 and one line; a finished training is saved
before it is evaluated, so an interrupted evaluation keeps it.
Each subcommand imports the engine (lower layers) when it runs, so that `--help` and argument
errors answer before torch has loaded."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading

from .engine.config import ConfigError, parse_hidden
from .engine.malloc import keep_freed_memory

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
MAX_EVAL_TASKS = 100_000
MAX_EVAL_STEPS = 1000
MAX_K = 1000
MAX_SEED = 2**63 - 1


class CLIError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block, exit 2; the hint names this command
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(EXIT_USAGE)

    def format_help(self):
        # help texts that list the registries (plugins included) are filled in only when help
        # is shown, so that other commands and argument errors answer before torch loads
        for action, fill in getattr(self, "lazy_help", ()):
            action.help = fill()
        return super().format_help()


def _registered(families: bool) -> str:
    """'sinusoid, linear, …, square (plugin maml-viz-square)': the registered families (or
    algorithms), plugins marked with the package that brings them."""
    from .engine import plugins
    from .engine.algorithms import ALGORITHMS
    from .engine.tasks import FAMILIES

    group, names = ((plugins.FAMILY_GROUP, FAMILIES) if families else
                    (plugins.ALGORITHM_GROUP, ALGORITHMS))
    return ", ".join(n + (f" (plugin {plugins.source(group, n)})" if plugins.source(group, n)
                          else "") for n in names)


def ranged(kind, lo, hi=None, what=None):
    """An argparse type: a number of `kind` (int or float) in [lo, hi] (hi None: no bound; a
    callable: computed when parsing), with a one-line message otherwise."""
    def parse(text):
        top = hi() if callable(hi) else hi
        allowed = what or (f"an integer in [{lo}, {top}]" if kind is int and top is not None else
                           f"an integer >= {lo}" if kind is int else
                           f"a number in [{lo}, {top}]" if top is not None else f"a number >= {lo}")
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed} (got {text!r})")
        if v != v or v in (float("inf"), float("-inf")) or v < lo or (top is not None and v > top):
            raise argparse.ArgumentTypeError(f"must be {allowed} (got {text!r})")
        return v
    parse.__name__ = kind.__name__
    return parse


def _int_list(text):
    try:
        vals = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers like 5,10,20 (got {text!r})")
    if not vals or any(v < 1 or v > MAX_K for v in vals):
        raise argparse.ArgumentTypeError(f"must be integers in [1, {MAX_K}] (got {text!r})")
    return vals


def _cpus() -> int:
    return os.cpu_count() or 1


def _option(text):
    """NAME=VALUE: a JSON value (5, 0.1, true) or else the text itself (a formula, LO:HI); the
    family checks it."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE (got {text!r})")
    k, v = text.split("=", 1)
    try:
        v = json.loads(v)
    except json.JSONDecodeError:
        pass
    return k.strip(), v


OPTION_HELP = ("family option NAME=VALUE (repeatable), e.g. n_way=5; the formula family: "
               "f=a*sin(x+b), a=0.1:5, b=0:pi, x=-5:5")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m maml_viz", description=__doc__)
    sub = p.add_subparsers(dest="command", parser_class=Parser, required=True)
    p.commands = sub.choices                     # for errors that name the subcommand

    t = sub.add_parser("train", help="meta-train one algorithm on one task family")
    t.lazy_help = [(t.add_argument("--family", default="sinusoid"),
                    lambda: f"task family: {_registered(True)}"),
                   (t.add_argument("--algo", default="maml"),
                    lambda: f"algorithm: {_registered(False)}")]
    t.add_argument("--k-shot", type=int)
    t.add_argument("--k-query", type=int)
    t.add_argument("--meta-batch", type=int)
    t.add_argument("--inner-steps", type=int)
    t.add_argument("--inner-lr", type=float)
    t.add_argument("--outer-lr", type=float)
    t.add_argument("--iterations", type=int)
    t.add_argument("--hidden", help="layer sizes, e.g. 40,40 ('' for the linear model)")
    t.add_argument("--seed", type=int)
    t.add_argument("--option", type=_option, action="append", default=[], help=OPTION_HELP)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--runs-dir", default="runs")
    t.add_argument("--threads", type=ranged(int, 1, _cpus),
                   help="CPU intra-op threads, 1 to the number of cores (default 1: fastest for "
                        "small nets)")
    t.add_argument("--eval-tasks", type=ranged(int, 1, MAX_EVAL_TASKS),
                   help="held-out tasks (default: the family's protocol)")
    t.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the meta-iteration (about 3x faster on a CPU after a "
                        "compile of ~10 s, cached for later runs; needs a C++ compiler). Default: "
                        "on for runs long enough to repay it on the CPU, off on a GPU")
    t.add_argument("--cuda-graph", action=argparse.BooleanOptionalAction, default=None,
                   help="replay the meta-iteration from a CUDA graph (default: on with a GPU)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="evaluate a stored run under the standard protocol")
    e.add_argument("run_dir")
    e.add_argument("--k-shot", type=_int_list, help="comma-separated, default: the run's K")
    e.add_argument("--steps", type=ranged(int, 0, MAX_EVAL_STEPS),
                   help="adaptation steps (default: the family's, 10; omniglot and RL: 3)")
    e.add_argument("--tasks", type=ranged(int, 1, MAX_EVAL_TASKS),
                   help="held-out tasks (default: the family's, 1000; omniglot: 600; RL: 40 "
                        "goals)")
    e.add_argument("--seed", type=ranged(int, 0, MAX_SEED), default=1234)
    e.add_argument("--step-size", default="validated",
                   help="validated (the protocol: chosen on validation tasks), trained, or a "
                        "multiple of the trained step size, e.g. 0.5")
    e.add_argument("--device", default="auto")
    e.add_argument("--json", action="store_true")
    e.add_argument("--benchmark", help="a fixed benchmark of the run's family instead of "
                                       "sampled tasks (omniglot: lake20)")
    e.add_argument("--n-way", type=ranged(int, 2, 20),
                   help="classes per task, if not the run's (omniglot: each task's head is then "
                        "set from its support set, Proto-MAML)")
    e.add_argument("--threads", type=ranged(int, 1, _cpus),
                   help="CPU intra-op threads (default: every core for a convolutional network, "
                        "else 1)")
    e.add_argument("--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("runs", help="list stored runs and their health")
    r.add_argument("--runs-dir", default="runs")
    r.add_argument("--trash", action="store_true", help="list deleted runs that can be restored")
    r.add_argument("--restore", metavar="ENTRY", help="restore a deleted run (a name from --trash)")

    ld = sub.add_parser("learn-data", help="precompute the Learn page's pictures from bundled runs")
    ld.add_argument("--runs-dir", default="assets/runs")
    ld.add_argument("--out", default="assets/learn.json")

    b = sub.add_parser("bench", help="throughput: vectorised meta-step vs a per-task loop")
    b.add_argument("--seconds", type=ranged(float, 0.1, 600), default=3.0,
                   help="timing budget per measurement, 0.1 to 600 s")
    b.add_argument("--quick", action="store_true")
    b.add_argument("--compile", action="store_true", help="also time the torch.compile'd step")
    b.add_argument("--device", default="cpu", help="cpu or cuda (on a GPU: also end-to-end training)")

    add_sweep_parser(sub)
    return p


# ---------------------------------------------------------------- sweep (services.sweep)
def add_sweep_parser(sub) -> None:
    s = sub.add_parser("sweep", help="train algorithms x seeds (x a grid) in parallel on Ray",
                       description="Train every combination of algorithms, seeds and grid values "
                                   "on a local Ray instance (all cores) or a Ray cluster. Configs "
                                   "already stored are skipped, so rerunning resumes.")
    s.lazy_help = [(s.add_argument("--family", default="sinusoid"),
                    lambda: f"task family: {_registered(True)}"),
                   (s.add_argument("--algos", default="maml"),
                    lambda: f"comma-separated algorithms, or all: {_registered(False)}")]
    s.add_argument("--seeds", default="0-4", help="training seeds: 0-4, or 0,1,2")
    s.add_argument("--iterations", type=int, help="meta-iterations (default: the family's)")
    s.add_argument("--option", type=_option, action="append", default=[], help=OPTION_HELP)
    s.add_argument("--grid", action="append", default=[],
                   help="a setting to vary, NAME=V1,V2,..., e.g. inner_lr=0.005,0.01 (repeatable; "
                        "one value fixes it, e.g. k_shot=5)")
    s.add_argument("--runs-dir", default="runs", help="where runs are stored (on this machine)")
    s.add_argument("--address", help="HOST:PORT of a running Ray cluster (default: start one "
                                     "here on 127.0.0.1 for this command)")
    s.add_argument("--cpus-per-trial", type=int, default=1,
                   help="cores (and torch threads) per training; 1 is fastest for small nets")
    s.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="run every training's meta-iteration through torch.compile (or not); "
                        "default: as `train` on this machine would (long runs compiled), decided "
                        "here once for all nodes")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--json", action="store_true",
                   help="print the summary as JSON (per algorithm and step: mean ± between-seed "
                        "t-interval, IQM with its 95%% bootstrap interval; probability of "
                        "improvement matrices; protocol, run folders and versions)")


def cmd_sweep(a) -> int:
    from .runs import summary
    from .services import preflight, sweep

    seeds = sweep.parse_seeds(a.seeds)
    grid = [sweep.parse_grid(g) for g in a.grid]
    if a.cpus_per_trial < 1:
        raise ConfigError("cpus_per_trial", f"must be an integer >= 1 (got {a.cpus_per_trial})")
    configs = sweep.expand(a.family, a.algos.split(","), seeds, iterations=a.iterations,
                           options=dict(a.option), grid=grid)
    writable_runs_dir(a.runs_dir)              # before Ray: an unusable folder fails now
    where = f"the Ray cluster at {a.address}" if a.address else "a local Ray instance (127.0.0.1)"
    print(f"sweep: {len(configs)} training{'s' if len(configs) != 1 else ''} ({a.family}; "
          f"{a.algos}; seeds {a.seeds}) on {where}; runs in {a.runs_dir}", file=sys.stderr)
    # `kill` stops the sweep like Ctrl-C from now on, Ray's start included
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        nodes = preflight.probe(a.address) if a.address else None
        rep = sweep.run_sweep(configs, a.runs_dir, address=a.address,
                              cpus_per_trial=a.cpus_per_trial, progress=not a.quiet,
                              compiled=a.compile, nodes=nodes)
    except sweep.SweepInterrupted as stop:
        rep = stop.report
        print(f"interrupted: {len(rep.trained)} trainings finished and stored, the running ones "
              f"cancelled (nothing half-written); rerun the same command to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted before any training started; nothing was written", file=sys.stderr)
        return 130
    except sweep.SweepError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    table, frame = summary.summary(configs, a.runs_dir)
    if a.json:
        out = summary.summary_json(configs, a.runs_dir) or {"groups": []}
        out["sweep"] = {"family": a.family, "algos": a.algos, "seeds": seeds,
                        "trained": len(rep.trained), "skipped": len(rep.skipped),
                        "reevaluated": len(rep.reevaluated), "diverged": len(rep.diverged),
                        "diverged_adapting": summary.diverged_seeds(frame),
                        "elsewhere": len(rep.elsewhere), "failed": len(rep.failed),
                        "seconds": round(rep.seconds, 1)}
        print(json.dumps(out, allow_nan=False))
    else:
        print(table)
    print(f"{len(rep.trained)} trained, {len(rep.skipped)} already stored"
          + (f" ({len(rep.reevaluated)} more evaluated again under the current protocol)"
             if rep.reevaluated else "")
          + (f", {len(rep.elsewhere)} trained by another sweep meanwhile" if rep.elsewhere else "")
          + f", {len(rep.diverged)} diverged in training (nothing stored), "
          f"{summary.diverged_seeds(frame)} diverged when adapting (the table's 'diverged' cells), "
          f"{len(rep.failed)} failed, {len(rep.retried)} retried"
          + (f", {len(rep.invalid)} not trained (see above)" if rep.invalid else "")
          + f", in {rep.seconds:.1f} s" + (f" on {len(rep.nodes)} nodes" if len(rep.nodes) > 1
                                            else ""), file=sys.stderr)
    return 0 if rep.ok else 1


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _flag(field: str) -> str:
    if field.startswith("--") or "." in field:
        return field
    return "--" + field.replace("_", "-")


MEMORY_HINT = {"training": "use fewer tasks per iteration (--meta-batch), fewer examples per task "
                           "(--k-shot, --k-query) or smaller layers (--hidden)",
               "evaluation": "use fewer tasks (--tasks / --eval-tasks), steps (--steps) or "
                             "examples (--k-shot)"}


def check_budget(est, device, fields: str) -> None:
    """Refuse (ConfigError, exit 2) what cannot fit in memory; say how long a long job takes."""
    from .runs.budget import human_time, too_big

    why = too_big(est, device)
    if why:
        raise ConfigError(fields, f"{why}; {MEMORY_HINT[est.what]}")
    if est.seconds > 300:
        print(f"note: the {est.what} will take about {human_time(est.seconds)} on {device} "
              f"(Ctrl-C stops it)", file=sys.stderr)


def summary(run) -> str:
    rows = run.metrics["results"]
    res = {r["step"]: r["mean"] for r in rows}
    fmt = lambda v: "diverged" if v is None else f"{v:.3f}"
    k = rows[0]["k_shot"] if rows else run.config.k_shot      # the K it was evaluated at
    return (f"{run.family.metric} at K={k}: {fmt(res[0])} before, "
            f"{fmt(res.get(1))} after 1 step, {fmt(res[max(res)])} after {max(res)}")


def cmd_train(a) -> int:
    import torch
    from tqdm import tqdm

    from .engine.registry import make_config
    from .engine.train import Trainer, TrainingDiverged, resolve_device
    from .runs.budget import eval_estimate, train_estimate
    from .runs.evaluate import evaluate, to_json
    from .runs.store import RunStore

    hidden = parse_hidden(a.hidden) if a.hidden is not None else None
    cfg = make_config(family=a.family, algo=a.algo, k_shot=a.k_shot, k_query=a.k_query,
                      meta_batch=a.meta_batch, inner_steps=a.inner_steps,
                      inner_lr=a.inner_lr, outer_lr=a.outer_lr, iterations=a.iterations,
                      hidden=hidden, seed=a.seed,
                      family_options=dict(a.option) if a.option else None)
    device = resolve_device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(a.threads or 1)
    writable_runs_dir(a.runs_dir)
    store = RunStore(a.runs_dir, device)
    for line in store.recovered:
        print(f"note: {line}", file=sys.stderr)
    run = store.get(cfg)
    if run is not None and not run.info.get("partial"):
        if run.metrics is not None:
            print(f"reusing stored run with an identical config (no training): {run.path}")
            print(run.path)
            return 0
        print(f"reusing stored run with an identical config (no training); it has no evaluation "
              f"yet: evaluating it: {run.path}")
    else:
        blocked = store.blocked(cfg)
        if blocked:
            raise ConfigError("--runs-dir", f"cannot store this training: {blocked}")
        check_budget(train_estimate(cfg, device), device,
                     "--meta-batch/--k-shot/--k-query/--hidden")
        for path, why in store.damage(cfg):
            print(f"note: the stored copy {path} is damaged ({why}); training replaces it",
                  file=sys.stderr)
        if run is not None:
            print(f"a partial run with this config exists; training it again: {run.path}")
        run = None
    check_budget(eval_estimate(cfg, n_tasks=a.eval_tasks, device=device), device, "--eval-tasks")
    if run is None:
        tr = Trainer(cfg, device, compiled=a.compile, cuda_graph=a.cuda_graph)
        bar = tqdm(total=tr.total, unit="it", disable=a.quiet, dynamic_ncols=True,
                   desc=f"{cfg.algo} on {cfg.family} ({tr.mode})")
        shown = 0
        try:
            while not tr.done:
                p = tr.run(200, max_seconds=1.0)
                bar.update(p.iteration - bar.n)
                bar.set_postfix(loss=f"{p.loss:.3f}", refresh=False)
                for note in tr.notices[shown:]:     # e.g. a compile that could not be used
                    bar.write(f"note: {note}", file=sys.stderr)
                shown = len(tr.notices)
        except TrainingDiverged as err:
            bar.close()
            print(f"error: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            bar.close()
            print("interrupted during training: nothing was saved", file=sys.stderr)
            return EXIT_INTERRUPTED
        bar.close()
        run, saved = store.save(tr.result())        # kept even if the evaluation is interrupted
        if saved.note:
            print(f"note: {saved.note}", file=sys.stderr)
        print(f"trained {cfg.iterations} iterations in {run.info['train_seconds']:.1f} s "
              f"({run.info['its_per_s'] or '-'} it/s on {run.info['device']}); saved to "
              f"{run.path}; evaluating…", file=sys.stderr)
    try:
        metrics = to_json(evaluate(run, n_tasks=a.eval_tasks))
    except KeyboardInterrupt:
        print(f"interrupted during the evaluation: the trained run is saved at {run.path} without "
              f"its evaluation; run the same `python -m maml_viz train ...` command again to "
              f"evaluate and store it (it reuses the trained run: no training)", file=sys.stderr)
        return EXIT_INTERRUPTED
    run = type(run)(run.config, run.params, run.history, dict(run.info), metrics, run.path)
    run, _ = store.save(run)
    print(f"trained {cfg.iterations} iterations in {run.info['train_seconds']:.1f} s "
          f"({run.info['its_per_s'] or '-'} it/s on {run.info['device']}, "
          f"{run.info.get('step', 'eager')}); {summary(run)}")
    print(run.path)
    return 0


def cmd_evaluate(a) -> int:
    import torch
    from tqdm import tqdm

    from .engine.train import resolve_device
    from .runs.budget import benchmark_estimate, eval_estimate
    from .runs.evaluate import benchmark, evaluate, to_json
    from .runs.files import StoreError, load_run

    device = resolve_device(a.device)
    try:
        run = load_run(a.run_dir, device)
    except StoreError as err:
        raise CLIError(str(err))
    if device.type == "cpu":            # a conv net's large kernels gain from every core
        torch.set_num_threads(a.threads or (_cpus() if hasattr(run.model, "features") else 1))
    lr = a.step_size
    if lr not in ("validated", "trained"):
        try:
            lr = float(lr)
        except ValueError:
            lr = None
        if lr is None or not lr > 0 or lr == float("inf"):
            raise ConfigError("step_size", f"must be validated, trained or a number > 0 "
                                           f"(got {a.step_size!r})")
    if a.benchmark:
        if a.n_way is not None:
            raise ConfigError("n_way", "a benchmark has its own number of classes")
        b = getattr(run.family, "benchmark_tasks", lambda name: None)(a.benchmark)
        if b is not None:                   # (a family without one: benchmark says so)
            steps = run.family.eval_steps if a.steps is None else a.steps
            check_budget(benchmark_estimate(run.config, b["n_way"], b["k_shot"], b["xs"].shape[0],
                                            b["xq"].shape[1] // b["n_way"], steps, device),
                         device, "--steps")
        df = benchmark(run, a.benchmark, steps=a.steps)
    else:
        check_budget(eval_estimate(run.config, a.k_shot or (None,), a.steps, a.tasks, device,
                                   lr="validated" if lr == "validated" else "fixed"),
                     device, "--tasks/--steps/--k-shot")
        with tqdm(unit="task", disable=a.quiet, dynamic_ncols=True, file=sys.stderr,
                  desc=f"evaluating {run.config.algo} on {run.config.family}") as bar:
            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)
            df = evaluate(run, k_shots=a.k_shot or (None,), steps=a.steps, n_tasks=a.tasks,
                          seed=a.seed, lr=lr, n_way=a.n_way, progress=progress)
    if a.json:       # the per-task scores stay out (the run's stored evaluation keeps them)
        print(json.dumps(to_json(df, task_scores=False)))
        return 0
    proto = df.attrs["protocol"]
    if a.benchmark:
        print(f"{run.config.algo} on {proto['description']}: {proto['metric']}, mean ± 95% CI "
              f"over the {proto['tasks']} runs; step size {proto['step_size']}; head: "
              f"{proto.get('head', 'as trained')}")
        for r in df.itertuples():
            print(f"step {r.step:>3} {r.mean:>10.3f} ± {r.ci95:.3f}")
        return 0
    print(f"{run.config.algo} on {run.config.family}: {proto['metric']} on {proto['query_points']} "
          f"query points, {proto['tasks']} held-out tasks (seed {proto['seed']}), mean ± 95% CI; "
          f"step size {proto['step_size']}")
    for what in ("head", "splits"):
        if what in proto:
            print(f"{what}: {proto[what]}")
    from .runs.paper import targets_for_config
    for k, g in df.groupby("k_shot"):
        print(f"K={k}\n step              mean ± 95% CI     median  diverged  step size")
        for r in g.itertuples():
            lr_txt = r.lr if isinstance(r.lr, str) else f"{r.lr:g}"
            print(f"{r.step:>5} {r.mean:>18.3f} ± {r.ci95:<7.3f} {r.median:>9.3f} "
                  f"{r.diverged:>5}/{r.tasks:<5} {lr_txt}")
        for t in targets_for_config(run.config, k, g["step"]):
            print(f"  reference: {t.label} {t.value:g}" + (f" ± {t.ci95:g}" if t.ci95 else "") +
                  f" after {t.step} steps ({t.source}; protocol differs: {t.caveat})")
    return 0


def cmd_runs(a) -> int:
    from .runs.files import StoreError, check_run
    from .runs.store import RunStore

    store = RunStore(a.runs_dir, housekeeping=os.path.isdir(a.runs_dir))
    if a.restore:
        try:
            where = store.restore(a.restore)
        except StoreError as e:
            raise CLIError(str(e))
        problem = check_run(where)
        if problem:
            print(f"restored {where}, but it is damaged ({problem}): it is not used; train the "
                  f"same settings again to replace it, or delete it")
        else:
            print(f"restored {where}")
        return 0
    if a.trash:
        entries = store.trash()
        if not entries:
            print(f"the trash of {a.runs_dir} is empty")
        for e in entries:
            cmd = shlex.join(["python", "-m", "maml_viz", "runs", "--runs-dir", str(a.runs_dir),
                              "--restore", e["entry"]])
            print(f"{e['entry']!r}  (restore with: {cmd})")
        return 0
    runs = store.list()
    if not runs:
        print(f"no runs in {a.runs_dir}")
    for r in runs:
        if r["error"]:
            print(f"{r['key']}  DAMAGED: {r['error']}")
            continue
        c, t = r["config"], r["training"]
        ev = r["evaluation"] or {}
        one = next((x["mean"] for x in ev.get("results", []) if x["step"] == 1), None)
        print(f"{r['key']}  OK  K={c.k_shot} it={c.iterations} {t.get('train_seconds', '?')}s "
              f"{t.get('device', '?')}{' PARTIAL' if t.get('partial') else ''}"
              f"  1-step {ev.get('protocol', {}).get('metric', '')}: "
              f"{'%.3f' % one if one is not None else '-'}")
    other = store.foreign()
    if other:
        print(f"(left alone: {len(other)} entr{'y' if len(other) == 1 else 'ies'} that "
              f"{'is' if len(other) == 1 else 'are'} not a run: {', '.join(other[:5])}"
              f"{', …' if len(other) > 5 else ''})")
    return 0


def cmd_learn_data(a) -> int:
    import torch

    from .runs.store import RunStore
    from .views.learn import FIGURES, compute, save, save_pictures

    torch.set_num_threads(1)
    try:
        data = compute(RunStore(a.runs_dir))
    except LookupError as e:
        raise CLIError(f"{e}: train the default runs first (see README, 'Bundled runs')")
    save(data, a.out)
    save_pictures(data, figures := os.path.join(os.path.dirname(a.out) or ".", FIGURES))
    print(f"{a.out}\n{figures}")
    return 0


def cmd_bench(a) -> int:
    from .services.bench import main as bench_main
    bench_main(seconds=a.seconds, quick=a.quick, compiled=a.compile, device=a.device)
    return 0


def parse(argv=None):
    """parse_args, but an unknown flag is reported with the subcommand's own --help hint."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def writable_runs_dir(path: str) -> None:
    """Fail before any work if runs cannot be saved there."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ConfigError("--runs-dir", f"cannot create the folder {path} ({e.strerror})")
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError("--runs-dir", f"{path} is not a folder this user can write to")


def main(argv=None) -> int:
    # Ctrl-C (SIGINT) stops a command cleanly (exit 130) even when the process was started with
    # SIGINT ignored, as a shell does for background jobs and their children: Python then keeps
    # the inherited SIG_IGN and `kill -INT` would do nothing
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        args = parse(argv)
        if args.command in ("train", "evaluate", "learn-data", "bench"):
            keep_freed_memory()
        return {"train": cmd_train, "evaluate": cmd_evaluate, "runs": cmd_runs,
                "bench": cmd_bench, "learn-data": cmd_learn_data, "sweep": cmd_sweep}[args.command](args)
    except ConfigError as err:
        if hasattr(err, "problem"):             # a data file (engine.tasks.omniglot_asset)
            print(f"error: {str(err).split(': ', 1)[1]}", file=sys.stderr)
            return 1
        print(f"error: {_flag(err.field)}: {str(err).split(': ', 1)[1]}", file=sys.stderr)
        return EXIT_USAGE
    except CLIError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:           # a runs folder that cannot be written, a full disk, ...
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}", file=sys.stderr)
        return 1

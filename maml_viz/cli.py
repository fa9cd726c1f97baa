"""Command line: `python -m maml_viz train | evaluate | bench | runs`.

Bad arguments print one line, `error: <field>: <what is allowed>`, and exit with code 2.
Each subcommand imports the engine (lower layers) when it runs, so that `--help` and argument
errors answer before torch has loaded."""
from __future__ import annotations

import argparse
import json
import sys

from .config import ConfigError, parse_hidden

EXIT_USAGE = 2


class CLIError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block, exit 2
        print(f"error: {message} (see `python -m maml_viz {self.prog.split()[-1]} --help`)",
              file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _int_list(text):
    try:
        vals = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers like 5,10,20 (got {text!r})")
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError(f"must be integers >= 1 (got {text!r})")
    return vals


def _option(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE (got {text!r})")
    k, v = text.split("=", 1)
    try:
        v = json.loads(v)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"value of {k} must be a number (got {v!r})")
    return k.strip(), v


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m maml_viz", description=__doc__)
    sub = p.add_subparsers(dest="command", parser_class=Parser, required=True)

    t = sub.add_parser("train", help="meta-train one algorithm on one task family")
    t.add_argument("--family", default="sinusoid")
    t.add_argument("--algo", default="maml")
    t.add_argument("--k-shot", type=int)
    t.add_argument("--k-query", type=int)
    t.add_argument("--meta-batch", type=int)
    t.add_argument("--inner-steps", type=int)
    t.add_argument("--inner-lr", type=float)
    t.add_argument("--outer-lr", type=float)
    t.add_argument("--iterations", type=int)
    t.add_argument("--hidden", help="layer sizes, e.g. 40,40 ('' for the linear model)")
    t.add_argument("--seed", type=int)
    t.add_argument("--option", type=_option, action="append", default=[],
                   help="family option NAME=VALUE, e.g. n_way=5 (repeatable)")
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--runs-dir", default="runs")
    t.add_argument("--threads", type=int, help="CPU intra-op threads (default 1: fastest for small nets)")
    t.add_argument("--eval-tasks", type=int, help="held-out tasks (default: the family's protocol)")
    t.add_argument("--compile", action="store_true",
                   help="torch.compile the meta-gradient: ~2x faster after a ~10 s compile "
                        "(needs a C++ compiler; falls back to eager)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="evaluate a stored run under the standard protocol")
    e.add_argument("run_dir")
    e.add_argument("--k-shot", type=_int_list, help="comma-separated, default: the run's K")
    e.add_argument("--steps", type=int, help="adaptation steps (default: 10; RL: 3)")
    e.add_argument("--tasks", type=int, help="held-out tasks (default: 1000; RL: 40 goals)")
    e.add_argument("--seed", type=int, default=1234)
    e.add_argument("--device", default="auto")
    e.add_argument("--json", action="store_true")
    e.add_argument("--benchmark", help="a fixed benchmark of the run's family instead of "
                                       "sampled tasks (omniglot: lake20)")

    r = sub.add_parser("runs", help="list stored runs")
    r.add_argument("--runs-dir", default="runs")

    ld = sub.add_parser("learn-data", help="precompute the Learn page's pictures from bundled runs")
    ld.add_argument("--runs-dir", default="assets/runs")
    ld.add_argument("--out", default="assets/learn.json")

    b = sub.add_parser("bench", help="throughput: vectorised meta-step vs a per-task loop")
    b.add_argument("--seconds", type=float, default=3.0, help="timing budget per measurement")
    b.add_argument("--quick", action="store_true")
    b.add_argument("--compile", action="store_true", help="also time the torch.compile'd step")
    b.add_argument("--device", default="cpu", help="cpu or cuda (on a GPU: also end-to-end training)")
    return p


def _flag(field: str) -> str:
    return "--" + field.split(".")[0].replace("_", "-") if "." not in field else field


def cmd_train(a) -> int:
    import torch
    from tqdm import tqdm

    from .evaluate import evaluate, to_json
    from .registry import make_config
    from .store import RunStore
    from .train import Trainer, TrainingDiverged, resolve_device

    hidden = parse_hidden(a.hidden) if a.hidden is not None else None
    cfg = make_config(family=a.family, algo=a.algo, k_shot=a.k_shot, k_query=a.k_query,
                             meta_batch=a.meta_batch, inner_steps=a.inner_steps,
                             inner_lr=a.inner_lr, outer_lr=a.outer_lr, iterations=a.iterations,
                             hidden=hidden, seed=a.seed,
                             family_options=dict(a.option) if a.option else None)
    if a.eval_tasks is not None and a.eval_tasks < 1:
        raise ConfigError("eval_tasks", f"must be an integer >= 1 (got {a.eval_tasks})")
    device = resolve_device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(a.threads or 1)
    store = RunStore(a.runs_dir, device)
    found = store.find(cfg)
    if found is not None:
        run = store.get(cfg)
        if not run.info.get("partial"):
            print(f"reusing stored run with an identical config (no training): {found}")
            print(found)
            return 0
        print(f"a partial run with this config exists; training it again: {found}")
    tr = Trainer(cfg, device, compiled=a.compile)
    bar = tqdm(total=tr.total, unit="it", disable=a.quiet, dynamic_ncols=True,
               desc=f"{cfg.algo} on {cfg.family}")
    try:
        while not tr.done:
            p = tr.run(200)
            bar.update(p.iteration - bar.n)
            bar.set_postfix(loss=f"{p.loss:.3f}", refresh=False)
    except TrainingDiverged as err:
        bar.close()
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: nothing was saved", file=sys.stderr)
        return 130
    bar.close()
    run = tr.result()
    run.metrics = to_json(evaluate(run, n_tasks=a.eval_tasks))
    path = store.put(run).path
    res = {r["step"]: r["mean"] for r in run.metrics["results"]}
    fmt = lambda v: "diverged" if v is None else f"{v:.3f}"
    print(f"trained {cfg.iterations} iterations in {run.info['train_seconds']:.1f} s "
          f"({run.info['its_per_s'] or '-'} it/s on {run.info['device']}); "
          f"{run.family.metric} at K={cfg.k_shot}: {fmt(res[0])} before, {fmt(res[1])} after 1 step, "
          f"{fmt(res[max(res)])} after {max(res)}")
    print(path)
    return 0


def cmd_evaluate(a) -> int:
    import torch

    from .evaluate import evaluate, to_json
    from .store import StoreError, load_run
    from .train import resolve_device

    for name in ("steps", "tasks", "seed"):
        v = getattr(a, name)
        if v is not None and v < (0 if name != "tasks" else 1):
            raise ConfigError(name, f"must be an integer >= {0 if name != 'tasks' else 1} (got {v})")
    device = resolve_device(a.device)
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        run = load_run(a.run_dir, device)
    except StoreError as err:
        raise CLIError(str(err))
    if a.benchmark:
        from .evaluate import benchmark
        df = benchmark(run, a.benchmark, steps=a.steps)
    else:
        df = evaluate(run, k_shots=a.k_shot or (None,), steps=a.steps, n_tasks=a.tasks,
                      seed=a.seed)
    if a.json:
        print(json.dumps(to_json(df)))
        return 0
    proto = df.attrs["protocol"]
    if a.benchmark:
        print(f"{run.config.algo} on {proto['description']}: {proto['metric']}, mean ± 95% CI "
              f"over the {proto['tasks']} runs")
    else:
        print(f"{run.config.algo} on {run.config.family}: {proto['metric']} on "
              f"{proto['query_points']} query points, {proto['tasks']} held-out tasks "
              f"(seed {proto['seed']}), mean ± 95% CI")
    table = df.pivot(index="step", columns="k_shot", values="mean")
    ci = df.pivot(index="step", columns="k_shot", values="ci95")
    print("step " + "".join(f"{'K=' + str(k):>18}" for k in table.columns))
    for step in table.index:
        print(f"{step:>4} " + "".join(f"{table.loc[step, k]:>10.3f} ± {ci.loc[step, k]:<5.3f}"
                                      for k in table.columns))
    return 0


def cmd_runs(a) -> int:
    from .store import list_runs

    runs = list_runs(a.runs_dir)
    if not runs:
        print(f"no runs in {a.runs_dir}")
        return 0
    for r in runs:
        if r["error"]:
            print(f"{r['key']}  INVALID: {r['error']}")
            continue
        c, t = r["config"], r["training"]
        ev = r["evaluation"] or {}
        one = next((x["mean"] for x in ev.get("results", []) if x["step"] == 1), None)
        print(f"{r['key']}  K={c.k_shot} it={c.iterations} {t.get('train_seconds', '?')}s "
              f"{t.get('device', '?')}{' PARTIAL' if t.get('partial') else ''}"
              f"  1-step {ev.get('protocol', {}).get('metric', '')}: "
              f"{'%.3f' % one if one is not None else '-'}")
    return 0


def cmd_learn_data(a) -> int:
    import torch

    from .learn import compute, save
    from .store import RunStore

    torch.set_num_threads(1)
    try:
        data = compute(RunStore(a.runs_dir))
    except LookupError as e:
        raise CLIError(f"{e}: train the default runs first (see README, 'Bundled runs')")
    save(data, a.out)
    print(a.out)
    return 0


def cmd_bench(a) -> int:
    from .bench import main as bench_main
    bench_main(seconds=a.seconds, quick=a.quick, compiled=a.compile, device=a.device)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"train": cmd_train, "evaluate": cmd_evaluate, "runs": cmd_runs,
                "bench": cmd_bench, "learn-data": cmd_learn_data}[args.command](args)
    except ConfigError as err:
        print(f"error: {_flag(err.field)}: {str(err).split(': ', 1)[1]}", file=sys.stderr)
        return EXIT_USAGE
    except CLIError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE

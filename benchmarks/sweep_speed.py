"""Wall time of a seed sweep on Ray against the same trainings one after another.

The sweep: 2 algorithms x 4 seeds on the sinusoid (default configs: 20,000 meta-iterations each)
through `maml_viz.services.sweep.run_sweep` on a local Ray instance (all cores, one thread per training),
Ray's start-up included. Two baselines, the same 8 trainings (train + evaluate + store) one after
another on one thread:
- `train` commands: `python -m maml_viz train ...` eight times, what one does without `sweep`
  (each process pays Python's start-up and loading the compiled step);
- a loop in one process: no process start-ups, each compiled step loaded once (the best case
  for sequential training).
Every training takes the path `train` takes here (20,000 iterations: the compiled step); the
on-disk compile cache is filled first, untimed, in a separate process, so that every side starts
from the same cache (what a machine that has trained these configs before has) and pays its own
loading. All sides store their runs; the script checks that the meta-parameters are the same bytes.

    nice -n 10 python benchmarks/sweep_speed.py                    # the README's figure
    python benchmarks/sweep_speed.py --iterations 2000              # a quick look

Goal on the 2-core development machine: the sweep >= 1.8x faster (2.0x is the ceiling). Measure
on an otherwise idle machine: the sweep's gain is the second core.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
import torch  # noqa: E402

from maml_viz.runs.saving import save_run  # noqa: E402
from maml_viz.services.sweep import (cpu_path, expand, run_from_payload, run_sweep,  # noqa: E402
                                     train_trial)


def loop(configs, runs) -> float:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    for cfg in configs:      # the path `train` takes here, as the sweep's driver decides it
        save_run(run_from_payload(train_trial(cfg.to_dict(), 1, cpu_path(cfg))), runs)
    return time.perf_counter() - t0


def commands(configs, runs) -> float:
    t0 = time.perf_counter()
    for c in configs:
        subprocess.run([sys.executable, "-m", "maml_viz", "train", "--family", c.family,
                        "--algo", c.algo, "--seed", str(c.seed), "--iterations", str(c.iterations),
                        "--device", "cpu", "--runs-dir", str(runs), "--quiet"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def swept(configs, runs) -> float:
    t0 = time.perf_counter()
    rep = run_sweep(configs, runs, progress=False)
    if not rep.ok or len(rep.trained) != len(configs):
        raise SystemExit(f"the sweep did not train everything: {rep}")
    return time.perf_counter() - t0


def warm(configs) -> None:
    """Compile each distinct step once (a few iterations, untimed, in another process: this one
    must not keep it in memory), so that every side starts from the same on-disk cache."""
    seen = {c.algo: c for c in configs if cpu_path(c)}
    if not seen:
        return
    code = ("import sys, json, dataclasses, torch; sys.path.insert(0, %r)\n"
            "from maml_viz.engine.registry import config_from_dict\n"
            "from maml_viz.engine.train import Trainer\n"
            "for d in json.loads(sys.argv[1]):\n"
            "    c = dataclasses.replace(config_from_dict(d), iterations=10)\n"
            "    Trainer(c, torch.device('cpu'), compiled=True).run(10)\n" % ROOT)
    subprocess.run([sys.executable, "-c", code, json.dumps([c.to_dict() for c in seen.values()])],
                   check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--algos", default="maml,fomaml")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--iterations", type=int, help="default: the sinusoid's (20,000)")
    ap.add_argument("--no-commands", action="store_true", help="skip the `train` commands side")
    a = ap.parse_args()
    configs = expand("sinusoid", a.algos.split(","), list(range(a.seeds)), iterations=a.iterations)
    paths = sorted({"compiled" if cpu_path(c) else "eager" for c in configs})
    print(f"warming the compile cache (untimed); trainings run the {'/'.join(paths)} step",
          file=sys.stderr, flush=True)
    warm(configs)
    sides = [("sweep", swept), ("loop", loop)] + ([] if a.no_commands else [("commands", commands)])
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {name: Path(tmp) / name for name, _ in sides}
        times = {}
        for name, fn in sides:
            print(f"timing {name} ({len(configs)} trainings)...", file=sys.stderr, flush=True)
            times[name] = fn(configs, dirs[name])
        read = lambda d, c: (d / c.key() / "meta_params.safetensors").read_bytes()  # noqa: E731
        same = all(read(dirs[n], c) == read(dirs["sweep"], c) for n in dirs for c in configs)
        per = {n: [json.loads((d / c.key() / "metrics.json").read_text())["training"]
                   ["train_seconds"] for c in configs] for n, d in dirs.items()}
    it = configs[0].iterations
    print(f"\nsinusoid, {a.algos} x {a.seeds} seeds, {it} iterations each ({'/'.join(paths)} "
          f"step, as `train` here), {os.cpu_count()} cores, torch {torch.__version__}")
    print("| | wall s | sweep's speed-up over it |")
    print("|---|---|---|")
    if "commands" in times:
        print(f"| `train` commands one after another | {times['commands']:.1f} | "
              f"**{times['commands'] / times['sweep']:.2f}x** |")
    print(f"| a loop in one process (best case for sequential) | {times['loop']:.1f} | "
          f"**{times['loop'] / times['sweep']:.2f}x** |")
    print(f"| `sweep` on a local Ray instance ({os.cpu_count()} trials at a time) | "
          f"{times['sweep']:.1f} | |")
    print(f"\nmeta-parameters identical (safetensors bytes) on every side: {'yes' if same else 'NO'}")
    print("training seconds per run (the trainer's clock: loading the compiled step included, "
          "start-up and evaluation not): "
          + "; ".join(f"{n}: " + " ".join(f"{x:.1f}" for x in v) for n, v in per.items()))


if __name__ == "__main__":
    main()

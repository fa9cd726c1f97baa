"""Wall time of a seed sweep on Ray against the same trainings one after another.

The sweep: 2 algorithms x 4 seeds on the sinusoid (default configs: 20,000 meta-iterations each)
through `maml_viz.sweep.run_sweep` on a local Ray instance (all cores, one thread per training),
Ray's start-up included. The baseline: the same 8 trainings (train + evaluate + store) one after
another in this process, one thread, no process start-ups (the best case for sequential). Both
store their runs; the script checks that the meta-parameters are the same bytes.

    nice -n 10 python benchmarks/sweep_speed.py                    # the README's figure
    python benchmarks/sweep_speed.py --iterations 2000              # a quick look

Goal on the 2-core development machine: the sweep >= 1.8x faster (2.0x is the ceiling).
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402

from maml_viz.store import save_run  # noqa: E402
from maml_viz.sweep import expand, run_from_payload, run_sweep, train_trial  # noqa: E402


def sequential(configs, runs) -> float:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    for cfg in configs:
        save_run(run_from_payload(train_trial(cfg.to_dict(), 1)), runs)
    return time.perf_counter() - t0


def swept(configs, runs) -> float:
    t0 = time.perf_counter()
    rep = run_sweep(configs, runs, progress=False)
    if not rep.ok or len(rep.trained) != len(configs):
        raise SystemExit(f"the sweep did not train everything: {rep}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--algos", default="maml,fomaml")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--iterations", type=int, help="default: the sinusoid's (20,000)")
    ap.add_argument("--sweep-first", action="store_true", help="time the sweep before the loop")
    a = ap.parse_args()
    configs = expand("sinusoid", a.algos.split(","), list(range(a.seeds)), iterations=a.iterations)
    with tempfile.TemporaryDirectory() as tmp:
        seq_dir, sweep_dir = Path(tmp) / "sequential", Path(tmp) / "sweep"
        order = [("sweep", swept, sweep_dir), ("sequential", sequential, seq_dir)]
        if not a.sweep_first:
            order.reverse()
        times = {}
        for name, fn, d in order:
            print(f"timing {name} ({len(configs)} trainings)...", file=sys.stderr, flush=True)
            times[name] = fn(configs, d)
        same = all((seq_dir / c.key() / "meta_params.safetensors").read_bytes()
                   == (sweep_dir / c.key() / "meta_params.safetensors").read_bytes() for c in configs)
    it = configs[0].iterations
    print(f"\nsinusoid, {a.algos} x {a.seeds} seeds, {it} iterations each, {os.cpu_count()} cores, "
          f"torch {torch.__version__}")
    print("| | wall s | speed-up |")
    print("|---|---|---|")
    print(f"| one after another (one process, 1 thread) | {times['sequential']:.1f} | 1.00x |")
    print(f"| `sweep` on a local Ray instance ({os.cpu_count()} trials at a time) | "
          f"{times['sweep']:.1f} | **{times['sequential'] / times['sweep']:.2f}x** |")
    print(f"\nmeta-parameters identical (safetensors bytes): {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

"""How long the default MAML config (sinusoid, K=10, meta-batch 25, α=0.01, Adam 1e-3) trains
before its K=10 one-step MSE reaches 0.45 under the standard protocol (1000 held-out tasks, 100
query points). Training wall time only (evaluation pauses the clock; a compile counts).

    python benchmarks/time_to_quality.py [--compile]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import torch  # noqa: E402

from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.train import Trainer  # noqa: E402
from maml_viz.runs.evaluate import evaluate  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                    help="default: as `train` decides (compiled for runs this long on a CPU)")
    ap.add_argument("--target", type=float, default=0.45)
    ap.add_argument("--chunk", type=int, default=500)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = make_config()
    tr = Trainer(cfg, "cpu", compiled=a.compile)
    print(f"default MAML on {tr.device} ({tr.mode}), target K=10 "
          f"1-step MSE <= {a.target}")
    while not tr.done:
        t0 = time.perf_counter()
        tr.run(a.chunk)
        mse = evaluate(tr.result(), steps=1).query("step == 1")["mean"].item()
        print(f"  iteration {tr.iteration:>6}  train wall {tr.seconds:6.1f} s  1-step MSE {mse:.3f}",
              flush=True)
        if mse <= a.target:
            print(f"reached {mse:.3f} <= {a.target} after {tr.iteration} iterations, "
                  f"{tr.seconds:.1f} s of training")
            return
    print("target not reached")


if __name__ == "__main__":
    main()

"""What recording the training signals (signals.py: meta-gradient norm, support losses, at the
validation points) costs, and a check that it changes no byte of the meta-parameters.

For each config: train it with the signals and without (validation on in both, as by default),
alternating the two for --repeats rounds, one thread; print the median wall time of each, the
overhead, and the time the recorder itself took. The meta-parameters of both must be the same
bytes; where a bundled run of the same config exists (assets/runs) and the same step is used
(the bundled sinusoid runs were trained compiled), they must also be that run's bytes.

    python benchmarks/signals_overhead.py                       # sinusoid MAML, eager and compiled
    python benchmarks/signals_overhead.py --algos maml,reptile,metasgd --iterations 5000
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
import torch  # noqa: E402
from safetensors.torch import save  # noqa: E402

from maml_viz.engine import signals  # noqa: E402
from maml_viz.engine.registry import make_config  # noqa: E402
from maml_viz.engine.train import Trainer  # noqa: E402
from maml_viz.runs.store import RunStore  # noqa: E402


def params_bytes(params) -> bytes:
    return save({k: v.detach().float().cpu().contiguous() for k, v in params.items()},
                metadata={"format": "maml-viz/1"})


def one(cfg, compiled, with_signals):
    spent = [0.0]
    original = signals.Signals.__call__

    def timed(self, params):
        t = time.perf_counter()
        try:
            return original(self, params)
        finally:
            spent[0] += time.perf_counter() - t

    signals.Signals.__call__ = timed
    try:
        t0 = time.perf_counter()
        tr = Trainer(cfg, "cpu", compiled=compiled, signals=with_signals)
        while not tr.done:
            tr.run(200)
        wall = time.perf_counter() - t0
    finally:
        signals.Signals.__call__ = original
    return wall, spent[0], tr


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--family", default="sinusoid")
    p.add_argument("--algos", default="maml")
    p.add_argument("--iterations", type=int, help="default: the family's (bundled runs' bytes "
                                                  "are compared only at the default)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--paths", default="eager,compiled")
    a = p.parse_args()
    torch.set_num_threads(1)
    bundled = RunStore(os.path.join(ROOT, "assets", "runs"), housekeeping=False)
    print(f"{'config':<28}{'path':<10}{'with (s)':>10}{'without (s)':>12}{'overhead':>10}"
          f"{'recorder (s)':>14}  bytes")
    for algo in a.algos.split(","):
        cfg = make_config(family=a.family, algo=algo, iterations=a.iterations)
        ref = bundled.get(cfg)
        for path in a.paths.split(","):
            compiled = path == "compiled"
            if compiled:
                one(cfg, True, True)                  # fill the compile cache first, untimed
            w, wo, rec = [], [], []
            for _ in range(a.repeats):
                t, spent, tr_w = one(cfg, compiled, True)
                w.append(t)
                rec.append(spent)
                t, _, tr_wo = one(cfg, compiled, False)
                wo.append(t)
            same = params_bytes(tr_w.params) == params_bytes(tr_wo.params)
            note = "with = without" if same else "DIFFER with/without"
            if ref is not None and ref.info.get("step") == tr_w.mode:
                note += ("; = bundled run" if params_bytes(ref.params) == params_bytes(tr_w.params)
                         else "; DIFFER from the bundled run")
            mw, mwo = statistics.median(w), statistics.median(wo)
            print(f"{cfg.family + ' ' + algo + ' ' + str(cfg.iterations):<28}{tr_w.mode:<10}"
                  f"{mw:>10.2f}{mwo:>12.2f}{(mw - mwo) / mwo:>10.1%}"
                  f"{statistics.median(rec):>14.3f}  {note}")


if __name__ == "__main__":
    main()

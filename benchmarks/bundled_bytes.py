"""Train every bundled config (assets/runs/*/config.json) on the CPU, eager step, with the
iterations capped, and print the sha256 of each resulting meta_params.safetensors.

Used before and after a refactor that must change no result: the two printouts must be equal.
The cap keeps the check to a few minutes; every code path of a training runs in the first
iterations (the sampler, the algorithm's step, the optimiser, validation where it falls).

    python benchmarks/bundled_bytes.py [--cap 300] [--family sinusoid] > before.txt
"""
import argparse
import dataclasses
import hashlib
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from maml_viz.engine.registry import config_from_dict  # noqa: E402
from maml_viz.engine.train import Trainer  # noqa: E402
from maml_viz.runs.saving import save_run  # noqa: E402

CAPS = {"omniglot": 6, "navigation": 4}     # iterations these cost seconds each


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=int, default=300, help="most iterations per config")
    ap.add_argument("--family", default=None, help="only this family")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets", "runs")
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(root)):
            raw = json.load(open(os.path.join(root, name, "config.json")))
            if a.family and raw["family"] != a.family:
                continue
            cfg = config_from_dict(raw)
            cap = min(a.cap, CAPS.get(cfg.family, a.cap))
            cfg = dataclasses.replace(cfg, iterations=min(cfg.iterations, cap))
            tr = Trainer(cfg, torch.device("cpu"), compiled=False)
            while not tr.done:
                tr.run(100)
            path = save_run(tr.result(), tmp)
            digest = hashlib.sha256(open(os.path.join(path, "meta_params.safetensors"), "rb")
                                    .read()).hexdigest()
            print(f"{name:34s} it={cfg.iterations:5d} {digest}", flush=True)


if __name__ == "__main__":
    main()

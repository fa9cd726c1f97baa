"""Vectorised meta-step vs the tutorial per-task loop (same batches, interleaved, one process).
Same as `python -m maml_viz bench`."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from maml_viz.services.bench import main  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--compile", action="store_true", help="also time the torch.compile'd step")
    a = ap.parse_args()
    main(seconds=a.seconds, compiled=a.compile)

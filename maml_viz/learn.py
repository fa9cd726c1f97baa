"""The Learn page's data, computed from the bundled runs and saved as JSON so that the home page
draws without importing torch (the first page is then ready in a few seconds).

`compute` needs torch and the runs; `load` needs only the json module. The app falls back to
`compute` when the file is missing or stale, and `tests/test_learn.py` checks the file against a
fresh computation.  Regenerate with:  python -m maml_viz learn-data
"""
from __future__ import annotations

import json
from pathlib import Path

VERSION = 1
GALLERY_SEED, TASK_SEED, K_SINE, PARAM_TASKS, K_LINE = 7, 3, 5, 30, 10


def compute(store, task_seed: int = TASK_SEED) -> dict:
    import torch

    from . import explore
    from .registry import make_config
    from .tasks import make_family

    fam = make_family("sinusoid")
    gen = explore.task_generator(GALLERY_SEED)
    tasks = fam.sample_tasks(8, gen)
    xg = torch.linspace(*fam.x_range(), 200).reshape(1, 200, 1)
    out = {"version": VERSION, "x": xg.reshape(-1).tolist(),
           "gallery": {"titles": [fam.describe_task(t) for t in tasks],
                       "ys": [fam.target(tasks[i:i + 1], xg)[0, :, 0].tolist() for i in range(8)]}}
    sine = {}
    for algo in ("pretrained", "maml"):
        cfg = make_config(family="sinusoid", algo=algo)
        run = store.get(cfg)
        if run is None:
            raise LookupError(f"no stored run for {cfg.key()}")
        task, xs, ys = explore.sample_task(run, task_seed, K_SINE)
        tr = explore.trajectory(run, xs, ys, 1, x_grid=xg, task=task)
        sine[algo] = {"key": run.key, "inner_lr": cfg.inner_lr, "before": tr["preds"][0, :, 0].tolist(),
                      "after": tr["preds"][1, :, 0].tolist(), "error": tr["grid_error"].tolist()}
        sine["true"], sine["xs"], sine["ys"] = tr["true"][:, 0].tolist(), xs.reshape(-1).tolist(), ys.reshape(-1).tolist()
    out["sine"] = sine
    line = {"thetas": {}, "adapted": {}}
    for algo in ("maml", "pretrained"):
        cfg = make_config(family="linear", algo=algo)
        run = store.get(cfg)
        if run is None:
            raise LookupError(f"no stored run for {cfg.key()}")
        optima, th, ad = explore.linear_one_step(run, n_tasks=PARAM_TASKS, k=K_LINE, seed=0)
        line["optima"], line["inner_lr"] = optima.tolist(), cfg.inner_lr
        line["thetas"][algo], line["adapted"][algo] = th.tolist(), ad.tolist()
        line.setdefault("keys", {})[algo] = run.key
    out["linear"] = line
    return out


def save(data: dict, path) -> None:
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(path)


def load(path) -> dict | None:
    """The saved data, or None if missing, unreadable or made from other runs."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    return data

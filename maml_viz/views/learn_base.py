"""Small helpers the Learn page's data modules share (views/learn.py, views/learn_race.py):
numbers rounded for JSON, the bundled run of a family and algorithm, the 2-weight model's θ as
(a, b) rows, and the evaluation protocol's stored result at a step."""
from __future__ import annotations

PLANE_FAMILY = "wave"          # the 2-weight family whose weights the Learn page draws


def rounded(v, nd=5):
    """Plain (rounded) floats for JSON, from a tensor, array or number."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, list):
        return [rounded(u, nd) for u in v]
    return round(float(v), nd)


def default_config(family: str, algo: str):
    from ..engine.registry import make_config
    return make_config(family=family, algo=algo)


def stored_run(store, family: str, algo: str):
    """The stored run of the family's default config for algo; LookupError if there is none."""
    cfg = default_config(family, algo)
    run = store.get(cfg)
    if run is None:
        raise LookupError(f"no stored run for {cfg.key()}")
    return run


def ab(params):
    """The 2-weight model's (amplitude, phase) as rows [T, 2] (or [1, 2] for shared θ)."""
    import torch
    return torch.stack([params["amp"].reshape(-1), params["phase"].reshape(-1)], 1)


def protocol_row(run, step: int) -> dict | None:
    """The evaluation protocol's result (1000 held-out tasks, stored with the run) at a step."""
    ev = run.metrics or {}
    row = next((r for r in ev.get("results", []) if r["step"] == step
                and r["k_shot"] == run.config.k_shot), None)
    if row is None:
        return None
    lr = row.get("lr")          # the step size the protocol used (chosen on validation tasks)
    return {"mean": rounded(row["mean"], 4), "ci95": rounded(row["ci95"], 4),
            "tasks": (ev.get("protocol") or {}).get("tasks"),
            "lr": lr if isinstance(lr, (int, float)) else None}

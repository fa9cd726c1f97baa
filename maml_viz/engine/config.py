"""Run configuration: one frozen dataclass, validated with clear errors, hashed for the cache.

A `TrainConfig` fully determines a run (same config + same seed -> same meta-parameters on the
same device). Its `key()` is a stable content hash used as the run directory's name; the device is
recorded with the run but is not part of the key.

This is the bottom layer: it imports nothing of ours. `validate()` checks each field on its own;
building a config from the family's and algorithm's defaults and checking that they exist and fit
together is `registry.make_config` / `registry.check_config`, one layer above the registries.
`stream_seed` names the independent random streams (training tasks, evaluation tasks, init, ...).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field

SCHEMA_VERSION = 1


class ConfigError(ValueError):
    """An invalid setting. `field` names the setting, the message says what is allowed."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(f"{field_name}: {message}")


@dataclass(frozen=True)
class TrainConfig:
    family: str = "sinusoid"
    algo: str = "maml"
    k_shot: int = 10               # support points per task (per class for classification)
    k_query: int = 10              # query points per task at meta-training time
    meta_batch: int = 25           # tasks per meta-iteration
    inner_steps: int = 1           # inner SGD steps during meta-training
    inner_lr: float = 0.01         # alpha: inner SGD step size (also used at test time)
    outer_lr: float = 0.001        # Adam step size (Reptile: the interpolation step epsilon)
    iterations: int = 20000
    hidden: tuple = (40, 40)
    seed: int = 0
    family_options: dict = field(default_factory=dict, hash=False, compare=True)

    # ---------------------------------------------------------------- validation
    def validate(self) -> "TrainConfig":
        """Check every field's type and range. Whether the family and algorithm exist, fit
        together and what the family's options mean is checked a layer up, by
        `registry.check_config`, which owns the registries."""

        def pos_int(name, lo=1, hi=None):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
                rng = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]"
                raise ConfigError(name, f"must be {rng} (got {v!r})")

        def pos_float(name, hi):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0 or v > hi:
                raise ConfigError(name, f"must be a number in (0, {hi}] (got {v!r})")

        for name in ("family", "algo"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(name, f"must be a name (got {getattr(self, name)!r})")
        pos_int("k_shot", 1, 1000)
        pos_int("k_query", 1, 10000)
        pos_int("meta_batch", 1, 10000)
        pos_int("inner_steps", 0, 100)
        pos_int("iterations", 0, 10_000_000)
        pos_int("seed", 0, 2**63 - 1)
        pos_float("inner_lr", 10.0)
        pos_float("outer_lr", 10.0)
        hidden = self.hidden
        if not isinstance(hidden, (tuple, list)) or len(hidden) > 8 or not all(
                isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 4096 for h in hidden):
            raise ConfigError("hidden", f"must be 0-8 layer sizes, each an integer in [1, 4096] "
                                        f"(got {hidden!r})")
        if isinstance(hidden, list):
            object.__setattr__(self, "hidden", tuple(hidden))
        if not isinstance(self.family_options, dict):
            raise ConfigError("family_options", "must be a mapping of option name to value")
        return self

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["family_options"] = dict(sorted(self.family_options.items()))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        if not isinstance(d, dict):
            raise ConfigError("config", "must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(sorted(unknown)[0], "unknown setting (is this a maml-viz run?)")
        d = dict(d)
        if "hidden" in d and isinstance(d["hidden"], list):
            d["hidden"] = tuple(d["hidden"])
        return cls(**d).validate()

    def key(self) -> str:
        """Stable content hash: the run directory's name and the cache key."""
        blob = json.dumps({"v": SCHEMA_VERSION, **self.to_dict()}, sort_keys=True,
                          separators=(",", ":"))
        return f"{self.family}-{self.algo}-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def parse_hidden(text: str) -> tuple:
    """'40,40' -> (40, 40); '' -> () ; raises ConfigError on anything else."""
    text = str(text).strip()
    if not text:
        return ()
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ConfigError("hidden", f"must be comma-separated integers like 40,40 (got {text!r})")


def stream_seed(purpose: str, seed: int) -> int:
    """Independent random streams per purpose: training tasks and evaluation tasks never share one."""
    return int.from_bytes(hashlib.sha256(f"{purpose}:{seed}".encode()).digest()[:7], "big")

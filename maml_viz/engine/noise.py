"""Random numbers the page's JavaScript draws bit for bit too (assets/js/navroll.js), so that the
Navigation page can roll a policy out toward any goal in the browser and the engine, the
reference, gets the same tries: a counter-based generator (no state but a seed and a counter).

    key(seed, salt) = mix(seed ^ salt)
    bits(i)         = mix(mix(i) ^ key)                          (32-bit unsigned)
    uniform(i)      = ((bits(i) >> 8) + 0.5) / 2^24               (in (0, 1), exact in a double)
    normal(i)       = float32( sqrt(−2 ln uniform(2i)) · cos(2π uniform(2i+1)) )   (Box–Muller)

mix is Wellons' "lowbias32" integer hash; every step is 32-bit integer arithmetic or one IEEE
double operation, computed the same way by numpy and by V8 (sqrt exactly rounded; log and cos
within an ulp of a double, far below the float32 rounding that ends the formula).
Used for the app's rollouts only (rl.goal_trajectories); training keeps torch's generator.
"""
from __future__ import annotations

import numpy as np
import torch

M32 = 0xFFFFFFFF
NORMAL_SALT, GOAL_SALT = 0x9E3779B9, 0x85EBCA6B


def mix(x) -> np.ndarray:
    """lowbias32 on uint32 values (carried in uint64 so that products never overflow)."""
    x = np.asarray(x, dtype=np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def uniform(seed: int, start: int, count: int, salt: int = NORMAL_SALT) -> np.ndarray:
    """The uniforms number start..start+count-1 of `seed`'s stream, as doubles in (0, 1)."""
    key = mix(int(seed) & M32 ^ salt)
    i = np.arange(start, start + count, dtype=np.uint64)
    bits = mix(mix(i) ^ key)
    return ((bits >> np.uint64(8)).astype(np.float64) + 0.5) / 16777216.0


def normal(seed: int, start: int, count: int) -> np.ndarray:
    """Standard normals number start..start+count-1 of `seed`'s stream, as float32."""
    u = uniform(seed, 2 * start, 2 * count)
    return (np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2.0 * np.pi * u[1::2])).astype(np.float32)


def goal(seed: int, low: float, high: float) -> tuple:
    """A goal uniform on the square [low, high]², in thousandths (what "Random goal" places for
    this seed): integer arithmetic, so that the page's script finds the same one."""
    lo, span = round(low * 1000), round((high - low) * 1000)
    u = uniform(seed, 0, 2, GOAL_SALT)
    return tuple((lo + int(np.floor(v * span))) / 1000 for v in u)


class Stream:
    """normal() as a stream, for rl.rollout's noise: each draw takes the next numbers."""

    def __init__(self, seed: int):
        self.seed, self.at = int(seed), 0

    def randn(self, shape, like: torch.Tensor) -> torch.Tensor:
        n = int(np.prod(shape))
        z = normal(self.seed, self.at, n)
        self.at += n
        return torch.from_numpy(z).reshape(shape).to(device=like.device, dtype=like.dtype)

"""Omniglot (Lake et al. 2015): N-way K-shot classification of handwritten characters.

A task picks N characters and shows K drawings of each (by different people) as the support
set; the query drawings are other people's drawings of the same characters. Which label goes
with which character is random per task, so nothing can be guessed before adapting.

- Training tasks use the 6 training alphabets only (185 characters); with `rotations=1` each
  character rotated by 90, 180 and 270 degrees is a further class (740 classes), as in the MAML
  paper. Korean and Tagalog (57 characters) are held out: `eval_batch` draws evaluation tasks
  from them, upright, and training never sees them.
- Data: only the shipped asset `assets/omniglot/omniglot28.npz` (28x28, see its README), loaded
  once per process with `numpy.load(allow_pickle=False)`. No network, no pickle.
- A class is identified by a global id, character * 4 + rotation, so tasks from either split
  are rows of class ids [T, N]; images come out flat, [T, N*n, side*side] in [0, 1] (ink 1).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..config import ConfigError
from ..nets import ConvNet
from .base import ClassificationFamily
from .omniglot_asset import check_asset

ASSET = Path(__file__).resolve().parents[3] / "assets" / "omniglot" / "omniglot28.npz"
HELD_OUT = ("Korean", "Tagalog")
DRAWERS = 20


def load_asset(path: str | None = None) -> dict:
    """The asset's arrays (numpy), checked against its manifest and schema before first use
    (omniglot_asset.check_asset: AssetError, one line, otherwise); read once per process."""
    return _checked_asset(str(path or ASSET))


@functools.lru_cache(maxsize=2)
def _checked_asset(path: str) -> dict:
    return check_asset(path)


@functools.lru_cache(maxsize=4)
def image_pool(image_size: int, device: str = "cpu") -> torch.Tensor:
    """All characters in all four rotations, as uint8 [242 * 4, 20, side*side] on `device`
    (class id = character * 4 + quarter turns), resized by area averaging if side < 28."""
    imgs = torch.from_numpy(load_asset()["images"])                   # [242, 20, 28, 28]
    rots = torch.stack([torch.rot90(imgs, r, dims=(-2, -1)) for r in range(4)], 1)
    rots = rots.reshape(-1, DRAWERS, 28, 28)
    if image_size != 28:
        rots = F.adaptive_avg_pool2d(rots.float(), image_size).round().to(torch.uint8)
    return rots.reshape(rots.shape[0], DRAWERS, -1).to(device)


def resize(images: np.ndarray, image_size: int) -> torch.Tensor:
    """uint8 images [..., 28, 28] -> float [..., side*side] in [0, 1], as the pool does it."""
    t = torch.from_numpy(np.ascontiguousarray(images))
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, 28, 28)
    if image_size != 28:
        t = F.adaptive_avg_pool2d(t.float(), image_size).round().to(torch.uint8)
    return t.reshape(*lead, image_size * image_size).float() / 255.0


@functools.lru_cache(maxsize=8)
def class_ids(split: str, rotations: bool) -> torch.Tensor:
    """Global class ids of a split: 'train' (training alphabets, with rotations if asked) or
    'eval' (the held-out alphabets, upright)."""
    a = load_asset()
    held = np.isin(a["alphabets"][a["char_alphabet"]], HELD_OUT)
    chars = np.flatnonzero(~held if split == "train" else held)
    turns = range(4) if (rotations and split == "train") else range(1)
    return torch.tensor([c * 4 + r for c in chars for r in turns], dtype=torch.int64)


def alphabet_of(class_id: int) -> str:
    a = load_asset()
    return str(a["alphabets"][a["char_alphabet"][int(class_id) // 4]])


@dataclass(frozen=True)
class Omniglot(ClassificationFamily):
    n_way: int = 5
    rotations: int = 1      # 1: rotated training characters are further classes (MAML paper)
    image_size: int = 28    # images are area-averaged down to this side (16..28)

    name = "omniglot"
    label = "Handwritten characters (Omniglot)"
    description = ("N-way K-shot classification of handwritten characters; training on 6 "
                   "alphabets, evaluation on 2 never seen (Korean, Tagalog)")
    config_defaults = {"k_shot": 1, "k_query": 1, "inner_lr": 0.4, "inner_steps": 1,
                       "meta_batch": 32, "outer_lr": 0.001, "iterations": 2000,
                       "hidden": (32, 32, 32, 32)}
    point_inputs = False    # images: the Playground/Compare pages (points on a line or in the
                            # plane) do not list it; the Handwriting page shows it
    eval_steps = 5          # trained with 1 step; the MAML paper tests Omniglot with 3
    # Reptile learns nothing from one step on a task (with labels shuffled per task, one step
    # from θ is plain joint training): it takes 5 smaller ones, as in the Reptile paper
    algo_defaults = {"reptile": {"inner_steps": 5, "inner_lr": 0.1}}
    VAL_QUERY = 5           # query drawings per class of the validation measure
    eval_chunk = 100        # evaluation adapts this many tasks at a time (memory of a conv net)

    def check(self):
        super().check()
        if not isinstance(self.n_way, int) or not 2 <= self.n_way <= 20:
            raise ConfigError("family_options.n_way", f"must be an integer in [2, 20] (got {self.n_way!r})")
        if self.rotations not in (0, 1) or isinstance(self.rotations, float):
            raise ConfigError("family_options.rotations", f"must be 0 or 1 (got {self.rotations!r})")
        if not isinstance(self.image_size, int) or not 16 <= self.image_size <= 28:
            raise ConfigError("family_options.image_size",
                              f"must be an integer in [16, 28] (got {self.image_size!r})")

    @property
    def in_dim(self) -> int:
        return self.image_size * self.image_size

    @property
    def n_classes(self) -> int:
        return self.n_way

    def make_model(self, hidden, goal_conditioned=False):
        """The conv net: one block of 3x3 convolutions per entry of hidden (its filters)."""
        blocks = int(math.log2(self.image_size))
        try:
            return ConvNet(self.in_dim, self.out_dim, tuple(hidden))
        except ValueError as e:
            raise ConfigError("hidden", f"{e}: give 1 to {blocks} numbers of filters, one per "
                                        f"convolution block (default 32,32,32,32)") from None

    # ------------------------------------------------------------------ sampling
    def _tasks(self, n: int, gen: torch.Generator, split: str) -> torch.Tensor:
        """n tasks of n_way distinct classes each, in random order (= the label order)."""
        ids = class_ids(split, bool(self.rotations)).to(gen.device)
        if len(ids) < self.n_way:
            raise ConfigError("family_options.n_way", f"the {split} split has only {len(ids)} classes")
        pick = torch.rand((n, len(ids)), generator=gen, device=gen.device).argsort(1)[:, :self.n_way]
        return ids[pick]

    def sample_tasks(self, n, gen):
        return self._tasks(n, gen, "train")

    def _points(self, tasks: torch.Tensor, counts, gen: torch.Generator):
        """For each count c in counts, c drawings per class of every task, all drawings distinct
        across the counts (support and query never share a drawing). -> [(x, y), ...]"""
        t, n = tasks.shape
        total = sum(counts)
        if total > DRAWERS:
            raise ConfigError("k_shot", f"support + query drawings per class must be at most "
                                        f"{DRAWERS} (got {total})")
        pool = image_pool(self.image_size, str(gen.device))
        who = torch.rand((t, n, DRAWERS), generator=gen, device=gen.device).argsort(-1)[..., :total]
        out, start = [], 0
        for c in counts:
            d = who[..., start:start + c]                                # [T, N, c]
            x = pool[tasks.unsqueeze(-1).expand(-1, -1, c), d]          # [T, N, c, D]
            x = x.reshape(t, n * c, -1).float() / 255.0
            y = torch.arange(n, device=gen.device).repeat_interleave(c).expand(t, -1)
            out.append((x, y.contiguous()))
            start += c
        return out

    def sample_points(self, tasks, n, gen):
        return self._points(tasks, (n,), gen)[0]

    def sample_batch(self, n_tasks, k_support, k_query, gen):
        tasks = self.sample_tasks(n_tasks, gen)
        (xs, ys), (xq, yq) = self._points(tasks, (k_support, k_query), gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def eval_batch(self, n_tasks, k_support, n_query, gen):
        """Evaluation tasks: characters of the held-out alphabets only, upright."""
        tasks = self._tasks(n_tasks, gen, "eval")
        (xs, ys), (xq, yq) = self._points(tasks, (k_support, n_query), gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def validation_batch(self, n_tasks, k_support, n_query, gen):
        """The validation measure's tasks: training characters, upright (no split of Omniglot
        is left for validation: the 6 training alphabets train, the 2 held-out ones test), and
        VAL_QUERY other drawings of each class as queries (support and query never share one;
        a conv net's validation is costly and runs about 100 times per run: 100 tasks x 5 x 5
        queries take under 2 s on one CPU core). It measures few-shot accuracy on characters seen
        in training, never on the test alphabets."""
        ids = class_ids("train", False).to(gen.device)
        pick = torch.rand((n_tasks, len(ids)), generator=gen, device=gen.device).argsort(1)
        tasks = ids[pick[:, :self.n_way]]
        n_query = min(n_query, self.VAL_QUERY, DRAWERS - k_support)
        (xs, ys), (xq, yq) = self._points(tasks, (k_support, n_query), gen)
        return xs, ys, xq, yq

    # ------------------------------------------------------------------ display
    def x_range(self):
        return (0.0, 1.0)

    def describe_task(self, task):
        return f"{self.n_way} characters"

    # ------------------------------------------------------------------ fixed benchmarks
    benchmarks = ("lake20",)

    def benchmark_tasks(self, name: str) -> dict:
        """Lake et al.'s 20 official one-shot runs ("lake20"): 20 tasks, 20-way 1-shot; the
        support set is each run's 20 training drawings (labels 0..19 = class01..class20), the
        queries its 20 test drawings with the answers of class_labels.txt. Drawn from Omniglot's
        evaluation alphabets, disjoint from all eight alphabets here."""
        if name != "lake20":
            raise ConfigError("benchmark", f"unknown benchmark {name!r} for {self.name}; "
                                           f"allowed: {', '.join(self.benchmarks)}")
        a = load_asset()
        xs, xq = resize(a["lake_support"], self.image_size), resize(a["lake_query"], self.image_size)
        ys = torch.arange(20).expand(20, -1).contiguous()
        yq = torch.from_numpy(a["lake_labels"].astype(np.int64))
        return {"name": name, "n_way": 20, "k_shot": 1, "xs": xs, "ys": ys, "xq": xq, "yq": yq,
                "description": "Lake et al. (2015), 20 one-shot runs: 20-way, 1 drawing per "
                               "class, 20 test drawings per run, evaluation alphabets"}

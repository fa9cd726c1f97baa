"""Omniglot (Lake et al. 2015): N-way K-shot classification of handwritten characters.

A task picks N characters and shows K drawings of each (by different people) as the support
set; the query drawings are other people's drawings of the same characters. Which label goes
with which character is random per task, so nothing can be guessed before adapting.

Three alphabet splits (disjoint: no character and no drawing is in two of them):
- **meta-training**: Balinese, Greek, Japanese (katakana), Latin, Sanskrit (163 characters);
  with `rotations=1` each character rotated by 90, 180 and 270 degrees is a further class
  (652 classes), as in the MAML paper. Only `sample_tasks`/`sample_batch` draw from it.
- **validation**: Early_Aramaic (22 characters, upright; `val_alphabets=2` adds Greek, which
  then leaves training). The step-size choice of the evaluation protocol and the training
  chart's validation curve draw from it (`eval_batch(split="validation")`,
  `validation_batch`).
- **test**: Korean and Tagalog (57 characters, upright): `eval_batch` (split "test").
Lake et al.'s 20 official one-shot runs (`benchmark_tasks("lake20")`) are a fourth, separate
test: drawn from Omniglot's evaluation alphabets, none of the eight here.

Batch norm (nets.ConvNet) normalises every batch of images with its own statistics, per task.
The rule, the same in training, validation and testing: the support set is one batch, and the
queries are scored in batches of k_query drawings of each class, the batches training used
(`predict`); with the default k_query = 1, a batch holds one drawing of every class, as in the
MAML authors' code.

- Data: only the shipped asset `assets/omniglot/omniglot28.npz` (28x28, see its README), loaded
  once per process with `numpy.load(allow_pickle=False)`. No network, no pickle.
- A class is identified by a global id, character * 4 + rotation, so tasks from any split
  are rows of class ids [T, N]; images come out flat, [T, N*n, side*side] in [0, 1] (ink 1).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import ConfigError
from ..nets import ConvNet
from .base import ClassificationFamily
from .omniglot_asset import check_asset

ASSET = Path(__file__).resolve().parents[3] / "assets" / "omniglot" / "omniglot28.npz"
TEST = ("Korean", "Tagalog")
HELD_OUT = TEST                 # the test alphabets (the name the Handwriting page uses)
VALIDATION = ("Early_Aramaic", "Greek")   # the first val_alphabets of them validate
SPLITS = ("train", "validation", "test")
DRAWERS = 20


def load_asset(path: str | None = None) -> dict:
    """The asset's arrays (numpy), checked against its manifest and schema before first use
    (omniglot_asset.check_asset: AssetError, one line, otherwise); read once per process."""
    return _checked_asset(str(path or ASSET))


@functools.lru_cache(maxsize=2)
def _checked_asset(path: str) -> dict:
    return check_asset(path)


def area_matrix(src: int, dst: int) -> np.ndarray:
    """[dst, src] weights of an exact area average from src to dst pixels (each target pixel the
    mean of the source area it covers, partly covered source pixels weighted by their share):
    out = Q @ img @ Q.T."""
    q = np.zeros((dst, src))
    for i in range(dst):
        lo, hi = i * src / dst, (i + 1) * src / dst
        for j in range(src):
            q[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
    return q / (src / dst)


def _shrink(imgs: torch.Tensor, image_size: int) -> torch.Tensor:
    """uint8 [..., 28, 28] -> uint8 [..., side, side] by the exact area average (rounded)."""
    if image_size == 28:
        return imgs
    q = torch.from_numpy(area_matrix(28, image_size))
    return (q @ imgs.double() @ q.T).round().to(torch.uint8)


@functools.lru_cache(maxsize=4)
def image_pool(image_size: int, device: str = "cpu") -> torch.Tensor:
    """All characters in all four rotations, as uint8 [242 * 4, 20, side*side] on `device`
    (class id = character * 4 + quarter turns), shrunk by the exact area average if side < 28."""
    imgs = torch.from_numpy(load_asset()["images"])                   # [242, 20, 28, 28]
    rots = torch.stack([torch.rot90(imgs, r, dims=(-2, -1)) for r in range(4)], 1)
    rots = _shrink(rots.reshape(-1, DRAWERS, 28, 28), image_size)
    return rots.reshape(rots.shape[0], DRAWERS, -1).to(device)


def resize(images: np.ndarray, image_size: int) -> torch.Tensor:
    """uint8 images [..., 28, 28] -> float [..., side*side] in [0, 1], as the pool does it."""
    t = _shrink(torch.from_numpy(np.ascontiguousarray(images)), image_size)
    return t.reshape(*t.shape[:-2], image_size * image_size).float() / 255.0


@functools.lru_cache(maxsize=16)
def class_ids(split: str, rotations: bool, val_alphabets: int = 1) -> torch.Tensor:
    """Global class ids of a split: 'train' (the meta-training alphabets, with rotations if
    asked), 'validation' (the first val_alphabets of VALIDATION, upright) or 'test' (TEST,
    upright)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    a = load_asset()
    names = a["alphabets"][a["char_alphabet"]]
    val = np.isin(names, VALIDATION[:val_alphabets])
    test = np.isin(names, TEST)
    mask = {"train": ~(val | test), "validation": val, "test": test}[split]
    chars = np.flatnonzero(mask)
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
    val_alphabets: int = 1  # validation alphabets (1: Early_Aramaic; 2: and Greek)

    name = "omniglot"
    label = "Handwritten characters (Omniglot)"
    description = ("N-way K-shot classification of handwritten characters; meta-training on 5 "
                   "alphabets, step sizes chosen on a sixth, testing on 2 never seen (Korean, "
                   "Tagalog)")
    # the MAML paper's 5-way setting (network of 64 filters per block, one inner step of 0.4,
    # meta-batch 32) for as many iterations as a 2-core CPU trains in about two hours
    config_defaults = {"k_shot": 1, "k_query": 1, "inner_lr": 0.4, "inner_steps": 1,
                       "meta_batch": 32, "outer_lr": 0.001, "iterations": 6000,
                       "hidden": (64, 64, 64, 64)}
    point_inputs = False    # images: the Playground/Compare pages (points on a line or in the
                            # plane) do not list it; the Handwriting page shows it
    eval_steps = 3          # trained with 1 step; the MAML paper tests 5-way Omniglot with 3
    eval_tasks = 600        # test tasks (the MAML authors' code: 600)
    val_tasks = 100         # validation tasks of the step-size choice ...
    val_query_points = 5    # ... with 5 query drawings per class (the test: 15)
    # Reptile learns nothing from one step on a task (with labels shuffled per task, one step
    # from θ is plain joint training): it takes 5 smaller ones, as in the Reptile paper
    algo_defaults = {"reptile": {"inner_steps": 5, "inner_lr": 0.1}}
    VAL_QUERY = 5           # query drawings per class of the validation measure
    eval_chunk = 20         # evaluation adapts this many tasks at a time (memory of a conv net)

    def check(self):
        super().check()
        if not isinstance(self.n_way, int) or not 2 <= self.n_way <= 20:
            raise ConfigError("family_options.n_way", f"must be an integer in [2, 20] (got {self.n_way!r})")
        if self.rotations not in (0, 1) or isinstance(self.rotations, float):
            raise ConfigError("family_options.rotations", f"must be 0 or 1 (got {self.rotations!r})")
        if not isinstance(self.image_size, int) or not 16 <= self.image_size <= 28:
            raise ConfigError("family_options.image_size",
                              f"must be an integer in [16, 28] (got {self.image_size!r})")
        if self.val_alphabets not in (1, 2) or isinstance(self.val_alphabets, float):
            raise ConfigError("family_options.val_alphabets",
                              f"must be 1 or 2 (got {self.val_alphabets!r})")

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
                                        f"convolution block (default 64,64,64,64)") from None

    # ------------------------------------------------------------------ sampling
    def _tasks(self, n: int, gen: torch.Generator, split: str) -> torch.Tensor:
        """n tasks of n_way distinct classes each, in random order (= the label order)."""
        ids = class_ids(split, bool(self.rotations), self.val_alphabets).to(gen.device)
        if len(ids) < self.n_way:
            raise ConfigError("family_options.n_way", f"the {split} alphabets have only "
                                                      f"{len(ids)} characters")
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

    def eval_batch(self, n_tasks, k_support, n_query, gen, split="test"):
        """Evaluation tasks: characters of the test alphabets (or, with split="validation", of
        the validation alphabets) only, upright."""
        if split not in ("test", "validation"):
            raise ValueError(f"evaluation tasks come from 'test' or 'validation' (got {split!r})")
        tasks = self._tasks(n_tasks, gen, split)
        if k_support + n_query > DRAWERS:
            raise ConfigError("k_shot", f"K = {k_support} drawings to learn from and {n_query} "
                                        f"to score per character need {k_support + n_query}; "
                                        f"each character has {DRAWERS}: K can be at most "
                                        f"{DRAWERS - n_query} with {n_query} queries")
        (xs, ys), (xq, yq) = self._points(tasks, (k_support, n_query), gen)
        return {"tasks": tasks, "xs": xs, "ys": ys, "xq": xq, "yq": yq}

    def validation_batch(self, n_tasks, k_support, n_query, gen):
        """The training chart's validation measure: tasks of the validation alphabets, upright,
        and VAL_QUERY other drawings of each class as queries (support and query never share
        one; a conv net's validation is costly and runs about 100 times per run). Never a
        training or test character."""
        n_query = min(n_query, self.VAL_QUERY, DRAWERS - k_support)
        b = self.eval_batch(n_tasks, k_support, n_query, gen, split="validation")
        return b["xs"], b["ys"], b["xq"], b["yq"]

    def predict(self, model, params, x, k_query):
        """Outputs for query images x [T, N*Q, D] (Q drawings of each class, class-major as
        sampled), scored in batches of k_query drawings of each class: the batches batch norm
        saw in training. Any other layout (Lake's runs: one drawing per class; a drawing added
        by hand) is one batch."""
        t, m, d = x.shape
        n = self.n_way
        q = m // n
        if m % n or q % k_query or q == k_query:
            return model(params, x)
        g = q // k_query               # runs of N*k_query images, one batch each
        xg = x.reshape(t, n, g, k_query, d).transpose(1, 2).reshape(t, m, d)
        out = model(params, xg, stat_batch=n * k_query)
        return out.reshape(t, g, n, k_query, -1).transpose(1, 2).reshape(t, m, -1)

    # ------------------------------------------------------------------ protocol text
    def _alphabets(self, split: str) -> str:
        ids = class_ids(split, False, self.val_alphabets)
        names = sorted({alphabet_of(c) for c in ids.tolist()})
        return f"{', '.join(n.replace('_', ' ') for n in names)} ({len(ids)} characters)"

    @property
    def validation_source(self) -> str:
        return (f"the validation alphabets, {self._alphabets('validation')}, upright: no "
                f"training or test character")

    def splits_text(self) -> str:
        """What each split is, for the protocol of every evaluation."""
        rot = ", each also rotated by 90, 180 and 270 degrees as further classes" \
            if self.rotations else ""
        return (f"meta-training: {self._alphabets('train')}{rot}; validation (step sizes, the "
                f"training chart's curve): {self._alphabets('validation')}, upright; test: "
                f"{self._alphabets('test')}, upright; Lake et al.'s 20 runs: a separate test "
                f"from Omniglot's evaluation alphabets (none of the above); support and query "
                f"drawings of a task never the same drawing")

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

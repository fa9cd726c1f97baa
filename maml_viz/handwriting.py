"""What the Handwriting page shows, as data: a few characters of an alphabet the network never
saw, one drawing of each to learn from, other people's drawings to recognise, and the network's
guesses before adapting and after each step (the same inner loop as training and evaluation).

Everything is a pure function of (alphabet, characters, seed) and a run: the page draws it.
"""
from __future__ import annotations

import numpy as np
import torch

from .config import stream_seed
from .nets import proto_head
from .tasks import omniglot as og
from .train import Run

LETTERS = "ABCDEFGHIJKLMNOPQRST"


def alphabets() -> list:
    """The held-out alphabets (never seen in training), by name."""
    return sorted(og.HELD_OUT)


def characters(alphabet: str) -> list:
    """Global class ids (upright) of an alphabet's characters, in the dataset's order."""
    a = og.load_asset()
    names = a["alphabets"][a["char_alphabet"]]
    if alphabet not in set(names.tolist()):
        raise ValueError(f"unknown alphabet {alphabet!r}; allowed: {', '.join(sorted(set(names)))}")
    return [int(c) * 4 for c in np.flatnonzero(names == alphabet)]


def character_name(class_id: int) -> str:
    """'Korean, character 12'."""
    name = str(og.load_asset()["char_names"][int(class_id) // 4])
    alphabet, char = name.split("/")
    return f"{alphabet.replace('_', ' ')}, character {int(char[9:])}"


def pick_characters(alphabet: str, n: int, seed: int) -> list:
    """n distinct characters of the alphabet, chosen by seed."""
    chars = characters(alphabet)
    rng = np.random.default_rng(stream_seed("handwriting-chars", seed) % 2**32)
    return sorted(rng.choice(chars, size=min(n, len(chars)), replace=False).tolist())


def episode(chars, seed: int, n_query: int = 3, image_size: int = 28) -> dict:
    """One task: class j = chars[j]; one drawing of each to learn from (support) and n_query
    other people's drawings of each to recognise (queries, grouped by character). Drawers are
    chosen by seed; support and queries never share a drawing.
    Returns tensors xs [1, N, D], ys [1, N], xq [1, N*q, D], yq [1, N*q] and the images as uint8
    arrays support_img [N, H, W], query_img [N*q, H, W] (ink 255)."""
    chars = [int(c) for c in chars]
    if len(set(chars)) != len(chars) or len(chars) < 2:
        raise ValueError("pick at least two different characters")
    if not 1 <= n_query <= og.DRAWERS - 1:
        raise ValueError(f"n_query must be in [1, {og.DRAWERS - 1}]")
    imgs = og.load_asset()["images"]
    rng = np.random.default_rng(stream_seed("handwriting-drawers", seed) % 2**32)
    who = np.stack([rng.permutation(og.DRAWERS)[:1 + n_query] for _ in chars])   # [N, 1+q]
    support = np.stack([imgs[c // 4, who[j, 0]] for j, c in enumerate(chars)])
    query = np.stack([imgs[c // 4, who[j, 1 + i]] for j, c in enumerate(chars)
                      for i in range(n_query)])
    n = len(chars)
    return {
        "chars": chars,
        "xs": og.resize(support, image_size)[None], "ys": torch.arange(n)[None],
        "xq": og.resize(query, image_size)[None],
        "yq": torch.arange(n).repeat_interleave(n_query)[None],
        "support_img": support, "query_img": query,
    }


@torch.no_grad()
def guesses(run: Run, ep: dict, steps: int) -> dict:
    """Adapt the run's θ to the episode's support drawings for 0..steps steps (its own inner loop
    and step size); class probabilities of every query drawing after each step.
    Returns numpy arrays probs [S+1, Q, N], guess [S+1, Q], correct [S+1, Q] (bool),
    accuracy [S+1]."""
    fam, cfg, algo = run.family, run.config, run.algorithm
    n = ep["xs"].shape[1]
    wide = fam.make(dict(cfg.family_options, n_way=n))
    model = wide.make_model(cfg.hidden)
    dev = next(iter(run.params.values())).device
    xs, ys, xq = ep["xs"].to(dev), ep["ys"].to(dev), ep["xq"].to(dev)
    params = proto_head(run.model, run.params, xs, ys, n)          # another N: see its doc
    traj = algo.adapt(model, wide, params, xs, ys, steps, cfg, trajectory=True)
    probs = torch.stack([torch.softmax(wide.predict(model, p, xq, cfg.k_query)[0], -1)
                         for p in traj]).cpu().numpy()
    guess = probs.argmax(-1)
    correct = guess == ep["yq"][0].numpy()[None]
    return {"probs": probs, "guess": guess, "correct": correct, "accuracy": correct.mean(1)}


# ----------------------------------------------------------------------------- your own drawing
SCAN = 105            # Omniglot's drawings were scanned at 105x105
PEN = 2.5             # pen radius in scan pixels: strokes about as wide as the dataset's


def rasterize(strokes, size: int = 28) -> np.ndarray:
    """A drawing from pen strokes, as the dataset stores one: uint8 [size, size], ink 255.
    strokes: lists of (x, y) points in [0, 1] (y downwards), each a polyline drawn with a round
    pen on the 105x105 scan grid, then area-averaged down."""
    c = (np.arange(SCAN) + 0.5) / SCAN
    px, py = np.meshgrid(c, c)                                   # pixel centres, [row=y, col=x]
    ink = np.zeros((SCAN, SCAN), bool)
    r = PEN / SCAN
    for stroke in strokes:
        pts = np.clip(np.asarray(stroke, float).reshape(-1, 2), 0.0, 1.0)
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = ((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12)
            t = np.clip(t, 0.0, 1.0)
            ink |= (px - x0 - t * dx) ** 2 + (py - y0 - t * dy) ** 2 <= r * r
    q = og.area_matrix(SCAN, size)
    return np.round(255 * (q @ ink.astype(float) @ q.T)).astype(np.uint8)


def with_drawing(ep: dict, drawing: np.ndarray, image_size: int = 28) -> dict:
    """The episode with the user's drawing (uint8 [28, 28]) as one more query, last. With it
    the queries no longer come as drawings of every class (`Omniglot.predict`), so they are all
    classified in one batch: batch norm needs a batch's statistics, and a batch of one drawing
    would have none to speak of."""
    x = og.resize(np.asarray(drawing, np.uint8)[None], image_size)[None]
    return {**ep, "xq": torch.cat([ep["xq"], x], 1),
            "yq": torch.cat([ep["yq"], torch.full((1, 1), -1)], 1)}

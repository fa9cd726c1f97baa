"""What the Handwriting page shows, as data: a few characters of an alphabet the network never
saw, one drawing of each to learn from, other people's drawings to recognise, and the network's
guesses before adapting and after each step (the same inner loop as training and evaluation).

Everything is a pure function of (alphabet, characters, seed) and a run: the page draws it. The
adaptation (`adapt_steps`) is separate from recognising drawings (`classify`), so a page can keep
it and classify a new drawing of the user's in a few milliseconds.
"""
from __future__ import annotations

import numpy as np
import torch

from ..engine.algorithms import Pretrained
from ..engine.config import stream_seed
from ..engine.nets import proto_head
from ..engine.tasks import omniglot as og
from ..engine.train import Run
from .figures.handwriting import handwriting_grid

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
def adapt_steps(run: Run, ep: dict, steps: int) -> dict:
    """Adapt the run's θ to the episode's support drawings for 0..steps steps (its own inner loop
    and step size). Returns {"model", "traj": parameters after each step}: what `classify` needs,
    whatever the drawings to recognise (the user's own included). Not to be changed: shared."""
    fam, cfg, algo = run.family, run.config, run.algorithm
    n = ep["xs"].shape[1]
    wide = fam.make(dict(cfg.family_options, n_way=n))
    model = wide.make_model(cfg.hidden)
    dev = next(iter(run.params.values())).device
    xs, ys = ep["xs"].to(dev), ep["ys"].to(dev)
    params = proto_head(run.model, run.params, xs, ys, n)          # another N: see its doc
    traj = algo.adapt(model, wide, params, xs, ys, steps, cfg, trajectory=True)
    return {"model": model, "family": wide, "k_query": cfg.k_query, "traj": traj, "device": dev}


@torch.no_grad()
def classify(adapted: dict, xq) -> np.ndarray:
    """Class probabilities [S+1, Q, N] of the drawings xq [1, Q, D] after each step. They are
    classified as the family's protocol says (Omniglot.predict: batches of k_query drawings per
    class, as batch norm saw them in training; any other layout, such as one drawing of your
    own, as one batch)."""
    model, fam, xq = adapted["model"], adapted["family"], xq.to(adapted["device"])
    return torch.stack([torch.softmax(fam.predict(model, p, xq, adapted["k_query"])[0], -1)
                        for p in adapted["traj"]]).cpu().numpy()


def guesses(run: Run, ep: dict, steps: int, adapted: dict | None = None) -> dict:
    """The network's guesses for the episode's query drawings before adapting and after each
    step (adapted: adapt_steps's result for this run, episode and steps, if already computed).
    Returns numpy arrays probs [S+1, Q, N], guess [S+1, Q], correct [S+1, Q] (bool),
    accuracy [S+1]."""
    probs = classify(adapted or adapt_steps(run, ep, steps), ep["xq"])
    guess = probs.argmax(-1)
    correct = guess == ep["yq"][0].numpy()[None]
    return {"probs": probs, "guess": guess, "correct": correct, "accuracy": correct.mean(1)}


def training_alphabets() -> list:
    """The alphabets training tasks are drawn from, by name."""
    a = og.load_asset()
    chars = np.unique(og.class_ids("train", False).numpy() // 4)
    return sorted(set(a["alphabets"][a["char_alphabet"][chars]].tolist()))


# ----------------------------------------------------------------------------- what the page says
def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


MARKDOWN = set("\\`*_{}[]()<>#+-.!|~$")


def escape(text: str) -> str:
    """Text from the data files (alphabet names) made safe to show as Markdown."""
    return "".join("\\" + c if c in MARKDOWN else c for c in str(text))


def alphabet_name(alphabet: str) -> str:
    return str(alphabet).replace("_", " ")


def grid_caption(steps: int) -> str:
    return ("Top row: the one drawing of each character the network learns from (A–E). Below: "
            "other people's drawings, one column per character, with the network's guess "
            "(✓ right, ✗ wrong) after the steps chosen with the slider under the grid (it opens "
            f"after one step; up to {steps}). At 0 the network has learned nothing yet: A–E are "
            "new names for it, so a right guess there is luck.")


def grid_charts(ep: dict, out: dict, labels: dict, steps: int, alpha: float,
                height: int = 560) -> dict:
    """One episode's grids, one per network of `out` ({algo: guesses()}, MAML first, then
    "pretrained"): {"figures": [figure], "captions": [the caption under each]} (the second from
    the grids' own guesses)."""
    true = ep["yq"][0].numpy()
    proto = f"right of {len(true)} new drawings · 1 example each · step size α = {alpha:g}"
    figures = [handwriting_grid(ep["support_img"], ep["query_img"], true, g["guess"],
                                title=f"{labels[a]}: {g['accuracy'][0]:.0%} → "
                                      f"{g['accuracy'][-1]:.0%} after {steps} steps",
                                subtitle=proto, height=height) for a, g in out.items()]
    return {"figures": figures, "captions": [
        grid_caption(steps), pretrained_caption(labels, {a: g["correct"] for a, g in out.items()})]}


def pretrained_caption(labels: dict, correct: dict) -> str:
    """Under the pretrained network's grid: how it did against MAML on this task, from the
    grids' own guesses. correct: algo -> [S+1, Q] bool."""
    s, q = correct["maml"].shape[0] - 1, correct["maml"].shape[1]
    right = {a: int(c[-1].sum()) for a, c in correct.items()}
    return (f"The same task for a network trained on the same alphabets without meta-learning "
            f"(every task's drawings pooled, each with its task's labels), then fine-tuned with "
            f"the same steps: after {s} steps it gets {right['pretrained']} of {q} right, "
            f"{labels['maml']} {right['maml']}.")


def probabilities_caption(labels: dict, probs: dict, true: int) -> str:
    """Under the chart of one drawing's probabilities: the right answer's probability after one
    step and after the last, for each network. probs: algo -> [S+1, N]."""
    last = next(iter(probs.values())).shape[0] - 1
    at = lambda s: ", ".join(f"{labels[a]} {p[s, true]:.0%}" for a, p in probs.items())
    return ("Before adapting, a network cannot know which label is which (A–E are new to it). "
            f"The right answer's probability for this drawing after 1 step: {at(1)}; after "
            f"{last} steps: {at(last)}.")


def kind(run: Run) -> str:
    """'random' (never trained), 'pretrained' or 'meta'."""
    if not run.algorithm.trains:
        return "random"
    return "pretrained" if isinstance(run.algorithm, Pretrained) else "meta"


def results_table(runs: dict, label) -> dict:
    """The stored evaluation of each run (algo -> Run or None) as table rows, the protocol in
    words, and what random_beats_pretrained needs."""
    rows, final, kinds, labels, protos = [], {}, {}, {}, []
    for a, r in runs.items():
        if r is None or not r.metrics:
            continue
        res = {x["step"]: x for x in r.metrics["results"]}
        last = max(res)
        labels[a], kinds[a] = label(a), kind(r)
        final[a] = (last, float(res[last]["mean"]))
        protos.append((r, r.metrics.get("protocol", {})))
        rows.append({"algorithm": labels[a], "before adapting": res[0]["mean"],
                     "after 1 step": res[1]["mean"], f"after {last} steps": res[last]["mean"],
                     "± (95% CI)": res[last]["ci95"]})
    caption = ""
    if protos:
        r0, p0 = protos[0]
        n = int(r0.config.family_options.get("n_way", getattr(r0.family, "n_classes", 5)))
        k = (p0.get("k_shot") or [r0.config.k_shot])[0]
        own = all(str(p.get("inner_lr")) == f"{r.config.inner_lr:g}" or
                  p.get("inner_lr") == r.config.inner_lr for r, p in protos)
        chosen = all(str(p.get("step_size", "")).startswith("chosen") for _, p in protos)
        caption = (f"Accuracy on {p0.get('tasks', '?')} {n}-way {k}-shot tasks from the held-out "
                   f"alphabets (new drawings to recognise: {p0.get('query_points', '?')}), "
                   + ("each network adapting with a step size chosen on tasks of a validation "
                      "alphabet it was not trained on" if chosen else
                      "each network adapting with the step size it was trained with"
                      if own else "each network at the step size its evaluation states")
                   + f"; chance is {1 / n:.0%}.")
    return {"rows": rows, "caption": caption, "final": final, "kinds": kinds, "labels": labels}


def random_beats_pretrained(final: dict, labels: dict, kinds: dict, probs_pre=None) -> str | None:
    """One sentence explaining a result a newcomer will misread, only when the data show it:
    the random init above the pretrained network after the last step. final: algo -> (steps,
    mean accuracy after them); kinds: algo -> "random" (never trained), "pretrained" or other;
    probs_pre: the pretrained network's probabilities on the task shown [S+1, Q, N], to say
    how alike its answers are."""
    rnd = next((a for a, k in kinds.items() if k == "random" and a in final), None)
    pre = next((a for a, k in kinds.items() if k == "pretrained" and a in final), None)
    if rnd is None or pre is None or final[rnd][1] <= final[pre][1] or final[rnd][0] != final[pre][0]:
        return None
    s = final[rnd][0]
    text = (f"Why does {labels[rnd]} ({pct(final[rnd][1])}) beat {labels[pre]} "
            f"({pct(final[pre][1])}) after {s} steps? The letters A–E name different characters "
            f"in every training task, so pooling the tasks left nothing consistent to pretrain")
    p = None if probs_pre is None else np.asarray(probs_pre, float)
    if p is not None and np.ptp(p[0]) < 0.1:
        text += (f": the pretrained network learned to give every drawing about the same answer "
                 f"(on the task above, between {p[0].min():.0%} and {p[0].max():.0%} for each "
                 f"letter and drawing before adapting, between {p[-1].min():.0%} and "
                 f"{p[-1].max():.0%} after {len(p) - 1} steps), and small steps move it slowly")
    return text + "."


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

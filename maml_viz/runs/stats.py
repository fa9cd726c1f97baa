"""Robust aggregate statistics over training seeds × held-out tasks (Agarwal et al. 2021, "Deep RL
at the edge of the statistical precipice"), in numpy only.

The data of one algorithm at one (K, step) is a matrix of scores [seeds, tasks]: row s is training
seed s, column t held-out task t. Every seed of every algorithm is evaluated on the *same* held-out
tasks (the protocol draws them from a fixed evaluation stream), so columns are shared.

- `iqm(values)`: the interquartile mean, the mean of the middle 50% of all seed × task scores
  (scipy.stats.trim_mean(values, 0.25): floor(n/4) values cut at each end, as rliable does).
  A diverged score (NaN/inf) counts as the worst; fewer than a quarter of them are trimmed away.
- `iqm_interval(scores)`: the IQM with a bootstrap 95% percentile interval. A bootstrap replicate
  resamples both sources of chance: the seeds (with replacement, each seed with all its tasks:
  one training serves every task, so its luck is shared across them) and the tasks. With
  design="crossed" (the default, right for this protocol) one resample of tasks serves every
  seed, as every seed was evaluated on the same tasks; design="nested" resamples the tasks within
  each drawn seed independently (for seeds evaluated on different tasks). Both are stratified
  (each replicate has as many seeds and tasks as the data). Note that rliable's stratified
  bootstrap (runs resampled independently for each task, tasks fixed) fits Atari, where every
  game is a separate training; here it would treat one training's luck as independent across
  tasks and give far too narrow intervals.
- `probability_of_improvement(x, y)`: P(X better than Y) = the mean over tasks t of the fraction
  of seed pairs (i, j) with x[i, t] better than y[j, t], a tie counting one half (the
  Mann–Whitney statistic per task, averaged over tasks, as in Agarwal et al.), "better" in the
  metric's direction; with a bootstrap interval (seeds of X, seeds of Y, and tasks resampled; the
  tasks of X and Y stay paired). P(X>Y) + P(Y>X) = 1.
- `poi_matrix(scores)`: that probability for every ordered pair of algorithms.

Fewer than MIN_SEEDS seeds: nothing is estimated (`Estimate.value` is None and `note` says why):
a bootstrap over one or two seeds cannot see how much a training's luck varies.
Everything is seeded (numpy's PCG64 from `seed`): the same inputs give the same intervals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_SEEDS = 3
REPS = 2000                   # bootstrap replicates
LEVEL = 0.95
CHUNK_ELEMENTS = 2_000_000    # bootstrap work per numpy call (memory: ~16 MB per array)
DESIGNS = ("crossed", "nested")
BLOCK = 100                   # replicates drawn from one random stream (seed, block number)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval; value None when it cannot be estimated (note says
    why). An infinite value means the estimate itself diverged (e.g. over a quarter of the
    scores did)."""
    value: float | None
    low: float | None = None
    high: float | None = None
    n_seeds: int = 0
    n_tasks: int = 0
    note: str | None = None

    @property
    def estimated(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict:
        """Strict JSON: a non-finite number becomes null with diverged: true."""
        out = {"value": _num(self.value), "ci95": None, "n_seeds": self.n_seeds,
               "n_tasks": self.n_tasks}
        if self.low is not None and self.high is not None:
            out["ci95"] = [_num(self.low), _num(self.high)]
        if self.value is not None and not math.isfinite(self.value):
            out["diverged"] = True
        if self.note:
            out["note"] = self.note
        return out

    def text(self, digits: int = 3) -> str:
        """'0.412 [0.380, 0.447]', 'diverged', or the note (short)."""
        if self.value is None:
            return "n/a (< 3 seeds)" if self.n_seeds < MIN_SEEDS else "n/a"
        if not math.isfinite(self.value):
            return "diverged"
        if self.low is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{_fmt(self.low, digits)}, {_fmt(self.high, digits)}]"


def _num(v):
    return float(v) if v is not None and math.isfinite(v) else None


def _fmt(v, digits):
    return f"{v:.{digits}f}" if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def too_few(n_seeds: int) -> str:
    return (f"needs at least {MIN_SEEDS} training seeds to estimate (has {n_seeds}): not "
            f"estimated; train more seeds (sweep --seeds 0-4)")


# ------------------------------------------------------------------ inputs
def as_scores(scores, higher_is_better: bool) -> np.ndarray:
    """A [seeds, tasks] float64 matrix with NaN replaced by the worst value (-inf for a score
    where higher is better, +inf for a loss). Raises ValueError on a malformed input."""
    a = np.array(scores, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"scores must be a [seeds, tasks] matrix with at least one of each "
                         f"(got shape {a.shape})")
    return np.where(np.isnan(a), -np.inf if higher_is_better else np.inf, a)


# ------------------------------------------------------------------ the interquartile mean
def iqm(values) -> float:
    """Interquartile mean of all values (any shape): sort, cut floor(n/4) at each end, average
    the rest (scipy.stats.trim_mean(values, 0.25, axis=None)). NaN counts as +inf here; use
    as_scores first to say which end is the worst."""
    v = np.sort(np.where(np.isnan(np.asarray(values, dtype=np.float64)), np.inf,
                         np.asarray(values, dtype=np.float64)).ravel())
    n = v.size
    if n == 0:
        return float("nan")
    g = n // 4
    return float(v[g:n - g].mean())


def _iqm_counts(v_sorted: np.ndarray, w: np.ndarray) -> np.ndarray:
    """IQMs of B multisets given as counts w [n, B] (column b: how often each of the sorted
    values v_sorted [n] is in multiset b; every column has the same total N): the copies of the
    value at sorted position i occupy positions [start_i, start_i + w_i) of the multiset, and
    those in [floor(N/4), N - floor(N/4)) are kept. w is overwritten. Counts are float32 (exact
    below 2^24) laid out [n, B] so that the running sum runs along contiguous rows."""
    total = int(round(float(w[:, 0].sum())))
    g = total // 4
    hi = total - g
    cum = np.cumsum(w, axis=0)
    kept = np.minimum(cum, hi)
    cum -= w                                   # where each value's copies start
    np.maximum(cum, g, out=cum)
    kept -= cum
    np.maximum(kept, 0, out=kept)
    finite = np.isfinite(v_sorted)
    out = np.where(finite, v_sorted, 0.0) @ kept.astype(np.float64)
    if not finite.all():                       # a kept infinite value makes the IQM infinite
        for sign in (1.0, -1.0):
            at = v_sorted == sign * np.inf
            if at.any():
                hit = kept[at].sum(0) > 0
                clash = hit & np.isinf(out) & (np.sign(out) != sign)
                out[hit] = sign * np.inf
                out[clash] = np.nan
    return out / (hi - g)


def _chunks(seed: int, reps: int, per_chunk: int):
    """(generators, replicates) per chunk of work: replicates come in blocks of BLOCK, each
    drawn from its own stream (seed, block), so the answer does not depend on the chunk size."""
    per_chunk = max(1, per_chunk // BLOCK) * BLOCK
    for start in range(0, reps, per_chunk):
        n = min(per_chunk, reps - start)
        first = start // BLOCK
        yield ([(np.random.default_rng([seed, first + i]), min(BLOCK, n - i * BLOCK))
                for i in range(-(-n // BLOCK))], n)


def _draw(gens, n: int) -> np.ndarray:
    """[replicates, n] resample counts of n items, block by block (see _chunks)."""
    return np.concatenate([_draw_counts(g, n, k) for g, k in gens])


def _draw_counts(rng, n: int, size: int) -> np.ndarray:
    """[size, n] counts of n draws with replacement from n items (a bootstrap resample each
    row), as float32 (exact integers)."""
    idx = rng.integers(0, n, size=(size, n)) + (n * np.arange(size))[:, None]
    return np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(np.float32)


def iqm_interval(scores, higher_is_better: bool, *, reps: int = REPS, level: float = LEVEL,
                 seed: int = 0, design: str = "crossed") -> Estimate:
    """The IQM of scores [seeds, tasks] with a bootstrap percentile interval (see the module
    doc for `design`). Fewer than MIN_SEEDS seeds: not estimated."""
    a = as_scores(scores, higher_is_better)
    n_s, n_t = a.shape
    if n_s < MIN_SEEDS:
        return Estimate(None, n_seeds=n_s, n_tasks=n_t, note=too_few(n_s))
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS} (got {design!r})")
    flat = a.ravel()
    if flat.size >= 2 ** 24:
        raise ValueError(f"at most {2 ** 24 - 1} seed x task scores (got {flat.size})")
    order = np.argsort(flat, kind="stable")
    v_sorted = flat[order]
    s_of, t_of = order // n_t, order % n_t
    out = []
    for gens, b in _chunks(seed, reps, CHUNK_ELEMENTS // flat.size):
        if design == "crossed":
            w = _draw(gens, n_s).T[s_of]                            # [n, b]: seed counts ...
            w *= _draw(gens, n_t).T[t_of]                           # ... times task counts
        else:
            w = np.concatenate([_nested_counts(g, n_s, n_t, k) for g, k in gens])
            w = w.reshape(b, -1).T[order]
        out.append(_iqm_counts(v_sorted, np.ascontiguousarray(w, dtype=np.float32)))
    low, high = percentile_interval(np.concatenate(out), level)
    return Estimate(iqm(a), low, high, n_s, n_t)


def _nested_counts(rng, n_s: int, n_t: int, b: int) -> np.ndarray:
    """[b, seeds, tasks] counts: n_s seeds drawn with replacement, and for each draw its own
    n_t tasks drawn with replacement."""
    seeds = rng.integers(0, n_s, size=(b, n_s))
    tasks = _draw_counts(rng, n_t, b * n_s)                                   # [b·draw, task]
    w = np.zeros((b, n_s, n_t), dtype=np.float32)
    rows = np.repeat(np.arange(b), n_s)
    np.add.at(w, (rows, seeds.ravel()), tasks)
    return w


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple:
    """(low, high): the (1-level)/2 and (1+level)/2 quantiles, linearly interpolated between
    order statistics (numpy's default method); infinities are kept (inf between inf and inf)."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if v.size == 0:
        return float("nan"), float("nan")
    q = (1.0 - level) / 2.0
    return _quantile(v, q), _quantile(v, 1.0 - q)


def _quantile(v_sorted: np.ndarray, q: float) -> float:
    pos = (v_sorted.size - 1) * q
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    a, b = float(v_sorted[lo]), float(v_sorted[hi])
    if lo == hi or a == b:
        return a
    return a + (b - a) * (pos - lo)


# ------------------------------------------------------------------ probability of improvement
def comparisons(x: np.ndarray, y: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """[seeds_x, seeds_y, tasks]: 1 where x[i, t] is better than y[j, t], 0.5 for a tie
    (two diverged scores tie), else 0. Inputs as from as_scores."""
    sign = 1.0 if higher_is_better else -1.0
    a, b = sign * x[:, None, :], sign * y[None, :, :]
    return (a > b).astype(np.float64) + 0.5 * (a == b)


def probability_of_improvement(x, y, higher_is_better: bool, *, reps: int = REPS,
                               level: float = LEVEL, seed: int = 0) -> Estimate:
    """P(X better than Y) over seeds x [seeds_x, tasks] and y [seeds_y, tasks] evaluated on the
    same tasks, with a bootstrap interval (see the module doc)."""
    a, b = as_scores(x, higher_is_better), as_scores(y, higher_is_better)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"X and Y were evaluated on different numbers of tasks ({a.shape[1]} "
                         f"and {b.shape[1]}); compare runs evaluated under the same protocol")
    n_x, n_y, n_t = a.shape[0], b.shape[0], a.shape[1]
    if min(n_x, n_y) < MIN_SEEDS:
        return Estimate(None, n_seeds=min(n_x, n_y), n_tasks=n_t, note=too_few(min(n_x, n_y)))
    c = comparisons(a, b, higher_is_better)
    point = float(c.mean())
    # counts x {0, 1/2, 1} summed over tasks are exact in float32 (below 2^24)
    flat = c.reshape(n_x * n_y, n_t).astype(np.float32)
    out = []
    for gens, k in _chunks(seed, reps, CHUNK_ELEMENTS // max(n_t, n_x * n_y)):
        cx, cy, ct = _draw(gens, n_x), _draw(gens, n_y), _draw(gens, n_t)
        m = (flat @ ct.T).astype(np.float64).reshape(n_x, n_y, k)     # summed over tasks
        out.append(np.einsum("bi,ijb,bj->b", cx.astype(np.float64), m, cy.astype(np.float64))
                   / (n_x * n_y * n_t))
    low, high = percentile_interval(np.concatenate(out), level)
    return Estimate(point, low, high, min(n_x, n_y), n_t)


def poi_matrix(scores: dict, higher_is_better: bool, *, reps: int = REPS, level: float = LEVEL,
               seed: int = 0) -> dict:
    """{'algos': names, 'value', 'low', 'high': [n][n] lists (row X, column Y: P(X better than
    Y); None where not estimated), 'note'}. Each unordered pair is bootstrapped once and the
    reverse pair is its complement, so value + value.T = 1 and the intervals mirror exactly;
    the diagonal is 0.5 with no interval."""
    names = list(scores)
    n = len(names)
    val = [[None] * n for _ in range(n)]
    low = [[None] * n for _ in range(n)]
    high = [[None] * n for _ in range(n)]
    notes = set()
    for i in range(n):
        val[i][i] = 0.5
        for j in range(i + 1, n):
            e = probability_of_improvement(scores[names[i]], scores[names[j]], higher_is_better,
                                           reps=reps, level=level, seed=seed + 7919 * (i * n + j))
            if not e.estimated:
                notes.add(e.note)
                continue
            val[i][j], val[j][i] = e.value, 1.0 - e.value
            low[i][j], high[i][j] = e.low, e.high
            low[j][i], high[j][i] = 1.0 - e.high, 1.0 - e.low
    return {"algos": names, "value": val, "low": low, "high": high,
            "note": "; ".join(sorted(notes)) or None}


READ_POI = ("P(row better than column): the chance that a training of the row's algorithm beats "
            "one of the column's on a random held-out task (0.5 = no difference; ties count "
            "half); [95% bootstrap interval over seeds and tasks]")
READ_IQM = ("IQM: mean of the middle 50% of all seed × task scores (diverged scores count as the "
            "worst); [95% bootstrap interval, seeds and tasks resampled]")

"""maml_viz.stats against independent computations: hand-worked IQMs, brute-force resamples,
brute-force Mann-Whitney counts, and bootstrap coverage on synthetic data with a known answer."""
import json
import math

import numpy as np
import pytest

from maml_viz.runs import stats


# ------------------------------------------------------------------ independent references
def iqm_ref(values) -> float:
    """scipy.stats.trim_mean(values, 0.25) written out: sort, drop int(0.25 n) at each end."""
    v = sorted(float(x) for x in np.asarray(values).ravel())
    g = int(0.25 * len(v))
    kept = v[g:len(v) - g]
    return sum(kept) / len(kept)


def poi_ref(x, y, higher_is_better) -> float:
    """P(X better than Y): per task, the share of seed pairs where x wins (ties 1/2); averaged."""
    total = 0.0
    for t in range(len(x[0])):
        wins = 0.0
        for xi in x:
            for yj in y:
                a, b = xi[t], yj[t]
                better = a > b if higher_is_better else a < b
                wins += 1.0 if better else 0.5 if a == b else 0.0
        total += wins / (len(x) * len(y))
    return total / len(x[0])


def phi(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# ------------------------------------------------------------------ the interquartile mean
def test_iqm_hand_cases():
    assert stats.iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5           # mean of 3..6
    assert stats.iqm([1, 2, 3, 4, 100]) == 3.0                   # floor(5/4) = 1 cut each end
    assert stats.iqm([5, 1, 9]) == 5.0                           # n < 4: nothing cut
    assert stats.iqm([[1, 100], [2, 3]]) == 2.5                  # a matrix counts all cells
    assert stats.iqm([7.0]) == 7.0


def test_iqm_counts_diverged_scores_as_the_worst():
    loss = stats.as_scores([[1.0, 2.0, 3.0, float("nan")]], higher_is_better=False)
    assert stats.iqm(loss) == 2.5                               # NaN -> +inf, trimmed
    acc = stats.as_scores([[0.1, 0.2, float("nan"), 0.9]], higher_is_better=True)
    assert stats.iqm(acc) == pytest.approx(0.15)                # NaN -> -inf, trimmed
    many = stats.as_scores([[1.0, float("nan"), float("nan"), float("nan")]], False)
    assert stats.iqm(many) == math.inf                          # over a quarter diverged


def test_iqm_matches_reference_on_random_data():
    rng = np.random.default_rng(3)
    for n in (4, 5, 6, 7, 13, 100, 1001):
        v = rng.standard_normal(n)
        assert stats.iqm(v) == pytest.approx(iqm_ref(v), rel=1e-12, abs=1e-12)


def test_bootstrap_replicates_equal_the_iqm_of_the_resampled_matrix():
    """The counting shortcut gives exactly the IQM of the explicitly resampled matrix."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 7))
    x[1, 2] = math.inf                                           # a diverged task
    flat = x.ravel()
    order = np.argsort(flat, kind="stable")
    for _ in range(25):
        si, ti = rng.integers(0, 4, 4), rng.integers(0, 7, 7)
        explicit = x[si][:, ti]                                  # crossed: same tasks per seed
        w = np.zeros((4, 7), np.float32)
        for s in si:
            for t in ti:
                w[s, t] += 1
        got = stats._iqm_counts(flat[order], w.ravel()[order][:, None].copy())[0]
        assert got == pytest.approx(iqm_ref(explicit), rel=1e-6) or got == iqm_ref(explicit)
        # nested: every drawn seed with its own tasks
        tis = [rng.integers(0, 7, 7) for _ in si]
        explicit = np.stack([x[s][t] for s, t in zip(si, tis)])
        w = np.zeros((4, 7), np.float32)
        for s, t in zip(si, tis):
            for tt in t:
                w[s, tt] += 1
        got = stats._iqm_counts(flat[order], w.ravel()[order][:, None].copy())[0]
        assert got == pytest.approx(iqm_ref(explicit), rel=1e-6) or got == iqm_ref(explicit)


def test_fewer_than_three_seeds_are_not_estimated():
    for n_seeds in (1, 2):
        e = stats.iqm_interval(np.ones((n_seeds, 50)), higher_is_better=False)
        assert e.value is None and e.low is None and not e.estimated
        assert "at least 3" in e.note and e.n_seeds == n_seeds
        assert e.to_dict()["value"] is None and e.to_dict()["ci95"] is None
        p = stats.probability_of_improvement(np.ones((3, 5)), np.ones((n_seeds, 5)), True)
        assert p.value is None and "at least 3" in p.note
    m = stats.poi_matrix({"a": np.ones((3, 4)), "b": np.ones((2, 4))}, True)
    assert m["value"][0][1] is None and m["value"][0][0] == 0.5 and "at least 3" in m["note"]


def test_interval_is_seeded_and_deterministic():
    x = np.random.default_rng(5).standard_normal((5, 60))
    a = stats.iqm_interval(x, False, reps=300, seed=1)
    b = stats.iqm_interval(x, False, reps=300, seed=1)
    c = stats.iqm_interval(x, False, reps=300, seed=2)
    assert (a.low, a.high) == (b.low, b.high)
    assert (a.low, a.high) != (c.low, c.high)
    assert a.low < a.value < a.high
    # chunking does not change the answer
    old = stats.CHUNK_ELEMENTS
    try:
        stats.CHUNK_ELEMENTS = 1000
        d = stats.iqm_interval(x, False, reps=300, seed=1)
    finally:
        stats.CHUNK_ELEMENTS = old
    assert (d.low, d.high) == pytest.approx((a.low, a.high), rel=1e-6)


def _coverage(design, gen, n_data=150, seeds=10, tasks=40, reps=400):
    """Share of synthetic data sets whose interval holds the true IQM (2.0: every component is
    normal and symmetric around it, so the population IQM of a score is its centre)."""
    rng = np.random.default_rng(11)
    hits = 0
    for r in range(n_data):
        seed_eff = rng.standard_normal((seeds, 1))
        task_eff = 0.5 * rng.standard_normal((1, tasks)) if gen == "crossed" else 0.0
        x = 2.0 + seed_eff + task_eff + rng.standard_normal((seeds, tasks))
        e = stats.iqm_interval(x, False, reps=reps, seed=r, design=design)
        hits += e.low <= 2.0 <= e.high
    return hits / n_data


def test_iqm_interval_covers_the_known_answer():
    # 150 data sets of 10 seeds x 40 shared tasks (seed, task and noise effects): the crossed
    # bootstrap's 95% interval holds the true IQM about 95% of the time
    assert 0.88 <= _coverage("crossed", "crossed") <= 0.99
    # seeds evaluated on their own tasks: the nested design
    assert 0.88 <= _coverage("nested", "nested") <= 0.99


# ------------------------------------------------------------------ probability of improvement
def test_probability_of_improvement_matches_brute_force_and_direction():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 4, (3, 9)).astype(float)                 # many ties
    y = rng.integers(0, 4, (4, 9)).astype(float)
    for hib in (True, False):
        got = stats.probability_of_improvement(x, y, hib, reps=200).value
        assert got == pytest.approx(poi_ref(x.tolist(), y.tolist(), hib), abs=1e-12)
    low = np.zeros((3, 5))
    high = np.ones((3, 5))
    assert stats.probability_of_improvement(low, high, higher_is_better=False).value == 1.0
    assert stats.probability_of_improvement(low, high, higher_is_better=True).value == 0.0
    # a diverged score loses to any finite one and ties with another diverged one
    d = np.full((3, 5), np.nan)
    assert stats.probability_of_improvement(high, d, higher_is_better=False).value == 1.0
    assert stats.probability_of_improvement(d, d, higher_is_better=False).value == 0.5


def test_probability_of_improvement_complements_without_ties():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((5, 30)), rng.standard_normal((4, 30)) + 0.3
    for hib in (True, False):
        pxy = stats.probability_of_improvement(x, y, hib, reps=500)
        pyx = stats.probability_of_improvement(y, x, hib, reps=500)
        assert pxy.value + pyx.value == pytest.approx(1.0, abs=1e-12)
        # the intervals mirror up to bootstrap noise (different replicates)
        assert pyx.low == pytest.approx(1 - pxy.high, abs=0.03)
        assert pyx.high == pytest.approx(1 - pxy.low, abs=0.03)


def test_poi_matrix_is_a_complement_matrix():
    rng = np.random.default_rng(8)
    scores = {name: rng.standard_normal((s, 25)) + shift
              for name, s, shift in (("a", 3, 0.0), ("b", 5, 0.5), ("c", 4, -0.2))}
    m = stats.poi_matrix(scores, higher_is_better=True, reps=300)
    v, lo, hi = (np.array(m[k], dtype=float) for k in ("value", "low", "high"))
    assert m["algos"] == ["a", "b", "c"] and m["note"] is None
    assert np.all(np.diag(v) == 0.5)
    assert np.allclose(v + v.T, 1.0)
    off = ~np.eye(3, dtype=bool)
    assert np.allclose((lo + hi.T)[off], 1.0)
    assert np.all(lo[off] <= v[off]) and np.all(v[off] <= hi[off])
    assert v[1, 0] == pytest.approx(poi_ref(scores["b"].tolist(), scores["a"].tolist(), True))
    json.dumps(m)                                                # plain data


def test_poi_interval_covers_the_known_answer():
    # X = 0.4 + a_s + b_t + e, Y = a'_s + b_t + e' on shared tasks: the task effect cancels in
    # a paired comparison, so P(X > Y) = Phi(0.4 / sqrt(2 * 0.5^2 + 2 * 1^2))
    truth = phi(0.4 / math.sqrt(2 * 0.25 + 2 * 1.0))
    rng = np.random.default_rng(12)
    hits, n_data = 0, 150
    for r in range(n_data):
        task = rng.standard_normal((1, 40))
        x = 0.4 + 0.5 * rng.standard_normal((10, 1)) + task + rng.standard_normal((10, 40))
        y = 0.5 * rng.standard_normal((10, 1)) + task + rng.standard_normal((10, 40))
        e = stats.probability_of_improvement(x, y, True, reps=400, seed=r)
        hits += e.low <= truth <= e.high
    assert 0.88 <= hits / n_data <= 0.99


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="different numbers of tasks"):
        stats.probability_of_improvement(np.ones((3, 4)), np.ones((3, 5)), True)
    with pytest.raises(ValueError, match=r"\[seeds, tasks\]"):
        stats.iqm_interval(np.ones((2, 3, 4)), True)
    with pytest.raises(ValueError, match="design"):
        stats.iqm_interval(np.ones((3, 4)), True, design="other")


def test_estimate_json_and_text():
    e = stats.Estimate(0.41234, 0.38, 0.45, 5, 100)
    assert e.to_dict() == {"value": 0.41234, "ci95": [0.38, 0.45], "n_seeds": 5, "n_tasks": 100}
    assert e.text() == "0.412 [0.380, 0.450]"
    d = stats.Estimate(math.inf, math.inf, math.inf, 5, 100)
    assert d.to_dict()["diverged"] is True and d.to_dict()["value"] is None
    assert d.text() == "diverged"
    json.dumps(d.to_dict(), allow_nan=False)

"""Tests for curate.training.stats: the paired two-level bootstrap, rate bootstraps, exact McNemar,
seed spread and Wilson intervals.

Expected values are derived independently of the module: a brute-force bootstrap that indexes
the data with the documented draws (``Generator(PCG64(seed))``, per chunk of ``CHUNK`` replicates
the question indices then the seed indices), McNemar p-values summed with ``math.comb``, Wilson
bounds as the roots of the score-test quadratic, and simple closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from curate.training import stats as st


# ----------------------------------------------------------------------------- references

def _draws(s_: int, q_: int, n_boot: int, seed: int):
    """The documented draws, as explicit index arrays: ``(seed_idx [n_boot, S], question_idx
    [n_boot, Q])`` (seed indices all 0..S-1 in order when S == 1: no seed draws)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    sis, qis = [], []
    for start in range(0, n_boot, st.CHUNK):
        c = min(st.CHUNK, n_boot - start)
        qis.append(rng.integers(0, q_, size=(c, q_)))
        sis.append(rng.integers(0, s_, size=(c, s_)) if s_ > 1 else np.zeros((c, 1), dtype=np.int64))
    return np.concatenate(sis), np.concatenate(qis)


def _brute_means(d: np.ndarray, n_boot: int, seed: int):
    """Replicate means of ``d`` [S, Q] by indexing: two-level and questions-only."""
    s_, q_ = d.shape
    si, qi = _draws(s_, q_, n_boot, seed)
    two = np.array([d[np.ix_(si[r], qi[r])].mean() for r in range(n_boot)])
    qonly = np.array([d[:, qi[r]].mean() for r in range(n_boot)])
    return two, qonly


def _pct(values, level=0.95):
    a = (1 - level) / 2
    return tuple(np.quantile(values, [a, 1 - a]))


def _mcnemar_p(b: int, c: int) -> float:
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _wilson_roots(k: int, n: int, z: float):
    """Wilson bounds as the two roots in p of (phat - p)^2 = z^2 p (1 - p) / n."""
    ph = k / n
    a = 1 + z * z / n
    b = -(2 * ph + z * z / n)
    c = ph * ph
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


# ----------------------------------------------------------------------------- paired_bootstrap

def _arms(rng, s_=3, q_=60, shift=0.0):
    base = rng.random(q_)
    a = np.clip(base + rng.normal(0, 0.2, (s_, q_)) + shift, 0, 1)
    b = np.clip(base + rng.normal(0, 0.2, (s_, q_)), 0, 1)
    return a, b


def test_paired_bootstrap_matches_brute_force_resampling():
    rng = np.random.default_rng(1)
    a, b = _arms(rng, s_=3, q_=17)
    n_boot = 1500  # more than one chunk
    res = st.paired_bootstrap(a, b, n_boot=n_boot, seed=7)
    two, qonly = _brute_means(a - b, n_boot, 7)
    assert res.estimate == pytest.approx((a - b).mean(), abs=1e-15)
    assert res.estimate == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert res.ci == pytest.approx(_pct(two), abs=1e-12)
    assert res.ci_questions == pytest.approx(_pct(qonly), abs=1e-12)
    assert (res.n_seeds, res.n_items, res.n_boot, res.seed, res.level, res.n_undefined) == (3, 17, n_boot, 7, 0.95, 0)


def test_paired_bootstrap_is_deterministic_given_seed():
    rng = np.random.default_rng(2)
    a, b = _arms(rng)
    r1 = st.paired_bootstrap(a, b, n_boot=500, seed=3)
    r2 = st.paired_bootstrap(a.tolist(), b.tolist(), n_boot=500, seed=3)
    r3 = st.paired_bootstrap(a, b, n_boot=500, seed=4)
    assert r1 == r2
    assert r1.ci != r3.ci and r1.estimate == r3.estimate


def test_interval_contains_estimate_and_shrinks_with_more_questions():
    rng = np.random.default_rng(3)
    widths = {}
    for q_ in (40, 640):
        a, b = _arms(rng, s_=2, q_=q_, shift=0.05)
        r = st.paired_bootstrap(a, b, n_boot=1000, seed=0)
        assert r.ci[0] <= r.estimate <= r.ci[1]
        assert r.ci_questions[0] <= r.estimate <= r.ci_questions[1]
        widths[q_] = r.ci_questions[1] - r.ci_questions[0]
    # 16x the questions: the question-level standard error shrinks about 4x
    assert widths[640] < 0.5 * widths[40]


def test_identical_arms_give_zero_and_constant_shift_excludes_zero():
    rng = np.random.default_rng(4)
    a, _ = _arms(rng)
    same = st.paired_bootstrap(a, a.copy(), n_boot=300)
    assert same.estimate == 0.0 and same.ci == (0.0, 0.0) and same.ci_questions == (0.0, 0.0)
    assert same.includes_zero()
    shifted = st.paired_bootstrap(a + 0.3, a, n_boot=300)
    assert shifted.estimate == pytest.approx(0.3)
    # every replicate of a constant difference is that constant
    assert shifted.ci == pytest.approx((0.3, 0.3), abs=1e-12)
    assert not shifted.includes_zero()


def test_large_shift_with_noise_excludes_zero():
    rng = np.random.default_rng(5)
    a, b = _arms(rng, s_=3, q_=200, shift=0.2)
    r = st.paired_bootstrap(a, b, n_boot=800)
    assert r.ci[0] > 0 and not r.includes_zero()


def test_single_seed_interval_is_the_question_interval():
    rng = np.random.default_rng(6)
    a, b = _arms(rng, s_=1, q_=50)
    r = st.paired_bootstrap(a, b, n_boot=700, seed=1)
    assert r.n_seeds == 1 and r.ci == r.ci_questions
    _, qonly = _brute_means(a - b, 700, 1)
    assert r.ci == pytest.approx(_pct(qonly), abs=1e-12)


def test_seed_resampling_widens_interval_when_seeds_disagree():
    rng = np.random.default_rng(7)
    q_ = 300
    base = rng.random(q_)
    # per-seed offsets of the difference: training noise the question-only interval ignores
    a = base + np.array([[-0.1], [0.0], [0.1]]) + rng.normal(0, 0.05, (3, q_))
    r = st.paired_bootstrap(a, np.broadcast_to(base, a.shape), n_boot=1000)
    assert (r.ci[1] - r.ci[0]) > 2 * (r.ci_questions[1] - r.ci_questions[0])


def test_bootstrap_means_shares_draws_and_bootstrap_mean_agrees():
    rng = np.random.default_rng(8)
    a, b = _arms(rng, s_=2, q_=30)
    many = st.bootstrap_means(np.stack([a, b, a - b]), n_boot=400, seed=5)
    one_a = st.bootstrap_mean(a, n_boot=400, seed=5)
    pair = st.paired_bootstrap(a, b, n_boot=400, seed=5)
    assert many[0].ci == pytest.approx(one_a.ci, abs=1e-12)
    assert many[2].ci == pytest.approx(pair.ci, abs=1e-12)
    assert many[1].estimate == pytest.approx(b.mean())
    two, _ = _brute_means(a, 400, 5)
    assert one_a.ci == pytest.approx(_pct(two), abs=1e-12)
    d = one_a.as_dict()
    assert isinstance(d["ci"], list) and d["ci"] == list(one_a.ci) and d["n_items"] == 30


def test_level_changes_the_percentiles():
    rng = np.random.default_rng(9)
    a, b = _arms(rng, s_=2, q_=40)
    two, _ = _brute_means(a - b, 600, 0)
    r = st.paired_bootstrap(a, b, n_boot=600, level=0.8)
    assert r.level == 0.8 and r.ci == pytest.approx(_pct(two, 0.8), abs=1e-12)
    assert (r.ci[1] - r.ci[0]) < (st.paired_bootstrap(a, b, n_boot=600).ci[1]
                                  - st.paired_bootstrap(a, b, n_boot=600).ci[0])


@pytest.mark.parametrize("a, b, match", [
    (np.zeros(5), np.zeros(5), "2-D"),
    (np.zeros((2, 5)), np.zeros((2, 4)), "same shape"),
    (np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), "2-D"),
    (np.zeros((0, 4)), np.zeros((0, 4)), "empty"),
    (np.array([[0.0, np.nan]]), np.zeros((1, 2)), "finite"),
    (np.array([[0.0, np.inf]]), np.zeros((1, 2)), "finite"),
])
def test_paired_bootstrap_rejects_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        st.paired_bootstrap(a, b, n_boot=10)


@pytest.mark.parametrize("kw", [{"n_boot": 0}, {"n_boot": 2.5}, {"level": 1.0}, {"level": 0.0}])
def test_bootstrap_rejects_bad_parameters(kw):
    with pytest.raises(ValueError):
        st.paired_bootstrap(np.zeros((1, 3)), np.zeros((1, 3)), **{"n_boot": 10, **kw})


def test_bootstrap_means_rejects_bad_stack():
    with pytest.raises(ValueError, match="3-D"):
        st.bootstrap_means(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3-D"):
        st.bootstrap_means(np.zeros((1, 0, 3)))


def test_coverage_under_the_null_is_near_nominal():
    """True difference 0 (both arms Bernoulli with the same per-question rate): the 95%
    interval should contain 0 in at least ~90% of simulations (the pigeonhole bootstrap is
    mildly conservative for questions)."""
    rng = np.random.default_rng(10)
    s_, q_, sims = 2, 80, 200
    hits = 0
    for i in range(sims):
        p = rng.beta(2, 2, q_)
        a = (rng.random((s_, q_)) < p).astype(float)
        b = (rng.random((s_, q_)) < p).astype(float)
        hits += st.paired_bootstrap(a, b, n_boot=400, seed=i).includes_zero()
    assert hits / sims >= 0.9


# ----------------------------------------------------------------------------- rates

def test_rate_bootstrap_estimate_is_the_pooled_ratio_difference():
    ka = np.array([[1, 0, 2, 0], [0, 1, 1, 0]])
    na = np.array([[1, 1, 2, 0], [1, 1, 2, 1]])
    kb = np.array([[0, 0, 1, 0], [0, 0, 0, 0]])
    nb = np.array([[1, 2, 2, 0], [1, 1, 1, 1]])
    r = st.paired_rate_bootstrap(ka, na, kb, nb, n_boot=500, seed=2)
    # arm A: 5 of 9; arm B: 1 of 9 (a pooled ratio, not the mean of per-item rates)
    assert r.estimate == pytest.approx(5 / 9 - 1 / 9)
    assert r.ci[0] <= r.estimate <= r.ci[1]
    # brute force: the same draws applied to every count array
    si, qi = _draws(2, 4, 500, 2)
    ratios = []
    for rep in range(500):
        idx = np.ix_(si[rep], qi[rep])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios.append(ka[idx].sum() / na[idx].sum() - kb[idx].sum() / nb[idx].sum())
    ratios = np.array(ratios)
    ok = np.isfinite(ratios)
    assert r.n_undefined == int((~ok).sum())
    assert r.ci == pytest.approx(_pct(ratios[ok]), abs=1e-12)


def test_rate_bootstrap_counts_undefined_replicates():
    # only item 0 is applicable in arm A: a replicate that never draws it has no rate
    ka = np.array([[1, 0, 0]])
    na = np.array([[2, 0, 0]])
    kb = np.array([[1, 1, 1]])
    nb = np.array([[1, 1, 1]])
    r = st.paired_rate_bootstrap(ka, na, kb, nb, n_boot=2000, seed=0)
    _, qi = _draws(1, 3, 2000, 0)
    expected_undefined = int((~(qi == 0).any(axis=1)).sum())
    assert r.n_undefined == expected_undefined > 0
    # (2/3)^3 of the replicates draw item 0 never
    assert abs(expected_undefined / 2000 - 8 / 27) < 0.05
    assert r.estimate == pytest.approx(0.5 - 1.0)
    # every defined replicate has A = 1/2 and B = 1
    assert r.ci == pytest.approx((-0.5, -0.5))
    assert r.ci == r.ci_questions


def test_rate_bootstraps_share_draws_and_identical_arms_give_zero():
    rng = np.random.default_rng(11)
    n = rng.integers(0, 3, (2, 2, 25))
    k = np.minimum(n, rng.integers(0, 3, (2, 2, 25)))
    many = st.paired_rate_bootstraps(k, n, k, n, n_boot=300, seed=1)
    assert len(many) == 2
    for r in many:
        assert r.estimate == 0.0 and r.ci == (0.0, 0.0) and r.ci_questions == (0.0, 0.0)
    kb = np.zeros_like(k)
    one = st.paired_rate_bootstrap(k[1], n[1], kb[1], n[1], n_boot=300, seed=1)
    both = st.paired_rate_bootstraps(k, n, kb, n, n_boot=300, seed=1)
    assert both[1].ci == pytest.approx(one.ci, abs=1e-12)
    assert both[1].estimate == pytest.approx(k[1].sum() / n[1].sum())


@pytest.mark.parametrize("ka, na, match", [
    ([[2, 0]], [[1, 1]], "exceed"),
    ([[-1, 0]], [[1, 1]], "non-negative"),
    ([[np.nan, 0]], [[1, 1]], "finite"),
    ([[0, 0]], [[0, 0]], "no applicable"),
])
def test_rate_bootstrap_rejects_bad_counts(ka, na, match):
    with pytest.raises(ValueError, match=match):
        st.paired_rate_bootstrap(ka, na, [[0, 0]], [[1, 1]], n_boot=10)


def test_rate_bootstrap_rejects_bad_shapes():
    with pytest.raises(ValueError, match="2-D"):
        st.paired_rate_bootstrap([1, 0], [1, 1], [0, 0], [1, 1])
    with pytest.raises(ValueError, match="one non-empty shape"):
        st.paired_rate_bootstrap([[1, 0]], [[1, 1]], [[0, 0, 0]], [[1, 1, 1]])
    with pytest.raises(ValueError, match="one non-empty shape"):
        st.paired_rate_bootstraps(np.zeros((1, 2)), np.ones((1, 2)), np.zeros((1, 2)), np.ones((1, 2)))


# ----------------------------------------------------------------------------- McNemar

def test_mcnemar_hand_values():
    r = st.mcnemar_exact([1, 1, 1, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0, 1])
    assert (r.b, r.c, r.n) == (5, 0, 7)
    assert r.p == pytest.approx(2 * (1 / 32))  # 0.0625
    assert st.mcnemar_exact([1, 0, 1], [1, 0, 1]).p == 1.0  # b + c = 0
    assert st.mcnemar_exact([], []).as_dict() == {"b": 0, "c": 0, "n": 0, "p": 1.0}


@pytest.mark.parametrize("b, c", [(3, 7), (7, 3), (5, 5), (0, 1), (1, 12), (10, 30), (2, 2)])
def test_mcnemar_matches_binomial_sum(b, c):
    both, neither = 4, 6
    x = [1] * b + [0] * c + [1] * both + [0] * neither
    y = [0] * b + [1] * c + [1] * both + [0] * neither
    r = st.mcnemar_exact(np.array(x, dtype=bool), np.array(y))
    assert (r.b, r.c, r.n) == (b, c, b + c + both + neither)
    assert r.p == pytest.approx(_mcnemar_p(b, c), rel=1e-12)
    assert r.p == st.mcnemar_exact(y, x).p  # symmetric


@pytest.mark.parametrize("x, y", [([0, 1], [0, 1, 1]), ([[0, 1]], [[0, 1]]), ([0, 2], [0, 1]),
                                  ([0, 0.5], [0, 1]), ([0, np.nan], [0, 1])])
def test_mcnemar_rejects_bad_input(x, y):
    with pytest.raises(ValueError):
        st.mcnemar_exact(x, y)


# ----------------------------------------------------------------------------- seed spread, Wilson

def test_seed_spread():
    s = st.seed_spread([0.5, 0.7, 0.6])
    assert s["mean"] == pytest.approx(0.6)
    # sample std: sqrt(((-0.1)^2 + 0.1^2 + 0) / 2) = 0.1
    assert s["std"] == pytest.approx(0.1)
    assert (s["min"], s["max"]) == (0.5, 0.7) and s["range"] == pytest.approx(0.2)
    assert s["per_seed"] == [0.5, 0.7, 0.6]
    one = st.seed_spread([0.42])
    assert one["std"] is None and one["range"] == 0.0 and one["mean"] == 0.42
    for bad in ([], [0.1, float("nan")], [[0.1, 0.2]]):
        with pytest.raises(ValueError):
            st.seed_spread(bad)


@pytest.mark.parametrize("k, n", [(22, 28), (1, 3), (5, 10), (7, 160), (150, 160)])
def test_wilson_matches_the_score_test_roots(k, n):
    lo, hi = st.wilson(k, n)
    rlo, rhi = _wilson_roots(k, n, 1.959963984540054)
    assert lo == pytest.approx(rlo, abs=1e-12) and hi == pytest.approx(rhi, abs=1e-12)
    assert lo < k / n < hi
    lo2, hi2 = st.wilson(k, n, z=2.576)
    assert lo2 < lo and hi2 > hi  # 99% is wider


def test_wilson_edges():
    assert st.wilson(0, 0) == (None, None)
    z = 1.959963984540054
    lo, hi = st.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx((z * z / 10) / (1 + z * z / 10))
    lo, hi = st.wilson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(1 / (1 + z * z / 10))
    for k, n in ((-1, 3), (4, 3), (1, 0)):
        with pytest.raises(ValueError):
            st.wilson(k, n)

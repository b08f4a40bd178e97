"""Statistics of the arm x seed ablation: paired bootstrap, exact McNemar, seed spread, Wilson.

Pure numpy/scipy functions on arrays; no file I/O (that is :mod:`curate.training.compare`).

The design. Every arm is trained with the same seeds ``1..S`` and every model is scored on the
same ``Q`` TruthfulQA questions, so an arm's per-question scores form an ``[S, Q]`` array
(seeds x questions) and two arms are *paired* twice over: question ``q`` of A with question
``q`` of B, and seed index ``s`` of A with seed index ``s`` of B (the same data order and
initialisation seed). Seeds and questions are crossed random factors: a difference between two
arms has to hold beyond the question sample *and* beyond training noise.

Paired two-level ("pigeonhole") bootstrap, :func:`paired_bootstrap`. The statistic is the mean
of the paired differences::

    d[s, q] = a[s, q] - b[s, q];   T = (1 / (S Q)) sum_s sum_q d[s, q]

Each replicate ``r`` draws ``S`` seed indices and ``Q`` question indices uniformly with
replacement, independently of each other, and the *same* indices for A and B (this is what
makes it paired: the per-question and per-seed correlation of A and B cancels in ``d``)::

    T*_r = (1 / (S Q)) sum_i sum_j d[s*_ri, q*_rj]
         = (1 / (S Q)) sum_s sum_q V[r, s] W[r, q] d[s, q]

with ``V``/``W`` the multiplicities (how often each seed / question was drawn), which is how it
is computed: ``M = W @ d.T`` (``[n_boot, S]``, one matrix product) then ``(V * M).sum(1)``.
The 95% interval is the percentile interval (Efron & Tibshirani 1993, *An Introduction to the
Bootstrap*, ch. 13): the 2.5% and 97.5% quantiles of ``T*`` (``numpy.quantile``, linear
interpolation). Resampling rows and columns of a crossed array independently is McCullagh's
"pigeonhole" bootstrap (McCullagh 2000, "Resampling and exchangeable arrays", *Bernoulli*
6(2):285-301; Owen 2007, "The pigeonhole bootstrap", *Ann. Appl. Stat.* 1(2):386-411). For
``d = mu + u_s + v_q + e_sq`` the true variance of ``T`` is ``su^2/S + sv^2/Q + se^2/(SQ)``;
the pigeonhole bootstrap estimates it with the interaction term counted about three times
(and the seed term shrunk by ``(S-1)/S``), so it is mildly *conservative* except for the
seed term. With ``S = 2..3`` seeds the seed level is a coarse resample (``S = 3`` has 10
distinct seed multisets) and the seed variance itself is poorly known; the interval is honest
about questions, rough about seeds. With ``S = 1`` only questions are resampled.

The question-only interval resamples questions only, all seeds kept (``V = 1``): the
uncertainty from the question sample alone, as if training were deterministic (what a
per-question interval of a single run would say). It is reported for comparison; a gap
between the two intervals is the share of the uncertainty that comes from training seeds.

Every bootstrap draws from ``numpy.random.Generator(PCG64(seed))`` afresh, in chunks of
:data:`CHUNK` replicates (question indices, then seed indices, per chunk), so the result is a
function of ``(inputs, n_boot, seed)`` only, and two calls with the same seed and shape use the
same resamples (common random numbers across comparisons).

Exact McNemar test, :func:`mcnemar_exact` (McNemar 1947, "Note on the sampling error of the
difference between correlated proportions or percentages", *Psychometrika* 12(2):153-157; the
exact binomial form is statsmodels' ``mcnemar(table, exact=True)``): for paired 0/1 outcomes,
``b = #(x=1, y=0)``, ``c = #(x=0, y=1)``; under H0 (equal marginal rates) ``b ~ Binom(b+c,
1/2)`` and the two-sided p-value is ``min(1, 2 * BinomCDF(min(b, c); b+c, 1/2))``, 1 when
``b + c = 0``.

Wilson score interval, :func:`wilson` (Wilson 1927, *JASA* 22(158):209-212; the one
implementation is :func:`curate.core.stats.wilson`, re-exported here, at ``z =`` :data:`Z95`)::

    centre = (p + z^2/(2n)) / (1 + z^2/n);  half = z sqrt(p(1-p)/n + z^2/(4n^2)) / (1 + z^2/n)

Rates with a paired bootstrap, :func:`paired_rate_bootstrap`: per item (probe id) counts
``k[s, i]`` (true) and ``n[s, i]`` (applicable) per seed; the rate is the pooled ratio
``sum k / sum n`` (a ratio estimator, not a mean of per-item rates) and each replicate
recomputes both arms' ratios on the same resampled seeds and items.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

# One Wilson implementation for the package (re-exported here: ``curate.training.stats.wilson``).
from curate.core.stats import Z95, wilson

__all__ = ["CHUNK", "Z95", "BootstrapResult", "McNemarResult", "bootstrap_mean", "bootstrap_means",
           "mcnemar_exact", "paired_bootstrap", "paired_rate_bootstrap", "paired_rate_bootstraps",
           "seed_spread", "wilson"]

#: replicates drawn per chunk (bounds memory at ~CHUNK x Q x 8 bytes; part of the determinism
#: contract: the draws, and so the intervals, depend on it)
CHUNK = 1000


@dataclass(frozen=True)
class BootstrapResult:
    """A bootstrap of a mean or a difference of means.

    ``estimate``: the statistic on the data; ``ci``: ``(lo, hi)`` percentile interval
    resampling seeds and questions (questions only when ``n_seeds == 1``); ``ci_questions``:
    resampling questions only, all seeds kept; ``level``: the coverage (0.95); ``n_seeds``,
    ``n_items`` (questions or probe ids), ``n_boot``, ``seed``: what it was computed from;
    ``n_undefined``: replicates whose statistic was undefined (a ratio with zero denominator;
    left out of the quantiles), always 0 for means."""

    estimate: float
    ci: tuple[float, float]
    ci_questions: tuple[float, float]
    level: float
    n_seeds: int
    n_items: int
    n_boot: int
    seed: int
    n_undefined: int = 0

    def includes_zero(self) -> bool:
        """True when the two-level interval ``ci`` contains 0 (closed interval)."""
        return self.ci[0] <= 0.0 <= self.ci[1]

    def as_dict(self) -> dict:
        """Plain JSON-able dict (tuples as lists)."""
        d = asdict(self)
        d["ci"], d["ci_questions"] = list(self.ci), list(self.ci_questions)
        return d


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test: ``b`` = #(x=1, y=0), ``c`` = #(x=0, y=1), ``n`` pairs, two-sided ``p``."""

    b: int
    c: int
    n: int
    p: float

    def as_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- validation

def _as_matrix(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        raise ValueError(f"{name}: expected a 2-D array [seeds, items], got 1-D of length {arr.shape[0]} "
                         "(wrap a single seed as x[None, :])")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array [seeds, items], got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name}: empty array of shape {arr.shape}")
    return arr


def _check_boot(n_boot: int, level: float) -> None:
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


# ----------------------------------------------------------------------------- the engine

def _resampled_sums(stack: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums of every ``stack[k]`` ([K, S, Q]) under ``n_boot`` pigeonhole resamples.

    Returns ``(two_level, questions_only)``, each ``[K, n_boot]``: ``sum_s sum_q V[r,s] W[r,q]
    x_k[s,q]`` and ``sum_s sum_q W[r,q] x_k[s,q]``. ``W[r]``: multiplicities of ``Q`` question
    indices drawn with replacement; ``V[r]``: of ``S`` seed indices (all 1 when ``S == 1``)."""
    k_, s_, q_ = stack.shape
    rng = np.random.Generator(np.random.PCG64(seed))
    two = np.empty((k_, n_boot))
    qonly = np.empty((k_, n_boot))
    flat = stack.reshape(k_ * s_, q_).T  # [Q, K*S]
    for start in range(0, n_boot, CHUNK):
        c = min(CHUNK, n_boot - start)
        qi = rng.integers(0, q_, size=(c, q_))
        w = np.bincount((qi + (np.arange(c) * q_)[:, None]).ravel(), minlength=c * q_).reshape(c, q_)
        m = (w.astype(np.float64) @ flat).reshape(c, k_, s_)  # [c, K, S]
        if s_ > 1:
            si = rng.integers(0, s_, size=(c, s_))
            v = np.bincount((si + (np.arange(c) * s_)[:, None]).ravel(), minlength=c * s_).reshape(c, 1, s_)
        else:
            v = np.ones((c, 1, 1))
        two[:, start:start + c] = (m * v).sum(axis=2).T
        qonly[:, start:start + c] = m.sum(axis=2).T
    return two, qonly


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- public API

def bootstrap_means(stack, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> list[BootstrapResult]:
    """Two-level bootstrap of the mean of each ``stack[k]``, all with the *same* resamples.

    ``stack``: ``[K, S, Q]`` (K statistics x seeds x questions) of finite numbers, e.g. several
    arms' scores and several pairs' differences ``a - b`` at once. Returns K
    :class:`BootstrapResult`, the k-th equal to ``paired_bootstrap`` of a pair whose difference
    is ``stack[k]`` (the draws depend only on ``(S, Q, n_boot, seed)``, not on K; sums may
    differ in the last bits through the order of floating-point additions). One set of draws
    for all K: the cost of K bootstraps is about one plus a ``[n_boot, Q] x [Q, K S]`` product.
    Raises ``ValueError`` for a non-3-D or empty stack, a NaN or infinity, or
    ``n_boot``/``level`` out of range."""
    x = np.asarray(stack, dtype=np.float64)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"stack: expected a non-empty 3-D array [statistics, seeds, items], got shape {x.shape}")
    _check_boot(n_boot, level)
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite (no NaN or infinity)")
    _, s_, q_ = x.shape
    two, qonly = _resampled_sums(x, n_boot, seed)
    return [BootstrapResult(estimate=float(x[k].mean()), ci=_interval(two[k] / (s_ * q_), level),
                            ci_questions=_interval(qonly[k] / (s_ * q_), level), level=level,
                            n_seeds=s_, n_items=q_, n_boot=int(n_boot), seed=int(seed))
            for k in range(x.shape[0])]


def paired_bootstrap(a, b, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> BootstrapResult:
    """Paired two-level bootstrap of ``mean(a - b)`` (see the module docstring for the formula).

    ``a``, ``b``: ``[S, Q]`` arrays (seeds x questions) of per-question scores (MC1 0/1, MC2 in
    [0, 1], any finite numbers) of arms A and B; row ``s`` of ``a`` is paired with row ``s`` of
    ``b`` and column ``q`` with column ``q``. To compare with a single model (the untrained
    base), pass it broadcast to ``[S, Q]`` (``np.broadcast_to(base, a.shape)``).

    Returns a :class:`BootstrapResult`: ``estimate`` = mean over seeds and questions of
    ``a - b`` (same units as the scores), ``ci`` resampling seeds (when ``S > 1``) and
    questions with replacement, the same indices for A and B, ``ci_questions`` resampling
    questions only. Deterministic given ``seed`` (``Generator(PCG64(seed))``). About 0.3 s for
    10,000 replicates x 817 questions x 3 seeds on one core.

    Raises ``ValueError`` when ``a`` and ``b`` are not 2-D of the same non-empty shape, hold a
    NaN or infinity, or ``n_boot``/``level`` are out of range."""
    a, b = _as_matrix(a, "a"), _as_matrix(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape [seeds, questions], got {a.shape} and {b.shape}")
    return bootstrap_means((a - b)[None], n_boot, seed, level)[0]


def bootstrap_mean(x, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> BootstrapResult:
    """Two-level bootstrap of the mean of one arm's ``[S, Q]`` scores (``estimate`` = mean over
    seeds and questions; with ``S == 1`` the interval is over questions only). Raises
    ``ValueError`` as :func:`paired_bootstrap`."""
    return bootstrap_means(_as_matrix(x, "x")[None], n_boot, seed, level)[0]


def paired_rate_bootstraps(ka, na, kb, nb, n_boot: int = 10_000, seed: int = 0,
                           level: float = 0.95) -> list[BootstrapResult]:
    """Paired two-level bootstrap of differences of pooled rates, K at once with shared resamples.

    ``ka``, ``na`` (arm A), ``kb``, ``nb`` (arm B): ``[K, S, I]`` arrays (statistics x seeds x
    items, e.g. probe ids) of counts: ``k`` = how many of the item's generations have the
    property, ``n`` = how many it applies to (``0 <= k <= n``; an item not applicable in a
    model has ``n = 0``). Statistic ``k``: ``sum(ka[k]) / sum(na[k]) - sum(kb[k]) / sum(nb[k])``
    (pooled ratios: a difference of proportions, not of percentages). Each replicate resamples
    seeds (when ``S > 1``) and items with replacement, the same for A and B, and recomputes both
    pooled ratios; a replicate where a denominator is 0 is undefined, left out of the quantiles
    and counted in ``n_undefined`` (an interval is NaN if every replicate is undefined).
    ``ci_questions`` of the results resamples items only.

    Raises ``ValueError`` for mismatched or non-3-D shapes, negative or non-finite counts,
    ``k > n``, or a statistic with ``sum(n) == 0`` in an arm (no rate to compare)."""
    arrs = [np.asarray(x, dtype=np.float64) for x in (ka, na, kb, nb)]
    if len({x.shape for x in arrs}) != 1 or arrs[0].ndim != 3 or 0 in arrs[0].shape:
        raise ValueError(f"ka, na, kb, nb must have one non-empty shape [statistics, seeds, items], "
                         f"got {[x.shape for x in arrs]}")
    _check_boot(n_boot, level)
    ka, na, kb, nb = arrs
    for x in arrs:
        if not np.isfinite(x).all() or (x < 0).any():
            raise ValueError("counts must be finite and non-negative")
    if (ka > na).any() or (kb > nb).any():
        raise ValueError("k must not exceed n")
    if (na.sum(axis=(1, 2)) == 0).any() or (nb.sum(axis=(1, 2)) == 0).any():
        raise ValueError("an arm has no applicable item (sum of n is 0): no rate to compare")
    k_, s_, i_ = ka.shape
    two, qonly = _resampled_sums(np.concatenate(arrs), n_boot, seed)  # [4K, n_boot]

    def diff(sums):
        with np.errstate(divide="ignore", invalid="ignore"):
            return sums[:k_] / sums[k_:2 * k_] - sums[2 * k_:3 * k_] / sums[3 * k_:]

    d2, dq = diff(two), diff(qonly)
    nan = (float("nan"), float("nan"))
    out = []
    for k in range(k_):
        ok2, okq = np.isfinite(d2[k]), np.isfinite(dq[k])
        out.append(BootstrapResult(
            estimate=float(ka[k].sum() / na[k].sum() - kb[k].sum() / nb[k].sum()),
            ci=_interval(d2[k][ok2], level) if ok2.any() else nan,
            ci_questions=_interval(dq[k][okq], level) if okq.any() else nan,
            level=level, n_seeds=s_, n_items=i_, n_boot=int(n_boot), seed=int(seed),
            n_undefined=int((~ok2).sum())))
    return out


def paired_rate_bootstrap(ka, na, kb, nb, n_boot: int = 10_000, seed: int = 0,
                          level: float = 0.95) -> BootstrapResult:
    """:func:`paired_rate_bootstraps` of one pair of arms: ``ka``, ``na``, ``kb``, ``nb`` are
    ``[S, I]`` (seeds x items) count arrays; the result's ``estimate`` is ``sum(ka)/sum(na) -
    sum(kb)/sum(nb)``. Raises ``ValueError`` as :func:`paired_rate_bootstraps` (and for arrays
    that are not 2-D)."""
    arrs = [_as_matrix(x, name) for x, name in ((ka, "ka"), (na, "na"), (kb, "kb"), (nb, "nb"))]
    return paired_rate_bootstraps(*(x[None] for x in arrs), n_boot=n_boot, seed=seed, level=level)[0]


def mcnemar_exact(x, y) -> McNemarResult:
    """Exact two-sided McNemar test of paired 0/1 outcomes (module docstring for the formula).

    ``x``, ``y``: 1-D arrays of equal length, 0/1 (or bool): e.g. MC1 correctness of arms A
    and B on the same questions (pass several seeds' pairs concatenated to pool them, which
    treats them as independent pairs). Returns :class:`McNemarResult` ``(b, c, n, p)`` with
    ``b = #(x=1, y=0)``, ``c = #(x=0, y=1)``, ``p = min(1, 2 * BinomCDF(min(b, c); b+c, 1/2))``
    (``scipy.stats.binom.cdf``), ``p = 1`` when ``b + c = 0``. Raises ``ValueError`` when the
    arrays are not 1-D of equal length or hold anything other than 0 and 1."""
    from scipy.stats import binom

    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    for arr, name in ((x, "x"), (y, "y")):
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0 and 1")
    x, y = x.astype(bool), y.astype(bool)
    b, c = int((x & ~y).sum()), int((~x & y).sum())
    p = 1.0 if b + c == 0 else min(1.0, 2.0 * float(binom.cdf(min(b, c), b + c, 0.5)))
    return McNemarResult(b=b, c=c, n=int(x.size), p=p)


def seed_spread(per_seed: Sequence[float]) -> dict:
    """Spread of an arm's per-seed means (each seed's mean over questions).

    Returns ``{"per_seed": [float], "mean", "std" (sample std, ddof=1; None with one seed),
    "min", "max", "range" (max - min, 0 with one seed)}``. Raises ``ValueError`` when empty
    or not finite."""
    v = np.asarray(per_seed, dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
        raise ValueError(f"per_seed must be a non-empty 1-D sequence of finite numbers, got {per_seed!r}")
    return {"per_seed": [float(x) for x in v], "mean": float(v.mean()),
            "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "min": float(v.min()), "max": float(v.max()), "range": float(v.max() - v.min())}

"""Small statistics shared by the domain packages (ground floor: standard library only).

:func:`wilson` is the Wilson score interval (Wilson 1927, *JASA* 22(158):209-212; Brown, Cai &
DasGupta 2001) that the detectors' dev-set evaluation (:mod:`curate.detectors.deveval`, which
rounds it to 4 decimals where it reports), the behavioural probes
(:mod:`curate.training.probes`) and the ablation statistics (:mod:`curate.training.stats`)
report. It stays inside [0, 1] and behaves at small n, unlike the normal approximation::

    centre = (p + z^2/(2n)) / (1 + z^2/n);  half = z sqrt(p(1-p)/n + z^2/(4n^2)) / (1 + z^2/n)
"""

from __future__ import annotations

import math

#: The 97.5% standard normal quantile (``scipy.stats.norm.ppf(0.975)``): a 95% interval.
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval for ``k`` successes in ``n`` trials at normal quantile ``z``
    (default :data:`Z95`: 95%), unrounded; ``(None, None)`` when ``n == 0``. The bounds are
    exactly 0.0 when ``k == 0`` and 1.0 when ``k == n`` (where the formula gives them up to
    rounding error). Raises ``ValueError`` unless ``0 <= k <= n``."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None, None
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi

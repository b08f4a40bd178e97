"""Progress bars: one tqdm helper for every long loop, silent when the run is quiet.

A bar goes to stderr only (never stdout, never a file a stage writes), redraws at most about
once a second and shows the rate in ``unit``/s (``record/s``, ``step/s``; tqdm flips to
``s/unit`` when slower than one per second). Quiet (:func:`quiet`) means no bar at all:
``curate --quiet`` (which sets ``CURATE_QUIET=1`` for the whole process), ``CURATE_QUIET=1``
or ``CI=true`` / ``CI=1`` in the environment. The state is read when a bar is made, so a
library caller can set the variable at any time.

Ground floor: the standard library and tqdm only.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable

from tqdm import tqdm

#: Seconds between two redraws of a bar.
MININTERVAL = 1.0


def quiet() -> bool:
    """Whether progress bars are off: ``CURATE_QUIET=1`` (what ``curate --quiet`` sets) or
    ``CI`` set to ``true`` or ``1`` (any case, surrounding spaces ignored)."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci in ("true", "1") or os.environ.get("CURATE_QUIET", "").strip() == "1"


def progress(iterable: Iterable | None = None, *, total: int | float | None = None, desc: str,
             unit: str = "record", enabled: bool = True, **kwargs: Any) -> tqdm:
    """A tqdm bar over ``iterable`` (or a manual one: ``total``, then ``.update(n)``) on
    stderr, labelled ``desc``, counting ``unit``\\ s; disabled (no output at all, still usable)
    when :func:`quiet` or not ``enabled``. ``kwargs`` go to tqdm (e.g. ``initial``,
    ``mininterval``, ``file``). Use it as a context manager or ``close()`` it."""
    opts = {"file": sys.stderr, "mininterval": MININTERVAL, "dynamic_ncols": True, **kwargs}
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=quiet() or not enabled, **opts)

"""Text helpers shared by every stage: the normalised form used as an exact-duplicate key, and
the clipping/quoting that reasons and reports use to quote their evidence."""

from __future__ import annotations

import re
from collections import Counter
from typing import Mapping

_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lowercased, whitespace runs collapsed to one space, stripped: the key of exact dedupe and
    of generation's exact-duplicate guard (``"Name  a\\nColour"`` -> ``"name a colour"``)."""
    return _WS.sub(" ", text).strip().lower()


def clip(text: str, n: int, *, collapse: bool = True, keep: str = "start") -> str:
    """``text`` cut to at most ``n`` characters with ``…`` marking the cut; ``keep="end"`` keeps
    the end (where a truncation shows). ``collapse`` first turns whitespace runs into one space
    and strips. Raises ``ValueError`` for another ``keep``."""
    if collapse:
        text = _WS.sub(" ", text).strip()
    if len(text) <= n:
        return text
    if keep == "start":
        return text[: n - 1] + "…"
    if keep == "end":
        return "…" + text[-(n - 1):]
    raise ValueError(f"keep must be 'start' or 'end', not {keep!r}")


def quote(text: str, n: int = 60, keep: str = "start") -> str:
    """:func:`clip` (whitespace collapsed) as a Python ``repr``: how a reason quotes the text it
    is about, e.g. ``'Describe the attached photo.'``."""
    return repr(clip(text, n, keep=keep))


def oneline(text: object, limit: int = 300) -> str:
    """``str(text)`` with whitespace runs collapsed to one space, cut to ``limit`` characters
    (the last three are ``...`` when cut): an error quoted inside a one-line message."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def format_counts(counts: Mapping) -> str:
    """A counter as ``"rate_limit 6, http_500 2"``, most common first (ties in insertion
    order); ``"none"`` when empty."""
    return ", ".join(f"{k} {n}" for k, n in Counter(counts).most_common()) or "none"

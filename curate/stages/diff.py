"""``curate diff A B``: record-level diff of two dataset versions (files or ``REV:path``)."""

from __future__ import annotations

from curate.analysis.diff import diff_versions


def run(a: str, b: str, examples: int = 3, fmt: str = "text") -> str:
    """The diff as text or JSON (see :func:`curate.analysis.diff.diff_versions`)."""
    return diff_versions(a, b, examples=examples, fmt=fmt)

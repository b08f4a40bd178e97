"""Stage parameters: one section of params.yaml merged over a stage's documented defaults."""

from __future__ import annotations

from typing import Any, Mapping

from curate.errors import CurateError


def merge_params(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, section: str) -> dict[str, Any]:
    """``defaults`` updated with ``overrides``. Raises :class:`CurateError` naming the
    params.yaml ``section`` and the known keys when an override key is unknown (a typo would
    otherwise be silently ignored)."""
    out = dict(defaults)
    for k, v in (overrides or {}).items():
        if k not in defaults:
            raise CurateError(f"params.yaml {section}: unknown parameter {k!r}; known: {sorted(defaults)}")
        out[k] = v
    return out

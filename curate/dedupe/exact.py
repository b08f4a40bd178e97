"""Exact duplicates: records whose ``fields`` are equal after :func:`curate.core.text.normalize_text`
(lowercased, whitespace runs collapsed, stripped); the first record of each group is kept."""

from __future__ import annotations

from typing import Mapping, Sequence

from curate.core.text import normalize_text
from curate.dedupe.common import Found

CHECK = "exact"


def exact_reason(matched_id: str, fields: Sequence[str]) -> str:
    """The reason of an exact-duplicate drop (both executors write this text)."""
    return f"exact duplicate of {matched_id} on {'+'.join(fields)} after whitespace/case normalisation"


def exact_duplicates(records: Sequence[Mapping[str, str]], params: Mapping) -> Found:
    """Exact duplicates among ``records`` (dicts with ``id`` and the compared fields).

    ``params``: the validated ``dedupe.exact`` section; ``fields`` (list of field names) is
    compared. Every later record of a group is dropped with score 1.0 and ``matched_id`` the
    group's first record. Returns :class:`curate.dedupe.common.Found`; O(N) time."""
    fields = params["fields"]
    first: dict[tuple, Mapping] = {}
    found = Found()
    for pos, rec in enumerate(records):
        key = tuple(normalize_text(rec[f]) for f in fields)
        m = first.get(key)
        if m is None:
            first[key] = rec
        else:
            found.drop(pos, rec, CHECK, 1.0, m["id"], exact_reason(m["id"], fields))
    return found

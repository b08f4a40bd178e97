"""Record-level diff of two dataset versions: added, removed and changed records (per field).

A version is a file (any format :func:`curate.core.io.iter_raw` reads, or a stage's Parquet output) or
``REV:path`` — a git revision and a path in the repository, read through ``dvc.api.open`` so
DVC-tracked outputs of an earlier commit work too.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Sequence

from curate.core.errors import CurateError
from curate.core.text import clip
from curate.core.schema import TEXT_FIELDS

_REV = re.compile(r"^(?P<rev>[^:/\\][^:]*):(?P<path>[^:].*)$")


def _materialise(spec: str) -> tuple[str, str]:
    """Return (local path, label); a ``REV:path`` spec is fetched through ``dvc.api``."""
    m = _REV.match(spec)
    if m is None or Path(spec).exists() or "://" in spec or spec.startswith("hf:"):
        return spec, spec
    import dvc.api

    rev, path = m.group("rev"), m.group("path")
    tmp = Path(tempfile.mkdtemp(prefix="curate-diff-")) / Path(path).name
    try:
        with dvc.api.open(path, rev=rev, mode="rb") as src:
            tmp.write_bytes(src.read())
    except Exception as e:  # dvc raises many types: missing rev, path, cache
        raise CurateError(f"{spec}: cannot read {path!r} at revision {rev!r}: {' '.join(str(e).split())}") from None
    return str(tmp), spec


def load_version(spec: str) -> tuple[dict[tuple, dict], int]:
    """Load a version as ``{key: record}`` keyed by ``id``; returns it and the number of items
    that could not be read as records (quarantined by ingest's rules). Reads through
    :func:`curate.core.ingest.ingest`, so bad input is a one-line :class:`CurateError` or a
    quarantined item, never another exception."""
    from curate.core.ingest import ingest

    path, _ = _materialise(spec)
    records, quarantine, _ = ingest([path])
    return {r["id"]: r for r in records.to_pylist()}, quarantine.num_rows


def diff_records(a: dict, b: dict, fields: Sequence[str] = TEXT_FIELDS) -> dict:
    """Compare two ``{id: record}`` maps. Returns counts (``added``, ``removed``, ``changed``,
    ``unchanged``, ``changed_by_field``) and the lists of ids (``added_ids`` ... sorted)."""
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    changed, by_field = [], Counter()
    for k in sorted(set(a) & set(b)):
        diff_fields = [f for f in fields if a[k][f] != b[k][f]]
        if diff_fields:
            changed.append((k, diff_fields))
            by_field.update(diff_fields)
    return {"added": len(added), "removed": len(removed), "changed": len(changed),
            "unchanged": len(set(a) & set(b)) - len(changed),
            "changed_by_field": dict(sorted(by_field.items())),
            "added_ids": added, "removed_ids": removed, "changed_ids": changed}


def _one_line(text: str, n: int = 160) -> str:
    """``text`` on one line (newlines shown as ``\\n``), clipped to ``n`` characters."""
    return clip(text.replace("\n", "\\n"), n, collapse=False)


def diff_versions(spec_a: str, spec_b: str, examples: int = 3, fmt: str = "text") -> str:
    """``curate diff A B``: a report of the record-level differences from A to B, as text or
    JSON (``fmt``), with up to ``examples`` examples of each kind."""
    a, qa = load_version(spec_a)
    b, qb = load_version(spec_b)
    d = diff_records(a, b)
    ex = {
        "added": [{"id": k, **{f: b[k][f] for f in TEXT_FIELDS}} for k in d["added_ids"][:examples]],
        "removed": [{"id": k, **{f: a[k][f] for f in TEXT_FIELDS}} for k in d["removed_ids"][:examples]],
        "changed": [{"id": k, "fields": {f: {"before": a[k][f], "after": b[k][f]} for f in fs}}
                    for k, fs in d["changed_ids"][:examples]],
    }
    summary = {"a": spec_a, "b": spec_b, "records_a": len(a), "records_b": len(b),
               "unreadable_a": qa, "unreadable_b": qb,
               **{k: d[k] for k in ("added", "removed", "changed", "unchanged", "changed_by_field")},
               "examples": ex}
    if fmt == "json":
        return json.dumps(summary, ensure_ascii=False, indent=2)
    lines = [f"A: {spec_a} ({len(a)} records)", f"B: {spec_b} ({len(b)} records)",
             f"added {d['added']}, removed {d['removed']}, changed {d['changed']}, unchanged {d['unchanged']}"]
    if d["changed_by_field"]:
        lines.append("changed fields: " + ", ".join(f"{k} {v}" for k, v in d["changed_by_field"].items()))
    for kind in ("added", "removed"):
        for e in ex[kind]:
            lines.append(f"{'+' if kind == 'added' else '-'} {e['id']}: {_one_line(e['instruction'], 100)}")
    for e in ex["changed"]:
        lines.append(f"~ {e['id']}")
        for f, ba in e["fields"].items():
            lines.append(f"    {f}: {_one_line(ba['before'])!s}")
            lines.append(f"    {' ' * len(f)}→ {_one_line(ba['after'])!s}")
    return "\n".join(lines)

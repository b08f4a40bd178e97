"""Ingest: validate raw records into the shared schema; quarantine what cannot be used.

Every item read ends up either ingested or quarantined with the file, record number, field
and reason, and the stage checks ``ingested + quarantined == read`` itself.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa

from curate.errors import CurateError
from curate.io import RawItem, iter_raw
from curate.schema import TEXT_FIELDS, content_id, make_record, quarantine_table, records_table

RAW_PREVIEW_CHARS = 500  # how much of a quarantined record is kept for inspection
_PASSTHROUGH = {"id", "source", "source_index", "meta"}


def _preview(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    return text[:RAW_PREVIEW_CHARS]


def _check_text(name: str, value: Any, max_chars: int) -> str | None:
    """Return why ``value`` cannot be the text field ``name``, or None if it can."""
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        return f"wrong type: {kind}, expected string"
    for i, ch in enumerate(value):
        if "\ud800" <= ch <= "\udfff":
            return f"invalid UTF-8: undecodable byte at character {i}"
    if "\x00" in value:
        return f"NUL byte at character {value.index(chr(0))}"
    if len(value) > max_chars:
        return f"too long: {len(value)} characters, limit {max_chars} (ingest.max_field_chars)"
    if name == "instruction" and not value.strip():
        return "empty instruction"
    return None


def validate(item: RawItem, field_map: Mapping[str, str], max_chars: int) -> tuple[dict | None, dict | None]:
    """Check one raw item. Returns ``(fields, None)`` with the renamed, validated fields, or
    ``(None, quarantine_row)`` naming the field and the reason."""

    def bad(reason: str, field: str | None = None, rid: str | None = None) -> tuple[None, dict]:
        raw = item.raw if item.raw is not None else _preview(item.value)
        return None, {"file": item.source, "record_number": item.number, "id": rid,
                      "field": field, "reason": reason, "raw": raw[:RAW_PREVIEW_CHARS]}

    if item.error is not None:
        return bad(item.error)
    value = item.value
    if not isinstance(value, dict):
        return bad(f"wrong type: record is {type(value).__name__}, expected an object")
    rec = {field_map.get(k, k): v for k, v in value.items()}
    rid = rec.get("id")
    if rid is not None and (not isinstance(rid, str) or not rid.strip()):
        return bad("wrong type: id must be a non-empty string", "id")
    for name in TEXT_FIELDS:
        if name not in rec:
            return bad("missing field", name, rid)
        why = _check_text(name, rec[name], max_chars)
        if why:
            return bad(why, name, rid)
    return rec, None


def load_sidecar(path: str | Path) -> list[dict]:
    """A provenance sidecar: JSONL with one object per record of its data file, in order; a
    first line holding a ``legend`` key documents the fields and is skipped. Raises
    :class:`CurateError` naming the line of a malformed entry."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CurateError(f"{path}: line {n}: malformed JSON: {e.msg}") from None
        if not isinstance(obj, dict):
            raise CurateError(f"{path}: line {n}: expected a JSON object")
        if n == 1 and "legend" in obj:
            continue
        out.append(obj)
    return out


def ingest(sources: Iterable[str], field_map: Mapping[str, str] | None = None,
           max_chars: int = 100_000,
           provenance: Mapping[str, str] | None = None) -> tuple[pa.Table, pa.Table, dict]:
    """Read ``sources`` (paths, ``hf:`` specs or URLs; see :func:`curate.io.iter_raw`) into
    records. Returns ``(records, quarantine, metrics)``.

    Ids: a record's own ``id`` field when present (a repeated id is quarantined), else
    :func:`curate.schema.content_id` with ``-2``, ``-3`` ... for repeats of the same prompt.
    Extra fields of a record are kept in ``meta``. ``provenance`` maps a source to a sidecar
    (:func:`load_sidecar`) whose k-th entry becomes ``meta.provenance`` of that source's record
    k. Raises :class:`CurateError` for a file that
    cannot be read at all, when nothing at all is read, or if the counts do not add up.
    """
    field_map = dict(field_map or {})
    rows, bad_rows = [], []
    seen_ids: dict[str, str] = {}
    content_counts: Counter[str] = Counter()
    read = Counter()
    provenance = dict(provenance or {})
    for spec in sources:
        sidecar = load_sidecar(provenance[spec]) if spec in provenance else None
        for item in iter_raw(spec):
            read[item.source] += 1
            rec, bad = validate(item, field_map, max_chars)
            if bad is None:
                rid = rec.get("id")
                if rid is None:
                    base = content_id(rec["instruction"], rec["input"])
                    content_counts[base] += 1
                    n = content_counts[base]
                    rid = base if n == 1 else f"{base}-{n}"
                if rid in seen_ids:
                    bad = {"file": item.source, "record_number": item.number, "id": rid, "field": "id",
                           "reason": f"duplicate id: first seen at {seen_ids[rid]}",
                           "raw": _preview(item.value)}
            if bad is not None:
                bad_rows.append(bad)
                continue
            seen_ids[rid] = f"{item.source} record {item.number}"
            meta = rec.get("meta") if isinstance(rec.get("meta"), dict) else {}
            meta.update({k: v for k, v in rec.items() if k not in _PASSTHROUGH and k not in TEXT_FIELDS})
            if sidecar is not None:
                if item.number >= len(sidecar):
                    raise CurateError(f"{provenance[spec]}: no entry for record {item.number} of {spec}")
                meta["provenance"] = sidecar[item.number]
            keep_src = isinstance(rec.get("source"), str) and isinstance(rec.get("source_index"), int)
            rows.append(make_record(
                id=rid, instruction=rec["instruction"], input=rec["input"], output=rec["output"],
                source=rec["source"] if keep_src else item.source,
                source_index=rec["source_index"] if keep_src else item.number, meta=meta))
    total = sum(read.values())
    if total == 0:
        raise CurateError(f"no records read from {list(sources)}")
    if len(rows) + len(bad_rows) != total:  # the stage's own conservation check
        raise CurateError(f"ingest lost records: read {total}, ingested {len(rows)}, quarantined {len(bad_rows)}")
    reasons = Counter(r["reason"].split(":")[0] for r in bad_rows)
    metrics = {"records_read": total, "ingested": len(rows), "quarantined": len(bad_rows),
               "quarantined_by_reason": dict(sorted(reasons.items())), "read_by_source": dict(read)}
    return records_table(rows), quarantine_table(bad_rows), metrics

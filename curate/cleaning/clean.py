"""Clean stage: apply the annotations of earlier stages to the ingested records.

A record with any ``drop`` annotation is dropped (its reasons are kept in the dropped table);
``normalize`` annotations replace the named field with their ``value``, in stage order then row
order; ``review`` and ``repair`` keep the record and are listed in its ``meta.flags``. The
stage checks ``records_read == kept + dropped + quarantined``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Sequence

import pyarrow as pa

from curate.errors import CurateError
from curate.schema import RECORD_SCHEMA

DROPPED_SCHEMA = pa.schema(list(RECORD_SCHEMA) + [
    pa.field("drop_check", pa.string()), pa.field("drop_reason", pa.string()),
    pa.field("drop_matched_id", pa.string())])


def apply_annotations(records: pa.Table, annotations: Sequence[pa.Table],
                      quarantined: int = 0, records_read: int | None = None) -> tuple[pa.Table, pa.Table, dict]:
    """Apply ``annotations`` (ANNOTATION_SCHEMA tables, in stage order) to ``records``.

    Returns ``(clean, dropped, metrics)``: ``clean`` has RECORD_SCHEMA with normalised fields and
    ``meta.changes`` (field, check, reason and the old value: the record's history) / ``meta.flags`` for review/repair; ``dropped`` has
    the record plus its first drop check, reason and matched id. Raises :class:`CurateError`
    when an annotation names an unknown record or the counts do not add up.
    """
    by_id: dict[str, list[dict]] = defaultdict(list)
    for t in annotations:
        for a in t.to_pylist():
            by_id[a["id"]].append(a)
    rows = records.to_pylist()
    known = {r["id"] for r in rows}
    unknown = [i for i in by_id if i not in known]
    if unknown:
        raise CurateError(f"{len(unknown)} annotations name records that were not ingested, e.g. {unknown[:3]}")
    kept, dropped = [], []
    drop_checks, norm_checks, flag_checks = Counter(), Counter(), Counter()
    for r in rows:
        anns = by_id.get(r["id"], [])
        drops = [a for a in anns if a["action"] == "drop"]
        if drops:
            d = drops[0]
            drop_checks[d["check_name"]] += 1
            dropped.append(dict(r, drop_check=d["check_name"], drop_reason=d["reason"], drop_matched_id=d["matched_id"]))
            continue
        meta = json.loads(r["meta"])
        for a in anns:
            if a["action"] == "normalize" and a["field"] is not None:
                meta.setdefault("changes", []).append({"field": a["field"], "check_name": a["check_name"],
                                                       "reason": a["reason"], "old": r[a["field"]]})
                r[a["field"]] = a["value"]
                norm_checks[a["check_name"]] += 1
            elif a["action"] in ("review", "repair"):
                meta.setdefault("flags", []).append({"action": a["action"], "check_name": a["check_name"], "reason": a["reason"]})
                flag_checks[f"{a['action']}:{a['check_name']}"] += 1
        r["meta"] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        kept.append(r)
    n_in = len(rows)
    read = n_in + quarantined if records_read is None else records_read
    metrics = {
        "records_read": read, "quarantined": quarantined, "ingested": n_in,
        "kept": len(kept), "dropped": len(dropped),
        "dropped_by_check": dict(sorted(drop_checks.items())),
        "normalized_by_check": dict(sorted(norm_checks.items())),
        "records_normalized": sum(1 for r in kept if '"changes"' in r["meta"]),
        "flagged": dict(sorted(flag_checks.items())),
        "conservation_ok": read == len(kept) + len(dropped) + quarantined,
    }
    if not metrics["conservation_ok"]:
        raise CurateError(f"clean lost records: read {read} != kept {len(kept)} + dropped {len(dropped)} + quarantined {quarantined}")
    return (pa.Table.from_pylist(kept, schema=RECORD_SCHEMA),
            pa.Table.from_pylist(dropped, schema=DROPPED_SCHEMA), metrics)

"""Clean stage: apply the annotations of earlier stages to the ingested records.

A record with any ``drop`` annotation is dropped (its reasons are kept in the dropped table);
``normalize`` annotations replace the named field with their ``value``, in stage order then row
order; ``review`` and ``repair`` keep the record and are listed in its ``meta.flags``. The
stage checks ``records_read == kept + dropped + quarantined`` against the count that ingest read
from the files (``reports/ingest.json``), so a record lost between the stages fails it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pyarrow as pa

from curate.core.errors import CurateError
from curate.core.schema import RECORD_SCHEMA

DROPPED_SCHEMA = pa.schema(list(RECORD_SCHEMA) + [
    pa.field("drop_check", pa.string()), pa.field("drop_reason", pa.string()),
    pa.field("drop_matched_id", pa.string())])


def ingest_records_read(path: str | Path) -> int:
    """``records_read`` from ingest's metrics file (``reports/ingest.json``): the count clean's
    conservation check compares against. Raises :class:`CurateError` when the file is missing,
    malformed or has no non-negative integer ``records_read``."""
    path = Path(path)
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurateError(f"{path}: no such file; run `curate ingest` first (clean checks its counts "
                          "against what ingest read)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CurateError(f"{path}: cannot read ingest's metrics: {e}") from None
    n = m.get("records_read") if isinstance(m, dict) else None
    if type(n) is not int or n < 0:
        raise CurateError(f"{path}: records_read missing or not a non-negative integer: {n!r}")
    return n


def index_annotations(annotations: Sequence[pa.Table]) -> dict[str, list[dict]]:
    """``{record id: [annotation rows]}`` of ANNOTATION_SCHEMA tables, in stage order then row
    order: the order :func:`apply_rows` applies them in."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for t in annotations:
        for a in t.to_pylist():
            by_id[a["id"]].append(a)
    return dict(by_id)


def unknown_ids(by_id: Mapping[str, list], ids: Iterable[str]) -> None:
    """Raise :class:`CurateError` when an annotation of ``by_id`` names a record not in ``ids``."""
    known = set(ids)
    unknown = [i for i in by_id if i not in known]
    if unknown:
        raise CurateError(f"{len(unknown)} annotations name records that were not ingested, e.g. {unknown[:3]}")


def apply_rows(rows: Iterable[dict], by_id: Mapping[str, list[dict]]) -> tuple[list[dict], list[dict], dict]:
    """The annotations of ``by_id`` applied to record dicts ``rows`` (RECORD_SCHEMA rows; edited
    in place): ``(kept, dropped, counts)``, in input order; ``counts`` holds Counters ``drop``,
    ``normalize`` (by check), ``flag`` (``action:check``) and the int ``normalized`` (records
    this call normalised). A pure function of its rows, so any split of the records into
    batches gives the same rows and counts that add up (``executor: ray``). Raises
    :class:`CurateError` when a kept record's ``meta.changes``/``meta.flags`` is not a list."""
    kept, dropped = [], []
    drop_checks, norm_checks, flag_checks = Counter(), Counter(), Counter()
    normalized = 0
    for r in rows:
        anns = by_id.get(r["id"], [])
        drops = [a for a in anns if a["action"] == "drop"]
        if drops:
            d = drops[0]
            drop_checks[d["check_name"]] += 1
            dropped.append(dict(r, drop_check=d["check_name"], drop_reason=d["reason"], drop_matched_id=d["matched_id"]))
            continue
        meta = json.loads(r["meta"])
        for key in ("changes", "flags"):  # ingest keeps a source's own non-list values as input_<key>
            if not isinstance(meta.get(key, []), list):
                raise CurateError(f"record {r['id']!r}: meta.{key} is not a list; re-run ingest")
        touched = False
        for a in anns:
            if a["action"] == "normalize" and a["field"] is not None:
                meta.setdefault("changes", []).append({"field": a["field"], "check_name": a["check_name"],
                                                       "reason": a["reason"], "old": r[a["field"]]})
                r[a["field"]] = a["value"]
                norm_checks[a["check_name"]] += 1
                touched = True
            elif a["action"] in ("review", "repair"):
                meta.setdefault("flags", []).append({"action": a["action"], "check_name": a["check_name"], "reason": a["reason"]})
                flag_checks[f"{a['action']}:{a['check_name']}"] += 1
        normalized += touched
        r["meta"] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        kept.append(r)
    return kept, dropped, {"drop": drop_checks, "normalize": norm_checks, "flag": flag_checks, "normalized": normalized}


def clean_metrics(n_in: int, kept: int, dropped: int, counts: Mapping, quarantined: int = 0,
                  records_read: int | None = None) -> dict:
    """clean's metrics from the counts of :func:`apply_rows` (``n_in`` records ingested), with
    the conservation check ``records_read == kept + dropped + quarantined``. Raises
    :class:`CurateError` when it fails."""
    read = n_in + quarantined if records_read is None else records_read
    metrics = {
        "records_read": read, "quarantined": quarantined, "ingested": n_in,
        "kept": kept, "dropped": dropped,
        "dropped_by_check": dict(sorted(counts["drop"].items())),
        "normalized_by_check": dict(sorted(counts["normalize"].items())),
        "records_normalized": counts["normalized"],
        "flagged": dict(sorted(counts["flag"].items())),
        "conservation_ok": read == kept + dropped + quarantined,
    }
    if not metrics["conservation_ok"]:
        raise CurateError(f"clean lost records: read {read} != kept {kept} + dropped {dropped} + "
                          f"quarantined {quarantined}; the ingest outputs changed after ingest counted them "
                          "(re-run `curate ingest`)")
    return metrics


def apply_annotations(records: pa.Table, annotations: Sequence[pa.Table],
                      quarantined: int = 0, records_read: int | None = None) -> tuple[pa.Table, pa.Table, dict]:
    """Apply ``annotations`` (ANNOTATION_SCHEMA tables, in stage order) to ``records``.

    Returns ``(clean, dropped, metrics)``: ``clean`` has RECORD_SCHEMA with normalised fields and
    ``meta.changes`` (field, check, reason and the old value: the record's history) / ``meta.flags`` for review/repair; ``dropped`` has
    the record plus its first drop check, reason and matched id. ``records_read`` is what ingest
    read from the files (its ``metrics["records_read"]``); without it the check can only restate
    ``ingested + quarantined`` and cannot fail. ``metrics["records_normalized"]`` counts the
    records this call normalised (not those whose meta already held a history). Raises
    :class:`CurateError` when an annotation names an unknown record, a kept record's
    ``meta.changes``/``meta.flags`` is not a list, or the counts do not add up.
    ``executor: ray`` applies the same :func:`apply_rows` per batch
    (:func:`curate.core.distributed.clean_ray`).
    """
    by_id = index_annotations(annotations)
    rows = records.to_pylist()
    unknown_ids(by_id, (r["id"] for r in rows))
    kept, dropped, counts = apply_rows(rows, by_id)
    metrics = clean_metrics(len(rows), len(kept), len(dropped), counts, quarantined, records_read)
    return (pa.Table.from_pylist(kept, schema=RECORD_SCHEMA),
            pa.Table.from_pylist(dropped, schema=DROPPED_SCHEMA), metrics)

"""Ingest: validate raw records into the shared schema; quarantine what cannot be used.

Every item read ends up either ingested or quarantined with the file, record number, field
and reason, and the stage checks ``ingested + quarantined == read`` itself.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa

from curate.core.errors import CurateError
from curate.core.text import clip
from curate.core.io import DuplicateKeys, RawItem, Unusable, iter_raw, loads
from curate.core.schema import TEXT_FIELDS, content_id, make_record, quarantine_table, records_table

RAW_PREVIEW_CHARS = 500  # how much of a quarantined record is kept for inspection
MAX_DEPTH = 100  # nesting levels of an extra field kept in meta; json.dumps would recurse on deeper ones
#: Keys of ``meta`` that curate itself writes: an input field of the same name is kept as
#: ``input_<name>`` so that clean's history and flags never mix with a source's own fields.
RESERVED_META = ("changes", "flags")
_MISSING = object()


def printable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes, bad ``\\ud800`` escapes) written as
    ``\\udcxx`` escapes, so that it can be stored as UTF-8 (quarantine rows, previews)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def preview(value: Any) -> str:
    """The first :data:`RAW_PREVIEW_CHARS` characters of ``value`` as JSON (or its repr), printable."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except Exception:  # bytes, markers, nesting too deep to serialise
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__} too deeply nested to show>"
    return printable(text[:RAW_PREVIEW_CHARS])[:RAW_PREVIEW_CHARS]


def _kind(value: Any) -> str:
    return "null" if value is None else value.kind if isinstance(value, Unusable) else type(value).__name__


_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate(value: str) -> str | None:
    """Why ``value`` is not valid Unicode text, or None."""
    m = _SURROGATE.search(value)
    if m is None:
        return None
    ch, i = m.group(), m.start()
    if "\udc80" <= ch <= "\udcff":  # what surrogateescape makes of an undecodable byte
        return f"invalid UTF-8: undecodable byte at character {i}"
    # a lone surrogate escape in the JSON text, e.g. "\ud800"
    return f"invalid Unicode: lone surrogate {ch.encode('utf-8', 'backslashreplace').decode()} at character {i}"


def _blank(value: str) -> bool:
    # whitespace and invisible format characters (zero-width space, BOM) do not make an instruction
    value = value.strip()
    if not value or unicodedata.category(value[0]) != "Cf":
        return not value
    return not "".join(ch for ch in value if unicodedata.category(ch) != "Cf").strip()


def _check_text(name: str, value: Any, max_chars: int) -> str | None:
    """Return why ``value`` cannot be the text field ``name``, or None if it can."""
    if isinstance(value, Unusable):
        return value.reason
    if not isinstance(value, str):
        return f"wrong type: {_kind(value)}, expected string"
    why = _surrogate(value)
    if why:
        return why
    if "\x00" in value:
        return f"NUL byte at character {value.index(chr(0))}"
    if len(value) > max_chars:
        return f"too long: {len(value)} characters, limit {max_chars} (ingest.max_field_chars)"
    if name == "instruction" and _blank(value):
        return "empty instruction"
    return None


class UnsafeValue(Exception):
    """A value that cannot go into ``meta`` (raised by :func:`json_safe`): ``path`` (``field``,
    ``field.key``, ``field[3]``) and ``why``, the quarantine reason."""

    def __init__(self, path: str, why: str):
        super().__init__(why)
        self.path, self.why = path, why


def _duration(td: datetime.timedelta) -> str:
    iso = getattr(td, "isoformat", None)  # pandas.Timedelta keeps nanoseconds
    if iso is not None:
        return iso()
    sign, td = ("-", -td) if td < datetime.timedelta(0) else ("", td)
    h, rest = divmod(td.seconds, 3600)
    return f"{sign}P{td.days}DT{h}H{rest // 60}M{rest % 60}.{td.microseconds:06d}S"


def json_safe(value: Any, path: str, depth: int = 0) -> Any:
    """``value`` (from JSON, Parquet or the Hub) as plain JSON for ``meta``. Kept as they are:
    null, bool, int, finite float, str, lists and string-keyed objects. Converted, documented in
    README: NaN/Infinity/-Infinity -> the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
    datetime/date/time -> ISO 8601 strings; durations -> ISO 8601 durations (``P0DT0H0M1.5S``);
    Decimal -> its exact decimal string; bytes -> base64 (standard alphabet); tuples (Arrow
    map entries, intervals) -> lists. Raises :class:`UnsafeValue` for invalid Unicode in a string or
    a key, a repeated or non-string key, nesting over :data:`MAX_DEPTH`, an integer too large or
    any other type."""
    if depth > MAX_DEPTH:
        raise UnsafeValue(path, f"nested too deeply: more than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        limit = sys.get_int_max_str_digits()  # json.dumps cannot write an int over it
        if limit and value.bit_length() > 3 * limit and abs(value) >= 10**limit:
            raise UnsafeValue(path, f"integer too large: over {limit} digits, Python's limit")
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, str):
        why = _surrogate(value)
        if why:
            raise UnsafeValue(path, why)
        return value
    if isinstance(value, Unusable):
        raise UnsafeValue(path, value.reason)
    if isinstance(value, DuplicateKeys):
        raise UnsafeValue(path, f"duplicate key: {printable(value.dups[0])!r} appears more than once; "
                            "only its last value would be kept")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise UnsafeValue(path, f"unsupported key: {type(k).__name__} {k!r}, expected string")
            why = _surrogate(k)
            if why:
                raise UnsafeValue(f"{path}.{printable(k)}", f"{why} of the key")
            out[k] = json_safe(v, f"{path}.{k}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, datetime.timedelta):
        return _duration(value)
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise UnsafeValue(path, f"unsupported value: {type(value).__name__} cannot be stored in meta")


def validate(item: RawItem, field_map: Mapping[str, str], max_chars: int) -> tuple[dict | None, dict | None]:
    """Check one raw item. Returns ``(fields, None)`` or ``(None, quarantine_row)`` naming the
    field and the reason (a row of :data:`curate.core.schema.QUARANTINE_SCHEMA`).

    ``fields`` holds ``id`` (None when the record has none), the text fields, ``meta`` (a
    JSON-safe dict, see :func:`json_safe`) and ``source``/``source_index`` only when the record
    carries a usable pair of its own (a re-ingested curate export). Nothing of the input is
    dropped: ``meta`` is the record's own ``meta`` object (or a JSON-object string of one, as
    curate writes it) plus every extra field; an input ``meta`` that is not an object is kept
    as ``meta.input_meta``, an unusable ``source``/``source_index`` as ``meta.input_source`` /
    ``meta.input_source_index``, and fields named as :data:`RESERVED_META` as
    ``meta.input_<name>``. Two values for one key (a repeated JSON key, two names mapped to one
    field, an extra field that differs from the same key in ``meta``) quarantine the record."""

    def bad(reason: str, field: str | None = None, rid: str | None = None) -> tuple[None, dict]:
        raw = printable(item.raw) if item.raw is not None else preview(item.value)
        return None, {"file": item.source, "record_number": item.number, "id": rid,
                      "field": None if field is None else printable(field), "reason": reason,
                      "raw": raw[:RAW_PREVIEW_CHARS]}

    if item.error is not None:
        return bad(item.error)
    value = item.value
    if isinstance(value, Unusable):
        return bad(value.reason)
    if not isinstance(value, dict):
        return bad(f"wrong type: record is {_kind(value)}, expected an object")
    if isinstance(value, DuplicateKeys):
        return bad("duplicate key: the record gives this field more than once; only its last value "
                   "would be kept", value.dups[0])
    rec: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for k, v in value.items():
        name = field_map.get(k, k)
        if name in rec:  # field_map renamed one field onto another
            return bad(f"field conflict: {printable(origin[name])!r} and {printable(k)!r} both give {name!r} "
                       "(ingest.field_map)", name)
        rec[name], origin[name] = v, k
    rid = rec.get("id")
    if rid is not None:
        if not isinstance(rid, str):
            return bad(f"wrong type: id must be a non-empty string, got {_kind(rid)}", "id")
        why = _surrogate(rid) or ("NUL byte in id" if "\x00" in rid else None) or (None if rid.strip() else "empty id")
        if why:
            return bad(why, "id")
    for name in TEXT_FIELDS:
        if name not in rec:
            return bad("missing field", name, rid)
        why = _check_text(name, rec[name], max_chars)
        if why:
            return bad(why, name, rid)
    extras = {}
    for k, v in rec.items():
        if k in TEXT_FIELDS or k == "id":
            continue
        try:
            why = _surrogate(k)
            if why:
                raise UnsafeValue(k, f"{why} of the field name")
            extras[k] = json_safe(v, k)
        except UnsafeValue as e:
            return bad(e.why if e.path == k else f"{e.why} in {clip(e.path, 80, collapse=False)}", k, rid)
    try:
        out, conflict = _meta_fields(extras)
    except UnsafeValue as e:  # inside a meta JSON string
        return bad(f"{e.why} in {clip(e.path, 80, collapse=False)}", "meta", rid)
    if conflict:
        return bad(conflict[1], conflict[0], rid)
    out.update({"id": rid, **{n: rec[n] for n in TEXT_FIELDS}})
    return out, None


def _meta_fields(extras: dict[str, Any]) -> tuple[dict, tuple[str, str] | None]:
    """JSON-safe extra fields -> ``({"meta": {...}, maybe "source"/"source_index"}, conflict)``
    where ``conflict`` is ``(field, reason)`` when two values would share one key of meta."""
    meta: dict[str, Any] = {}
    out: dict[str, Any] = {"meta": meta}
    adds: list[tuple[str, str, Any]] = []  # (input field, meta key, value)
    own = extras.pop("meta", _MISSING)
    if isinstance(own, str):  # curate's own Parquet and JSONL carry meta as a JSON-object string
        try:
            parsed = loads(own)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            own = json_safe(parsed, "meta")
    if isinstance(own, dict):
        for k, v in own.items():
            if k in RESERVED_META and not isinstance(v, list):  # not curate's history: keep it aside
                adds.append(("meta", f"input_{k}", v))
            else:
                meta[k] = v
    elif own is not _MISSING:
        adds.append(("meta", "input_meta", own))
    src, idx = extras.pop("source", _MISSING), extras.pop("source_index", _MISSING)
    if (isinstance(src, str) and src.strip() and "\x00" not in src
            and type(idx) is int and 0 <= idx < 2**63):  # bool is not an index
        out["source"], out["source_index"] = src, idx
    else:
        adds += [(f, f"input_{f}", v) for f, v in (("source", src), ("source_index", idx)) if v is not _MISSING]
    adds += [(k, f"input_{k}" if k in RESERVED_META else k, v) for k, v in extras.items()]
    given = {k: "meta" for k in meta}  # which input field gave each key
    for field, key, v in adds:
        if key in meta and meta[key] != v:
            return out, (field, f"field conflict: {given[key]!r} and {field!r} give meta.{key} different values")
        meta[key], given[key] = v, field
    return out, None


def load_sidecar(path: str | Path) -> list[dict]:
    """A provenance sidecar: JSONL with one object per record of its data file, in order; a
    first line holding a ``legend`` key documents the fields and is skipped. Raises
    :class:`CurateError` for a missing or non-UTF-8 file and naming the line of a malformed
    entry or one that cannot be stored in meta (see :func:`json_safe`)."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CurateError(f"{path}: cannot read provenance sidecar: {e}") from None
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json_safe(loads(line), "provenance")
        except json.JSONDecodeError as e:
            raise CurateError(f"{path}: line {n}: malformed JSON: {e.msg}") from None
        except UnsafeValue as e:
            raise CurateError(f"{path}: line {n}: {e.why} in {e.path}") from None
        if not isinstance(obj, dict):
            raise CurateError(f"{path}: line {n}: expected a JSON object")
        if n == 1 and "legend" in obj:
            continue
        out.append(obj)
    return out


#: ``entry`` of :func:`check_item` for a source without a provenance sidecar
NO_SIDECAR = object()
#: ``entry`` of :func:`check_item` when the sidecar has no entry for the record
NO_ENTRY = object()


def sidecar_entry(sidecar: list | None, number: int) -> Any:
    """Entry ``number`` of a sidecar, :data:`NO_SIDECAR` without one, :data:`NO_ENTRY` past its end."""
    if sidecar is None:
        return NO_SIDECAR
    return sidecar[number] if number < len(sidecar) else NO_ENTRY


def check_item(item: RawItem, field_map: Mapping[str, str], max_chars: int, entry: Any = NO_SIDECAR,
               sidecar_path: str | None = None) -> tuple[dict | None, dict | None, bool]:
    """:func:`validate` plus the provenance sidecar: ``(fields, quarantine_row, no_entry)``.
    A valid record takes ``entry`` (:func:`sidecar_entry`) as ``meta.provenance`` (a record
    whose own ``meta.provenance`` differs is quarantined); ``no_entry`` is True when a valid
    record has no sidecar entry (ingest then stops: the sidecar does not belong to the file)."""
    rec, bad = validate(item, field_map, max_chars)
    if bad is None and entry is not NO_SIDECAR:
        if entry is NO_ENTRY:
            return rec, None, True
        old = rec["meta"].setdefault("provenance", entry)
        if old != entry:
            bad = {"file": item.source, "record_number": item.number, "id": rec["id"],
                   "field": "provenance", "raw": preview(item.value),
                   "reason": f"field conflict: meta.provenance differs from entry {item.number} of {sidecar_path}"}
            rec = None
    return rec, bad, False


def no_entry_error(sidecar_path: str, number: int, spec: str) -> CurateError:
    return CurateError(f"{sidecar_path}: no entry for record {number} of {spec}")


class IdAssigner:
    """Record ids in read order: a record's own ``id``, else its :func:`content_id` with ``-2``,
    ``-3`` ... for repeats of the same prompt; an id seen before is a duplicate. Sequential by
    nature (it depends on everything read before), so ``executor: ray`` runs it on the driver
    over the workers' results."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.counts: Counter[str] = Counter()

    def assign(self, own_id: str | None, base: str | None, source: str, number: int) -> tuple[str, str | None]:
        """``(id, None)``, or ``(id, reason)`` for a duplicate id. ``base``: the content id,
        used when ``own_id`` is None."""
        rid = own_id
        if rid is None:
            self.counts[base] += 1
            n = self.counts[base]
            rid = base if n == 1 else f"{base}-{n}"
        if rid in self.seen:
            return rid, f"duplicate id: first seen at {self.seen[rid]}"
        self.seen[rid] = f"{source} record {number}"
        return rid, None


def ingest_metrics(read: Counter, rows: int, bad_rows: Sequence[Mapping], sources) -> dict:
    """ingest's metrics, with its own check ``ingested + quarantined == read``. Raises
    :class:`CurateError` when nothing was read or the counts do not add up."""
    total = sum(read.values())
    if total == 0:
        raise CurateError(f"no records read from {list(sources)}")
    if rows + len(bad_rows) != total:  # the stage's own conservation check
        raise CurateError(f"ingest lost records: read {total}, ingested {rows}, quarantined {len(bad_rows)}")
    reasons = Counter(r["reason"].split(":")[0] for r in bad_rows)
    return {"records_read": total, "ingested": rows, "quarantined": len(bad_rows),
            "quarantined_by_reason": dict(sorted(reasons.items())), "read_by_source": dict(read)}


def ingest(sources: Iterable[str], field_map: Mapping[str, str] | None = None,
           max_chars: int = 100_000,
           provenance: Mapping[str, str] | None = None) -> tuple[pa.Table, pa.Table, dict]:
    """Read ``sources`` (paths, ``hf:`` specs or URLs; see :func:`curate.core.io.iter_raw`) into
    records. Returns ``(records, quarantine, metrics)``.

    Ids: a record's own ``id`` field when present (a repeated id is quarantined), else
    :func:`curate.core.schema.content_id` with ``-2``, ``-3`` ... for repeats of the same prompt
    (:class:`IdAssigner`). Extra fields of a record are kept in ``meta`` (see :func:`validate`
    for the exact rules). ``provenance`` maps a source to a sidecar (:func:`load_sidecar`) whose
    k-th entry becomes ``meta.provenance`` of that source's record k. Raises
    :class:`CurateError` (one line) for a file that cannot be read at all, when nothing at all
    is read, or if the counts do not add up. ``executor: ray`` validates on Ray Data workers
    with the same functions (:func:`curate.core.distributed.ingest_ray`).
    """
    sources = list(sources)
    field_map = dict(field_map or {})
    record_keys = set(TEXT_FIELDS) | {k for k, v in field_map.items() if v in TEXT_FIELDS}
    rows, bad_rows = [], []
    ids = IdAssigner()
    read = Counter()
    provenance = dict(provenance or {})
    for spec in sources:
        sidecar = load_sidecar(provenance[spec]) if spec in provenance else None
        for item in iter_raw(spec, record_keys=record_keys):
            read[item.source] += 1
            rec, bad, no_entry = check_item(item, field_map, max_chars, sidecar_entry(sidecar, item.number),
                                            provenance.get(spec))
            if no_entry:
                raise no_entry_error(provenance[spec], item.number, spec)
            if bad is None:
                base = content_id(rec["instruction"], rec["input"]) if rec.get("id") is None else None
                rid, dup = ids.assign(rec.get("id"), base, item.source, item.number)
                if dup:
                    bad = {"file": item.source, "record_number": item.number, "id": rid, "field": "id",
                           "reason": dup, "raw": preview(item.value)}
            if bad is not None:
                bad_rows.append(bad)
                continue
            rows.append(make_record(
                id=rid, instruction=rec["instruction"], input=rec["input"], output=rec["output"],
                source=rec.get("source", item.source), source_index=rec.get("source_index", item.number),
                meta=rec["meta"]))
    metrics = ingest_metrics(read, len(rows), bad_rows, sources)
    return records_table(rows), quarantine_table(bad_rows), metrics

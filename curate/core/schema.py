"""The one record schema shared by every stage, and the annotation and quarantine tables.

Records are Arrow rows (Parquet on disk) that load into ``datasets.Dataset`` without
conversion. Decisions about records are never applied silently: stages write *annotations*
(one row per record and check) and the ``clean`` stage applies them, datatrove/Lilac style.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

TEXT_FIELDS = ("instruction", "input", "output")

#: One instruction-tuning record. ``meta`` is a JSON object (as a string) holding provenance
#: and any extra fields of the source record, so DuckDB can query it with ``json_extract``.
RECORD_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("instruction", pa.string(), nullable=False),
        pa.field("input", pa.string(), nullable=False),
        pa.field("output", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # file name or hub id it came from
        pa.field("source_index", pa.int64(), nullable=False),  # 0-based record number there
        pa.field("meta", pa.string(), nullable=False),  # JSON object: provenance, extra fields
    ]
)

#: One decision about one record. ``action`` is one of ACTIONS; ``field``/``value`` carry
#: the replacement text of a ``normalize`` action; ``matched_id`` names the record a
#: duplicate duplicates. ``category`` is the problem class (see docs/detectors.md, e.g.
#: ``truncated_output``), ``score`` the detector's raw signal and ``confidence`` in [0, 1] how
#: sure the detector is that the record has the problem (its measured precision where known).
ANNOTATION_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("check_name", pa.string(), nullable=False),
        pa.field("score", pa.float64()),
        pa.field("action", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("matched_id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("category", pa.string()),
        pa.field("confidence", pa.float64()),
    ]
)

ACTIONS = ("keep", "review", "normalize", "repair", "drop")

#: A record that could not be ingested, with where it was and why.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),
        pa.field("record_number", pa.int64(), nullable=False),  # 0-based; line-1 for JSONL
        pa.field("id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),  # the offending record, truncated for inspection
    ]
)


def content_id(instruction: str, input: str) -> str:
    """Stable record id: first 16 hex digits of SHA-256 over ``instruction``, US, ``input``.

    Keyed on the prompt, not the output, so a record whose output is repaired keeps its id and
    ``curate diff`` reports it as *changed*. Repeats of the same prompt get ``-2``, ``-3`` ...
    suffixes from :func:`assign_ids`.
    """
    h = hashlib.sha256((instruction + "\x1f" + input).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def text_hash(text: str) -> str:
    """SHA-256 hex digest of ``text`` (UTF-8); used as a cache key for embeddings."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def make_record(
    *,
    id: str,
    instruction: str,
    input: str,
    output: str,
    source: str,
    source_index: int,
    meta: Mapping[str, Any] | None = None,
) -> dict:
    """Build one record dict matching :data:`RECORD_SCHEMA` (``meta`` serialised to JSON)."""
    return {
        "id": id,
        "instruction": instruction,
        "input": input,
        "output": output,
        "source": source,
        "source_index": int(source_index),
        "meta": json.dumps(dict(meta or {}), ensure_ascii=False, sort_keys=True),
    }


def records_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts) -> Arrow table with :data:`RECORD_SCHEMA`."""
    return pa.Table.from_pylist(list(rows), schema=RECORD_SCHEMA)


def annotations_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts; missing optional columns become null) -> table with :data:`ANNOTATION_SCHEMA`.

    Raises ``ValueError`` for an action outside :data:`ACTIONS`.
    """
    rows = list(rows)
    for r in rows:
        if r["action"] not in ACTIONS:
            raise ValueError(f"annotation for record {r.get('id')!r}: unknown action {r['action']!r}; expected one of {ACTIONS}")
    return pa.Table.from_pylist(rows, schema=ANNOTATION_SCHEMA)


def quarantine_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts) -> table with :data:`QUARANTINE_SCHEMA`."""
    return pa.Table.from_pylist(list(rows), schema=QUARANTINE_SCHEMA)


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` as zstd-compressed Parquet, creating parent folders; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)  # atomic: a killed stage never leaves half a file
    return path


def read_table(path: str | Path, schema: pa.Schema) -> pa.Table:
    """Read a Parquet file written by a stage and check it has ``schema``'s columns.

    Nullable columns added to a schema after a file was written are filled with nulls, so
    older outputs stay readable. Raises :class:`curate.core.errors.CurateError` (one line) naming
    the file when it is missing or damaged, lacks non-nullable columns, has wrong types or a null
    in a non-nullable column. Records files: :func:`curate.core.io.read_records`, which adds the
    record checks.
    """
    from curate.core.errors import CurateError

    if not Path(path).is_file():
        raise CurateError(f"{path}: no such file (run the stage that writes it first)")
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise CurateError(f"{path}: cannot read Parquet: {' '.join(str(e).split())}") from None
    for f in schema:
        if f.name not in table.column_names and f.nullable:
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise CurateError(f"{path}: not a curate table, missing columns {missing}")
    try:
        return table.select(schema.names).cast(schema)
    except (ValueError, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:  # ValueError: a null in a non-nullable column
        raise CurateError(f"{path}: not a curate table: {' '.join(str(e).split())}") from None

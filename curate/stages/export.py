"""``curate export SRC DST``: convert records between Alpaca JSON, JSONL and Parquet."""

from __future__ import annotations

from pathlib import Path

from curate.core.errors import CurateError
from curate.core.ingest import ingest
from curate.core.io import write_records


def run(src: str, dst: str) -> str:
    """Read ``src`` as ingest does, write ``dst`` by extension; returns the summary line.
    Raises :class:`CurateError` when no record could be read."""
    records, quarantine, _ = ingest([src])
    if records.num_rows == 0:  # an empty export would look like success
        raise CurateError(f"{src}: no record could be read ({quarantine.num_rows} unreadable; "
                          "`curate ingest` lists why)")
    write_records(records, dst)
    alpaca = Path(dst).suffix.lower() == ".json"  # Alpaca's format has no id, source or meta
    return (f"exported {records.num_rows} records to {dst}" +
            (f" ({quarantine.num_rows} unreadable records skipped; `curate ingest` lists them)" if quarantine.num_rows else "") +
            (" (Alpaca format: id, source and meta not written; use .jsonl or .parquet to keep them)" if alpaca else ""))

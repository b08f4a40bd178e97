"""Read-only SQL over the analysis database (``curate sql``), and the named queries shipped with
the project (``curate/analysis/queries/*.sql``: ``curate sql --list``, ``curate sql NAME``).

The database is opened with ``duckdb.connect(path, read_only=True)`` and with DuckDB's
``enable_external_access`` off, so a query can neither change the database (INSERT, UPDATE,
CREATE ... fail) nor write or read other files (COPY ... TO, ATTACH, read_parquet(...)).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import math
import uuid
from pathlib import Path

import duckdb

FORMATS = ("table", "csv", "json")

#: The saved queries: one ``NAME.sql`` per question, whose leading ``--`` comment says what it answers.
QUERIES_DIR = Path(__file__).with_name("queries")


def saved_queries() -> dict[str, str]:
    """Saved query name -> what it answers (the first line of its leading ``--`` comment), sorted."""
    out = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        first = path.read_text(encoding="utf-8").lstrip().splitlines()[0]
        out[path.stem] = first.lstrip("-").strip()
    return out


def saved_query(name: str) -> str | None:
    """The SQL text of the saved query ``name``, or None if no such query ships."""
    path = QUERIES_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8") if name.isidentifier() and path.is_file() else None


class QueryError(ValueError):
    """A query could not run: missing database, bad SQL, or a write on the read-only database.

    The message names the database and carries DuckDB's own message; the CLI prints it without
    a traceback.
    """


def _json_value(value):
    """A JSON-serialisable form of a DuckDB result value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime, datetime.timedelta, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _cell(value) -> str:
    """Text of one cell for CSV and table output (null -> empty string)."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def connect_read_only(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open ``db_path`` read-only with external file access disabled.

    Raises :class:`QueryError` when the file does not exist or DuckDB cannot open it.
    """
    path = Path(db_path)
    if not path.is_file():
        raise QueryError(f"database {path} does not exist (run `dvc repro analyze` or `curate analyze` first)")
    try:
        return duckdb.connect(
            str(path),
            read_only=True,
            config={"enable_external_access": False, "lock_configuration": True},
        )
    except duckdb.Error as e:
        raise QueryError(f"cannot open database {path}: {e}") from e


def run_query(
    db_path: str | Path,
    sql: str,
    fmt: str = "table",
    max_rows: int | None = 100,
    params: dict[str, str] | None = None,
) -> str:
    """Run ``sql`` on the database ``db_path`` opened read-only and return the result as text.
    ``params`` binds DuckDB named parameters (``$id`` in the SQL <- ``{"id": ...}``).

    ``fmt``:
      * ``"table"``: a pretty-printed table (tabulate, ``psql`` style) of at most ``max_rows``
        rows (``None``: all), followed by a line saying how many more rows there were;
      * ``"csv"``: RFC 4180 CSV with a header row, all rows; nulls are empty fields, lists and
        structs are JSON;
      * ``"json"``: a JSON array of objects (column -> value), all rows; NaN/inf become null,
        dates and times ISO strings, decimals floats.
    A statement that returns no result set (e.g. ``PRAGMA``, ``SET``) gives ``""`` for csv,
    ``[]`` for json and ``(no result)`` for table. With several statements separated by ``;``
    the last one's result is returned.

    Raises :class:`QueryError` (a ``ValueError``) naming the database and giving DuckDB's message
    for a missing database, a syntax or binder error, or any statement that would write
    (the connection is read-only), and ``ValueError`` for an unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {FORMATS}")
    if max_rows is not None and max_rows < 0:
        raise ValueError(f"max_rows must be >= 0 or None, got {max_rows}")
    limit = max_rows if fmt == "table" else None  # csv and json give every row
    columns, rows, more = _fetch(db_path, sql, limit, params)
    if fmt == "json":
        return _as_json(columns, rows)
    if fmt == "csv":
        return _as_csv(columns, rows)
    return _as_table(columns, rows, more)


def _fetch(db_path: str | Path, sql: str, limit: int | None,
           params: dict[str, str] | None = None) -> tuple[list[str], list[tuple], int]:
    """Run ``sql`` read-only: ``(columns, rows, more)`` with at most ``limit`` rows (``None``:
    all) and ``more`` the rows past it (counted, not kept). No result set: ``([], [], 0)``.
    Raises :class:`QueryError` naming the database."""
    con = connect_read_only(db_path)
    try:
        cursor = con.execute(sql, params) if params else con.execute(sql)
        if cursor.description is None:
            return [], [], 0
        columns = [d[0] for d in cursor.description]
        if limit is None:
            return columns, cursor.fetchall(), 0
        rows, more = cursor.fetchmany(limit), 0
        while chunk := cursor.fetchmany(10_000):
            more += len(chunk)
        return columns, rows, more
    except duckdb.Error as e:
        raise QueryError(f"query on database {db_path} failed: {e}") from e
    finally:
        con.close()


def _as_json(columns: list[str], rows: list[tuple]) -> str:
    """A JSON array of ``{column: value}`` objects (see :func:`_json_value`)."""
    return json.dumps(
        [{c: _json_value(v) for c, v in zip(columns, row)} for row in rows],
        ensure_ascii=False,
        indent=1,
    )


def _as_csv(columns: list[str], rows: list[tuple]) -> str:
    """RFC 4180 CSV with a header row; ``""`` without a result set."""
    if not columns:
        return ""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def _table_cell(value):
    """A cell for tabulate: numbers stay numbers so they are right-aligned, null stays None
    (shown as NULL), everything else is :func:`_cell` text."""
    if value is None:
        return None
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return value
    return _cell(value)


def _as_table(columns: list[str], rows: list[tuple], more: int) -> str:
    """A ``psql``-style table (tabulate) and a line counting the rows shown and not shown."""
    if not columns:
        return "(no result)"
    from tabulate import tabulate

    cells = [[_table_cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], (int, float, decimal.Decimal)) for row in cells if row[i] is not None)
        and any(row[i] is not None for row in cells)
        for i in range(len(columns))
    ]
    text = tabulate(
        cells,
        headers=columns,
        tablefmt="psql",
        disable_numparse=True,  # ids such as "1234e567" must stay text
        colalign=["right" if n else "left" for n in numeric],
        missingval="NULL",
    )
    shown = len(rows)
    if more:
        text += f"\n({shown} of {shown + more} rows shown; raise --max-rows to see more)"
    else:
        text += f"\n({shown} row{'s' if shown != 1 else ''})"
    return text

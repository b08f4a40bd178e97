"""``curate sql QUERY``: a read-only SQL query on the analysis database (not a DVC stage)."""

from __future__ import annotations

from curate.analysis.sql import QueryError, run_query
from curate.core.errors import CurateError
from curate.stages.base import Context


def run(ctx: Context, query: str, db: str | None = None, fmt: str = "table", max_rows: int = 100) -> str:
    """The query's result as text (``table``, ``csv`` or ``json``); ``db`` defaults to
    ``paths.database``. Raises :class:`CurateError` for a bad or writing query."""
    try:
        return run_query(db or ctx.paths["database"], query, fmt=fmt, max_rows=max_rows)
    except QueryError as e:
        raise CurateError(str(e)) from None

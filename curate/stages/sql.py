"""``curate sql QUERY|NAME``: a read-only SQL query, or one of the saved queries
(``curate sql --list``), on the analysis database (not a DVC stage)."""

from __future__ import annotations

from curate.analysis.sql import QueryError, run_query, saved_queries, saved_query
from curate.core.errors import CurateError
from curate.stages.base import Context


def run(ctx: Context, query: str | None = None, db: str | None = None, fmt: str = "table", max_rows: int = 100,
        list_queries: bool = False, param: list[str] | None = None) -> str:
    """The query's result as text (``table``, ``csv`` or ``json``); ``db`` defaults to
    ``paths.database``. ``query`` is SQL or the name of a saved query
    (``curate/analysis/queries/NAME.sql``); ``param`` gives its named parameters as
    ``KEY=VALUE`` strings (``$KEY`` in the SQL). ``list_queries`` returns the saved queries and
    what each answers instead. Raises :class:`CurateError` for a bad or writing query, a
    malformed or missing parameter, or no query."""
    if list_queries:
        return "\n".join(f"{name:22s} {what}" for name, what in saved_queries().items())
    if not query:
        raise CurateError("give a query or a saved query name (curate sql --list shows them)")
    params = {}
    for p in param or []:
        key, sep, value = p.partition("=")
        if not sep or not key.isidentifier():
            raise CurateError(f"--param {p!r}: expected KEY=VALUE")
        params[key] = value
    sql = saved_query(query) or query
    try:
        return run_query(db or ctx.paths["database"], sql, fmt=fmt, max_rows=max_rows, params=params or None)
    except QueryError as e:
        raise CurateError(str(e)) from None

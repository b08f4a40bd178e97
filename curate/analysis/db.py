"""One DuckDB database holding every table of a run, joinable on ``id``.

Tables (built by :func:`build_database`):

``raw``            ingested records (:data:`curate.core.schema.RECORD_SCHEMA`)
``clean``          records after the ``clean`` stage (same schema; ids are kept, so a normalized
                   record has the same ``id`` in both)
``annotations``    union of all annotation files (:data:`curate.core.schema.ANNOTATION_SCHEMA`)
``quarantine``     records that failed ingest (:data:`curate.core.schema.QUARANTINE_SCHEMA`)
``verb_noun``      ``id, verb, noun`` of every raw record (:mod:`curate.analysis.verbs`)
``lengths``        per raw record: ``{instruction,input,output}_{chars,words}``
``clean_lengths``  the same for the clean records (a normalized record's text differs)
``clusters``       near-duplicate groups from the dedupe drops (:func:`duplicate_clusters`):
                   ``cluster_id, id, representative_id, method, score``; one row per member,
                   the kept representative included (its ``method`` and ``score`` are null)

Views:

``decisions``      raw records left-joined to their annotations (one row per record and
                   annotation; records without annotations appear once with null annotation
                   columns), plus ``in_clean``
``record_status``  one row per raw record: ``in_clean``, ``n_annotations``, the most severe
                   ``action`` (drop > repair > normalize > review > keep) and the checks that
                   fired (action other than keep)
``verb_noun_top``  ``verb, noun, raw_count, clean_count`` over records with both, most common first

Lengths: ``chars`` counts Unicode code points (DuckDB ``length``, same as Python ``len``);
``words`` counts runs of non-whitespace (``regexp_extract_all(text, '\\S+')``; RE2's ``\\s`` is
ASCII whitespace). Words, not model tokens: no tokenizer is tied to the data; for English
Llama-style BPE gives roughly 1.3-1.5 tokens per word.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import duckdb
import pyarrow as pa

from curate.core.schema import ANNOTATION_SCHEMA, QUARANTINE_SCHEMA, RECORD_SCHEMA, read_table
from curate.analysis.verbs import VERB_NOUN_SCHEMA

LENGTH_COLUMNS = tuple(
    f"{field}_{unit}" for field in ("instruction", "input", "output") for unit in ("chars", "words")
)

#: Order of severity used by the ``record_status`` view (higher wins).
ACTION_SEVERITY = {"keep": 0, "review": 1, "normalize": 2, "repair": 3, "drop": 4}

TableSource = str | Path | pa.Table | None


def _load(source: TableSource, schema: pa.Schema, what: str) -> pa.Table:
    """A table from a Parquet path, an Arrow table, or ``None`` (-> empty table of ``schema``)."""
    if source is None:
        return schema.empty_table()
    if isinstance(source, pa.Table):
        missing = [n for n in schema.names if n not in source.column_names]
        if missing:
            raise ValueError(f"{what}: table is missing columns {missing}")
        return source.select(schema.names).cast(schema)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist")
    return read_table(path, schema)


def _lengths_sql(table: str) -> str:
    cols = []
    for field in ("instruction", "input", "output"):
        cols.append(f'length("{field}") AS {field}_chars')
        cols.append(f"length(regexp_extract_all(\"{field}\", '\\S+')) AS {field}_words")
    return f"SELECT id, {', '.join(cols)} FROM {table}"


_VIEWS = {
    "decisions": """
        CREATE VIEW decisions AS
        SELECT r.id, r.instruction, r.input, r.output, r.source, r.source_index,
               a.stage, a.check_name, a.action, a.score, a.reason, a.matched_id, a.field, a.value,
               r.id IN (SELECT id FROM clean) AS in_clean
        FROM raw r LEFT JOIN annotations a USING (id)
    """,
    "record_status": """
        CREATE VIEW record_status AS
        WITH ann AS (
            SELECT id,
                   count(*) AS n_annotations,
                   arg_max(action, CASE action {severity} ELSE -1 END) AS action,
                   list(DISTINCT stage || '/' || check_name ORDER BY stage || '/' || check_name)
                       FILTER (WHERE action <> 'keep') AS checks
            FROM annotations GROUP BY id
        )
        SELECT r.id, r.id IN (SELECT id FROM clean) AS in_clean,
               coalesce(ann.n_annotations, 0) AS n_annotations,
               coalesce(ann.action, 'keep') AS action,
               coalesce(ann.checks, []) AS checks
        FROM raw r LEFT JOIN ann USING (id)
    """,
    "verb_noun_top": """
        CREATE VIEW verb_noun_top AS
        SELECT v.verb, v.noun, count(*) AS raw_count,
               count(*) FILTER (WHERE v.id IN (SELECT id FROM clean)) AS clean_count
        FROM verb_noun v
        WHERE v.verb IS NOT NULL AND v.noun IS NOT NULL
        GROUP BY v.verb, v.noun
        ORDER BY clean_count DESC, raw_count DESC, v.verb, v.noun
    """,
}


CLUSTER_SCHEMA = pa.schema([("cluster_id", pa.string()), ("id", pa.string()), ("representative_id", pa.string()),
                            ("method", pa.string()), ("score", pa.float64())])


def duplicate_clusters(annotations: pa.Table) -> pa.Table:
    """Near-duplicate clusters (:data:`CLUSTER_SCHEMA`) from the ``dedupe`` drop annotations.

    Each drop names the record it duplicates (``matched_id``); following those links to a
    record that dedupe did not drop gives the cluster's representative (the kept member, or a
    ``seed:<id>`` seed task), whose id is the ``cluster_id``. Chains across methods (A dropped by
    embedding as a copy of B, B by MinHash as a copy of C) end in one cluster, represented by C.
    One row per dropped member (``method`` = its check, ``score`` = its score) plus one for the
    representative (``method``, ``score`` null), ordered by cluster then id. A link that loops
    (never seen from dedupe itself) ends at the first member met again."""
    rows = [a for a in annotations.select(["id", "stage", "action", "matched_id", "check_name", "score"]).to_pylist()
            if a["stage"] == "dedupe" and a["action"] == "drop" and a["matched_id"]]
    parent = {a["id"]: a["matched_id"] for a in rows}

    def root(x: str) -> str:
        seen = set()
        while x in parent and x not in seen:
            seen.add(x)
            x = parent[x]
        return x

    out, reps = [], set()
    for a in rows:
        r = root(a["id"])
        reps.add(r)
        out.append({"cluster_id": r, "id": a["id"], "representative_id": r, "method": a["check_name"], "score": a["score"]})
    out += [{"cluster_id": r, "id": r, "representative_id": r, "method": None, "score": None} for r in reps]
    out.sort(key=lambda x: (x["cluster_id"], x["id"] != x["cluster_id"], x["id"]))
    return pa.Table.from_pylist(out, schema=CLUSTER_SCHEMA)


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    severity = " ".join(f"WHEN '{a}' THEN {s}" for a, s in ACTION_SEVERITY.items())
    for sql in _VIEWS.values():
        con.execute(sql.format(severity=severity))


def build_database(
    db_path: str | Path,
    raw_records: TableSource,
    clean_records: TableSource = None,
    annotations: Sequence[TableSource] = (),
    quarantine: TableSource = None,
    verb_noun: TableSource = None,
    *,
    top_verbs: int = 10,
) -> dict:
    """Build the DuckDB file ``db_path`` from a run's tables and return its metrics.

    Each source is a Parquet path written by a stage or an Arrow table; ``raw_records`` is
    required, the others may be ``None`` (-> an empty table with the right columns, so queries
    and views still work). ``annotations`` is a list of sources, concatenated into one table.
    ``verb_noun`` has columns ``id, verb, noun`` (see :func:`curate.analysis.verbs.verb_noun_table`).

    The database is written to ``<db_path>.tmp`` and renamed over ``db_path`` only when
    complete, so readers never see half a database and a failed build leaves the old one.

    Returns metrics (see :func:`database_metrics`); ``top_verbs`` is how many verbs it lists.
    Raises ``FileNotFoundError`` for a path that does not exist and ``ValueError`` for a file
    without the expected columns.
    """
    db_path = Path(db_path)
    tables = {
        "raw": _load(raw_records, RECORD_SCHEMA, "raw records"),
        "clean": _load(clean_records, RECORD_SCHEMA, "clean records"),
        "annotations": pa.concat_tables(
            [ANNOTATION_SCHEMA.empty_table()]
            + [_load(a, ANNOTATION_SCHEMA, "annotations") for a in annotations]
        ),
        "quarantine": _load(quarantine, QUARANTINE_SCHEMA, "quarantine"),
        "verb_noun": _load(verb_noun, VERB_NOUN_SCHEMA, "verb_noun"),
    }

    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".tmp")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, table in tables.items():
            con.register("_source", table)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _source')
            con.unregister("_source")
        con.register("_source", duplicate_clusters(tables["annotations"]))
        con.execute('CREATE TABLE clusters AS SELECT * FROM _source')
        con.unregister("_source")
        con.execute(f"CREATE TABLE lengths AS {_lengths_sql('raw')}")
        con.execute(f"CREATE TABLE clean_lengths AS {_lengths_sql('clean')}")
        _create_views(con)
        metrics = database_metrics(con, top_verbs=top_verbs)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    Path(str(db_path) + ".wal").unlink(missing_ok=True)  # a stale WAL would replay onto the new file
    os.replace(tmp, db_path)
    return metrics


def _verb_stats(con: duckdb.DuckDBPyConnection, records: str) -> dict:
    n, with_verb, with_pair, verbs, pairs = con.execute(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE v.verb IS NOT NULL),
               count(*) FILTER (WHERE v.verb IS NOT NULL AND v.noun IS NOT NULL),
               count(DISTINCT v.verb) FILTER (WHERE v.noun IS NOT NULL),
               count(DISTINCT (v.verb, v.noun)) FILTER (WHERE v.verb IS NOT NULL AND v.noun IS NOT NULL)
        FROM {records} r JOIN verb_noun v USING (id)
        """
    ).fetchone()
    return {
        "records_parsed": n,
        "share_with_verb": round(with_verb / n, 4) if n else 0.0,
        "share_with_verb_noun": round(with_pair / n, 4) if n else 0.0,
        "distinct_verbs": verbs,  # verbs that occur with a noun object, as in the figure
        "distinct_verb_noun_pairs": pairs,
    }


def database_metrics(con: duckdb.DuckDBPyConnection, top_verbs: int = 10) -> dict:
    """Metrics of an open database built by :func:`build_database`.

    Returns ``{"rows": {table: count}, "annotations_by_action": {action: count},
    "verb_noun": {"raw"|"clean": {records_parsed, share_with_verb, share_with_verb_noun,
    distinct_verbs, distinct_verb_noun_pairs}}, "top_verbs": {verb: count} (clean records with
    a verb-noun pair; raw records if clean is empty), "mean_lengths": {"raw"|"clean":
    {instruction_chars, ..., output_words}}}``. Shares are fractions in [0, 1].
    """
    rows = {
        t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        for t in ("raw", "clean", "annotations", "quarantine", "verb_noun")
    }
    by_action = dict(
        con.execute("SELECT action, count(*) FROM annotations GROUP BY action ORDER BY action").fetchall()
    )
    source = "clean" if rows["clean"] else "raw"
    top = con.execute(
        f"""
        SELECT v.verb, count(*) AS n FROM {source} r JOIN verb_noun v USING (id)
        WHERE v.verb IS NOT NULL AND v.noun IS NOT NULL
        GROUP BY v.verb ORDER BY n DESC, v.verb LIMIT ?
        """,
        [top_verbs],
    ).fetchall()
    mean_lengths = {}
    for name, table in (("raw", "lengths"), ("clean", "clean_lengths")):
        values = con.execute(
            f"SELECT {', '.join(f'avg({c})' for c in LENGTH_COLUMNS)} FROM {table}"
        ).fetchone()
        mean_lengths[name] = {
            c: (round(v, 2) if v is not None else None) for c, v in zip(LENGTH_COLUMNS, values)
        }
    return {
        "rows": rows,
        "annotations_by_action": by_action,
        "verb_noun": {"raw": _verb_stats(con, "raw"), "clean": _verb_stats(con, "clean")},
        "top_verbs_source": source,
        "top_verbs": dict(top),
        "mean_lengths": mean_lengths,
    }

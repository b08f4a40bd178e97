"""Analysis of a curation run: verb-noun diversity, one DuckDB database, read-only SQL.

* :mod:`curate.analysis.verbs`  root verb + direct-object noun per instruction (self-instruct Fig. 2)
* :mod:`curate.analysis.db`     ``build_database``: raw, clean, annotations, quarantine, verb_noun,
  lengths in one DuckDB file, joinable on ``id``
* :mod:`curate.analysis.plots`  verb-noun plot CSV for ``dvc plots`` and a two-ring PNG
* :mod:`curate.analysis.sql`    ``run_query``: read-only SQL with table/csv/json output
* :mod:`curate.stages.analyze`  ``run_analyze``: the ``analyze`` stage

Submodules are imported lazily (spaCy is slow to import; ``curate sql`` does not need it).
"""

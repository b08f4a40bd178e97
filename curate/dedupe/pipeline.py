"""Dedupe: exact, ROUGE-L, embedding and MinHash near-duplicates, written as annotations.

Methods run in order (exact -> ROUGE-L -> embedding -> MinHash), each over the records the
previous ones kept; each is a function of those records that returns what it found
(:class:`curate.dedupe.common.Found`). Each drop names the record it duplicates
(``matched_id``) and the score.

* ``exact`` (:mod:`curate.dedupe.exact`): normalised (lowercase, collapsed whitespace)
  ``fields`` equal; first one kept.
* ``rouge_l`` (:mod:`curate.dedupe.rouge`): Alpaca's greedy filter (ROUGE-L F1
  ``> threshold`` with a seed task or a record kept before it; a dropped record blocks
  nothing) on ``dedupe.rouge.fields`` joined by a newline; see :mod:`curate.core.rouge`.
* ``embedding`` (:mod:`curate.dedupe.semantic`): all-MiniLM-L6-v2 cosine similarity
  ``>= threshold`` (min over the embedded ``views``: ``prompt`` = ``fields`` joined,
  ``output``). ``mode: cluster`` (default) keeps one representative per connected component
  (longest non-empty output, ties -> earliest) and records the cluster in the reason;
  ``mode: greedy`` is Alpaca-style order-dependent.
* ``minhash`` (:mod:`curate.dedupe.minhash`): estimated Jaccard ``>= threshold`` of output
  word n-gram shingles via MinHash LSH, greedy.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa

from curate.core.config import Dedupe, validate_section
from curate.core.errors import CurateError
from curate.core.io import read_seed_tasks
from curate.core.schema import annotations_table
from curate.dedupe.exact import exact_duplicates
from curate.dedupe.minhash import minhash_duplicates
from curate.dedupe.rouge import rouge_duplicates
from curate.dedupe.semantic import embedding_duplicates

#: ``check_name`` of each method, in the order they run.
CHECKS = ("exact", "rouge_l", "embedding", "minhash")

# Transitional name: curate/stages/dedupe.py and generation still import it from here; remove
# once they call curate.core.io.read_seed_tasks.
load_seed_tasks = read_seed_tasks


def dedupe(records: pa.Table, params: Mapping, seeds: Sequence[Mapping] = (),
           cache_path: str | Path | None = None, executor: str = "local",
           ray_settings: Mapping | None = None) -> tuple[pa.Table, dict]:
    """Find duplicates in ``records`` (a RECORD_SCHEMA table). ``params`` is the ``dedupe``
    section of params.yaml (keys ``exact``, ``rouge``, ``embedding``, ``minhash``; see the module
    doc and params.yaml), possibly partial: it is validated by :class:`curate.core.config.Dedupe`,
    which holds the defaults (MinHash is off unless enabled). ``seeds`` are seed tasks
    (:func:`curate.core.io.read_seed_tasks`) that ROUGE-L also compares against; ``cache_path``
    is the embedding cache (Parquet). ``executor``: ``local`` (this process) or ``ray`` (the
    methods of :mod:`curate.dedupe.distributed`, in an open Ray session, with ``ray_settings``,
    the validated ``ray`` section: batch size, embedder actors and their GPUs); both give the
    same annotations.

    Returns ``(annotations, metrics)``: annotations hold one ``drop`` row per duplicate with
    ``check_name`` in :data:`CHECKS`, grouped by method in run order, records in input order
    within a method; metrics hold ``records_in``, ``kept``, ``dropped``, ``dropped_by_check``,
    ``embedding_largest_cluster`` (records in the largest cluster; cluster mode only),
    ``embedding_clusters`` (clusters with >= 2 records; ``None`` in greedy mode; absent when the
    method is off) and ``seconds_by_check`` (wall seconds per method that ran). Raises
    :class:`curate.core.config.ParamsError` (a :class:`CurateError`) for parameters that do not
    fit the schema and :class:`CurateError` when the counts do not add up."""
    cfg = validate_section(Dedupe, params, "dedupe")
    if executor not in ("local", "ray"):
        raise CurateError(f"executor must be local or ray, not {executor!r}")
    ray = executor == "ray"
    if ray:  # the same methods, handed the Ray form of their expensive step
        from curate.dedupe import distributed as dist

        rs = dict(ray_settings or {})
        batch = rs.get("batch_size", 2048)
        encode = dist.ActorEncoder(rs.get("embed_actors", 1), rs.get("embed_gpus", 0), rs.get("embed_cpus", 1))
        decide = partial(dist.minhash_decisions, batch_size=batch)
    methods = (  # (check_name, params section, method of the records still kept)
        ("exact", "exact", lambda kept: dist.exact_duplicates(kept, cfg["exact"], batch) if ray
         else exact_duplicates(kept, cfg["exact"])),
        ("rouge_l", "rouge", lambda kept: rouge_duplicates(kept, cfg["rouge"], seeds,
                                                           screen=dist.rouge_screen if ray else None)),
        ("embedding", "embedding", lambda kept: embedding_duplicates(kept, cfg["embedding"], cache_path,
                                                                     encode=encode if ray else None)),
        ("minhash", "minhash", lambda kept: minhash_duplicates(kept, cfg["minhash"], decide=decide if ray else None)),
    )
    rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
    kept, ann, extra, seconds = rows, [], {}, {}
    for check, section, method in methods:
        if not cfg[section]["enabled"]:
            continue
        t0 = time.perf_counter()
        found = method(kept)
        kept = [r for pos, r in enumerate(kept) if pos not in found.dropped]
        ann += found.annotations
        extra.update(found.metrics)
        seconds[check] = round(time.perf_counter() - t0, 2)

    counts = Counter(a["check_name"] for a in ann)
    metrics = {"records_in": len(rows), "kept": len(kept), "dropped": len(ann),
               "dropped_by_check": {k: counts.get(k, 0) for k in CHECKS}, **extra,
               "seconds_by_check": seconds}
    if metrics["kept"] + metrics["dropped"] != metrics["records_in"]:
        raise CurateError(f"dedupe lost records: {metrics}")
    return annotations_table(ann), metrics

"""Dedupe stage: exact, ROUGE-L, embedding and MinHash near-duplicates, written as annotations.

Methods run in order (exact -> ROUGE-L -> embedding -> MinHash), each over the records the
previous ones kept. Each drop names the record it duplicates (``matched_id``) and the score.

* ``exact``: normalised (lowercase, collapsed whitespace) ``fields`` equal; first one kept.
* ``rouge_l``: Alpaca's greedy filter (ROUGE-L F1 ``> threshold`` with a seed task or a record
  kept before it; a dropped record blocks nothing) on ``dedupe.rouge.fields`` joined by a
  newline (``[instruction]`` as Alpaca, or ``[instruction, input]``); see
  :mod:`curate.core.rouge`.
* ``embedding``: all-MiniLM-L6-v2 cosine similarity ``>= threshold`` (min over the embedded
  ``views``: ``prompt`` = ``fields`` joined, ``output``). ``mode: cluster`` (default) keeps one
  representative per connected component (longest non-empty output, ties -> earliest) and
  records the cluster in the reason; ``mode: greedy`` is Alpaca-style order-dependent. See
  :mod:`curate.dedupe.semantic`.
* ``minhash``: estimated Jaccard ``>= threshold`` of output word n-gram shingles via MinHash
  LSH, greedy; see :mod:`curate.dedupe.minhash`.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa

from curate.models import embedder as embed_mod
from curate.dedupe import semantic
from curate.dedupe.minhash import minhash_filter
from curate.core.rouge import greedy_filter
from curate.core.config import Dedupe, validate_section
from curate.core.errors import CurateError
from curate.core.text import clip, normalize_text
from curate.core.schema import annotations_table

_WS = re.compile(r"\s+")
CHECKS = ("exact", "rouge_l", "embedding", "minhash")


def _joined(rec: Mapping[str, str], fields: Sequence[str]) -> str:
    return "\n".join(rec[f] for f in fields if rec[f])


def load_seed_tasks(path: str | Path) -> list[dict]:
    """Alpaca/self-instruct ``seed_tasks.jsonl`` -> ``[{"id", "instruction", "input", "output"}]``
    from each task's first instance (as Alpaca's ``generate_instruction.py`` uses).
    Raises :class:`CurateError` naming the line of a malformed task."""
    seeds = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            t = json.loads(line)
            inst = t["instances"][0]
            seeds.append({"id": t["id"], "instruction": t["instruction"],
                          "input": inst["input"], "output": inst["output"]})
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
            raise CurateError(f"{path}: line {n}: not a seed task ({type(e).__name__}: {e})") from None
    return seeds


def dedupe(records: pa.Table, params: Mapping, seeds: Sequence[Mapping] = (),
           cache_path: str | Path | None = None) -> tuple[pa.Table, dict]:
    """Find duplicates in ``records`` (a RECORD_SCHEMA table). ``params`` is the ``dedupe``
    section of params.yaml (keys ``exact``, ``rouge``, ``embedding``, ``minhash``; see the module
    doc and params.yaml), possibly partial: it is validated by :class:`curate.core.config.Dedupe`,
    which holds the defaults (MinHash is off unless enabled). ``seeds`` are seed tasks (:func:`load_seed_tasks`) that ROUGE-L also
    compares against; ``cache_path`` is the embedding cache (Parquet).

    Returns ``(annotations, metrics)``: annotations hold one ``drop`` row per duplicate with
    ``check_name`` in :data:`CHECKS`; metrics hold ``records_in``, ``kept``, ``dropped``,
    ``dropped_by_check``, ``embedding_clusters`` (clusters with >= 2 records, cluster mode),
    ``embedding_largest_cluster`` (records in the largest one) and
    ``seconds_by_check``. Raises :class:`curate.core.config.ParamsError` (a :class:`CurateError`)
    for parameters that do not fit the schema and :class:`CurateError` when the counts do not
    add up."""
    cfg = validate_section(Dedupe, params, "dedupe")
    rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
    alive = list(range(len(rows)))
    ann: list[dict] = []
    extra: dict = {}
    seconds: dict[str, float] = {}

    def drop(i: int, check: str, score: float, matched_id: str, reason: str) -> None:
        ann.append({"id": rows[i]["id"], "stage": "dedupe", "check_name": check, "score": score,
                    "action": "drop", "reason": reason, "matched_id": matched_id})

    ex = cfg["exact"]
    if ex["enabled"]:
        t0 = time.perf_counter()
        fields = ex["fields"]
        first: dict[tuple, int] = {}
        survivors = []
        for i in alive:
            key = tuple(normalize_text(rows[i][f]) for f in fields)
            if key in first:
                j = first[key]
                drop(i, "exact", 1.0, rows[j]["id"],
                     f"exact duplicate of {rows[j]['id']} on {'+'.join(fields)} after whitespace/case normalisation")
            else:
                first[key] = i
                survivors.append(i)
        alive = survivors
        seconds["exact"] = round(time.perf_counter() - t0, 2)

    rg = cfg["rouge"]
    if rg["enabled"]:
        t0 = time.perf_counter()
        fields = rg["fields"]
        thr = rg["threshold"]
        use_seeds = list(seeds) if rg["include_seed_tasks"] else []
        texts = [_joined(rows[i], fields) for i in alive]
        decisions = greedy_filter(texts, thr, [_joined(s, fields) for s in use_seeds])
        survivors = []
        for i, d in zip(alive, decisions):
            if d.keep:
                survivors.append(i)
                continue
            s = len(use_seeds)
            if d.matched < s:
                m = use_seeds[d.matched]
                mid, mtext, what = f"seed:{m['id']}", _joined(m, fields), "seed task"
            else:
                mrow = rows[alive[d.matched - s]]
                mid, mtext, what = mrow["id"], _joined(mrow, fields), "kept record"
            drop(i, "rouge_l", d.score, mid,
                 f"ROUGE-L F1 {d.score:.3f} > {thr} on {'+'.join(fields)} with {what} {mid}: \"{clip(mtext, 80)}\"")
        alive = survivors
        seconds["rouge_l"] = round(time.perf_counter() - t0, 2)

    em = cfg["embedding"]
    if em["enabled"]:
        t0 = time.perf_counter()
        fields, thr, mode, views = em["fields"], em["threshold"], em["mode"], em["views"]
        text_of = {"prompt": lambda r: _joined(r, fields), "output": lambda r: r["output"]}
        vecs = [embed_mod.embed([text_of[v](rows[i]) for i in alive], cache_path,
                                batch_size=em["batch_size"]) for v in views]
        search = {"ann_min_records": em["ann_min_records"], "ann_k": em["ann_k"]}
        label = " & ".join("+".join(fields) if v == "prompt" else "output" for v in views)
        survivors = []
        if mode == "cluster":
            dec = semantic.cluster_decisions(vecs, thr, [len(rows[i]["output"].strip()) for i in alive], **search)
            n_clusters = len({d["cluster"] for d in dec if d["cluster"] >= 0})
            extra["embedding_largest_cluster"] = max((d["size"] for d in dec), default=0)
            for i, d in zip(alive, dec):
                if d["keep"]:
                    survivors.append(i)
                    continue
                m = rows[alive[d["matched"]]]
                drop(i, "embedding", d["score"], m["id"],
                     f"cosine {d['score']:.3f} to {m['id']}, representative of cluster {d['cluster']} of "
                     f"{d['size']} records (all-MiniLM-L6-v2 on {label}, min over views; edges >= {thr}, "
                     f"this record's max edge {d['max_edge']:.3f}; representative = longest non-empty output, "
                     f"ties -> earliest): \"{clip(_joined(m, fields), 80)}\"")
        else:
            n_clusters = None
            for i, d in zip(alive, semantic.greedy_decisions(vecs, thr, **search)):
                if d["keep"]:
                    survivors.append(i)
                    continue
                m = rows[alive[d["matched"]]]
                drop(i, "embedding", d["score"], m["id"],
                     f"cosine {d['score']:.3f} >= {thr} (all-MiniLM-L6-v2, {label}) with kept record {m['id']}: \"{clip(_joined(m, fields), 80)}\"")
        alive = survivors
        extra["embedding_clusters"] = n_clusters
        seconds["embedding"] = round(time.perf_counter() - t0, 2)

    mh = cfg["minhash"]
    if mh["enabled"]:  # opt-in (schema default); params.yaml enables it
        t0 = time.perf_counter()
        thr, num_perm, ngram, min_words = mh["threshold"], mh["num_perm"], mh["ngram"], mh["min_words"]
        survivors = []
        outs = [rows[i]["output"] for i in alive]
        for i, (keep, j, score) in zip(alive, minhash_filter(outs, thr, num_perm, ngram, min_words)):
            if keep:
                survivors.append(i)
                continue
            m = rows[alive[j]]
            drop(i, "minhash", score, m["id"],
                 f"estimated Jaccard {score:.3f} >= {thr} of output word {ngram}-gram shingles (MinHash, {num_perm} "
                 f"permutations, LSH) with kept record {m['id']}: \"{clip(m['output'], 80)}\"")
        alive = survivors
        seconds["minhash"] = round(time.perf_counter() - t0, 2)

    counts = Counter(a["check_name"] for a in ann)
    metrics = {"records_in": len(rows), "kept": len(alive), "dropped": len(ann),
               "dropped_by_check": {k: counts.get(k, 0) for k in CHECKS}, **extra,
               "seconds_by_check": seconds}
    if metrics["kept"] + metrics["dropped"] != metrics["records_in"]:
        raise CurateError(f"dedupe lost records: {metrics}")
    return annotations_table(ann), metrics

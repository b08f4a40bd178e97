"""Dedupe stage: exact, ROUGE-L and embedding near-duplicates, written as annotations.

Methods run in order (exact -> ROUGE-L -> embedding), each over the records the previous ones
kept, with the same greedy semantics as Alpaca: a record is compared with the records kept
before it (and, for ROUGE-L, the seed tasks), and a dropped record blocks nothing. Each drop
names the record it duplicates (``matched_id``) and the score.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa

from curate.cleaning import embed as embed_mod
from curate.cleaning.rouge import greedy_filter
from curate.errors import CurateError
from curate.schema import annotations_table

_WS = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lowercase and collapse runs of whitespace to one space, stripped: the key of exact dedupe."""
    return _WS.sub(" ", text).strip().lower()


def _joined(rec: Mapping[str, str], fields: Sequence[str]) -> str:
    return "\n".join(rec[f] for f in fields if rec[f])


def _short(text: str, n: int = 80) -> str:
    text = _WS.sub(" ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


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
    section of params.yaml. Returns ``(annotations, metrics)``; annotations hold one ``drop``
    row per duplicate with ``check_name`` in {exact, rouge_l, embedding}."""
    rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
    alive = list(range(len(rows)))
    ann: list[dict] = []

    def drop(i: int, check: str, score: float, matched_id: str, reason: str) -> None:
        ann.append({"id": rows[i]["id"], "stage": "dedupe", "check_name": check, "score": score,
                    "action": "drop", "reason": reason, "matched_id": matched_id})

    ex = params.get("exact", {})
    if ex.get("enabled", True):
        fields = ex.get("fields", ["instruction", "input"])
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

    rg = params.get("rouge", {})
    if rg.get("enabled", True):
        fields = rg.get("fields", ["instruction"])
        thr = float(rg.get("threshold", 0.7))
        use_seeds = list(seeds) if rg.get("include_seed_tasks", True) else []
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
                 f"ROUGE-L F1 {d.score:.3f} > {thr} on {'+'.join(fields)} with {what} {mid}: \"{_short(mtext)}\"")
        alive = survivors

    em = params.get("embedding", {})
    if em.get("enabled", True):
        fields = em.get("fields", ["instruction", "input"])
        thr = float(em.get("threshold", 0.95))
        vecs = embed_mod.embed([_joined(rows[i], fields) for i in alive], cache_path,
                               batch_size=int(em.get("batch_size", 128)))
        survivors = []
        for i, (keep, j, score) in zip(alive, embed_mod.greedy_cosine_filter(vecs, thr)):
            if keep:
                survivors.append(i)
            else:
                m = rows[alive[j]]
                drop(i, "embedding", score, m["id"],
                     f"cosine {score:.3f} >= {thr} (all-MiniLM-L6-v2, {'+'.join(fields)}) with kept record {m['id']}: \"{_short(_joined(m, fields))}\"")
        alive = survivors

    counts = Counter(a["check_name"] for a in ann)
    metrics = {"records_in": len(rows), "kept": len(alive), "dropped": len(ann),
               "dropped_by_check": {k: counts.get(k, 0) for k in ("exact", "rouge_l", "embedding")}}
    if metrics["kept"] + metrics["dropped"] != metrics["records_in"]:
        raise CurateError(f"dedupe lost records: {metrics}")
    return annotations_table(ann), metrics

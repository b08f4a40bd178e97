"""ROUGE-L near-duplicates: Alpaca's greedy filter (``generate_instruction.py``) over
:func:`curate.core.rouge.greedy_filter`.

A record is dropped when its ROUGE-L F1 with a seed task or with a record kept before it is
``> threshold`` (a dropped record blocks nothing); the match is the pool text with the highest
F1 (earliest on ties). Texts are ``dedupe.rouge.fields`` joined by a newline
(:func:`curate.dedupe.common.join_fields`): ``[instruction]`` as Alpaca, or
``[instruction, input]`` for whole prompts.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from curate.core.rouge import greedy_filter
from curate.core.text import clip
from curate.dedupe.common import Found, join_fields

CHECK = "rouge_l"


def rouge_duplicates(records: Sequence[Mapping[str, str]], params: Mapping,
                     seeds: Sequence[Mapping[str, str]] = (), screen: Callable | None = None) -> Found:
    """ROUGE-L near-duplicates among ``records`` (dicts with ``id`` and the compared fields).

    ``params``: the validated ``dedupe.rouge`` section (``threshold`` in [0, 1], ``fields``,
    ``include_seed_tasks``). ``seeds``: seed tasks (:func:`curate.core.io.read_seed_tasks`),
    compared first when ``include_seed_tasks``; a record matching a seed gets
    ``matched_id = "seed:<seed id>"``. Scores are rouge-score's F1 floats, bit for bit.
    ``screen``: how :func:`curate.core.rouge.greedy_filter` screens candidate pairs (None: in
    this process; :func:`curate.dedupe.distributed.rouge_screen` on Ray). Returns
    :class:`curate.dedupe.common.Found`."""
    fields, thr = params["fields"], params["threshold"]
    pool = list(seeds) if params["include_seed_tasks"] else []
    decisions = greedy_filter([join_fields(r, fields) for r in records], thr,
                              [join_fields(s, fields) for s in pool], desc="dedupe rouge_l",
                              screen=screen)
    found = Found()
    for pos, (rec, d) in enumerate(zip(records, decisions)):
        if d.keep:
            continue
        if d.matched < len(pool):  # greedy_filter indexes seeds first, then records
            m = pool[d.matched]
            mid, what = f"seed:{m['id']}", "seed task"
        else:
            m = records[d.matched - len(pool)]
            mid, what = m["id"], "kept record"
        found.drop(pos, rec, CHECK, d.score, mid,
                   f"ROUGE-L F1 {d.score:.3f} > {thr} on {'+'.join(fields)} with {what} {mid}: "
                   f"\"{clip(join_fields(m, fields), 80)}\"")
    return found

"""The training sets of the ablation's arms: what each student of ``train@ARM-SEED`` sees.

Every arm draws from the same pool (the records of ``train.sources``, minus the held-out
probe records, which no arm may contain) and gets at most ``n`` records; every arm then trains
for the same number of optimizer steps (``train.max_steps``) with the same seeds, so arms
differ only in *which* records they see.

* ``raw``: a seeded sample of ``n`` ingested records (:func:`curate.training.sft.select_subset`:
  the ``n`` lowest SHA-256 of ``"{seed}:{id}"``).
* ``clean``: the same sampling from the cleaned records. Because the rank depends only on the
  id, ``clean`` keeps every raw-sample record that cleaning kept, and replaces the others.
* ``flagged``: records that cleaning dropped or rewrote, in their *raw* form (ingested records
  whose id is not in the clean set, or whose instruction/input/output changed); a seeded
  sample of ``n`` of them when there are more.
* ``kept_matched``: for each ``flagged`` record, the kept, unchanged record nearest to it in
  (log word count of the instruction, log word count of the output), without replacement,
  visited in the flagged sample's order. ``flagged`` vs ``kept_matched`` isolates what cleaning
  removes from the length difference between bad and good records (the length confound of
  data selection: Zhao et al. 2024, "Long Is More for Alignment", ICML).
* ``longest``: the ``n`` raw records with the longest outputs (characters; ties by the seeded
  rank), the baseline any selection should beat (Zhao et al. 2024).

:func:`arm_records` returns the records and a description (sizes, mean lengths, matching
distance) that the train stage writes to ``reports/train_ARM-sSEED.json``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from curate.training.sft import sample_key, select_subset

ARMS = ("raw", "clean", "flagged", "kept_matched", "longest")
_FIELDS = ("instruction", "input", "output")


def _words(text: str | None) -> int:
    return len((text or "").split())


def _lengths(r: Mapping[str, Any]) -> tuple[float, float]:
    return math.log1p(_words(r["instruction"]) + _words(r.get("input"))), math.log1p(_words(r["output"]))


def flagged_records(raw: Sequence[Mapping[str, Any]], clean: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The raw records that cleaning dropped (id absent from ``clean``) or rewrote (same id,
    a different instruction, input or output), in ``raw`` order and raw form."""
    by_id = {r["id"]: r for r in clean}
    out = []
    for r in raw:
        c = by_id.get(r["id"])
        if c is None or any((c.get(f) or "") != (r.get(f) or "") for f in _FIELDS):
            out.append(dict(r))
    return out


def match_on_length(targets: Sequence[Mapping[str, Any]], pool: Sequence[Mapping[str, Any]],
                    seed: int) -> tuple[list[dict], float]:
    """For each record of ``targets`` in order, the unused ``pool`` record nearest in
    (log1p instruction+input words, log1p output words), Euclidean; ties go to the lower
    :func:`sample_key` of ``(seed, id)``. Returns the matches (``len(targets)`` of them) and
    their mean distance. Raises ``ValueError`` when the pool is smaller than the targets."""
    import numpy as np

    if len(pool) < len(targets):
        raise ValueError(f"kept_matched: {len(pool)} kept records cannot match {len(targets)} flagged ones")
    order = sorted(range(len(pool)), key=lambda i: sample_key(seed, pool[i]["id"]))
    pool = [pool[i] for i in order]  # argmin returns the first minimum: the lowest seeded rank
    xy = np.array([_lengths(r) for r in pool], dtype=np.float64)
    used = np.zeros(len(pool), dtype=bool)
    out, dist = [], []
    for t in targets:
        d = np.hypot(xy[:, 0] - _lengths(t)[0], xy[:, 1] - _lengths(t)[1])
        d[used] = np.inf
        j = int(np.argmin(d))
        used[j] = True
        out.append(dict(pool[j]))
        dist.append(float(d[j]))
    return out, (sum(dist) / len(dist) if dist else 0.0)


def _describe(records: Sequence[Mapping[str, Any]]) -> dict:
    n = len(records)
    return {
        "n": n,
        "mean_instruction_words": round(sum(_words(r["instruction"]) + _words(r.get("input")) for r in records) / n, 2)
        if n else None,
        "mean_output_words": round(sum(_words(r["output"]) for r in records) / n, 2) if n else None,
    }


def arm_records(arm: str, raw: Sequence[Mapping[str, Any]], clean: Sequence[Mapping[str, Any]], n: int,
                seed: int, *, sources: Iterable[str] | None = None,
                exclude_ids: Iterable[str] = ()) -> tuple[list[dict], dict]:
    """``(records, description)`` of one arm (module doc), from the ingested ``raw`` and the
    ``clean`` records (dicts with id/instruction/input/output/source).

    ``n``: records per arm (at most). ``seed``: the arm's seed (sample and matching ties).
    ``sources``: keep only records of these sources (``train.sources``; None: all).
    ``exclude_ids``: ids no arm may contain (the held-out probes). The description holds the
    arm, its size, the pool sizes, mean instruction and output words and, for
    ``kept_matched``, the mean matching distance. Raises ``ValueError`` for an unknown arm,
    ``n < 1``, an empty arm, or a held-out id in the result (which would be a bug).
    """
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; expected one of {list(ARMS)}")
    if n < 1:
        raise ValueError(f"arm size must be >= 1, got {n}")
    srcs = None if sources is None else set(sources)
    held = set(exclude_ids)

    def pool(rs):
        return [dict(r) for r in rs if (srcs is None or r.get("source") in srcs) and r["id"] not in held]

    raw_p, clean_p = pool(raw), pool(clean)
    desc: dict[str, Any] = {"arm": arm, "seed": seed, "n_requested": n, "pool_raw": len(raw_p),
                            "pool_clean": len(clean_p), "held_out": len(held)}
    if arm == "raw":
        out = select_subset(raw_p, n, seed)
    elif arm == "clean":
        out = select_subset(clean_p, n, seed)
    elif arm == "longest":
        out = sorted(raw_p, key=lambda r: (-len(r["output"] or ""), sample_key(seed, r["id"])))[:n]
    else:
        flagged = flagged_records(raw_p, clean_p)
        desc["pool_flagged"] = len(flagged)
        sample = select_subset(flagged, n, seed)
        if arm == "flagged":
            out = sample
        else:
            changed = {r["id"] for r in flagged}
            kept = [r for r in clean_p if r["id"] not in changed]
            out, desc["match_distance_mean"] = match_on_length(sample, kept, seed)
            desc["match_distance_mean"] = round(desc["match_distance_mean"], 4)
            desc["flagged_reference"] = _describe(sample)
    if not out:
        raise ValueError(f"arm {arm}: no records (pool raw {len(raw_p)}, clean {len(clean_p)})")
    leaked = held & {r["id"] for r in out}
    if leaked:
        raise ValueError(f"arm {arm}: {len(leaked)} held-out probe records in the training set")
    desc.update(_describe(out))
    return out, desc

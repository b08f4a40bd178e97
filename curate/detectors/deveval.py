"""Precision and recall of the detectors on the hand-labelled development set.

The dev set (``data/devset/``, see its README) is a sample of real Alpaca records with
problem-category labels, drawn in strata: ``random`` (uniform), ``enriched`` (broad keyword
pools) and ``hits`` (a uniform sample of each detector's hits, labelled blind to which detector
flagged them). For a detector *d* finding category *c*, on the labelled records:

* precision = |flagged by d and labelled c| / |flagged by d|, over all strata (the ``hits``
  stratum is what gives rare detectors enough flags to measure);
* recall = |flagged by d and labelled c| / |labelled c|, over the ``random`` and ``enriched``
  strata only: the ``hits`` stratum was drawn *because* a detector fired, so it would inflate
  recall. ``recall_random`` uses the random stratum alone (unbiased, few positives).

Intervals are 95% Wilson score intervals (Wilson 1927; Brown, Cai & DasGupta 2001), which stay
inside [0, 1] and behave at small n, unlike the normal approximation.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping

import pyarrow as pa

from curate.core.errors import CurateError

RECALL_STRATA = ("random", "enriched")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """95% (z=1.96) Wilson score interval for k successes in n trials; ``(None, None)`` if n=0."""
    if n == 0:
        return None, None
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def load_devset(sample_path: str | Path, labels_path: str | Path) -> list[dict]:
    """Join ``sample.jsonl`` (id, stratum, pool) with ``labels.jsonl`` (id, labels, note).

    Returns one dict per labelled record: ``id``, ``stratum``, ``pool``, ``labels`` (set).
    Raises :class:`CurateError` naming the file and line for a malformed line, a sampled
    record with no label or a label for an unsampled id."""
    def read(path):
        rows = []
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise CurateError(f"{path}: line {n}: not JSON ({e.msg})") from None
        return rows

    sample = {r["id"]: r for r in read(sample_path)}
    labels = {}
    for r in read(labels_path):
        if r.get("id") not in sample:
            raise CurateError(f"{labels_path}: record {r.get('id')!r} is not in {sample_path}")
        if not isinstance(r.get("labels"), list):
            raise CurateError(f"{labels_path}: record {r['id']}: field 'labels' must be a list")
        labels[r["id"]] = set(r["labels"])
    missing = [i for i in sample if i not in labels]
    if missing:
        raise CurateError(f"{labels_path}: {len(missing)} sampled records have no labels, e.g. {missing[:3]}")
    return [{"id": i, "stratum": s["stratum"], "pool": s.get("pool"), "labels": labels[i]}
            for i, s in sample.items()]


def _pr(flagged: set, positives: set, recall_pos: set, recall_flagged: set, random_pos: set,
        random_flagged: set, any_problem: set) -> dict:
    tp = len(flagged & positives)
    out = {"flagged": len(flagged), "true_positives": tp,
           "precision": round(tp / len(flagged), 4) if flagged else None,
           "precision_ci95": list(wilson(tp, len(flagged))),
           # flagged records that have *some* labelled problem (not necessarily this category)
           "precision_any": round(len(flagged & any_problem) / len(flagged), 4) if flagged else None}
    rtp = len(recall_flagged & recall_pos)
    out.update({"positives": len(recall_pos), "recall": round(rtp / len(recall_pos), 4) if recall_pos else None,
                "recall_ci95": list(wilson(rtp, len(recall_pos)))})
    qtp = len(random_flagged & random_pos)
    out.update({"positives_random": len(random_pos),
                "recall_random": round(qtp / len(random_pos), 4) if random_pos else None})
    return out


def evaluate(annotations: pa.Table | Iterable[Mapping], devset: list[dict],
             categories: Mapping[str, str]) -> dict:
    """Per-detector and per-category precision/recall of ``annotations`` on ``devset``.

    ``annotations``: detect annotations (ANNOTATION_SCHEMA rows; ``check_name``, ``id``) over a
    record set that contains every dev-set record; ``categories``: detector name -> category.
    Returns ``{"n_labelled", "n_by_stratum", "label_counts", "detectors": {name: {...}},
    "categories": {category: {...}}}`` where each entry has ``flagged``, ``true_positives``,
    ``precision``, ``precision_ci95``, ``positives``, ``recall``, ``recall_ci95``,
    ``positives_random``, ``recall_random``, ``precision_any`` (share of flagged records with any
    labelled problem) (None where undefined)."""
    rows = annotations.to_pylist() if isinstance(annotations, pa.Table) else list(annotations)
    dev_ids = {r["id"] for r in devset}
    recall_ids = {r["id"] for r in devset if r["stratum"] in RECALL_STRATA}
    random_ids = {r["id"] for r in devset if r["stratum"] == "random"}
    by_detector: dict[str, set] = defaultdict(set)
    for a in rows:
        if a["id"] in dev_ids and a["check_name"] in categories:
            by_detector[a["check_name"]].add(a["id"])
    positives: dict[str, set] = defaultdict(set)
    any_problem = {r["id"] for r in devset if r["labels"]}
    for r in devset:
        for c in r["labels"]:
            positives[c].add(r["id"])

    def entry(flagged: set, cat: str) -> dict:
        pos = positives.get(cat, set())
        return _pr(flagged, pos, pos & recall_ids, flagged & recall_ids, pos & random_ids, flagged & random_ids,
                   any_problem)

    detectors = {name: {"category": cat, **entry(by_detector.get(name, set()), cat)}
                 for name, cat in categories.items()}
    cats = {}
    for cat in sorted(set(categories.values()) | set(positives)):
        flagged = set().union(*[by_detector.get(n, set()) for n, c in categories.items() if c == cat])
        cats[cat] = {"detectors": sorted(n for n, c in categories.items() if c == cat), **entry(flagged, cat)}
    strata = defaultdict(int)
    for r in devset:
        strata[r["stratum"]] += 1
    return {"n_labelled": len(devset), "n_by_stratum": dict(sorted(strata.items())),
            "label_counts": {c: len(v) for c, v in sorted(positives.items())},
            "detectors": detectors, "categories": cats}


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ci(ci) -> str:
    return "" if ci[0] is None else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def render_markdown(m: Mapping) -> str:
    """The :func:`evaluate` result as Markdown tables (per detector, per category)."""
    strata = ", ".join(f"{k} {v}" for k, v in m["n_by_stratum"].items())
    lines = [f"Labelled records: {m['n_labelled']} ({strata}). Precision over all strata; recall over "
             "the random and enriched strata (positives = labelled records there); 95% Wilson intervals.", "",
             "| detector | category | flagged | TP | precision [95% CI] | flagged with any problem | positives | recall [95% CI] | recall (random only) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, d in m["detectors"].items():
        lines.append(f"| {name} | {d['category']} | {d['flagged']} | {d['true_positives']} | "
                     f"{_fmt(d['precision'])}{_ci(d['precision_ci95'])} | {_fmt(d['precision_any'])} | {d['positives']} | "
                     f"{_fmt(d['recall'])}{_ci(d['recall_ci95'])} | {_fmt(d['recall_random'])} "
                     f"(of {d['positives_random']}) |")
    lines += ["", "| category | detectors | labelled (all strata) | flagged | precision [95% CI] | recall [95% CI] |",
              "|---|---|---|---|---|---|"]
    for cat, d in m["categories"].items():
        lines.append(f"| {cat} | {', '.join(d['detectors']) or '(none)'} | {m['label_counts'].get(cat, 0)} | "
                     f"{d['flagged']} | {_fmt(d['precision'])}{_ci(d['precision_ci95'])} | "
                     f"{_fmt(d['recall'])}{_ci(d['recall_ci95'])} |")
    return "\n".join(lines) + "\n"

"""Precision and recall of the detectors on the hand-labelled development set.

The dev set (``data/devset/``, see its README) is a sample of real Alpaca records with
problem-category labels, drawn in strata: ``random`` and ``blind`` (uniform draws; ``blind`` was
labelled before any detector output on it was looked at), ``enriched`` (broad keyword pools) and
``hits`` (a uniform sample of each detector's hits, labelled blind to which detector flagged
them). For a detector *d* finding category *c*, on the labelled records:

* precision = |flagged by d and labelled c| / |flagged by d|, over all strata (the ``hits``
  stratum is what gives rare detectors enough flags to measure);
* recall = |flagged by d and labelled c| / |labelled c|, over the uniform strata only
  (:data:`UNIFORM_STRATA`): the ``enriched`` and ``hits`` strata were drawn by keyword or
  *because* a detector fired, so they would bias recall. ``recall_blind`` uses the ``blind``
  stratum alone.

Record level (:func:`evaluate`'s ``overall``), on the uniform strata: a record is "found" when
any detector annotated it (any action: drop, normalize, repair, review), and it "has a problem"
when it carries any label; ``harm`` is the share of records labelled ok (``[]``) that an
annotation drops, over all strata.

Intervals are 95% Wilson score intervals (Wilson 1927; Brown, Cai & DasGupta 2001), which stay
inside [0, 1] and behave at small n, unlike the normal approximation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping

import pyarrow as pa

from curate.core import stats as core_stats
from curate.core.errors import CurateError

#: z of the dev-set intervals (the reported numbers in reports/ and docs/ were computed with it)
Z = 1.96

#: Strata drawn uniformly at random from the ingested records: the only ones recall is measured on.
UNIFORM_STRATA = ("random", "blind")


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


def wilson(k: int, n: int, z: float = Z) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of :func:`curate.core.stats.wilson` (at ``z = 1.96``) rounded to 4
    decimals, as reported here; ``(None, None)`` when ``n == 0``."""
    lo, hi = core_stats.wilson(k, n, z)
    return (None, None) if lo is None else (round(lo, 4), round(hi, 4))


def _rate(k: int, n: int) -> tuple[float | None, list]:
    return (round(k / n, 4) if n else None), list(wilson(k, n))


def _pr(flagged: set, positives: set, recall_pos: set, recall_flagged: set, blind_pos: set,
        blind_flagged: set, any_problem: set) -> dict:
    tp = len(flagged & positives)
    out = {"flagged": len(flagged), "true_positives": tp,
           "precision": round(tp / len(flagged), 4) if flagged else None,
           "precision_ci95": list(wilson(tp, len(flagged))),
           # flagged records that have *some* labelled problem (not necessarily this category)
           "precision_any": round(len(flagged & any_problem) / len(flagged), 4) if flagged else None}
    rtp = len(recall_flagged & recall_pos)
    out.update({"positives": len(recall_pos), "recall": round(rtp / len(recall_pos), 4) if recall_pos else None,
                "recall_ci95": list(wilson(rtp, len(recall_pos)))})
    btp = len(blind_flagged & blind_pos)
    out.update({"positives_blind": len(blind_pos),
                "recall_blind": round(btp / len(blind_pos), 4) if blind_pos else None})
    return out


def evaluate(annotations: pa.Table | Iterable[Mapping], devset: list[dict],
             categories: Mapping[str, str]) -> dict:
    """Per-detector and per-category precision/recall of ``annotations`` on ``devset``.

    ``annotations``: detect annotations (ANNOTATION_SCHEMA rows; ``check_name``, ``id``) over a
    record set that contains every dev-set record; ``categories``: detector name -> category.
    Returns ``{"n_labelled", "n_by_stratum", "label_counts", "detectors": {name: {...}},
    "categories": {category: {...}}}`` where each entry has ``flagged``, ``true_positives``,
    ``precision``, ``precision_ci95``, ``positives``, ``recall``, ``recall_ci95``,
    ``positives_blind``, ``recall_blind``, ``precision_any`` (share of flagged records with any
    labelled problem) (None where undefined), and ``overall``: record-level any-problem
    ``precision``/``recall`` on the uniform strata (with ``*_ci95``), ``harm`` (ok-labelled
    records dropped, all strata) and the counts behind them. Annotations need ``action`` for
    ``harm`` (rows without it count as not dropping)."""
    rows = annotations.to_pylist() if isinstance(annotations, pa.Table) else list(annotations)
    dev_ids = {r["id"] for r in devset}
    recall_ids = {r["id"] for r in devset if r["stratum"] in UNIFORM_STRATA}
    blind_ids = {r["id"] for r in devset if r["stratum"] == "blind"}
    by_detector: dict[str, set] = defaultdict(set)
    dropped: set = set()
    for a in rows:
        if a["id"] in dev_ids and a["check_name"] in categories:
            by_detector[a["check_name"]].add(a["id"])
            if a.get("action") == "drop":
                dropped.add(a["id"])
    positives: dict[str, set] = defaultdict(set)
    any_problem = {r["id"] for r in devset if r["labels"]}
    for r in devset:
        for c in r["labels"]:
            positives[c].add(r["id"])

    def entry(flagged: set, cat: str) -> dict:
        pos = positives.get(cat, set())
        return _pr(flagged, pos, pos & recall_ids, flagged & recall_ids, pos & blind_ids, flagged & blind_ids,
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
    found = set().union(*by_detector.values()) if by_detector else set()
    uniform_found, uniform_bad = found & recall_ids, any_problem & recall_ids
    ok = dev_ids - any_problem
    precision, precision_ci = _rate(len(uniform_found & uniform_bad), len(uniform_found))
    recall, recall_ci = _rate(len(uniform_found & uniform_bad), len(uniform_bad))
    harm, harm_ci = _rate(len(dropped & ok), len(ok))
    overall = {"uniform_records": len(recall_ids), "with_problem": len(uniform_bad), "found": len(uniform_found),
               "found_with_problem": len(uniform_found & uniform_bad), "precision": precision,
               "precision_ci95": precision_ci, "recall": recall, "recall_ci95": recall_ci,
               "ok_records": len(ok), "ok_dropped": len(dropped & ok), "harm": harm, "harm_ci95": harm_ci}
    # the blind stratum alone: the one never read while the detectors were developed
    b_found, b_bad = found & blind_ids, any_problem & blind_ids
    b_prec, b_prec_ci = _rate(len(b_found & b_bad), len(b_found))
    b_rec, b_rec_ci = _rate(len(b_found & b_bad), len(b_bad))
    overall["blind"] = {"records": len(blind_ids), "with_problem": len(b_bad), "found": len(b_found),
                        "found_with_problem": len(b_found & b_bad), "precision": b_prec, "precision_ci95": b_prec_ci,
                        "recall": b_rec, "recall_ci95": b_rec_ci}
    return {"n_labelled": len(devset), "n_by_stratum": dict(sorted(strata.items())),
            "label_counts": {c: len(v) for c, v in sorted(positives.items())},
            "overall": overall, "detectors": detectors, "categories": cats}


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ci(ci) -> str:
    return "" if ci[0] is None else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def render_markdown(m: Mapping) -> str:
    """The :func:`evaluate` result as Markdown tables (per detector, per category)."""
    strata = ", ".join(f"{k} {v}" for k, v in m["n_by_stratum"].items())
    o = m["overall"]
    lines = [f"Labelled records: {m['n_labelled']} ({strata}). Precision over all strata; recall over "
             f"the uniform strata ({' + '.join(UNIFORM_STRATA)}: {o['uniform_records']} records; positives = "
             "labelled records there); 95% Wilson intervals.", "",
             "Record level, uniform strata: a record is found when any detector annotated it (any action).", "",
             "| records | with a problem | found | found with a problem | precision [95% CI] | recall [95% CI] | ok records dropped (all strata) |",
             "|---|---|---|---|---|---|---|",
             f"| {o['uniform_records']} | {o['with_problem']} | {o['found']} | {o['found_with_problem']} | "
             f"{_fmt(o['precision'])}{_ci(o['precision_ci95'])} | {_fmt(o['recall'])}{_ci(o['recall_ci95'])} | "
             f"{o['ok_dropped']} of {o['ok_records']} = {_fmt(o['harm'])}{_ci(o['harm_ci95'])} |",
             f"| blind only: {o['blind']['records']} | {o['blind']['with_problem']} | {o['blind']['found']} | "
             f"{o['blind']['found_with_problem']} | {_fmt(o['blind']['precision'])}{_ci(o['blind']['precision_ci95'])} | "
             f"{_fmt(o['blind']['recall'])}{_ci(o['blind']['recall_ci95'])} | |", "",
             "| detector | category | flagged | TP | precision [95% CI] | flagged with any problem | positives | recall [95% CI] | recall (blind only) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, d in m["detectors"].items():
        lines.append(f"| {name} | {d['category']} | {d['flagged']} | {d['true_positives']} | "
                     f"{_fmt(d['precision'])}{_ci(d['precision_ci95'])} | {_fmt(d['precision_any'])} | {d['positives']} | "
                     f"{_fmt(d['recall'])}{_ci(d['recall_ci95'])} | {_fmt(d['recall_blind'])} "
                     f"(of {d['positives_blind']}) |")
    lines += ["", "| category | detectors | labelled (all strata) | flagged | precision [95% CI] | positives (uniform) | recall [95% CI] |",
              "|---|---|---|---|---|---|---|"]
    for cat, d in m["categories"].items():
        lines.append(f"| {cat} | {', '.join(d['detectors']) or '(none)'} | {m['label_counts'].get(cat, 0)} | "
                     f"{d['flagged']} | {_fmt(d['precision'])}{_ci(d['precision_ci95'])} | {d['positives']} | "
                     f"{_fmt(d['recall'])}{_ci(d['recall_ci95'])} |")
    return "\n".join(lines) + "\n"

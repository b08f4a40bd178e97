"""Run the detectors: build the ones the ``detect:`` params enable (:func:`build_detectors`),
run them over a record table and turn findings into annotations with the policy's action
(:func:`detect`). Which detectors exist, their order and their default action come from
:mod:`curate.detectors.registry`.
"""

from __future__ import annotations

import inspect
import time
from collections import Counter
from typing import Mapping, Sequence

import pyarrow as pa

from curate.core.config import Detect, validate_section
from curate.core.errors import CurateError
from curate.core.progress import progress
from curate.core.schema import annotations_table
from curate.detectors import registry
from curate.detectors.registry import Detector


def build_detectors(params: Mapping | None, embedding_cache: str | None = None, *,
                    ifd_checkpoint: str | None = None, judge_cache: str | None = None,
                    paths: Mapping[str, str] | None = None) -> list[Detector]:
    """New instances of the detectors the ``detect:`` params section enables
    (:func:`curate.detectors.registry.enabled`; the section may be partial, defaults from
    :class:`curate.core.config.Detect`), in run order. An opt-in detector's section keys other
    than ``enabled`` are its constructor arguments; a detector's ``files`` (constructor
    argument -> ``paths`` key) get ``embedding_cache``, ``ifd_checkpoint``, ``judge_cache`` or
    that key of ``paths`` (the validated ``paths`` section); a file left unset keeps the
    constructor's default.

    Raises :class:`curate.core.config.ParamsError` for a section that does not fit the schema
    or an unknown detector or action in ``detect.policy``; :class:`CurateError` when an enabled
    detector needs a file (a constructor argument without default) that was not given; and
    ``TypeError`` when the schema and a constructor disagree (a bug)."""
    d = validate_section(Detect, params, "detect")
    given = dict(paths or {})  # the explicit files override paths' entries only when given
    given.update({k: v for k, v in (("embedding_cache", embedding_cache), ("ifd_checkpoint", ifd_checkpoint),
                                    ("judge_cache", judge_cache)) if v is not None})
    out: list[Detector] = []
    for spec in registry.enabled(d):
        cls = spec.cls
        kwargs = {k: v for k, v in (d.get(spec.name) or {}).items() if k != "enabled"}
        accepted = inspect.signature(cls.__init__).parameters
        for arg, key in cls.files.items():
            if not given.get(key) and accepted[arg].default is inspect.Parameter.empty:
                raise CurateError(f"detect.{spec.name} is enabled but no {arg} was given (paths.{key})")
            if given.get(key) or accepted[arg].default is inspect.Parameter.empty:
                kwargs[arg] = given.get(key)
        bad = sorted(k for k in kwargs if k not in accepted)
        if bad:  # the schema (curate.core.config) and the constructor disagree: a bug
            raise TypeError(f"{cls.__name__} takes no {bad}: curate.core.config.Detect.{spec.name} disagrees with it")
        out.append(cls(**kwargs))
    return out


def detect(records: pa.Table, policy: Mapping[str, str | None] | None = None,
           detectors: Sequence[Detector] | None = None, *, teacher: bool = False) -> tuple[pa.Table, dict]:
    """Run ``detectors`` (default: every detector that is not opt-in) over every record of
    ``records`` (RECORD_SCHEMA). Each finding becomes one annotation (ANNOTATION_SCHEMA) whose
    action is ``policy[name]`` (``detect.policy``; one of :data:`curate.core.schema.ACTIONS`)
    or, where the policy says nothing, :data:`curate.detectors.registry.DEFAULT_ACTION`
    (``review``); its confidence is the finding's own or the detector's. ``teacher`` (a repair
    teacher is configured) turns ``repair_or_drop`` into ``repair``, else into ``drop``.

    Detectors see the record as normalised by earlier findings whose action is ``normalize``,
    so a ``normalize`` annotation's ``value`` is the field's full new text and annotations apply
    in order. Rows are ordered by record, then by detector. Returns ``(annotations, metrics)``.
    Raises :class:`curate.core.config.ParamsError` for an unknown action or detector name."""
    if detectors is None:
        detectors = [s.cls() for s in registry.specs() if not s.opt_in]
    actions = registry.resolve_policy(policy, tuple(d.name for d in detectors), teacher=teacher)
    timings = {}
    for d in progress(detectors, desc="detect prepare", unit="detector"):  # batch signals (embeddings, ...)
        t0 = time.perf_counter()
        d.prepare(records)
        timings[d.name] = time.perf_counter() - t0
    ann, hits = [], Counter()
    spent = dict.fromkeys((d.name for d in detectors), 0.0)
    clock = time.perf_counter
    rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
    for rec in progress(rows, desc="detect"):
        for d in detectors:
            t0 = clock()
            f = d.check(rec)
            spent[d.name] += clock() - t0
            if f is None:
                continue
            action = actions[d.name]
            hits[d.name] += 1
            ann.append({"id": rec["id"], "stage": "detect", "check_name": d.name, "score": f.score,
                        "action": action, "reason": f.reason, "field": f.field, "value": f.value,
                        "category": d.category,
                        "confidence": d.confidence if f.confidence is None else f.confidence})
            if action == "normalize" and f.field is not None:
                rec = dict(rec, **{f.field: f.value})
    m = detect_metrics(records.num_rows, ann, hits, detectors, timings)
    # wall time per detector: prepare (batch signals) + check over every record
    m["seconds_by_detector"] = {n: round(spent[n] + timings[n], 3) for n in spent}
    extra = {d.name: x for d in detectors if (x := d.metrics()) is not None}
    if extra:
        m["by_detector"] = extra
    return annotations_table(ann), m


def detect_metrics(n_records: int, ann: list[dict], hits: Counter, detectors: Sequence[Detector],
             timings: dict[str, float]) -> dict:
    """The detect stage's metrics (reports/detect.json): counts by check, category and action."""
    actions = Counter(a["action"] for a in ann)
    n = max(n_records, 1)
    by_action: dict[str, set] = {}
    by_category: dict[str, set] = {}
    for a in ann:
        by_action.setdefault(a["action"], set()).add(a["id"])
        by_category.setdefault(a["category"], set()).add(a["id"])
    return {"records_in": n_records, "annotations": len(ann),
            "flagged_by_check": {d.name: hits.get(d.name, 0) for d in detectors},
            "records_by_category": {c: len(v) for c, v in sorted(by_category.items())},
            "annotations_by_action": dict(sorted(actions.items())),
            "records_by_action": {k: len(v) for k, v in sorted(by_action.items())},
            "share_of_records_by_action": {k: round(len(v) / n, 5) for k, v in sorted(by_action.items())},
            "records_flagged": len({a["id"] for a in ann}),
            "prepare_seconds": {k: round(v, 3) for k, v in timings.items() if v >= 0.001}}

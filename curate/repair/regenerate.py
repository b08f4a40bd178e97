"""Regenerate the outputs of records that cleaning marked for ``repair``.

AlpacaDataCleaned (gururise/AlpacaDataCleaned) replaced bad outputs with answers from a stronger
model. ``curate repair`` (:func:`run_repair`) does the same through the teacher:
for every record with a ``repair`` annotation it sends Alpaca's own training prompt
(:func:`curate.core.prompts.format_prompt`, so the teacher answers the task exactly as the
student will see it) and writes the answer as a ``normalize`` annotation on ``output`` (stage
``repair``, check ``regenerate_output``) whose reason names the teacher and the check that asked
for the repair. The ``clean`` stage applies it like any other normalisation and keeps the old
output in the record's ``meta.changes`` history, so ``curate diff`` shows the change.

Answers are appended to a durable JSONL log as they arrive, so a killed run resumes without
asking again. An empty or length-truncated answer is not used: the record keeps its ``repair``
flag and the reason is logged. A run in which every request failed, or whose local teacher
died, raises :class:`~curate.core.errors.StageFailed` instead of writing an
annotation file with nothing in it.

Imports only :mod:`curate.core` and :mod:`curate.models`: the teacher client, the concurrent
request pool with its liveness check (:func:`curate.models.teacher.run_workers`) and the local
teacher (:func:`curate.models.local_teacher.with_local_teacher`) are shared with generation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Mapping

from curate.core.config import GenerateRun, validate_section
from curate.core.errors import CurateError, StageFailed
from curate.core.io import read_records
from curate.core.jsonl import DurableJsonl, read_jsonl_resume
from curate.core.progress import progress
from curate.core.prompts import format_prompt
from curate.core.schema import ANNOTATION_SCHEMA, annotations_table, read_table, write_parquet
from curate.core.text import format_counts, oneline
from curate.models.local_teacher import TeacherDied, with_local_teacher
from curate.models.teacher import (Teacher, TeacherError, endpoint_host, redact_error,
                                   resolve_api_key, run_workers)

log = logging.getLogger("curate.generation")


def repair_targets(annotations: str | Path, records) -> list[dict]:
    """Records (dicts with id/instruction/input/output) that have a ``repair`` annotation in
    ``annotations`` (a Parquet file of ANNOTATION_SCHEMA), each once, with the first repair
    check and reason. ``records``: a RECORD_SCHEMA table. Raises :class:`CurateError` when the
    file is missing or names records that are not in ``records``."""
    try:
        ann = read_table(annotations, ANNOTATION_SCHEMA)
    except FileNotFoundError:
        raise CurateError(f"{annotations}: no such annotations file") from None
    except ValueError as e:
        raise CurateError(str(e)) from None
    first: dict[str, dict] = {}
    for a in ann.to_pylist():
        if a["action"] == "repair" and a["id"] not in first:
            first[a["id"]] = a
    by_id = {r["id"]: r for r in records.select(["id", "instruction", "input", "output"]).to_pylist()}
    unknown = [i for i in first if i not in by_id]
    if unknown:
        raise CurateError(f"{annotations}: {len(unknown)} repair annotations name unknown records, e.g. {unknown[:3]}")
    return [{**by_id[i], "check_name": a["check_name"], "reason": a["reason"]} for i, a in first.items()]


async def _regenerate(targets: list[dict], teacher, sampling: dict, log_path: Path,
                      concurrency: int, alive=None) -> tuple[dict[str, dict], Counter, Counter, list]:
    """Ask for the targets not yet in ``log_path``. Returns ``(done by id, counts, failure
    kinds, [last error])``; raises what ``alive`` raises (see ``run_workers``)."""
    done = {r["id"]: r for r in read_jsonl_resume(log_path)}
    todo = [t for t in targets if t["id"] not in done]
    out = DurableJsonl(log_path)
    counts: Counter = Counter(resumed=len(done))
    kinds: Counter = Counter()
    last: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for t in todo:
        queue.put_nowait(t)
    bar = progress(total=len(targets), initial=len(targets) - len(todo), desc="repair")  # records asked for

    async def worker():
        while not queue.empty():
            t = queue.get_nowait()
            try:
                c = await teacher.complete(format_prompt(t), sampling)
            except Exception as e:  # noqa: BLE001 - recorded, the record stays flagged
                bar.update()
                counts["failed"] += 1
                kinds[e.kind if isinstance(e, TeacherError) else type(e).__name__] += 1
                last[:] = [teacher.redact(str(e))]
                log.warning("regenerate %s failed: %s", t["id"], teacher.redact(str(e))[:300])
                continue
            row = {"id": t["id"], "output": c.text.strip(), "finish_reason": c.finish_reason,
                   "request_id": c.request_id, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            out.append(row)
            done[t["id"]] = row
            counts["answered"] += 1
            bar.update()

    try:
        await run_workers(max(1, concurrency), worker, alive)
        if alive is not None and counts["failed"]:  # died after the last poll?
            alive()
    finally:
        bar.close()
        out.close()
        await teacher.close()
    return done, counts, kinds, last


def regenerate_outputs(annotations: str | Path, records, params: Mapping, out_path: str | Path,
                       log_path: str | Path, base_url: str, model: str, key: str,
                       alive=None) -> dict:
    """Ask the teacher at ``base_url`` for new outputs of every ``repair``-marked record and
    write them as ``normalize`` annotations to ``out_path`` (Parquet, ANNOTATION_SCHEMA).

    ``params``: the resolved ``generate:`` section (endpoint, retry, concurrency;
    ``regenerate_sampling`` overrides ``sampling``, default temperature 0.7, max_tokens 1024, no
    stop sequences). Returns metrics: ``targets``, ``answered``, ``resumed``, ``failed``,
    ``unusable`` (empty or cut by max_tokens), ``annotations``, ``failures_by_kind``. ``alive``:
    None or a callable raising :class:`~curate.models.local_teacher.TeacherDied` once the local
    teacher is gone. Raises
    :class:`CurateError` as :func:`repair_targets`; :class:`StageFailed` (nothing written to
    ``out_path``) when requests were sent and none was answered, or when ``alive`` raises."""
    t0 = time.perf_counter()
    targets = repair_targets(annotations, records)
    sampling = dict(params.get("regenerate_sampling") or {"temperature": 0.7, "max_tokens": 1024})
    teacher = Teacher.from_params(base_url, model, key, params)
    try:
        done, counts, kinds, last = asyncio.run(_regenerate(targets, teacher, sampling, Path(log_path),
                                                            params["concurrency"], alive))
    except TeacherDied as e:  # one line of what happened, then the server's log tail
        raise StageFailed(f"repair: {e.summary}; answers so far are kept in {log_path} (a "
                               f"rerun resumes); last lines of {e.log}:\n{e.log_tail}") from None
    if counts["failed"] and not counts["answered"]:
        raise StageFailed(
            f"repair: none of the {counts['failed']} outputs asked for was regenerated: "
            f"{counts['failed']} requests failed ({format_counts(kinds)}); last error: "
            f"{oneline(last[0] if last else '')}; {out_path} not written",
            {"targets": len(targets), "answered": 0, "resumed": counts["resumed"],
             "failed": counts["failed"], "failures_by_kind": dict(kinds)})
    if counts["failed"]:
        log.warning("repair: %d of %d requests failed (%s); those records stay flagged",
                    counts["failed"], counts["failed"] + counts["answered"], format_counts(kinds))
    host = endpoint_host(base_url)
    ann = []
    for t in targets:
        r = done.get(t["id"])
        if r is None:
            continue
        if not r["output"] or r["finish_reason"] == "length":
            counts["unusable"] += 1
            continue
        ann.append({"id": t["id"], "stage": "repair", "check_name": "regenerate_output", "score": None,
                    "action": "normalize", "field": "output", "value": r["output"],
                    "category": "repair", "confidence": None,
                    "reason": f"output regenerated by {model} at {host} (request {r['request_id']}) "
                              f"because {t['check_name']}: {t['reason']}"})
    write_parquet(annotations_table(ann), out_path)
    return {"targets": len(targets), "answered": counts["answered"], "resumed": counts["resumed"],
            "failed": counts["failed"], "unusable": counts["unusable"], "annotations": len(ann),
            "failures_by_kind": dict(kinds), "wall_seconds": round(time.perf_counter() - t0, 3)}


def empty_repairs(out_path: str | Path, targets: int | None = None) -> dict:
    """Write an empty repair annotation file (regeneration disabled: ``targets`` None; or
    nothing marked ``repair``: 0); returns its metrics."""
    write_parquet(annotations_table([]), out_path)
    return {"targets": targets, "annotations": 0, "enabled": targets is not None}



def run_repair(params: Mapping, annotations: str | Path, records_path: str | Path,
               out_path: str | Path) -> dict:
    """The ``repair`` stage: new outputs from the teacher (the local one when ``base_url`` is
    null, started only when something is marked) for the records marked ``repair`` in
    ``annotations`` (Parquet, ANNOTATION_SCHEMA), written as ``normalize`` annotations to
    ``out_path``; see :func:`regenerate_outputs` for the metrics.

    ``params``: the ``generate:`` section plus its files (:class:`curate.core.config.GenerateRun`;
    ``regenerate_log`` is the durable answer log); ``records_path``: the records file the
    annotations are about (``paths.ingested``). With nothing marked, writes an empty annotation
    file (:func:`empty_repairs`, ``targets`` 0). Raises :class:`CurateError` for bad params, a
    missing key for a remote endpoint or a bad annotations or records file, and
    :class:`StageFailed` (messages redacted) when every request of the run failed or the local
    teacher's process exits."""
    p = validate_section(GenerateRun, params, "generate")
    records = read_records(records_path)
    if not repair_targets(annotations, records):  # nothing to repair: no teacher to start
        return empty_repairs(out_path, targets=0)

    def run(q: dict, alive) -> dict:
        key = resolve_api_key(q["api_key_env"], q["base_url"])
        try:
            return regenerate_outputs(annotations, records, q, out_path, q["regenerate_log"],
                                      q["base_url"], q["model"], key, alive=alive)
        except CurateError as e:
            raise redact_error(e, key) from None

    return with_local_teacher(p, run) if not p["base_url"] else run(p, None)

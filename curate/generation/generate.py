"""Self-instruct generation the way Alpaca did it, with any OpenAI-compatible teacher.

Source: tatsu-lab/stanford_alpaca ``generate_instruction.py``
(``generate_instruction_following_data``): sample 3 demonstrations from the seed tasks only,
encode them with the prompt (:func:`curate.generation.prompt.encode_prompt`), ask the teacher
for the remaining tasks of a list of 20 (temperature 1.0, top_p 1.0, max_tokens 3072), parse
and filter the completion (:mod:`curate.generation.parse`), drop candidates whose ROUGE-L F1
with any seed or kept instruction is > 0.7 (:mod:`curate.generation.filters`), repeat until the
target count is reached. Differences from Alpaca are listed in docs/generation.md.

Output files (all JSONL, appended; one JSON object per line):

* ``out``: accepted records ``{"instruction", "input", "output", "most_similar_instructions",
  "avg_similarity_score", "provenance": {...}}``: readable by ``curate ingest`` (no ``id``:
  ingest assigns it; the extra fields land in ``meta``). Each record is written, flushed and
  fsynced as soon as it is accepted; a rerun reads the file back (a torn last line from a
  kill is dropped and truncated), rebuilds the ROUGE pool and continues to ``target``.
* ``rejected``: ``{"reason", "detail", "position", "text", "request_id", "created"}`` per
  dropped task (parser/filter reasons, ``rouge_similar``, ``duplicate``, ``target_reached``).
* ``failures``: ``{"request_number", "error", "status", "kind", "attempts", "demo_ids",
  "created"}`` per request that failed for good (the error text is redacted).

A run fails loudly (:class:`curate.core.errors.StageFailed`, after the files are written and
closed) when it ends short of ``target`` with no record accepted, when it stops at
``budgets.max_failures``, when the teacher refuses the key, and when the local teacher's
process dies (docs/generation.md, "Failing loudly").

The run is one :class:`_Run` object: its inputs, open files, teacher and counters, with one
method per step (``should_stop``, ``worker``, ``process_completion``, ``offer``, ``reject``,
``metrics``, ``outcome``: the failure rules). Concurrent requests go through
:func:`curate.models.teacher.run_workers`; the local teacher is started by
:func:`curate.models.local_teacher.with_local_teacher`. The repair entry point is
:func:`curate.repair.regenerate.run_repair`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from curate.core.config import GenerateRun, validate_section
from curate.core.errors import CurateError, StageFailed
from curate.core.io import read_seed_tasks
from curate.core.jsonl import DurableJsonl, read_jsonl_resume
from curate.core.progress import progress, quiet
from curate.core.text import format_counts, normalize_text, oneline
from curate.generation.filters import RougeFilter
from curate.generation.parse import STOP_SEQUENCES, parse_response, parse_response_lenient
from curate.generation.prompt import encode_prompt, load_prompt
from curate.models.local_teacher import TeacherDied, with_local_teacher
from curate.models.teacher import (FatalTeacherError, Teacher, TeacherError,
                                   redact_error, resolve_api_key, run_workers)

log = logging.getLogger("curate.generation")

#: Defaults of what :func:`run_generate` takes (the ``generate:`` section plus its files):
#: :class:`curate.core.config.GenerateRun`, the one source of these values.
DEFAULTS: dict[str, Any] = GenerateRun().model_dump()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def resolve_params(params: Mapping) -> dict:
    """``params`` (the ``generate:`` section plus its files, possibly partial) validated by
    :class:`curate.core.config.GenerateRun`, with every default filled in and ``sampling.stop``
    null replaced by :data:`curate.generation.parse.STOP_SEQUENCES`.

    ``base_url: null`` means the local teacher (:mod:`curate.models.local_teacher`). Raises
    :class:`curate.core.config.ParamsError` (a :class:`CurateError`) naming the key path of an
    unknown key, a wrong type, a value out of range or a ``base_url`` without ``model``."""
    p = validate_section(GenerateRun, params, "generate")
    if p["sampling"].get("stop") is None:
        p["sampling"]["stop"] = list(STOP_SEQUENCES)
    return p


@dataclass
class _State:
    """The run's counters (this run only; ``total`` in :class:`_Run` counts the file)."""

    requests: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    parsed: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    finish_reasons: Counter = field(default_factory=Counter)
    stopped_by: str | None = None
    fatal: str | None = None
    failure_kinds: Counter = field(default_factory=Counter)
    last_error: str | None = None


def _load_template(name: str) -> str:
    try:
        return load_prompt(name)
    except FileNotFoundError:
        raise CurateError(f"params generate.prompt: no such prompt file {name!r}") from None


class _Run:
    """One generation run (see the module doc): read the seeds, the prompt and the records
    already in ``out``, open the three output files and the teacher; :meth:`run` does the rest.

    Raises :class:`CurateError` on construction for a missing seed or prompt file, too few
    seeds or an unreadable output file. All methods but :meth:`worker` and :meth:`run` are
    synchronous, so no other worker interleaves with them."""

    def __init__(self, p: dict, key: str, alive=None) -> None:
        self.t0 = time.perf_counter()
        self.p, self.alive = p, alive
        self.seeds = read_seed_tasks(p["seed_tasks"])
        self.k = k = p["num_prompt_instructions"]
        if len(self.seeds) < k:
            raise CurateError(f"{p['seed_tasks']}: {len(self.seeds)} seed tasks, need {k} per prompt")
        self.template = _load_template(p["prompt"])
        existing = read_jsonl_resume(p["out"])
        kept_instr = [r.get("instruction", "") for r in existing]
        self.rouge = RougeFilter([s["instruction"] for s in self.seeds], kept_instr)
        self.seen = {normalize_text(t) for t in kept_instr}
        self.resumed_from = self.total = len(existing)
        self.target, self.budgets = p["target"], p["budgets"]
        self.sampling = dict(p["sampling"])
        self.rng = random.Random(f"{p['seed']}:{len(existing)}")
        self.st = _State()
        self.out = DurableJsonl(p["out"])
        self.rej = DurableJsonl(p["rejected"], fsync=False)
        self.fail = DurableJsonl(p["failures"])
        self.teacher = Teacher.from_params(p["base_url"], p["model"], key, p)
        self.base_prov = {
            "generator": "curate.generation (Alpaca self-instruct)", "teacher_model": p["model"],
            "endpoint_host": self.teacher.host, "endpoint": p["endpoint"],
            "prompt_template": str(p["prompt"]),
            "prompt_template_sha256": hashlib.sha256(self.template.encode("utf-8")).hexdigest(),
            "num_prompt_instructions": k, "sampling": self.sampling}
        self.bar = None
        if p.get("progress") and self.total < self.target and not quiet():  # records accepted toward the target
            self.bar = progress(total=self.target, initial=self.total, desc="generate", unit="record")

    def should_stop(self) -> str | None:
        """Why no further request may start (``fatal``, ``target`` or a budget), or None."""
        st, b = self.st, self.budgets
        if st.fatal:
            return "fatal"
        if self.total >= self.target:
            return "target"
        if b.get("max_requests") is not None and st.requests >= b["max_requests"]:
            return "max_requests"
        if b.get("max_tokens") is not None and st.prompt_tokens + st.completion_tokens >= b["max_tokens"]:
            return "max_tokens"
        if b.get("max_failures") is not None and st.failures >= b["max_failures"]:
            return "max_failures"
        return None

    def reject(self, item: dict, request_id: str | None) -> None:
        """Count a dropped task by its reason and append it to the rejected file."""
        self.st.rejected[item["reason"]] += 1
        self.rej.append({**item, "request_id": request_id, "created": _now()})

    def process_completion(self, c, demos: list[dict], number: int, prompt: str) -> None:
        """Parse and filter one completion ``c`` (:class:`~curate.models.teacher.Completion`)
        of request ``number``; every parsed task goes through :meth:`offer` in order."""
        p = self.p
        self.st.finish_reasons[str(c.finish_reason)] += 1
        parse = parse_response_lenient if p["parser"] == "lenient" else parse_response
        accepted, rejected = parse(c.text, c.finish_reason, self.k,
                                   repeated_header=p["endpoint"] == "chat")
        self.st.parsed += len(accepted)
        for r in rejected:
            self.reject(r, c.request_id)
        prov = {**self.base_prov, "prompt_sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
                "demo_ids": [d["id"] for d in demos], "finish_reason": c.finish_reason,
                "request_id": c.request_id, "request_number": number, "attempts": c.attempts}
        for a in accepted:
            self.offer(a, prov, c.request_id)

    def offer(self, a: dict, prov: dict, request_id: str | None) -> None:
        """Keep parsed task ``a`` (append the record, grow the ROUGE pool) unless the target is
        reached, it is ROUGE-L-similar to the pool or its normalised instruction is kept."""
        inst = a["instruction"]
        item = {"position": a["position"], "text": inst}
        if self.total >= self.target:
            self.reject({"reason": "target_reached", "detail": f"{self.target} records", **item}, request_id)
            return
        v = self.rouge.check(inst)
        if not v.keep:
            self.reject({"reason": "rouge_similar",
                         "detail": f"rougeL {v.max_score:.4f} > {self.rouge.threshold} vs {v.matched!r}",
                         **item}, request_id)
            return
        key = normalize_text(inst)
        if key in self.seen:
            self.reject({"reason": "duplicate", "detail": "same instruction already kept", **item},
                        request_id)
            return
        self.out.append({"instruction": inst, "input": a["input"], "output": a["output"],
                         "most_similar_instructions": v.most_similar_instructions,
                         "avg_similarity_score": v.avg_similarity_score,
                         "provenance": {**prov, "position": a["position"], "created": _now()}})
        self.rouge.add(inst)
        self.seen.add(key)
        self.total += 1
        self.st.accepted += 1

    def record_failure(self, e: TeacherError, number: int, demos: list[dict]) -> None:
        """Count a request that failed for good and append it (redacted) to the failures file;
        a :class:`FatalTeacherError` stops the run."""
        st, msg = self.st, self.teacher.redact(str(e))
        st.failures += 1
        st.failure_kinds[e.kind] += 1
        st.last_error = msg
        st.retries += max(e.attempts - 1, 0)
        self.fail.append({"request_number": number, "error": msg, "status": e.status, "kind": e.kind,
                          "attempts": e.attempts, "demo_ids": [d["id"] for d in demos],
                          "created": _now()})
        log.warning("request %d failed: %s", number, msg[:300])
        if isinstance(e, FatalTeacherError):
            st.fatal = msg

    def progress(self) -> None:
        """Update the tqdm bar (when there is one): records, rejections, req/s, tok/s."""
        if self.bar is None:
            return
        st, el = self.st, max(time.perf_counter() - self.t0, 1e-9)
        self.bar.update(self.total - self.bar.n)
        top = ", ".join(f"{r} {n}" for r, n in st.rejected.most_common(3))
        self.bar.set_postfix_str(f"rej {sum(st.rejected.values())} ({top}) {st.requests / el:.2f} req/s "
                                 f"{st.completion_tokens / el:.0f} tok/s", refresh=False)

    async def worker(self) -> None:
        """Send requests until :meth:`should_stop` says why not (recorded as ``stopped_by``)."""
        st = self.st
        while True:
            why = self.should_stop()
            if why:
                st.stopped_by = st.stopped_by or why
                return
            st.requests += 1
            number = st.requests
            demos = self.rng.sample(self.seeds, self.k)
            prompt = encode_prompt(self.template, demos)
            try:
                c = await self.teacher.complete(prompt, self.sampling)
            except TeacherError as e:
                self.record_failure(e, number, demos)
                continue
            st.retries += c.attempts - 1
            st.prompt_tokens += c.prompt_tokens
            st.completion_tokens += c.completion_tokens
            self.process_completion(c, demos, number, prompt)
            self.progress()
            log.info("request %d: %s, %d records in %s", number, c.finish_reason, self.total, self.p["out"])

    def metrics(self) -> dict:
        """The run's metrics (keys: :func:`run_generate`)."""
        st, wall = self.st, time.perf_counter() - self.t0
        return {
            "requests": st.requests, "failures": st.failures, "retries": st.retries,
            "failures_by_kind": dict(st.failure_kinds.most_common()),
            "prompt_tokens": st.prompt_tokens, "completion_tokens": st.completion_tokens,
            "tokens": st.prompt_tokens + st.completion_tokens, "parsed": st.parsed,
            "accepted": st.accepted, "rejected": sum(st.rejected.values()),
            "rejected_by_reason": dict(sorted(st.rejected.items())),
            "finish_reasons": dict(st.finish_reasons), "resumed_from": self.resumed_from,
            "total_records": self.total, "target": self.target, "stopped_by": st.stopped_by,
            "records_per_min": round(st.accepted / wall * 60, 3) if wall > 0 else 0.0,
            "tokens_per_s": round(st.completion_tokens / wall, 3) if wall > 0 else 0.0,
            "wall_seconds": round(wall, 3),
        }

    def kept(self) -> str:
        return (f"{self.st.accepted} records accepted this run, {self.total}/{self.target} in "
                f"{self.p['out']} (kept; a rerun resumes)")

    async def run(self) -> dict:
        """Run the workers, close everything, apply :meth:`outcome`. Raises
        :class:`StageFailed` (``stopped_by`` ``teacher_died``) when the local teacher dies."""
        st = self.st
        try:
            if self.total < self.target:
                await run_workers(self.p["concurrency"], self.worker, self.alive)
                if self.alive is not None and self.total < self.target:  # died after the last poll?
                    self.alive()
            else:
                st.stopped_by = "target"
        except TeacherDied as e:  # one line of what happened, then the server's log tail
            raise StageFailed(f"generate: {e.summary}; {self.kept()}; {st.failures} failed requests "
                              f"in {self.p['failures']}; last lines of {e.log}:\n{e.log_tail}",
                              {**self.metrics(), "stopped_by": "teacher_died"}) from None
        finally:
            if self.bar is not None:
                self.bar.close()
            await self.teacher.close()
            for f in (self.out, self.rej, self.fail):
                f.close()
        return self.outcome()

    def outcome(self) -> dict:
        """The failure rules (docs/generation.md, "Failing loudly"): raise :class:`StageFailed`
        when the teacher refused the key, when no record was accepted short of ``target``, or
        at ``max_failures``; else return the metrics (a warning when short of ``target``)."""
        st, p, total, target = self.st, self.p, self.total, self.target
        if st.fatal:
            raise StageFailed(f"generate: teacher at {self.teacher.host} refused the request: {st.fatal}",
                              self.metrics())
        m = self.metrics()
        why = (f"{st.requests} requests, {st.failures} failed ({format_counts(st.failure_kinds)}), "
               f"{m['rejected']} tasks rejected ({format_counts(st.rejected)})")
        last = (f"; last error: {oneline(st.last_error)}; failures in {p['failures']}"
                if st.failures else "")
        stop = str(st.stopped_by) + (f"={self.budgets[st.stopped_by]}" if st.stopped_by in self.budgets else "")
        if total < target and st.accepted == 0:
            raise StageFailed(f"generate: no record accepted (stopped by {stop}): {why}; "
                              f"{total}/{target} in {p['out']}{last}", m)
        if st.stopped_by == "max_failures":  # the teacher is broken, whatever was accepted before
            raise StageFailed(f"generate: stopped by {stop}: {why}; {self.kept()}{last}", m)
        if total < target:
            log.warning("generate: stopped by %s with %d/%d records in %s", stop, total, target,
                        p["out"])
        return m


async def _generate(p: dict, key: str, alive=None) -> dict:
    # built inside the event loop, as the teacher's async HTTP client expects
    return await _Run(p, key, alive).run()


def run_generate(params: Mapping) -> dict:
    """Generate Alpaca-style records with an OpenAI-compatible teacher until ``target``
    records are in ``out`` or a budget is spent.

    ``params``: the ``generate:`` section of params.yaml plus its files (keys and defaults:
    :data:`DEFAULTS`; docs/generation.md). The key is read from the environment variable
    ``api_key_env`` (a dummy key for a local host when unset) and never written anywhere.

    Returns metrics: ``requests`` (sent this run, incl. failed), ``failures`` (requests that
    failed for good, see the failures file), ``failures_by_kind``, ``retries``, ``prompt_tokens``,
    ``completion_tokens``, ``tokens`` (their sum, from the servers' ``usage``), ``parsed``
    (tasks that passed the parser filters), ``accepted`` (records written this run),
    ``rejected_by_reason``, ``resumed_from`` (records found in ``out``), ``total_records``,
    ``stopped_by`` (``target``, ``max_requests``, ``max_tokens``, ``max_failures``),
    ``records_per_min``, ``tokens_per_s`` (completion tokens per wall second),
    ``wall_seconds``; with the local teacher also ``teacher``. Budgets count this run only;
    requests in flight when one is reached are completed and used (``max_tokens`` can be
    exceeded by at most ``concurrency`` responses).

    Raises :class:`CurateError` for bad params, a missing key for a remote endpoint or an
    unreadable output file, and :class:`~curate.core.errors.StageFailed` (a CurateError; files
    written first, message redacted, ``metrics`` attached) when the run fails: the teacher
    refuses requests (401/403/404), the run ends short of ``target`` with no record accepted,
    it stops at ``max_failures`` (records accepted before are kept; a rerun resumes), or the
    local teacher's process exits (its exit code or signal, pid and log tail; checked every
    :data:`curate.models.teacher.LIVENESS_POLL_S` s, in-flight requests are abandoned)."""
    p = resolve_params(params)
    if not p["base_url"]:
        return with_local_teacher(p, _generate_with)
    return _generate_with(p, None)


def _generate_with(p: dict, alive) -> dict:
    key = resolve_api_key(p["api_key_env"], p["base_url"])
    try:
        return asyncio.run(_generate(p, key, alive))
    except CurateError as e:
        raise redact_error(e, key) from None

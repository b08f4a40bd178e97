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

A run fails loudly (:class:`GenerationFailed`, after the files are written and closed) when it
ends short of ``target`` with no record accepted, when it stops at ``budgets.max_failures``,
when the teacher refuses the key, and when the local teacher's process dies (docs/generation.md,
"Failing loudly").
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from curate.core.config import GenerateRun, validate_section
from curate.core.errors import CurateError
from curate.core.jsonl import DurableJsonl, read_jsonl_resume
from curate.core.text import normalize_text
from curate.models.teacher import (DUMMY_KEY, FatalTeacherError, Teacher, TeacherError,
                                      endpoint_host, redact)
from curate.generation.filters import RougeFilter
from curate.models.local_teacher import TeacherDied
from curate.generation.parse import STOP_SEQUENCES, parse_response, parse_response_lenient
from curate.generation.prompt import encode_prompt, load_prompt

log = logging.getLogger("curate.generation")

#: Defaults of what :func:`run_generate` takes (the ``generate:`` section plus its files):
#: :class:`curate.core.config.GenerateRun`, the one source of these values.
DEFAULTS: dict[str, Any] = GenerateRun().model_dump()

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}

#: Seconds between two looks at the local teacher's process while requests run.
LIVENESS_POLL_S = 0.2


class GenerationFailed(CurateError):
    """Generation or repair ended without doing what it was asked (see "Failing loudly" in
    docs/generation.md). ``metrics``: the run's metrics as :func:`run_generate` would have
    returned them (None when not known)."""

    def __init__(self, message: str, metrics: dict | None = None) -> None:
        super().__init__(message)
        self.metrics = metrics


async def run_workers(n: int, worker, alive=None, poll_s: float = LIVENESS_POLL_S) -> None:
    """Run ``n`` concurrent copies of the coroutine function ``worker`` until all return.

    ``alive``: None, or a callable that raises (:class:`~curate.models.local_teacher.TeacherDied`
    from :meth:`LocalTeacher.check_alive <curate.models.local_teacher.LocalTeacher.check_alive>`)
    once the teacher is gone; it is called every ``poll_s`` seconds while workers run (not
    after the last one returned: the caller decides whether a death after the work is done
    matters). When it raises, or a worker
    raises, the other workers are cancelled at once (requests in flight are abandoned, not
    retried) and that exception propagates."""
    tasks = [asyncio.create_task(worker()) for _ in range(n)]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, timeout=poll_s if alive else None,
                                               return_when=asyncio.FIRST_EXCEPTION)
            if alive is not None and pending:  # first: a dead server explains any worker error
                alive()
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    raise t.exception()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _oneline(text: object, limit: int = 300) -> str:
    """``text`` with whitespace runs collapsed to one space, cut to ``limit`` characters."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _counts(c: Mapping) -> str:
    """``"rate_limit 6, http_500 2"``: a counter, most common first."""
    return ", ".join(f"{k} {n}" for k, n in Counter(c).most_common()) or "none"


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


def _api_key(p: Mapping) -> str:
    key = os.environ.get(p["api_key_env"] or "")
    if key:
        return key
    if endpoint_host(p["base_url"]).rsplit(":", 1)[0].strip("[]") in _LOCAL_HOSTS:
        return DUMMY_KEY
    raise CurateError(f"${p['api_key_env']} is not set (needed for {endpoint_host(p['base_url'])})")


@dataclass
class _State:
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


def _load_seeds(path: str) -> list[dict]:
    from curate.dedupe.pipeline import load_seed_tasks

    try:
        return load_seed_tasks(path)
    except FileNotFoundError:
        raise CurateError(f"{path}: no such seed tasks file") from None


async def _generate(p: dict, key: str, alive=None) -> dict:
    t0 = time.perf_counter()
    seeds = _load_seeds(p["seed_tasks"])
    k = p["num_prompt_instructions"]
    if len(seeds) < k:
        raise CurateError(f"{p['seed_tasks']}: {len(seeds)} seed tasks, need {k} per prompt")
    try:
        template = load_prompt(p["prompt"])
    except FileNotFoundError:
        raise CurateError(f"params generate.prompt: no such prompt file {p['prompt']!r}") from None
    template_sha = hashlib.sha256(template.encode("utf-8")).hexdigest()
    existing = read_jsonl_resume(p["out"])
    kept_instr = [r.get("instruction", "") for r in existing]
    rouge = RougeFilter([s["instruction"] for s in seeds], kept_instr)
    seen = {normalize_text(t) for t in kept_instr}
    target = p["target"]
    budgets = p["budgets"]
    max_req, max_tok = budgets.get("max_requests"), budgets.get("max_tokens")
    max_fail = budgets.get("max_failures")
    sampling = dict(p["sampling"])
    rng = random.Random(f"{p['seed']}:{len(existing)}")
    st = _State()
    total = len(existing)

    out = DurableJsonl(p["out"])
    rej = DurableJsonl(p["rejected"], fsync=False)
    fail = DurableJsonl(p["failures"])
    teacher = Teacher(p["base_url"], p["model"], key, endpoint=p["endpoint"],
                      timeout_s=p["retry"]["timeout_s"], max_attempts=p["retry"]["max_attempts"],
                      backoff_base_s=p["retry"]["backoff_base_s"],
                      max_backoff_s=p["retry"]["max_backoff_s"], seed=p["seed"])
    base_prov = {"generator": "curate.generation (Alpaca self-instruct)",
                 "teacher_model": p["model"], "endpoint_host": teacher.host,
                 "endpoint": p["endpoint"], "prompt_template": str(p["prompt"]),
                 "prompt_template_sha256": template_sha, "num_prompt_instructions": k,
                 "sampling": sampling}

    def should_stop() -> str | None:
        if st.fatal:
            return "fatal"
        if total >= target:
            return "target"
        if max_req is not None and st.requests >= max_req:
            return "max_requests"
        if max_tok is not None and st.prompt_tokens + st.completion_tokens >= max_tok:
            return "max_tokens"
        if max_fail is not None and st.failures >= max_fail:
            return "max_failures"
        return None

    def reject(item: dict, request_id: str | None) -> None:
        st.rejected[item["reason"]] += 1
        rej.append({**item, "request_id": request_id, "created": _now()})

    def process(c, demos: list[dict], number: int, prompt: str) -> None:
        """Parse and filter one completion; synchronous, so no other worker interleaves."""
        nonlocal total
        st.finish_reasons[str(c.finish_reason)] += 1
        parse = parse_response_lenient if p["parser"] == "lenient" else parse_response
        accepted, rejected = parse(c.text, c.finish_reason, k, repeated_header=p["endpoint"] == "chat")
        st.parsed += len(accepted)
        for r in rejected:
            reject(r, c.request_id)
        prov = {**base_prov, "prompt_sha256": hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
                "demo_ids": [d["id"] for d in demos], "finish_reason": c.finish_reason,
                "request_id": c.request_id, "request_number": number, "attempts": c.attempts}
        for a in accepted:
            inst = a["instruction"]
            item = {"position": a["position"], "text": inst}
            if total >= target:
                reject({"reason": "target_reached", "detail": f"{target} records", **item},
                       c.request_id)
                continue
            v = rouge.check(inst)
            if not v.keep:
                reject({"reason": "rouge_similar",
                        "detail": f"rougeL {v.max_score:.4f} > {rouge.threshold} vs {v.matched!r}",
                        **item}, c.request_id)
                continue
            key_ = normalize_text(inst)
            if key_ in seen:
                reject({"reason": "duplicate", "detail": "same instruction already kept", **item},
                       c.request_id)
                continue
            rec = {"instruction": inst, "input": a["input"], "output": a["output"],
                   "most_similar_instructions": v.most_similar_instructions,
                   "avg_similarity_score": v.avg_similarity_score,
                   "provenance": {**prov, "position": a["position"], "created": _now()}}
            out.append(rec)
            rouge.add(inst)
            seen.add(key_)
            total += 1
            st.accepted += 1

    def progress() -> None:
        if bar is None:
            return
        el = max(time.perf_counter() - t0, 1e-9)
        bar.update(total - bar.n)
        top = ", ".join(f"{r} {n}" for r, n in st.rejected.most_common(3))
        bar.set_postfix_str(f"rej {sum(st.rejected.values())} ({top}) {st.requests / el:.2f} req/s "
                            f"{st.completion_tokens / el:.0f} tok/s", refresh=False)

    async def worker() -> None:
        while True:
            why = should_stop()
            if why:
                st.stopped_by = st.stopped_by or why
                return
            st.requests += 1
            number = st.requests
            demos = rng.sample(seeds, k)
            prompt = encode_prompt(template, demos)
            try:
                c = await teacher.complete(prompt, sampling)
            except TeacherError as e:
                st.failures += 1
                st.failure_kinds[e.kind] += 1
                st.last_error = teacher.redact(str(e))
                st.retries += max(e.attempts - 1, 0)
                fail.append({"request_number": number, "error": teacher.redact(str(e)),
                             "status": e.status, "kind": e.kind, "attempts": e.attempts,
                             "demo_ids": [d["id"] for d in demos], "created": _now()})
                log.warning("request %d failed: %s", number, teacher.redact(str(e))[:300])
                if isinstance(e, FatalTeacherError):
                    st.fatal = teacher.redact(str(e))
                continue
            st.retries += c.attempts - 1
            st.prompt_tokens += c.prompt_tokens
            st.completion_tokens += c.completion_tokens
            process(c, demos, number, prompt)
            progress()
            log.info("request %d: %s, %d records in %s", number, c.finish_reason, total, p["out"])

    bar = None
    if p.get("progress") and total < target:
        from tqdm import tqdm

        bar = tqdm(total=target, initial=total, desc="generate", unit="rec", dynamic_ncols=True)

    def metrics() -> dict:
        wall = time.perf_counter() - t0
        return {
            "requests": st.requests, "failures": st.failures, "retries": st.retries,
            "failures_by_kind": dict(st.failure_kinds.most_common()),
            "prompt_tokens": st.prompt_tokens, "completion_tokens": st.completion_tokens,
            "tokens": st.prompt_tokens + st.completion_tokens, "parsed": st.parsed,
            "accepted": st.accepted, "rejected": sum(st.rejected.values()),
            "rejected_by_reason": dict(sorted(st.rejected.items())),
            "finish_reasons": dict(st.finish_reasons), "resumed_from": len(existing),
            "total_records": total, "target": target, "stopped_by": st.stopped_by,
            "records_per_min": round(st.accepted / wall * 60, 3) if wall > 0 else 0.0,
            "tokens_per_s": round(st.completion_tokens / wall, 3) if wall > 0 else 0.0,
            "wall_seconds": round(wall, 3),
        }

    def kept() -> str:
        return (f"{st.accepted} records accepted this run, {total}/{target} in {p['out']} "
                "(kept; a rerun resumes)")

    try:
        if total < target:
            await run_workers(p["concurrency"], worker, alive)
            if alive is not None and total < target:  # died after the last poll?
                alive()
        else:
            st.stopped_by = "target"
    except TeacherDied as e:  # one line of what happened, then the server's log tail
        raise GenerationFailed(f"generate: {e.summary}; {kept()}; {st.failures} failed requests "
                               f"in {p['failures']}; last lines of {e.log}:\n{e.log_tail}",
                               {**metrics(), "stopped_by": "teacher_died"}) from None
    finally:
        if bar is not None:
            bar.close()
        await teacher.close()
        for f in (out, rej, fail):
            f.close()
    if st.fatal:
        raise GenerationFailed(f"generate: teacher at {teacher.host} refused the request: {st.fatal}",
                               metrics())
    m = metrics()
    why = (f"{st.requests} requests, {st.failures} failed ({_counts(st.failure_kinds)}), "
           f"{m['rejected']} tasks rejected ({_counts(st.rejected)})")
    last = (f"; last error: {_oneline(st.last_error)}; failures in {p['failures']}"
            if st.failures else "")
    stop = str(st.stopped_by) + (f"={budgets[st.stopped_by]}" if st.stopped_by in budgets else "")
    if total < target and st.accepted == 0:
        raise GenerationFailed(f"generate: no record accepted (stopped by {stop}): {why}; "
                               f"{total}/{target} in {p['out']}{last}", m)
    if st.stopped_by == "max_failures":  # the teacher is broken, whatever was accepted before
        raise GenerationFailed(f"generate: stopped by {stop}: {why}; {kept()}{last}", m)
    if total < target:
        log.warning("generate: stopped by %s with %d/%d records in %s", stop, total, target,
                    p["out"])
    return m


def run_generate(params: Mapping) -> dict:
    """Generate Alpaca-style records with an OpenAI-compatible teacher until ``target``
    records are in ``out`` or a budget is spent.

    ``params``: the ``generate:`` section of params.yaml (keys and defaults: :data:`DEFAULTS`;
    docs/generation.md). The key is read from the environment variable ``api_key_env``
    (a dummy key for a local host when unset) and never written anywhere.

    Returns metrics: ``requests`` (sent this run, incl. failed), ``failures`` (requests that
    failed for good, see the failures file), ``failures_by_kind``, ``retries``, ``prompt_tokens``,
    ``completion_tokens``, ``tokens`` (their sum, from the servers' ``usage``), ``parsed``
    (tasks that passed the parser filters), ``accepted`` (records written this run),
    ``rejected_by_reason``, ``resumed_from`` (records found in ``out``), ``total_records``,
    ``stopped_by`` (``target``, ``max_requests``, ``max_tokens``, ``max_failures``),
    ``records_per_min``, ``tokens_per_s`` (completion tokens per wall second),
    ``wall_seconds``. Budgets count this run only; requests in flight when one is reached
    are completed and used (``max_tokens`` can be exceeded by at most ``concurrency``
    responses).

    Raises :class:`CurateError` for bad params, a missing key for a remote endpoint or an
    unreadable output file, and :class:`GenerationFailed` (a CurateError; files written first,
    message redacted, ``metrics`` attached) when the run fails: the teacher refuses requests
    (401/403/404), the run ends short of ``target`` with no record accepted, it stops at
    ``max_failures`` (records accepted before are kept; a rerun resumes), or the local
    teacher's process exits (its exit code or signal, pid and log tail; checked every
    :data:`LIVENESS_POLL_S` s, in-flight requests are abandoned)."""
    p = resolve_params(params)
    if not p["base_url"]:
        return _with_local_teacher(p, _generate_with)
    return _generate_with(p, None)


def _generate_with(p: dict, alive) -> dict:
    key = _api_key(p)
    try:
        return asyncio.run(_generate(p, key, alive))
    except CurateError as e:
        raise _redacted(e, key) from None


def _redacted(e: CurateError, key: str) -> CurateError:
    """``e`` with ``key`` removed from its message (same class, ``metrics`` kept)."""
    e.args = (redact(str(e), [key]),)
    return e


def _with_local_teacher(p: dict, fn):
    """Run ``fn(params, alive)`` with ``base_url``/``model`` pointing at a freshly started
    local teacher and ``alive`` its :meth:`~curate.models.local_teacher.LocalTeacher.check_alive`,
    and stop it afterwards; adds ``teacher`` facts to the returned metrics."""
    from curate.models.local_teacher import LocalTeacher

    loc = p["local"]
    with LocalTeacher(n_ctx=loc["n_ctx"], n_threads=loc["n_threads"], log_path=loc["log"],
                      startup_timeout_s=loc["startup_timeout_s"], seed=p["seed"]) as lt:
        t0 = time.perf_counter()
        q = {k: v for k, v in p.items()}
        # api_key_env None: the user's real key is never sent to the loopback server
        q.update(base_url=lt.base_url, model=lt.model, endpoint=loc["endpoint"], parser=loc["parser"],
                 sampling={**p["sampling"], **(loc.get("sampling") or {})}, api_key_env=None)
        m = fn(q, lt.check_alive)
    m["teacher"] = {"local": True, "model_file": lt.model_path.name, "n_ctx": lt.n_ctx,
                    "n_threads": lt.n_threads, "served_seconds": round(time.perf_counter() - t0, 3)}
    return m


def run_regenerate(params: Mapping, annotations: str, records_path: str, out_path: str) -> dict:
    """``curate generate --regenerate-outputs ANNOTATIONS``: new outputs from the teacher (the
    local one when ``base_url`` is null) for the records marked ``repair`` in ``annotations``,
    written as ``normalize`` annotations to ``out_path``; see
    :func:`curate.repair.regenerate.regenerate_outputs`. Raises :class:`CurateError` for bad
    params, a missing key for a remote endpoint or a bad annotations file, and
    :class:`GenerationFailed` when every request of the run failed or the local teacher's
    process exits."""
    from curate.repair.regenerate import empty_repairs, regenerate_outputs, repair_targets
    from curate.core.io import read_records

    p = resolve_params(params)
    records = read_records(records_path)
    if not repair_targets(annotations, records):  # nothing to repair: no teacher to start
        return empty_repairs(out_path, targets=0)

    def run(q: dict, alive) -> dict:
        key = _api_key(q)
        try:
            return regenerate_outputs(annotations, records, q, out_path, q["regenerate_log"],
                                      q["base_url"], q["model"], key, alive=alive)
        except CurateError as e:
            raise _redacted(e, key) from None

    return _with_local_teacher(p, run) if not p["base_url"] else run(p, None)


def main(argv: list[str] | None = None) -> int:
    """``python -m curate.generation.generate PARAMS`` (YAML or JSON; its ``generate:``
    section, or the whole file when it has none): run and print the metrics as JSON.
    Exit 1 with one line on :class:`CurateError`. A stand-in until ``curate generate`` is
    wired into the CLI."""
    import yaml

    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        doc = yaml.safe_load(Path(argv[0]).read_text(encoding="utf-8"))
        params = doc.get("generate", doc) if isinstance(doc, dict) else None
        if not isinstance(params, dict):
            raise CurateError(f"{argv[0]}: no generate: mapping")
        print(json.dumps(run_generate(params), indent=2))
    except CurateError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

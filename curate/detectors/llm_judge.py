"""An LLM judge of output quality, AlpaGasus style, through an OpenAI-compatible endpoint.

Method (Chen et al. 2023, "AlpaGasus: Training a Better Alpaca with Fewer Data",
arXiv:2307.08701): a strong LLM rates each (instruction, input, response) triplet on a 0-5 scale
for the accuracy of the response, with a short explanation; AlpaGasus kept the 9k of 52k Alpaca
records rated >= 4.5. Here the rubric is written out in the prompt (:data:`JUDGE_TEMPLATE`),
the reply must carry ``Score: X`` and ``Reason: ...`` lines (:func:`parse_judgement`), and
:class:`LLMJudge` flags records rated below a threshold (default 3) for review rather than
keeping only the top.

Calls go through :class:`curate.models.teacher.Teacher` (retries, backoff, key redaction).
Every answer is cached in an append-only JSONL file keyed by :func:`judge_key` (SHA-256 over
judge model, template version and the record's three fields); each line is flushed and
fsynced, so an interrupted run loses at most the line being written, and a rerun sends no
request for a cached record (:class:`JudgeCache`). The API key is read from an environment
variable and never written to the cache, logs or error messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pyarrow as pa

from curate.core.errors import CurateError
from curate.core.jsonl import DurableJsonl, read_jsonl_resume
from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register

log = logging.getLogger("curate.judge")

#: Changes whenever :data:`JUDGE_TEMPLATE` or the parser's contract changes: old cache
#: entries then stop matching and records are judged again.
TEMPLATE_VERSION = "alpagasus-rubric-v1"

#: AlpaGasus' rating prompt (paper Fig. 3: "We would like to request your feedback on the
#: performance of AI assistant ... rate according to the accuracy of the response ... on a
#: scale of 0 to 5") with the rubric spelled out and a machine-readable reply format.
JUDGE_TEMPLATE = """\
We would like to request your feedback on the performance of an AI assistant in response to the \
instruction and the given input displayed below.

[Instruction]
{instruction}

[Input]
{input}

[Response]
{output}

Rate the response for its accuracy and helpfulness with respect to the instruction and the \
input, on a scale of 0 to 5:
5 = fully correct, complete and helpful; follows the instruction and uses the input.
4 = correct and helpful, with minor omissions or stylistic flaws.
3 = partly correct or partly helpful; noticeable errors or gaps.
2 = mostly incorrect, incomplete, or only loosely follows the instruction.
1 = wrong, off-topic, or ignores the input.
0 = empty, nonsensical, a refusal or non-answer, or harmful.
Avoid any bias from the response's length or style.

Reply with exactly two lines:
Score: <a number from 0 to 5>
Reason: <one or two sentences explaining the score>
"""

#: Sampling sent with every request unless overridden: deterministic and short.
DEFAULT_SAMPLING = {"temperature": 0.0, "max_tokens": 256}

_SCORE = re.compile(
    r"(?:^|\n)[\s*_#>`-]*(?:score|rating)[\s*_`]*[:=][\s*_`\[(]*(-?\d+(?:\.\d+)?)(?:\s*(?:/|out\s+of)\s*5(?:\.0)?\b)?",
    re.IGNORECASE)
_BARE = re.compile(r"^\s*[*_`]*(-?\d+(?:\.\d+)?)[*_`]*\s*(?:/\s*5)?\s*(?:\n|$)")
_REASON = re.compile(r"(?:^|\n)[\s*_#>`-]*(?:reason|explanation)[\s*_`]*[:=][\s*_`]*(.*)", re.IGNORECASE | re.DOTALL)


class JudgeParseError(ValueError):
    """The judge's reply carries no usable 0-5 score."""


def render_prompt(rec: Mapping[str, str]) -> str:
    """:data:`JUDGE_TEMPLATE` filled with the record's fields (an empty input shows as
    ``(none)``)."""
    return JUDGE_TEMPLATE.format(instruction=rec["instruction"], input=rec.get("input") or "(none)",
                                 output=rec["output"])


def parse_judgement(text: str) -> tuple[float, str]:
    """``(rating, reason)`` from a judge reply.

    The rating is the number after the first ``Score:``/``Rating:`` label (markdown emphasis,
    ``=`` and a trailing ``/5`` or ``out of 5`` tolerated), else a bare number on the first
    line (AlpaGasus' original format). The reason is the text after ``Reason:``/
    ``Explanation:``, else the rest of the reply, whitespace collapsed and cut to 500
    characters. Raises :class:`JudgeParseError` when no number is found or it is outside
    [0, 5]."""
    m = _SCORE.search(text) or _BARE.match(text)
    if not m:
        raise JudgeParseError(f"no 'Score: X' in judge reply {quote(text, 120)}")
    rating = float(m.group(1))
    if not 0.0 <= rating <= 5.0 or math.isnan(rating):
        raise JudgeParseError(f"score {m.group(1)} outside 0-5 in judge reply {quote(text, 120)}")
    r = _REASON.search(text)
    reason = r.group(1) if r else (text[: m.start()] + " " + text[m.end():])
    reason = re.sub(r"\s+", " ", reason).strip(" *_`")
    return rating, reason[:500]


def judge_key(model: str, rec: Mapping[str, str], template_version: str = TEMPLATE_VERSION) -> str:
    """Cache key: SHA-256 hex of the JSON list ``[model, template_version, instruction, input,
    output]`` (a missing input counts as ""; the record id is not part of it: identical content
    is judged once)."""
    blob = json.dumps([model, template_version, rec["instruction"], rec.get("input") or "", rec["output"]],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Judgement:
    """One record's verdict. ``rating``: 0-5, None on failure; ``reason``: the judge's reason;
    ``error``: why it failed (``malformed: ...``, a transport error), None on success;
    ``cached``: read from the cache, not requested in this run."""

    rating: float | None
    reason: str
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.rating is not None


class JudgeCache:
    """Append-only JSONL cache of judgements (:mod:`curate.core.jsonl`), one object per line
    with keys ``key``, ``id``, ``model``, ``template``, ``rating`` (float or null), ``reason``,
    ``error``, ``reply`` (the raw reply, redacted, first 2,000 characters).

    Opening reads every complete line; a torn last line (a crash mid-write: no newline or not
    JSON) is cut off the file and ``torn`` is set. A bad line before the last raises
    :class:`CurateError` (the file was damaged some other way). Later lines win for a repeated
    key. ``add`` writes one line and flushes and fsyncs it before returning."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        size = self.path.stat().st_size if self.path.is_file() else 0
        rows = read_jsonl_resume(self.path)
        self.torn = self.path.is_file() and self.path.stat().st_size != size
        for n, obj in enumerate(rows, 1):
            if "key" not in obj:
                raise CurateError(f"{self.path}: entry {n} has no 'key'; not a judge cache")
        self.entries: dict[str, dict] = {o["key"]: o for o in rows}
        self._out: DurableJsonl | None = None

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def add(self, entry: Mapping[str, Any]) -> None:
        if self._out is None:
            self._out = DurableJsonl(self.path)
        self._out.append(entry)
        self.entries[entry["key"]] = dict(entry)


class Judge:
    """Rates records with a :class:`~curate.models.teacher.Teacher`-like object (anything
    with ``model``, ``redact(text)`` and ``async complete(prompt, sampling)``), caching every
    answer in ``cache``.

    ``concurrency``: at most this many requests in flight; ``sampling``: passed to the API
    (default :data:`DEFAULT_SAMPLING`); ``retry_failed``: re-ask records whose cached reply was
    malformed (default: keep the recorded failure); ``max_failures``: transport failures (after
    the teacher's own retries) before the run stops with :class:`CurateError`."""

    def __init__(self, teacher, cache: JudgeCache, concurrency: int = 4,
                 sampling: Mapping[str, Any] | None = None, retry_failed: bool = False,
                 max_failures: int | None = 20) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.teacher = teacher
        self.cache = cache
        self.concurrency = int(concurrency)
        self.sampling = dict(DEFAULT_SAMPLING if sampling is None else sampling)
        self.retry_failed = retry_failed
        self.max_failures = max_failures
        self.stats = {"requests": 0, "cached": 0, "malformed": 0, "transport_failures": 0}

    def _from_entry(self, e: Mapping[str, Any]) -> Judgement:
        return Judgement(e.get("rating"), e.get("reason") or "", e.get("error"), cached=True)

    async def _one(self, key: str, rec: Mapping[str, str], sem: asyncio.Semaphore) -> Judgement:
        from curate.models.teacher import FatalTeacherError, TeacherError

        async with sem:
            self.stats["requests"] += 1
            try:
                c = await self.teacher.complete(render_prompt(rec), self.sampling)
            except FatalTeacherError:
                raise
            except TeacherError as exc:  # message already redacted by the teacher
                self.stats["transport_failures"] += 1
                if self.max_failures is not None and self.stats["transport_failures"] > self.max_failures:
                    raise CurateError(f"LLM judge: more than {self.max_failures} failed requests; "
                                      f"last: {exc}") from None
                log.warning("judge request for %s failed: %s", rec.get("id"), exc)
                return Judgement(None, "", f"request failed: {exc}")
        reply = self.teacher.redact(c.text)
        try:
            rating, reason = parse_judgement(reply)
            error = None
        except JudgeParseError as exc:
            self.stats["malformed"] += 1
            rating, reason, error = None, "", f"malformed: {exc}"
        self.cache.add({"key": key, "id": rec.get("id"), "model": self.teacher.model,
                        "template": TEMPLATE_VERSION, "rating": rating, "reason": reason,
                        "error": error, "reply": reply[:2000]})
        return Judgement(rating, reason, error)

    async def rate_all(self, records: Sequence[Mapping[str, str]]) -> list[Judgement]:
        """One :class:`Judgement` per record, in order. Cached records make no request;
        records with identical content share one request. Raises
        :class:`~curate.models.teacher.FatalTeacherError` (401/403/404, redacted) or
        :class:`CurateError` (too many failures); completed answers stay cached."""
        keys = [judge_key(self.teacher.model, r) for r in records]
        done: dict[str, Judgement] = {}
        todo: dict[str, Mapping[str, str]] = {}
        for k, r in zip(keys, records):
            e = self.cache.get(k)
            if e is not None and (e.get("rating") is not None or not self.retry_failed):
                done[k] = self._from_entry(e)
            elif k not in todo:
                todo[k] = r
        self.stats["cached"] += sum(1 for k in keys if k in done)
        sem = asyncio.Semaphore(self.concurrency)
        tasks = {k: asyncio.ensure_future(self._one(k, r, sem)) for k, r in todo.items()}
        try:
            for k, t in tasks.items():
                done[k] = await t
        finally:
            for t in tasks.values():
                t.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        return [done[k] for k in keys]


@register("llm_judge", category="low_quality", order=230, score="rating", opt_in=True,
          summary=("AlpaGasus-style (arXiv:2307.08701) 0-5 rating of accuracy and helpfulness with a stated "
                   "rubric and a short reason, cached by content hash; flags rating < 3"))
class LLMJudge(Detector):
    """Low-quality outputs by an LLM judge's 0-5 rating (AlpaGasus, arXiv:2307.08701).

    Constructor: ``base_url`` and ``model`` of an OpenAI-compatible endpoint; ``cache_path``
    (the JSONL cache, see :class:`JudgeCache`); ``api_key_env`` (name of the environment
    variable holding the key; unset or empty -> a dummy key for local servers); ``threshold``
    (flag ratings below it; default 3.0 — AlpaGasus *kept* >= 4.5, a much stricter cut);
    ``concurrency``; ``endpoint`` (``chat`` | ``completions``); ``sampling``; ``timeout_s``,
    ``max_attempts``, ``backoff_base_s``, ``max_backoff_s`` (the Teacher's retry policy);
    ``retry_failed``; ``max_failures``.

    ``prepare`` judges every record (``asyncio.run``: do not call it from a running event
    loop); records judged before (same model, template and content) cost no request. Failed
    records (malformed reply, failed request) get no finding and are listed in ``failures``
    (id -> error); ``stats`` counts requests, cache hits and failures. ``check`` returns
    ``Finding(score=rating, reason=...)``: the score is the 0-5 rating, not in [0, 1].
    Raises :class:`CurateError` on a 401/403/404 from the endpoint or too many failures.
    """

    confidence = 0.5  # not measured: no capable judge model is available offline
    files = {"cache_path": "judge_cache"}

    def __init__(self, base_url: str, model: str, cache_path: str | Path,
                 api_key_env: str = "OPENAI_API_KEY", threshold: float = 3.0, concurrency: int = 4,
                 endpoint: str = "chat", sampling: Mapping[str, Any] | None = None,
                 timeout_s: float = 120.0, max_attempts: int = 6, backoff_base_s: float = 1.0,
                 max_backoff_s: float = 60.0, retry_failed: bool = False,
                 max_failures: int | None = 20) -> None:
        if not base_url or not model:
            raise CurateError("llm_judge needs base_url and model (params detect.llm_judge)")
        self.base_url, self.model, self.endpoint = base_url, model, endpoint
        self.cache_path = Path(cache_path)
        self.api_key_env = api_key_env
        self.threshold = float(threshold)
        self.concurrency = int(concurrency)
        self.sampling = sampling
        self.retry = {"timeout_s": timeout_s, "max_attempts": max_attempts,
                      "backoff_base_s": backoff_base_s, "max_backoff_s": max_backoff_s}
        self.retry_failed = retry_failed
        self.max_failures = max_failures
        self.results: dict[str, Judgement] = {}
        self.failures: dict[str, str] = {}
        self.stats: dict[str, int] = {}

    async def _run(self, rows: list[dict]) -> list[Judgement]:
        from curate.models.teacher import FatalTeacherError, Teacher

        teacher = Teacher(self.base_url, self.model, api_key=os.environ.get(self.api_key_env) or None,
                          endpoint=self.endpoint, **self.retry)
        judge = Judge(teacher, JudgeCache(self.cache_path), self.concurrency, self.sampling,
                      self.retry_failed, self.max_failures)
        try:
            return await judge.rate_all(rows)
        except FatalTeacherError as exc:
            raise CurateError(f"LLM judge at {teacher.host}: {exc} (check {self.api_key_env} and "
                              f"model {self.model!r})") from None
        finally:
            self.stats = dict(judge.stats)
            await teacher.close()

    def prepare(self, records: pa.Table) -> None:
        rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
        verdicts = asyncio.run(self._run(rows))
        self.results = {r["id"]: v for r, v in zip(rows, verdicts)}
        self.failures = {r["id"]: v.error for r, v in zip(rows, verdicts) if not v.ok}

    def check(self, rec):
        v = self.results.get(rec["id"])
        if v is None or not v.ok or v.rating >= self.threshold:
            return None
        return Finding(v.rating, f"LLM judge ({self.model}) rated {v.rating:g}/5 < {self.threshold:g}: {v.reason}")

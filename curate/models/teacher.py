"""An OpenAI-compatible teacher: one prompt in, one completion out, with our own retries.

Source of the method: Alpaca's ``utils.openai_completion`` (retry on errors, sleep, retry),
made concurrent and bounded. The ``openai`` client's own retries are disabled
(``max_retries=0``) so every attempt is ours and counted. Retried: 429 (honouring
``retry-after-ms`` / ``retry-after``), 5xx, 408/409, timeouts, connection errors — exponential
backoff ``base * 2**attempt`` with full jitter, capped at ``max_backoff_s`` (a server's
``Retry-After: 3600`` waits ``max_backoff_s``, not an hour), at most ``max_attempts`` attempts.
Each attempt as a whole (connect, headers and body) is bounded by ``timeout_s`` with
:func:`asyncio.wait_for`; httpx's timeout is per read, so a server trickling one byte at a time
would otherwise never time out. Not retried: other 4xx and 200 responses that are not a
completion (non-JSON or HTML body, no ``choices``: kind ``bad_response``). 401/403/404 are
:class:`FatalTeacherError` (no point sending more requests).

The API key is never written anywhere: every message that leaves this module goes through
:func:`redact`. :func:`run_workers` runs concurrent requests with a liveness check of the
server (generation and repair both use it); :func:`resolve_api_key` picks the key.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from dataclasses import dataclass, field
from typing import Mapping, Sequence
from urllib.parse import urlparse

from curate.core.errors import CurateError

log = logging.getLogger("curate.generation")

#: Key used for local servers (llama.cpp, vLLM) that do not check one.
DUMMY_KEY = "sk-no-key-required"

REDACTED = "***REDACTED***"

#: Hosts that get :data:`DUMMY_KEY` when the key variable is unset.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})

#: Seconds between two looks at the local teacher's process while requests run.
LIVENESS_POLL_S = 0.2


def redact(text: object, secrets: Sequence[str | None]) -> str:
    """``str(text)`` with every occurrence of each non-empty secret (of length >= 4) replaced
    by ``***REDACTED***``."""
    s = str(text)
    for sec in secrets:
        if sec and len(sec) >= 4:
            s = s.replace(sec, REDACTED)
    return s


def endpoint_host(base_url: str) -> str:
    """``host[:port]`` of ``base_url`` (no scheme, path, user info or query): what provenance
    records about the endpoint."""
    u = urlparse(base_url)
    host = u.hostname or ""
    return f"{host}:{u.port}" if u.port else host


def resolve_api_key(api_key_env: str | None, base_url: str) -> str:
    """The key for ``base_url``: the value of the environment variable ``api_key_env`` when set
    and non-empty, else :data:`DUMMY_KEY` for a host in :data:`LOCAL_HOSTS`. Raises
    :class:`CurateError` (``"$VAR is not set (needed for host)"``) for a remote host without
    a key."""
    key = os.environ.get(api_key_env or "")
    if key:
        return key
    if endpoint_host(base_url).rsplit(":", 1)[0].strip("[]") in LOCAL_HOSTS:
        return DUMMY_KEY
    raise CurateError(f"${api_key_env} is not set (needed for {endpoint_host(base_url)})")


def redact_error(e: Exception, key: str) -> Exception:
    """``e`` itself with ``key`` removed from its message (same object and class, attributes
    such as ``metrics`` kept), for re-raising."""
    e.args = (redact(str(e), [key]),)
    return e


async def run_workers(n: int, worker, alive=None, poll_s: float = LIVENESS_POLL_S) -> None:
    """Run ``n`` concurrent copies of the coroutine function ``worker`` (no arguments; each
    typically loops sending teacher requests until its work is done) until all return.

    ``alive``: None, or a callable that raises (:class:`~curate.models.local_teacher.TeacherDied`
    from :meth:`LocalTeacher.check_alive <curate.models.local_teacher.LocalTeacher.check_alive>`)
    once the teacher is gone; it is called every ``poll_s`` seconds while workers run (not
    after the last one returned: the caller decides whether a death after the work is done
    matters). When it raises, or a worker raises, the other workers are cancelled at once
    (requests in flight are abandoned, not retried) and that exception propagates."""
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


class TeacherError(Exception):
    """A request failed for good (after retries or on a non-retryable status). ``attempts``:
    tries made; ``status``: HTTP status or None; the message is already redacted."""

    def __init__(self, message: str, attempts: int, status: int | None = None,
                 kind: str = "error") -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status
        self.kind = kind


class FatalTeacherError(TeacherError):
    """The endpoint refuses every request (401, 403, 404): stop the run."""


@dataclass
class Completion:
    """One successful request. ``text``: completion text; ``finish_reason``: the API's;
    ``request_id``: the response ``id``; token counts from ``usage`` (0 when the server gives
    none); ``attempts``: tries it took (1 = no retry); ``seconds``: wall time incl. retries."""

    text: str
    finish_reason: str | None
    request_id: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    seconds: float = 0.0
    retry_reasons: list = field(default_factory=list)


class BadResponse(ValueError):
    """A 2xx response that is not a completion (a non-JSON body, no ``choices``)."""


def _first_choice(r):
    """``r.choices[0]``; raises :class:`BadResponse` saying what came back instead (the
    openai client returns the body as a ``str`` when its content-type is not JSON)."""
    if isinstance(r, str):
        raise BadResponse(f"response body is not JSON: {' '.join(r[:200].split())!r}")
    choices = getattr(r, "choices", None)
    if not choices:
        raise BadResponse(f"response has no choices (choices={choices!r})")
    return choices[0]


def _retry_after(exc) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after`` seconds)."""
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None) or {}
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000.0
        if headers.get("retry-after") is not None:
            return float(headers["retry-after"])
    except (TypeError, ValueError):
        return None
    return None


def backoff_delay(attempt: int, base_s: float, max_s: float, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to sleep before retry number ``attempt`` (1-based): the server's
    ``retry_after`` when given (capped at ``max_s``), else full jitter
    ``uniform(0, min(max_s, base_s * 2**(attempt-1)))`` (AWS "exponential backoff and
    jitter")."""
    if retry_after is not None:
        return max(0.0, min(retry_after, max_s))
    cap = min(max_s, base_s * (2 ** (attempt - 1)))
    return (rng or random).uniform(0, cap)


class Teacher:
    """An OpenAI-compatible endpoint via ``openai.AsyncOpenAI``.

    ``base_url``: e.g. ``http://127.0.0.1:8080/v1``; ``model``: model name sent with each
    request; ``api_key``: the key (None -> :data:`DUMMY_KEY`); ``endpoint``: ``"chat"`` (the
    prompt as one user message to ``/chat/completions``) or ``"completions"`` (raw prompt to
    ``/completions``, as Alpaca did with text-davinci-003); ``timeout_s``: seconds one attempt
    may take as a whole (also httpx's per-read timeout).
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 endpoint: str = "chat", timeout_s: float = 600.0, max_attempts: int = 6,
                 backoff_base_s: float = 1.0, max_backoff_s: float = 60.0,
                 seed: int | None = None) -> None:
        import openai

        if endpoint not in ("chat", "completions"):
            raise ValueError(f"endpoint must be 'chat' or 'completions', not {endpoint!r}")
        self._openai = openai
        self._key = api_key or DUMMY_KEY
        self.model = model
        self.endpoint = endpoint
        self.host = endpoint_host(base_url)
        self.max_attempts = max(1, int(max_attempts))
        self.timeout_s = float(timeout_s)
        self.backoff_base_s = backoff_base_s
        self.max_backoff_s = max_backoff_s
        self._rng = random.Random(seed)
        self.client = openai.AsyncOpenAI(base_url=base_url, api_key=self._key, max_retries=0,
                                         timeout=timeout_s)

    @classmethod
    def from_params(cls, base_url: str, model: str, api_key: str | None, params: Mapping) -> "Teacher":
        """A teacher configured by a resolved ``generate:`` section
        (:class:`curate.core.config.GenerateRun`): its ``endpoint``, ``retry`` (``timeout_s``,
        ``max_attempts``, ``backoff_base_s``, ``max_backoff_s``) and ``seed``."""
        r = params["retry"]
        return cls(base_url, model, api_key, endpoint=params["endpoint"], timeout_s=r["timeout_s"],
                   max_attempts=r["max_attempts"], backoff_base_s=r["backoff_base_s"],
                   max_backoff_s=r["max_backoff_s"], seed=params["seed"])

    def redact(self, text: object) -> str:
        """``text`` with this teacher's key removed."""
        return redact(text, [self._key])

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.client.close()

    async def _once(self, prompt: str, sampling: dict):
        if self.endpoint == "chat":
            r = await self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}], **sampling)
        else:
            r = await self.client.completions.create(model=self.model, prompt=prompt, **sampling)
        ch = _first_choice(r)
        text = (ch.message.content if self.endpoint == "chat" else ch.text) or ""
        u = getattr(r, "usage", None)
        return Completion(text=text, finish_reason=ch.finish_reason, request_id=r.id,
                          prompt_tokens=int(getattr(u, "prompt_tokens", 0) or 0),
                          completion_tokens=int(getattr(u, "completion_tokens", 0) or 0))

    def _classify(self, exc: BaseException) -> tuple[bool, int | None, str]:
        """``(retryable, status, kind)`` of an exception from the openai client."""
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, TimeoutError)):  # TimeoutError: wait_for's
            return True, None, "timeout"
        if isinstance(exc, o.APIConnectionError):
            return True, None, "connection"
        if isinstance(exc, o.APIStatusError):
            st = exc.status_code
            if st == 429:
                return True, st, "rate_limit"
            if st >= 500 or st in (408, 409):
                return True, st, f"http_{st}"
            return False, st, f"http_{st}"
        if isinstance(exc, (o.APIResponseValidationError, BadResponse, ValueError, TypeError,
                            AttributeError, IndexError)):
            return False, None, "bad_response"
        return False, None, type(exc).__name__

    def _describe(self, exc: BaseException) -> str:
        """``"Type: message"`` of an exception, with the cause the openai client hides behind
        its generic "Connection error." (refused, reset, disconnected). Not redacted."""
        import json

        if isinstance(exc, TimeoutError) and not str(exc):  # from wait_for
            return f"TimeoutError: attempt took longer than timeout_s={self.timeout_s:g} s"
        if isinstance(exc, json.JSONDecodeError):
            return f"BadResponse: response body is not JSON ({exc})"
        msg = f"{type(exc).__name__}: {exc}"
        cause = exc.__cause__
        if isinstance(exc, self._openai.APIConnectionError) and cause is not None:
            for _ in range(3):  # httpx's ReadError is often empty; its cause says "reset by peer"
                inner = cause.__cause__ or cause.__context__
                if str(cause) or inner is None:
                    break
                cause = inner
            msg += f" ({type(cause).__name__}: {cause})"
        return msg

    async def complete(self, prompt: str, sampling: dict) -> Completion:
        """Send ``prompt`` with ``sampling`` (``temperature``, ``top_p``, ``max_tokens``, ``stop``
        ... passed through to the API) and return a :class:`Completion`.

        Each attempt is cancelled after ``timeout_s`` seconds (kind ``timeout``, retried). Raises
        :class:`TeacherError` (``kind``: ``rate_limit``, ``http_NNN``, ``timeout``,
        ``connection``, ``bad_response``, ...) after ``max_attempts`` failed attempts or on a
        non-retryable error, :class:`FatalTeacherError` on 401/403/404; messages are redacted."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        reasons: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            try:
                c = await asyncio.wait_for(self._once(prompt, sampling), self.timeout_s)
                c.attempts, c.seconds, c.retry_reasons = attempt, loop.time() - t0, reasons
                return c
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                retryable, status, kind = self._classify(exc)
                msg = self.redact(self._describe(exc))
                if not retryable or attempt == self.max_attempts:
                    cls = FatalTeacherError if status in (401, 403, 404) else TeacherError
                    why = "not retryable" if not retryable else f"gave up after {attempt} attempts"
                    raise cls(f"{why}: {msg}", attempt, status, kind) from None
                reasons.append(kind)
                delay = backoff_delay(attempt, self.backoff_base_s, self.max_backoff_s,
                                      _retry_after(exc) if status == 429 else None, self._rng)
                log.info("retry %d/%d in %.2fs after %s", attempt, self.max_attempts - 1, delay,
                         msg[:300])
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

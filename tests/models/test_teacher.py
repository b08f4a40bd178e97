"""The teacher client's helpers (redaction, host, backoff, the key) and the concurrent request
pool with its liveness check (run_workers), without a server."""

import asyncio

import pytest

from curate.core.errors import CurateError
from curate.models.teacher import (DUMMY_KEY, backoff_delay, endpoint_host, redact, redact_error,
                                   resolve_api_key, run_workers)

KEY = "sk-test-S3CRET-do-not-leak-0123456789abcdef"


def test_client_helpers():
    assert redact(f"Bearer {KEY} and {KEY}", [KEY, None, ""]) == \
        "Bearer ***REDACTED*** and ***REDACTED***"
    assert endpoint_host("https://user:pw@api.example.com:8443/v1?x=1") == "api.example.com:8443"
    assert backoff_delay(3, 1.0, 60.0, retry_after=7.0) == 7.0
    assert backoff_delay(3, 1.0, 5.0, retry_after=70.0) == 5.0
    assert all(0 <= backoff_delay(a, 1.0, 3.0) <= min(3.0, 2 ** (a - 1)) for a in range(1, 8))


def test_api_key_from_env_dummy_for_loopback_error_for_remote(monkeypatch):
    monkeypatch.setenv("CURATE_TEST_KEY", KEY)
    assert resolve_api_key("CURATE_TEST_KEY", "https://api.example.com/v1") == KEY
    monkeypatch.delenv("CURATE_TEST_KEY")
    for url in ("http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9/v1"):
        assert resolve_api_key("CURATE_TEST_KEY", url) == DUMMY_KEY
    assert resolve_api_key(None, "http://127.0.0.1:1/v1") == DUMMY_KEY
    with pytest.raises(CurateError, match=r"^\$CURATE_TEST_KEY is not set \(needed for api.example.com\)$"):
        resolve_api_key("CURATE_TEST_KEY", "https://api.example.com/v1")


def test_redact_error_keeps_the_object_and_its_attributes():
    e = CurateError(f"failed with {KEY}")
    e.metrics = {"requests": 1}
    assert redact_error(e, KEY) is e
    assert str(e) == "failed with ***REDACTED***" and e.metrics == {"requests": 1}


def test_run_workers_runs_all_copies_to_the_end():
    done = []

    async def worker():
        for _ in range(3):
            await asyncio.sleep(0.001)
        done.append(1)

    asyncio.run(run_workers(4, worker, alive=lambda: None, poll_s=0.001))
    assert len(done) == 4


def test_run_workers_stops_everything_when_the_teacher_dies():
    """``alive`` raising cancels the workers still waiting on a request, and propagates."""
    cancelled, polls = [], []

    class Died(Exception):
        pass

    def alive():
        polls.append(1)
        if len(polls) >= 3:
            raise Died("gone")

    async def worker():
        try:
            await asyncio.sleep(60)  # a request that never returns
        except asyncio.CancelledError:
            cancelled.append(1)
            raise

    with pytest.raises(Died):
        asyncio.run(asyncio.wait_for(run_workers(2, worker, alive=alive, poll_s=0.01), 5))
    assert len(cancelled) == 2 and len(polls) == 3


def test_run_workers_propagates_a_worker_error_and_cancels_the_rest():
    started, cancelled = [], []

    async def worker():
        started.append(1)
        if len(started) == 1:  # the first copy fails, the others wait on a request
            await asyncio.sleep(0.01)
            raise ValueError("boom")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(asyncio.wait_for(run_workers(3, worker), 5))
    assert len(started) == 3 and len(cancelled) == 2

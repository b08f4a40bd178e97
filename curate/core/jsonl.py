"""Durable append-only JSONL: the one implementation behind generation's outputs, the repair
log and the LLM judge's cache. A record is on disk (flushed and fsynced) before ``append``
returns, so a kill tears at most the line being written, and :func:`read_jsonl_resume` cuts a
torn last line off before a rerun continues."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Mapping

from curate.core.errors import CurateError

log = logging.getLogger("curate")


def read_jsonl_resume(path: str | Path) -> list[dict]:
    """Read an append-only JSONL written by :class:`DurableJsonl` for resuming.

    A last line without its newline, or a last line that is not valid JSON (a write torn by a
    kill), is ignored and truncated from the file (fsynced). Returns the objects in file
    order; ``[]`` when the file does not exist. Raises :class:`CurateError` naming the file and
    line when an earlier line is not a JSON object (the file was edited or corrupted)."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    good_end = 0  # byte offset after the last good line
    records: list[dict] = []
    pos = 0
    complete = lines[:-1]  # the piece after the last newline is torn (or b"")
    for n, raw in enumerate(complete, 1):
        end = pos + len(raw) + 1
        try:
            obj = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            if n == len(complete):
                log.warning("%s: line %d is torn; truncating it", path, n)
                break
            raise CurateError(f"{path}: line {n}: not JSON ({e}); cannot resume") from None
        if obj is not None:
            if not isinstance(obj, dict):
                raise CurateError(f"{path}: line {n}: not a JSON object; cannot resume")
            records.append(obj)
        pos = good_end = end
    if good_end != len(data):
        if lines[-1]:
            log.warning("%s: last line is torn (%d bytes); truncating it", path, len(lines[-1]))
        with open(path, "r+b") as f:
            f.truncate(good_end)
            f.flush()
            os.fsync(f.fileno())
    return records


class DurableJsonl:
    """Append-only JSONL writer: each :meth:`append` writes one line, flushes and fsyncs, so a
    record is on disk before the call returns (a kill can at most tear the line being
    written, which :func:`read_jsonl_resume` removes)."""

    def __init__(self, path: str | Path, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self._f = open(self.path, "ab")
        self._fsync = fsync
        if new and fsync:  # make the new directory entry durable too
            try:
                fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError:
                pass

    def append(self, obj: Mapping) -> None:
        """Write ``obj`` as one JSON line (UTF-8, non-ASCII kept) durably."""
        self._f.write((json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8"))
        self._f.flush()
        if self._fsync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

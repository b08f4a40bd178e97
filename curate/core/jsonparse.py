"""JSON parsing for ingest: like ``json.loads``, but nothing in the text can raise anything other
than ``json.JSONDecodeError``. Values no record can hold (an integer over Python's int-string
limit, nesting too deep for the C parser) become :class:`Unusable` markers in place, and an
object that repeats a key a :class:`DuplicateKeys`, so ingest quarantines the one record
instead of failing the file (:mod:`curate.core.io` reads files with :func:`loads`)."""

from __future__ import annotations

import json
import re
import sys
from json.decoder import scanstring
from typing import Any


class Unusable:
    """A value that was read but cannot be stored in a record: an integer over Python's
    int-string limit, nesting too deep for the JSON parser, a Parquet value with no Python form.
    ``kind`` is the type it would have had, ``reason`` why; ingest quarantines its record."""

    __slots__ = ("kind", "reason")

    def __init__(self, kind: str, reason: str):
        self.kind, self.reason = kind, reason

    def __repr__(self) -> str:
        return f"<{self.reason}>"


class DuplicateKeys(dict):
    """A JSON object that repeated a key (``dups``: the repeated names); a plain dict would keep
    only the last value silently, so ingest quarantines the record instead."""

    dups: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        d = DuplicateKeys(d)
        d.dups = [k for k, _ in pairs if k in seen or seen.add(k)]
    return d


def _parse_int(digits: str) -> int | Unusable:
    limit = sys.get_int_max_str_digits()
    n = len(digits.lstrip("-"))
    if limit and n > limit:  # int() would raise ValueError; keep it as a marker instead
        return Unusable("int", f"integer too large: {n} digits, Python's limit is {limit}")
    return int(digits)


_DECODER = json.JSONDecoder(parse_int=_parse_int, object_pairs_hook=_pairs)
_WS = re.compile(r"[ \t\n\r]*")
_TOKEN = re.compile(r'[\[\]{}"]')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_DESCEND = 4  # levels parsed by hand around a too-deep value: array, record, field, one more


def _skip(text: str, i: int) -> int:
    """End of the (deeply nested) JSON value starting at ``i``, found without recursion."""
    depth = 0
    while (m := _TOKEN.search(text, i)) is not None:
        ch, i = m.group(), m.end()
        if ch == '"':
            s = _STRING.match(text, m.start())
            if s is None:
                raise json.JSONDecodeError("Unterminated string", text, m.start())
            i = s.end()
        elif ch in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    raise json.JSONDecodeError("Unterminated nesting", text, len(text))


def _lenient(text: str, i: int, level: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, i)
    except RecursionError:  # too deep for the C parser: descend by hand, mark what is too deep
        pass
    if level >= _DESCEND:
        kind = "list" if text[i] == "[" else "dict"
        return Unusable(kind, "nested too deeply for the JSON parser"), _skip(text, i)
    close = "]" if text[i] == "[" else "}"
    items: list = []
    i = _WS.match(text, i + 1).end()
    while True:
        if close == "}":
            if text[i:i + 1] != '"':
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
            key, i = scanstring(text, i + 1)
            i = _WS.match(text, i).end()
            if text[i:i + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
            i = _WS.match(text, i + 1).end()
        value, i = _lenient(text, i, level + 1)
        items.append((key, value) if close == "}" else value)
        i = _WS.match(text, i).end()
        if text[i:i + 1] == close:
            return (_pairs(items) if close == "}" else items), i + 1
        if text[i:i + 1] != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
        i = _WS.match(text, i + 1).end()


def loads(text: str) -> Any:
    """Parse JSON text like ``json.loads``, but nothing in it can raise anything other than
    ``json.JSONDecodeError``: an integer over Python's int-string limit or a value nested too
    deeply for the parser becomes an :class:`Unusable` marker in place, and an object with a
    repeated key a :class:`DuplicateKeys`, so ingest can quarantine the one record."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        pass
    value, end = _lenient(text, _WS.match(text, 0).end(), 0)
    end = _WS.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value

"""curate.core.jsonl: durable append-only JSONL and resuming after a torn last line."""

import json

import pytest

from curate.core.errors import CurateError
from curate.core.jsonl import DurableJsonl, read_jsonl_resume


def test_append_then_resume_reads_every_object(tmp_path):
    p = tmp_path / "sub" / "log.jsonl"
    w = DurableJsonl(p)
    w.append({"a": 1, "t": "é"})
    w.append({"a": 2})
    w.close()
    assert read_jsonl_resume(p) == [{"a": 1, "t": "é"}, {"a": 2}]
    assert "é" in p.read_text(encoding="utf-8")  # non-ASCII kept, not escaped
    assert read_jsonl_resume(tmp_path / "missing.jsonl") == []


@pytest.mark.parametrize("tail", [b'{"a": 3', b'{"a": 3}', b'{"a": \n'])
def test_a_torn_last_line_is_cut_off(tmp_path, tail):
    p = tmp_path / "log.jsonl"
    good = b'{"a": 1}\n{"a": 2}\n'
    p.write_bytes(good + tail)
    assert read_jsonl_resume(p) == [{"a": 1}, {"a": 2}]
    assert p.read_bytes() == good  # truncated, so the next append starts on a fresh line
    w = DurableJsonl(p, fsync=False)
    w.append({"a": 3})
    w.close()
    assert read_jsonl_resume(p) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_a_bad_earlier_line_is_an_error_naming_file_and_line(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_bytes(b'{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(CurateError, match=r"log.jsonl: line 2: not JSON .*cannot resume"):
        read_jsonl_resume(p)
    p.write_bytes(b'[1, 2]\n{"a": 2}\n')
    with pytest.raises(CurateError, match=r"line 1: not a JSON object; cannot resume"):
        read_jsonl_resume(p)
    assert json.loads(b'{"a": 2}') == {"a": 2}

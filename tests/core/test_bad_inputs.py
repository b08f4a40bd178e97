"""The bad-input corpus (tests/fixtures/bad_inputs): every file gives a one-line error, quarantine
rows with field and reason, or kept values, exactly as listed; the CLI's ingest, diff and export
never print a traceback; and text survives ingest -> Parquet -> export byte for byte."""

import importlib.util
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from curate.core.ingest import ingest
from curate.cli import main
from curate.core.errors import CurateError
from curate.core.io import write_records
from tests.conftest import FIXTURES, ROOT

CORPUS = FIXTURES / "bad_inputs"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
make_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_corpus)

FIELD_MAPS = {"field_map_collision.jsonl": {"prompt": "instruction"},
              "single_object_mapped.json": {"prompt": "instruction", "response": "output"}}
WT = "wrong type: {}, expected string"
DUP = "duplicate key: the record gives this field more than once; only its last value would be kept"
BIG = "integer too large: 5000 digits, Python's limit is 4300"
NOT_OBJ = "wrong type: record is {}, expected an object"

#: file -> ("error", message fragment) or (source_index of kept records, {record_number: (field, reason)}).
#: A reason ending in "*" is a prefix.
EXPECTED = {
    "utf8_bom.jsonl": ([0, 1], {}),
    "utf8_bom.json": ([0, 1], {}),
    "utf16le_bom.jsonl": ([0, 1], {}),
    "utf16be_bom.json": ([0, 1], {}),
    "utf32le_bom.jsonl": ([0, 1], {}),
    "utf16le_nobom.jsonl": ("error", "file looks like UTF-16-LE without a byte-order mark; save it as UTF-8"),
    "utf16be_nobom.json": ("error", "file looks like UTF-16-BE without a byte-order mark"),
    "utf16le_truncated.jsonl": ("error", "invalid UTF-16-LE at byte 270: truncated data"),
    "utf16le_lone_surrogate.jsonl": ([1], {0: ("instruction", "invalid Unicode: lone surrogate \\ud800 at character 0")}),
    "gzip.jsonl": ("error", "file is gzip-compressed; decompress it first (gunzip)"),
    "bzip2.json": ("error", "file is bzip2-compressed; decompress it first"),
    "parquet_named.jsonl": ("error", "file is a Parquet file; give it a .parquet name"),
    "crlf.jsonl": ([0, 1], {}),
    "crlf.json": ([0, 1], {}),
    "mixed_eol.jsonl": ([0, 1, 2], {}),
    "cr_only.jsonl": ([0, 1], {}),
    "blank_lines.jsonl": ([1, 5], {7: (None, "malformed JSON at column 1: Expecting value")}),
    "no_trailing_newline.jsonl": ([0, 1], {}),
    "concatenated_bom.jsonl": ([0, 1], {}),
    "invalid_utf8.jsonl": ([7], {
        0: ("instruction", "invalid UTF-8: undecodable byte at character 3"),
        1: ("id", "invalid UTF-8: undecodable byte at character 3"),
        2: ("note", "invalid UTF-8: undecodable byte at character 3"),
        3: ("tags", "invalid UTF-8: undecodable byte at character 3 in tags[1]"),
        4: ("meta", "invalid UTF-8: undecodable byte at character 0 in meta.lang"),
        5: ("k\\udce9y", "invalid UTF-8: undecodable byte at character 1 of the field name"),
        6: (None, "malformed JSON at column 1: Expecting value")}),
    "invalid_utf8.json": ([2], {0: ("id", "invalid UTF-8: undecodable byte at character 1"),
                                1: ("note", "invalid UTF-8: undecodable byte at character 0")}),
    "lone_surrogate.jsonl": ([5], {
        0: ("instruction", "invalid Unicode: lone surrogate \\ud800 at character 0"),
        1: ("id", "invalid Unicode: lone surrogate \\udfff at character 0"),
        2: ("note", "invalid Unicode: lone surrogate \\ud800 at character 1"),
        3: ("meta", "invalid Unicode: lone surrogate \\udbff at character 0 in meta.k"),
        4: ("tags", "invalid Unicode: lone surrogate \\ude00 at character 0 in tags[1]")}),
    "nul_bytes.jsonl": ([2], {0: (None, "malformed JSON at column 20: Invalid control character"),
                              1: ("output", "NUL byte at character 1"), 3: ("id", "NUL byte in id")}),
    "deep_field.jsonl": ([0], {1: ("x", "nested too deeply for the JSON parser in x[0][0][0]"),
                               2: ("x", "nested too deeply: more than 100 levels in x[0][0]*"),
                               3: ("output", WT.format("list"))}),
    "deep_line.jsonl": ([3], {0: (None, NOT_OBJ.format("list")), 1: ("instruction", "missing field"),
                              2: (None, "malformed JSON at column 5001: Unterminated nesting")}),
    "deep_record.json": ([0, 2], {1: ("x", "nested too deeply for the JSON parser in x[0][0]")}),
    "deep_document.json": ([], {0: (None, NOT_OBJ.format("list"))}),
    "bigint.jsonl": ([5], {0: ("n", BIG), 1: ("n", BIG), 2: ("output", BIG),
                           3: ("id", "wrong type: id must be a non-empty string, got int"), 4: (None, BIG)}),
    "nan_inf.jsonl": ([0], {1: ("output", WT.format("float")), 2: (None, NOT_OBJ.format("float"))}),
    "huge_field.jsonl": ([1], {0: ("output", "too long: 100001 characters, limit 100000 (ingest.max_field_chars)")}),
    "wrong_types.jsonl": ([], {i: (f, WT.format(t)) for i, (f, t) in enumerate(
        (f, t) for f in ("instruction", "input", "output") for t in ("null", "int", "float", "bool", "list", "dict"))}),
    "id_types.jsonl": ([0, 8], {**{i: ("id", f"wrong type: id must be a non-empty string, got {t}")
                                   for i, t in enumerate(["int", "float", "bool", "list", "dict"], 1)},
                                6: ("id", "empty id"), 7: ("id", "empty id")}),
    "duplicate_ids.jsonl": ([0, 2, 3, 4], {1: ("id", "duplicate id: first seen at duplicate_ids.jsonl record 0")}),
    "duplicate_keys.jsonl": ([3], {0: ("instruction", DUP), 2: ("x", DUP),
                                   1: ("x", "duplicate key: 'k' appears more than once; only its last value would be kept")}),
    "missing_fields.jsonl": ([4], {0: ("instruction", "missing field"), 1: ("input", "missing field"),
                                   2: ("output", "missing field"), 3: ("instruction", "missing field")}),
    "empty_and_whitespace.jsonl": ([5, 6], {i: ("instruction", "empty instruction") for i in range(5)}),
    "extra_fields.jsonl": ([0, 1, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], {}),
    "meta_conflict.jsonl": ([1], {0: ("x", "field conflict: 'meta' and 'x' give meta.x different values"),
                                  2: ("input_source", "field conflict: 'source' and 'input_source' give "
                                                      "meta.input_source different values")}),
    "field_map_collision.jsonl": ([1], {0: ("instruction", "field conflict: 'prompt' and 'instruction' both give "
                                                           "'instruction' (ingest.field_map)")}),
    "single_object.json": ([0], {}),
    "single_object_mapped.json": ([0], {}),
    "data_wrapper.json": ([0, 1], {}),
    "ambiguous_object.json": ("error", "got an object with keys ['test', 'train'] that is neither a record nor a "
                                       "wrapper of one list"),
    "top_scalar.json": ("error", "expected a JSON array of records, got int"),
    "top_null.json": ("error", "expected a JSON array of records, got null"),
    "top_scalars.jsonl": ([5], {i: (None, NOT_OBJ.format(t)) for i, t in enumerate(["int", "str", "null", "bool", "list"])}),
    "not_records.json": ([4], {i: (None, NOT_OBJ.format(t)) for i, t in enumerate(["int", "str", "null", "list"])}),
    "empty.jsonl": ("error", "file is empty, expected one JSON record per line"),
    "empty.json": ("error", "file is empty, expected a JSON array of records"),
    "whitespace_only.json": ("error", "file is empty"),
    "bom_only.jsonl": ("error", "file is empty"),
    "pretty_array.jsonl": ("error", "file holds one JSON list over several lines, not one record per line; give it a .json name"),
    "pretty_object.jsonl": ("error", "file holds one JSON dict over several lines"),
    "malformed_lines.jsonl": ([0, 5], {1: (None, "malformed JSON at column 57: Unterminated string starting"),
                                       2: (None, "malformed JSON at column 67: Expecting property name enclosed in double quotes"),
                                       3: (None, "malformed JSON at column 2: Expecting property name enclosed in double quotes"),
                                       4: (None, "malformed JSON at column 68: Extra data")}),
    "malformed.json": ("error", "malformed JSON at line 1 column 137: Expecting value; no record could be read"),
    "parquet_types.parquet": ([0, 1], {}),
    "parquet_missing_column.parquet": ([], {0: ("input", "missing field"), 1: ("input", "missing field")}),
    "parquet_wrong_types.parquet": ([], {i: ("id", "wrong type: id must be a non-empty string, got int") for i in (0, 1)}),
    "parquet_wrong_types2.parquet": ([], {i: ("instruction", WT.format("int")) for i in (0, 1)}),
    "parquet_binary_text.parquet": ([], {i: ("output", WT.format("bytes")) for i in (0, 1)}),
    "parquet_nulls.parquet": ([0], {1: ("output", WT.format("null")), 2: ("input", WT.format("null"))}),
    "parquet_bad_timestamp.parquet": ([0], {1: ("when", "unsupported value: timestamp[ms] value cannot be converted*")}),
    "parquet_invalid_utf8.parquet": ([1], {0: ("instruction", "invalid UTF-8: undecodable byte at byte 3")}),
    "parquet_own.parquet": ([7, 9], {}),
    "parquet_damaged.parquet": ("error", "cannot read Parquet: Could not open Parquet input source"),
    "unicode_exact.jsonl": ([0, 1, 2, 3, 4, 5], {}),
}


def _ingest(name, **kw):
    return ingest([str(CORPUS / name)], FIELD_MAPS.get(name), **kw)


def _meta(records):
    return [json.loads(m) for m in records.column("meta").to_pylist()]


def test_corpus_is_complete_and_listed():
    names = [n for n, _, _, _ in make_corpus.build()]
    assert len(names) >= 25 and len(set(names)) == len(names)
    assert set(names) == set(EXPECTED), "every corpus file has an expected outcome here"
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{n}`" in readme for n in names)


def test_committed_corpus_is_what_the_script_makes(tmp_path):
    make_corpus.write(tmp_path)
    for name, data, _, _ in make_corpus.build():
        committed = CORPUS / name
        if committed.read_bytes() == data:
            continue
        # another pyarrow writes other bytes for the same table (its version is in the file)
        assert name.endswith(".parquet") and not name.endswith("damaged.parquet"), \
            f"{name}: run tests/fixtures/bad_inputs/make_corpus.py"
        a, b = pq.read_table(committed), pq.read_table(tmp_path / name)
        assert a.schema == b.schema and repr(a.to_pylist()) == repr(b.to_pylist()), name  # repr: NaN == NaN
    assert (CORPUS / "README.md").read_text(encoding="utf-8") == (tmp_path / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_has_its_exact_outcome(name):
    expected = EXPECTED[name]
    path = CORPUS / name
    if expected[0] == "error":
        with pytest.raises(CurateError) as e:
            _ingest(name)
        msg = str(e.value)
        assert msg.startswith(f"{path}: ") and expected[1] in msg and "\n" not in msg
        return
    kept, quarantined = expected
    records, quarantine, m = _ingest(name)
    assert m["records_read"] == m["ingested"] + m["quarantined"] == len(kept) + len(quarantined)
    assert records.num_rows == m["ingested"] and quarantine.num_rows == m["quarantined"]
    assert records.column("source_index").to_pylist() == kept
    rows = {r["record_number"]: r for r in quarantine.to_pylist()}
    assert set(rows) == set(quarantined)
    for n, (field, reason) in quarantined.items():
        r = rows[n]
        assert r["file"] == name and r["field"] == field
        assert r["reason"].startswith(reason[:-1]) if reason.endswith("*") else r["reason"] == reason, r["reason"]
        assert len(r["raw"]) <= 500


def test_decoded_and_line_ending_files_keep_text_exact():
    r0 = _ingest("utf16le_bom.jsonl")[0].to_pylist()[0]
    assert json.loads(r0["meta"]) == {"note": "caf\u00e9 \u2615"}
    for name in ("crlf.jsonl", "crlf.json", "mixed_eol.jsonl", "cr_only.jsonl", "utf32le_bom.jsonl"):
        rows = _ingest(name)[0].to_pylist()
        assert [r["output"] for r in rows][:2] == ["Blue 0.", "Blue 1."] and rows[0]["instruction"] == "Name color 0."


def test_kept_values_of_unusual_types_are_documented_json():
    assert _meta(_ingest("nan_inf.jsonl")[0]) == [{"n": "NaN", "p": "Infinity", "m": "-Infinity", "e": "Infinity"}]
    assert _meta(_ingest("bigint.jsonl")[0]) == [{"n": int("7" * 4000)}]
    assert _meta(_ingest("nul_bytes.jsonl")[0]) == [{"note": "x\x00y"}]
    assert _meta(_ingest("single_object.json")[0]) == [{"tags": ["a", "b"]}]
    rec = _ingest("single_object_mapped.json")[0].to_pylist()[0]
    assert (rec["instruction"], rec["output"], json.loads(rec["meta"])) == ("P.", "R.", {"turns": [{"a": 1}, {"a": 2}]})
    ws = _ingest("empty_and_whitespace.jsonl")[0].to_pylist()
    assert [(r["input"], r["output"]) for r in ws] == [("   ", "\n"), ("\u00a0", " \t ")]
    assert _meta(_ingest("parquet_nulls.parquet")[0]) == [{"note": None}]
    assert _meta(_ingest("parquet_types.parquet")[0]) == [
        {"big": 2**64 - 1, "blob": "AP/+", "clock": "23:59:58.000005", "counts": [["k", 1]], "day": "2024-02-29",
         "fixed": "YWI=", "info": {"a": 1, "b": "x"}, "lang": "en", "nothing": None, "price": "12.30",
         "score": "NaN", "tags": ["a", "b"], "took": "P0DT0H1M30.000005S", "ts": "2024-05-01T12:30:00.123456",
         "ts_ns": "2023-11-14T22:13:20.123456789", "ts_tz": "2024-01-01T00:00:00+00:00"},
        {"big": 0, "blob": "", "clock": "00:00:00", "counts": [], "day": "0001-01-01", "fixed": "Y2Q=",
         "info": {"a": None, "b": None}, "lang": "en", "nothing": None, "price": "-0.01", "score": "Infinity",
         "tags": [], "took": "-P1DT0H0M0.000000S", "ts": None, "ts_ns": "1970-01-01T00:00:00",
         "ts_tz": "2024-01-01T00:00:00+00:00"}]


def test_source_meta_and_source_index_fields_never_vanish():
    rows = _ingest("extra_fields.jsonl")[0].to_pylist()
    metas = [json.loads(r["meta"]) for r in rows]
    assert metas == [
        {"input_source": 5}, {"input_source": "alpaca"}, {}, {"input_source": "orig.json", "input_source_index": "3"},
        {"input_source_index": -1}, {"input_source_index": True}, {"input_source_index": 2**70},
        {"input_meta": "not json"}, {"input_meta": [1, 2]}, {"input_meta": 3}, {"input_meta": None},
        {"lang": "en"}, {"lang": "en", "tags": ["a"]}, {"input_changes": "fixed typo", "input_flags": ["x"]},
        {"flags": [{"a": 1}], "input_changes": "v2"},
        {"n": 1, "f": 1.5, "b": False, "z": None, "l": [1, "a"], "o": {"k": "v"}, "e": ""}]
    # a valid (source, source_index) pair is the record's origin (a re-ingested export); else the file's
    assert [(r["source"], r["source_index"]) for r in rows[1:4]] == [
        ("extra_fields.jsonl", 1), ("orig.json", 3), ("extra_fields.jsonl", 3)]


def test_own_parquet_meta_survives_ingest_and_export(tmp_path):
    records, _, _ = _ingest("parquet_own.parquet")
    want = [json.loads(m) for m in pq.read_table(CORPUS / "parquet_own.parquet").column("meta").to_pylist()]
    assert _meta(records) == want and records.column("id").to_pylist() == ["r0", "r1"]
    for suffix in (".jsonl", ".parquet"):
        out = write_records(records, tmp_path / f"x{suffix}")
        back = ingest([str(out)])[0]
        assert back.to_pylist() == records.to_pylist()
    line = json.loads((tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert line["meta"]["changes"][0]["old"] == "<noinput>" and line["meta"]["provenance"] == {"i": 7, "s": ["LIML"]}


def test_unicode_survives_ingest_parquet_export_byte_for_byte(tmp_path):
    src = [json.loads(s) for s in (CORPUS / "unicode_exact.jsonl").read_text(encoding="utf-8").split("\n") if s]
    records, _, _ = _ingest("unicode_exact.jsonl")
    pq_path = write_records(records, tmp_path / "r.parquet")
    out = write_records(ingest([str(pq_path)])[0], tmp_path / "r.jsonl")
    back = ingest([str(out)])[0].to_pylist()
    exported = [json.loads(s) for s in out.read_text(encoding="utf-8").split("\n") if s]
    raw_parquet = pq.read_table(pq_path).to_pylist()
    for s, r, e, p in zip(src, back, exported, raw_parquet, strict=True):
        for f in ("instruction", "input", "output"):
            assert s[f].encode("utf-8") == r[f].encode("utf-8") == e[f].encode("utf-8") == p[f].encode("utf-8")


def test_every_kept_corpus_record_round_trips_through_export(tmp_path):
    for name, expected in EXPECTED.items():
        if expected[0] == "error":
            continue
        records = _ingest(name)[0]
        if records.num_rows == 0:
            continue
        for suffix in (".jsonl", ".parquet"):
            back = ingest([str(write_records(records, tmp_path / f"{name}{suffix}"))])[0]
            assert back.to_pylist() == records.to_pylist(), (name, suffix)


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["paths"].update(ingested=str(d / "r.parquet"), quarantine=str(d / "q.parquet"))
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return d


def _cli(capsys, *argv):
    rc = main(list(argv))  # an exception escaping here is a traceback for the user
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_ingest_diff_export_never_trace_back(name, cli_dir, capsys, monkeypatch):
    monkeypatch.chdir(cli_dir)
    path = str(CORPUS / name)
    want = 2 if EXPECTED[name][0] == "error" else 0
    try:  # ingest and export of a file whose every record is quarantined produce nothing: exit 2
        produced = ingest([path])[0].num_rows
    except CurateError:
        produced = 0
    other = str(CORPUS / "unicode_exact.jsonl")
    runs = [("ingest", "--params", str(cli_dir / "params.yaml"), "ingest", path),
            ("diff", "diff", path, path), ("diff", "diff", path, other), ("diff", "diff", other, path),
            *[("export", "export", path, str(cli_dir / f"out{s}")) for s in (".jsonl", ".json", ".parquet")]]
    for stage, *argv in runs:
        rc, err = _cli(capsys, *argv)
        assert rc == (want if stage == "diff" or produced else 2), (argv, err)
        if rc:
            assert err.startswith(f"curate {stage}: error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("name", ["gzip.jsonl", "invalid_utf8.jsonl", "lone_surrogate.jsonl"])
def test_cli_subprocess_has_no_traceback(name, tmp_path):
    res = subprocess.run([sys.executable, "-m", "curate.cli", "export", str(CORPUS / name), str(tmp_path / "o.jsonl")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert "Traceback" not in res.stderr
    if name == "gzip.jsonl":
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "gzip-compressed" in res.stderr
    else:
        assert res.returncode == 0 and "unreadable records skipped" in res.stdout

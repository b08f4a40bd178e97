"""Import/export round trips, and the Hugging Face Hub and URL source paths on local files."""

import json

import datasets
import pyarrow.parquet as pq
import pytest

from curate.core.ingest import ingest
from curate.core.io import write_records
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def records():
    return ingest([str(SAMPLE)])[0]


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_export_then_import_round_trips(tmp_path, records, suffix):
    out = write_records(records, tmp_path / f"export{suffix}")
    back = ingest([str(out)])[0]
    cols = ["id", "instruction", "input", "output"]
    assert back.select(cols).to_pylist() == records.select(cols).to_pylist()
    if suffix != ".json":  # JSONL and Parquet keep provenance and meta too
        assert back.to_pylist() == records.to_pylist()


def test_alpaca_json_export_is_alpaca_format(tmp_path, records):
    out = write_records(records, tmp_path / "alpaca.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data[0]) == {"instruction", "input", "output"}
    assert len(data) == records.num_rows


def test_records_load_into_datasets_without_conversion(records, tmp_path):
    path = write_records(records, tmp_path / "r.parquet")
    ds = datasets.Dataset.from_parquet(str(path))
    assert ds.column_names == ["id", "instruction", "input", "output", "source", "source_index", "meta"]
    assert ds[0]["id"] == records.column("id")[0].as_py()
    assert pq.read_metadata(path).row_group(0).column(0).compression == "ZSTD"


def test_hub_source_code_path_with_a_local_dataset_folder(tmp_path, sample_records):
    # hf:NAME goes through datasets.load_dataset(NAME); a local folder exercises the same call.
    folder = tmp_path / "alpaca_like"
    folder.mkdir()
    datasets.Dataset.from_list(sample_records[:10]).to_parquet(str(folder / "train.parquet"))
    records, quarantine, m = ingest([f"hf:{folder}"])
    assert m["records_read"] == 10
    assert records.column("instruction").to_pylist() == [r["instruction"] for r in sample_records[:10] if r["instruction"].strip()]
    assert records.column("source")[0].as_py() == f"hf:{folder}"


def test_url_source_with_a_file_url(tmp_path, sample_records):
    p = tmp_path / "remote.json"
    p.write_text(json.dumps(sample_records[:5]))
    records, _, m = ingest([p.as_uri()])
    assert m["records_read"] == 5 and records.column("source")[0].as_py() == "remote.json"


def _own_records():
    from curate.core.schema import make_record, records_table

    metas = [{"provenance": {"i": 7, "s": ["LIML"]},
              "changes": [{"field": "input", "check_name": "placeholder_input", "reason": "p", "old": "<noinput>"}]},
             {"flags": [{"action": "review", "check_name": "unseeable_content", "reason": "url"}], "tags": ["a"]}]
    return records_table([make_record(id=f"r{i}", instruction=f"Task {i}.", input="", output="Out.",
                                      source="alpaca.json", source_index=i, meta=m) for i, m in enumerate(metas)])


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_cli_export_of_a_stage_parquet_keeps_meta(tmp_path, suffix, capsys):
    # `curate export outputs/clean/records.parquet x.jsonl`: provenance, history and flags survive
    from curate.cli import main
    from curate.core.schema import write_parquet

    src = write_parquet(_own_records(), tmp_path / "records.parquet")
    dst = tmp_path / f"x{suffix}"
    assert main(["export", str(src), str(dst)]) == 0
    back = ingest([str(dst)])[0]
    assert back.to_pylist() == _own_records().to_pylist()
    if suffix == ".jsonl":
        first = json.loads(dst.read_text(encoding="utf-8").splitlines()[0])
        assert first["meta"]["changes"][0]["old"] == "<noinput>" and first["meta"]["provenance"]["i"] == 7


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_ingest_export_ingest_keeps_extra_fields_in_meta(tmp_path, suffix):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"instruction": "A.", "input": "", "output": "a", "tags": ["x"], "score": 0.5,
                             "meta": {"lang": "en"}}) + "\n", encoding="utf-8")
    first = ingest([str(p)])[0]
    assert json.loads(first.column("meta")[0].as_py()) == {"lang": "en", "tags": ["x"], "score": 0.5}
    back = ingest([str(write_records(first, tmp_path / f"out{suffix}"))])[0]
    assert back.to_pylist() == first.to_pylist()


def test_export_to_an_unwritable_or_unknown_path_is_a_one_line_error(tmp_path, records):
    from curate.core.errors import CurateError

    (tmp_path / "file").write_text("x")
    with pytest.raises(CurateError, match="cannot write"):
        write_records(records, tmp_path / "file" / "sub" / "out.jsonl")  # a file where a folder should be
    with pytest.raises(CurateError, match="unknown export format '.csv'"):
        write_records(records, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


# ---------------------------------------------------------------- read_records: the one records reader

def test_read_records_round_trips_a_stage_file_and_drops_extra_columns(tmp_path, records):
    import pyarrow as pa

    from curate.core.io import read_records
    from curate.core.schema import RECORD_SCHEMA, write_parquet

    extra = records.append_column("score", pa.array([0.5] * records.num_rows))
    back = read_records(write_parquet(extra, tmp_path / "r.parquet"))
    assert back.schema == RECORD_SCHEMA and back.to_pylist() == records.to_pylist()


def test_read_records_errors_are_one_line_and_name_the_file(tmp_path, records):
    import pyarrow as pa

    from curate.core.errors import CurateError
    from curate.core.io import read_records
    from curate.core.schema import write_parquet

    def err(table_or_bytes):
        p = tmp_path / "bad.parquet"
        if isinstance(table_or_bytes, bytes):
            p.write_bytes(table_or_bytes)
        else:
            write_parquet(table_or_bytes, p)
        with pytest.raises(CurateError) as e:
            read_records(p)
        msg = str(e.value)
        assert msg.startswith(f"{p}: ") and "\n" not in msg
        return msg

    with pytest.raises(CurateError, match=r"missing.parquet: no such file \(run the stage that writes it first\)"):
        read_records(tmp_path / "missing.parquet")
    assert "cannot read Parquet" in err(b"PAR1 not really")
    assert "missing columns ['meta']" in err(records.drop_columns(["meta"]))
    nulls = records.set_column(1, "instruction", pa.array([None] * records.num_rows, pa.string()))
    assert "not a curate table" in err(nulls) and "instruction" in err(nulls)
    wrong = records.set_column(5, "source_index", pa.array(["x"] * records.num_rows))
    assert "not a curate table" in err(wrong)
    ids = records.column("id").to_pylist()
    dup = records.set_column(0, "id", pa.array([ids[0], ids[1], ids[0]] + ids[3:]))
    assert err(dup).endswith(f"id {ids[0]!r} repeats (rows 0 and 2, 0-based); ids must be unique")


# ---------------------------------------------------------------- read_seed_tasks

def _seed(i, **kw):
    t = {"id": f"seed_task_{i}", "name": "n", "instruction": f"Task {i}.",
         "instances": [{"input": "", "output": f"Out {i}."}, {"input": "2nd", "output": "ignored"}], "is_classification": False}
    t.update(kw)
    return json.dumps(t, ensure_ascii=False)


def test_read_seed_tasks_on_the_real_file_and_its_first_instance():
    from curate.core.io import read_seed_tasks
    from tests.conftest import ROOT

    seeds = read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    assert len(seeds) == 175 and set(seeds[0]) == {"id", "instruction", "input", "output"}
    raw = [json.loads(line) for line in (ROOT / "data/seed/alpaca_seed_tasks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert seeds == [{"id": t["id"], "instruction": t["instruction"], "input": t["instances"][0]["input"],
                      "output": t["instances"][0]["output"]} for t in raw]


def test_read_seed_tasks_bom_blank_lines_crlf_and_u2028(tmp_path):
    from curate.core.io import read_seed_tasks

    p = tmp_path / "seeds.jsonl"
    text = "\ufeff" + _seed(0) + "\r\n\n   \n" + _seed(1, instruction="Line\u2028break.") + "\n"
    p.write_text(text, encoding="utf-8")
    seeds = read_seed_tasks(p)
    assert [s["id"] for s in seeds] == ["seed_task_0", "seed_task_1"]
    assert seeds[0]["output"] == "Out 0." and seeds[1]["instruction"] == "Line\u2028break."


@pytest.mark.parametrize("line, why", [
    ("{not json", "not a seed task (JSONDecodeError: "),
    ('{"id": "s", "instruction": "x"}', "not a seed task (KeyError: 'instances')"),
    (_seed(9, instances=[]), "not a seed task (IndexError: "),
    ("[1, 2]", "not a seed task (TypeError: "),
    (_seed(9, instruction=5), "not a seed task (instruction is int, expected a string)"),
    (_seed(9, id=None), "not a seed task (id is null, expected a string)"),
    (_seed(9).replace('"Task 9."', "1" * 5000), "not a seed task (instruction is int, expected a string)"),
    ("[" * 100_000 + "]" * 100_000, "not a seed task (TypeError: "),
])
def test_read_seed_tasks_bad_line_is_one_line_error_naming_file_and_line(tmp_path, line, why):
    from curate.core.errors import CurateError
    from curate.core.io import read_seed_tasks

    p = tmp_path / "seeds.jsonl"
    p.write_text(_seed(0) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CurateError) as e:
        read_seed_tasks(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: line 3: {why}") and "\n" not in msg


def test_read_seed_tasks_missing_unreadable_and_not_utf8(tmp_path):
    from curate.core.errors import CurateError
    from curate.core.io import read_seed_tasks

    with pytest.raises(CurateError, match=r"nope.jsonl: no such seed tasks file$"):
        read_seed_tasks(tmp_path / "nope.jsonl")
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(_seed(0).encode() + b"\n" + _seed(1, instruction="caf\xe9").encode("latin-1") + b"\n")
    with pytest.raises(CurateError, match=r"latin1.jsonl: line 2: not UTF-8 \(byte \d+: invalid continuation byte\)$"):
        read_seed_tasks(p)
    assert read_seed_tasks(_empty(tmp_path)) == []


def _empty(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_text("", encoding="utf-8")
    return p

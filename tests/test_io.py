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

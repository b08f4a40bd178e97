"""Import/export round trips, and the Hugging Face Hub and URL source paths on local files."""

import json

import datasets
import pyarrow.parquet as pq
import pytest

from curate.cleaning.ingest import ingest
from curate.io import write_records
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

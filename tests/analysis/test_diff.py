"""curate diff: added / removed / changed per field, between files and git revisions."""

import json
import subprocess

from curate.analysis.diff import diff_versions


def _write(p, rows):
    p.write_text(json.dumps(rows), encoding="utf-8")
    return p


V1 = [{"instruction": "Name a color.", "input": "", "output": "Blue"},
      {"instruction": "Add 2+2.", "input": "", "output": "5"},
      {"instruction": "Say hi.", "input": "<noinput>", "output": "Hi"}]
V2 = [{"instruction": "Name a color.", "input": "", "output": "Blue"},
      {"instruction": "Add 2+2.", "input": "", "output": "4"},          # output repaired: same id
      {"instruction": "Say hello.", "input": "", "output": "Hello"}]     # new prompt: added/removed


def test_diff_two_files(tmp_path):
    a, b = _write(tmp_path / "a.json", V1), _write(tmp_path / "b.json", V2)
    d = json.loads(diff_versions(str(a), str(b), fmt="json"))
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == (1, 1, 1, 1)
    assert d["changed_by_field"] == {"output": 1}
    (ch,) = d["examples"]["changed"]
    assert ch["fields"] == {"output": {"before": "5", "after": "4"}}
    assert d["examples"]["added"][0]["instruction"] == "Say hello."
    text = diff_versions(str(a), str(b))
    assert "added 1, removed 1, changed 1, unchanged 1" in text and "output: 5" in text


def test_diff_against_a_git_revision(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    git("config", "user.email", "t@t"), git("config", "user.name", "t")
    f = _write(tmp_path / "data.json", V1)
    git("add", "data.json"), git("commit", "-qm", "v1")
    _write(f, V2)
    monkeypatch.chdir(tmp_path)
    d = json.loads(diff_versions("HEAD:data.json", "data.json", fmt="json"))
    assert (d["added"], d["removed"], d["changed"]) == (1, 1, 1)


def test_diff_quarantines_undecodable_ids_and_extras_instead_of_crashing(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_bytes(b'{"id": "x\\ud800", "instruction": "A.", "input": "", "output": "a"}\n'
                  b'{"id": "y", "instruction": "B.", "input": "", "output": "b", "note": "caf\xe9"}\n'
                  b'{"id": "z", "instruction": "C.", "input": "", "output": "c"}\n')
    d = json.loads(diff_versions(str(a), str(a), fmt="json"))
    assert (d["records_a"], d["unreadable_a"], d["unchanged"]) == (1, 2, 1)


def test_cli_diff_of_unreadable_files_is_one_line(tmp_path, capsys):
    import gzip

    from curate.cli import main

    gz = tmp_path / "a.jsonl"
    gz.write_bytes(gzip.compress(json.dumps(V1[0]).encode(), mtime=0))
    b = _write(tmp_path / "b.json", V2)
    assert main(["diff", str(gz), str(b)]) == 2
    err = capsys.readouterr().err
    assert err == f"curate diff: error: {gz}: file is gzip-compressed; decompress it first (gunzip)\n"


def test_diff_of_a_stage_parquet_and_its_export_is_unchanged(tmp_path):
    from curate.core.ingest import ingest
    from curate.core.io import write_records

    records = ingest([str(_write(tmp_path / "a.json", V1))])[0]
    pq_path, jl = write_records(records, tmp_path / "r.parquet"), write_records(records, tmp_path / "r.jsonl")
    d = json.loads(diff_versions(str(pq_path), str(jl), fmt="json"))
    assert (d["unchanged"], d["added"], d["removed"], d["changed"]) == (3, 0, 0, 0)

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

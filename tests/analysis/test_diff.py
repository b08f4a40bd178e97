"""curate diff: added / removed / changed per field, between files and git revisions, and the check,
action and reason behind every removed and changed record (annotations, dropped table, meta.changes)."""

import csv
import io
import json
import re
import subprocess

import pytest

from curate.analysis.diff import diff_report, diff_versions
from tests.analysis.helpers import annotations_table, make_record, records_table, write_parquet


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


# ------------------------------------------------------------------------------ why: checks and reasons

def _rec(i, instruction, output="ok", input="", meta=None):
    return make_record(id=i, instruction=instruction, input=input, output=output, source="t.json",
                       source_index=int(i[1:]), meta=meta or {})


def _ann(i, stage, check, action, reason, **kw):
    return {"id": i, "stage": stage, "check_name": check, "action": action, "reason": reason, **kw}


HIST = {"changes": [{"field": "output", "check_name": "old_fix", "reason": "an earlier run", "old": "older"}]}


def _versions(tmp_path):
    """A (9 records) and B: r1 unchanged; removed r2 (dedupe exact; clean's dropped row restates it,
    detect also flags it for review), r3 (detect drop), r4 (nothing explains it), r9 (detect drop
    listed before the dedupe drop that decided); changed r5 (detect normalize, annotated), r6 (input,
    only in B's meta.changes), r7 (output; its meta.changes holds only history A had too); added r8."""
    a = [_rec("r1", "Name a color.", "Blue"), _rec("r2", "Write a poem.", "Roses"),
         _rec("r3", "What is a bond?", "A"), _rec("r4", "Say hi.", "Hi"),
         _rec("r5", "Add 2+2.", "The answer is 5"), _rec("r6", "Fix this.", "Done", input="  spaced  "),
         _rec("r7", "Tell a joke.", "older joke", meta=HIST), _rec("r9", "Write a poem!", "Roses!")]
    b = [_rec("r1", "Name a color.", "Blue"),
         _rec("r5", "Add 2+2.", "The answer is 4", meta={"changes": [
             {"field": "output", "check_name": "arithmetic", "reason": "2+2 is 4", "old": "The answer is 5"}]}),
         _rec("r6", "Fix this.", "Done", input="spaced", meta={"changes": [
             {"field": "input", "check_name": "whitespace", "reason": "stripped spaces", "old": "  spaced  "}]}),
         _rec("r7", "Tell a joke.", "a <b>new</b> joke", meta=HIST),
         _rec("r8", "Say hello.", "Hello")]
    dedupe = [_ann("r2", "dedupe", "exact", "drop", "exact duplicate of r1", matched_id="r1"),
              _ann("r9", "dedupe", "rouge_l", "drop", "ROUGE-L 0.91 to r2", matched_id="r2", score=0.91)]
    detect = [_ann("r9", "detect", "short_output", "drop", "output has 1 word"),
              _ann("r2", "detect", "missing_input", "review", "refers to a poem not given"),
              _ann("r3", "detect", "short_output", "drop", "output has 1 word"),
              _ann("r5", "detect", "arithmetic", "normalize", "2+2 is 4", field="output", value="The answer is 4"),
              _ann("r1", "detect", "hygiene", "keep", "fine")]
    dropped = [dict(r, drop_check=c, drop_reason=why, drop_matched_id=m) for r, c, why, m in
               [(a[1], "exact", "exact duplicate of r1", "r1"), (a[2], "short_output", "output has 1 word", None),
                (a[7], "rouge_l", "ROUGE-L 0.91 to r2", "r2")]]
    import pyarrow as pa

    from curate.core.annotations import DROPPED_SCHEMA

    paths = {"a": tmp_path / "a.parquet", "b": tmp_path / "b.parquet",
             "dedupe": tmp_path / "dedupe.parquet", "detect": tmp_path / "detect.parquet",
             "dropped": tmp_path / "dropped.parquet"}
    write_parquet(records_table(a), paths["a"])
    write_parquet(records_table(b), paths["b"])
    write_parquet(annotations_table(dedupe), paths["dedupe"])
    write_parquet(annotations_table(detect), paths["detect"])
    write_parquet(pa.Table.from_pylist(dropped, schema=DROPPED_SCHEMA), paths["dropped"])
    return {k: str(v) for k, v in paths.items()}


def _report(p, **kw):
    kw.setdefault("annotations", [p["dedupe"], p["detect"], p["dropped"]])
    return json.loads(diff_versions(p["a"], p["b"], fmt="json", **kw))


def test_every_removed_record_names_the_check_action_and_reason_that_removed_it(tmp_path):
    p = _versions(tmp_path)
    d = _report(p)
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == (1, 4, 3, 1)
    rm = {r["id"]: r for r in d["records"]["removed"]}
    assert set(rm) == {"r2", "r3", "r4", "r9"}
    got = {k: (r["stage"], r["check"], r["action"], r["reason"]) for k, r in rm.items()}
    assert got == {"r2": ("dedupe", "exact", "drop", "exact duplicate of r1"),
                   "r3": ("detect", "short_output", "drop", "output has 1 word"),
                   "r4": (None, None, None, "reason unknown"),
                   "r9": ("dedupe", "rouge_l", "drop", "ROUGE-L 0.91 to r2")}  # earliest stage decides
    assert rm["r2"]["matched_id"] == "r1" and rm["r2"]["source"] == p["dedupe"]
    # clean's dropped row restates the dedupe drop: not an "also"; detect's review is
    assert [(x["check"], x["action"]) for x in rm["r2"]["also"]] == [("missing_input", "review")]
    assert [(x["stage"], x["check"]) for x in rm["r9"]["also"]] == [("detect", "short_output")]
    assert rm["r4"]["explained"] is False and rm["r4"]["also"] == []
    assert d["reason_unknown"] == {"removed": 1, "changed": 1}
    # pipeline order decides, not the order the files are given in
    flipped = {r["id"]: (r["stage"], r["check"]) for r in _report(p, annotations=[p["dropped"], p["detect"], p["dedupe"]])
               ["records"]["removed"]}
    assert flipped == {k: v[:2] for k, v in got.items()}
    kinds = {s["file"]: (s["kind"], s["rows"]) for s in d["explained_by"]}
    assert kinds == {p["dedupe"]: ("annotations", 2), p["detect"]: ("annotations", 5), p["dropped"]: ("dropped", 3)}


def test_the_dropped_table_alone_explains_removed_records(tmp_path):
    p = _versions(tmp_path)
    rm = {r["id"]: r for r in _report(p, annotations=[p["dropped"]])["records"]["removed"]}
    assert (rm["r2"]["stage"], rm["r2"]["check"], rm["r2"]["action"]) == ("clean", "exact", "drop")
    assert rm["r9"]["check"] == "rouge_l" and rm["r4"]["reason"] == "reason unknown"


def test_summary_by_reason_adds_up_to_the_removed_and_changed_totals(tmp_path):
    p = _versions(tmp_path)
    d = _report(p)
    rem = {(g["check"], g["action"]): g["count"] for g in d["by_reason"]["removed"]}
    assert rem == {("exact", "drop"): 1, ("short_output", "drop"): 1, ("rouge_l", "drop"): 1, (None, None): 1}
    ch = {(g["check"], g["field"]): g["count"] for g in d["by_reason"]["changed"]}
    assert ch == {("arithmetic", "output"): 1, ("whitespace", "input"): 1, (None, "output"): 1}
    assert sum(rem.values()) == d["removed"] and sum(ch.values()) == d["changed"]
    ids = [i for g in d["by_reason"]["removed"] for i in g["ids"]]
    assert sorted(ids) == sorted(r["id"] for r in d["records"]["removed"])  # each record in exactly one group
    assert d["by_reason"]["removed"][-1]["check"] is None  # reason unknown last
    also = {(g["check"], g["action"]): g["also"] for g in d["by_reason"]["removed"]}
    assert also[("exact", "drop")] == 1 and also[("rouge_l", "drop")] == 1


def test_changed_records_fall_back_to_meta_changes_new_in_b(tmp_path):
    p = _versions(tmp_path)
    ch = {r["id"]: r for r in _report(p)["records"]["changed"]}
    assert (ch["r5"]["stage"], ch["r5"]["check"], ch["r5"]["field"], ch["r5"]["source"]) == \
        ("detect", "arithmetic", "output", p["detect"])  # an annotation first, not B's meta
    assert (ch["r6"]["check"], ch["r6"]["action"], ch["r6"]["field"], ch["r6"]["reason"], ch["r6"]["source"]) == \
        ("whitespace", "normalize", "input", "stripped spaces", "meta.changes")
    assert ch["r6"]["fields"] == {"input": {"before": "  spaced  ", "after": "spaced"}}
    assert ch["r6"]["field_reasons"]["input"]["check"] == "whitespace"
    # r7's only change entry was already in A: history, not the reason for this change
    assert ch["r7"]["explained"] is False and ch["r7"]["reason"] == "reason unknown"
    assert ch["r7"]["field_reasons"] == {"output": None}
    # without any annotation file, r5 is explained by its meta.changes too
    bare = {r["id"]: r for r in _report(p, annotations=[])["records"]["changed"]}
    assert (bare["r5"]["check"], bare["r5"]["source"]) == ("arithmetic", "meta.changes")
    assert all(not r["explained"] for r in _report(p, annotations=[])["records"]["removed"])


def test_text_view_gives_every_example_its_reason_and_the_summary_table(tmp_path):
    p = _versions(tmp_path)
    text = diff_versions(p["a"], p["b"], examples=10, annotations=[p["dedupe"], p["detect"], p["dropped"]])
    lines = text.splitlines()
    assert "added 1, removed 4, changed 3, unchanged 1" in lines
    assert "removed by reason (4; 1 reason unknown):" in lines
    assert "changed by reason (3; 1 reason unknown):" in lines
    assert "- r2: Write a poem.  [dedupe/exact drop: exact duplicate of r1] (also 1)" in lines
    assert "- r4: Say hi.  [reason unknown]" in lines
    assert "~ r6  [whitespace (meta.changes) normalize input: stripped spaces]" in lines
    i = lines.index("~ r6  [whitespace (meta.changes) normalize input: stripped spaces]")
    assert lines[i + 1:i + 3] == ['    input: "  spaced  "', '         → "spaced"']  # whitespace-only: quoted
    assert "~ r5  [detect/arithmetic normalize output: 2+2 is 4]" in lines
    row = next(x for x in lines if "rouge_l" in x and "drop" in x and "e.g." not in x)
    assert re.match(r"^\s+1\s+1\s+rouge_l\s+drop\s+r9: ROUGE-L 0.91 to r2$", row), row
    assert any(re.match(r"^\s+1\s+0\s+reason unknown\s+-\s+r4: reason unknown$", x) for x in lines), text
    short = diff_versions(p["a"], p["b"], examples=1, annotations=[p["dedupe"]])
    assert sum(x.startswith("- ") for x in short.splitlines()) == 1
    assert sum(x.startswith("~ ") for x in short.splitlines()) == 1


def test_csv_has_one_row_per_removed_added_and_changed_record(tmp_path):
    p = _versions(tmp_path)
    out = diff_versions(p["a"], p["b"], fmt="csv", examples=0, annotations=[p["dedupe"], p["detect"], p["dropped"]])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["kind"] for r in rows].count("removed") == 4
    assert [r["kind"] for r in rows].count("changed") == 3 and [r["kind"] for r in rows].count("added") == 1
    by = {r["id"]: r for r in rows}
    assert (by["r2"]["check"], by["r2"]["action"], by["r2"]["reason"], by["r2"]["matched_id"]) == \
        ("exact", "drop", "exact duplicate of r1", "r1")
    assert by["r4"]["reason"] == "reason unknown" and by["r4"]["check"] == ""
    assert by["r6"]["fields_changed"] == "input" and by["r6"]["check"] == "whitespace"
    assert by["r8"]["kind"] == "added" and by["r8"]["instruction"] == "Say hello."
    assert {"kind", "id", "check", "action", "reason", "fields_changed", "instruction"} <= set(rows[0])


def test_html_is_self_contained_and_shows_before_and_after_side_by_side(tmp_path):
    p = _versions(tmp_path)
    page = diff_versions(p["a"], p["b"], fmt="html", annotations=[p["dedupe"], p["detect"], p["dropped"]])
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=|url\s*\(|@import|<script|<link|<img|https?://""", page, re.I)
    row = next(x for x in page.splitlines() if x.startswith("<tr><th>output") and "joke" in x)
    before, after = [re.sub(r"</?(del|ins)>", "", c) for c in re.findall(r"<td>(.*?)</td>", row)]
    assert (before, after) == ("older joke", "a &lt;b&gt;new&lt;/b&gt; joke")  # escaped, not markup
    assert "<del>older</del> joke" in row and "<ins>a &lt;b&gt;new&lt;/b&gt;</ins> joke" in row
    assert "<b>new</b>" not in page
    assert "The answer is <del>5</del>" in page and "The answer is <ins>4</ins>" in page
    for reason in ("exact duplicate of r1", "output has 1 word", "ROUGE-L 0.91 to r2", "reason unknown"):
        assert reason in page
    assert page.index("before (A)") < page.index("after (B)")
    from html.parser import HTMLParser

    HTMLParser().feed(page)  # parses


def test_json_lists_every_record_whatever_examples_says(tmp_path):
    p = _versions(tmp_path)
    d = _report(p, examples=1)
    assert len(d["records"]["removed"]) == 4 and len(d["examples"]["removed"]) == 1


def test_cli_annotations_from_params_and_out_file(tmp_path, monkeypatch, capsys):
    import yaml

    from curate.cli import main

    p = _versions(tmp_path)
    proj = tmp_path / "proj"
    (proj / "outputs").mkdir(parents=True)
    for k in ("dedupe", "detect", "dropped"):  # found through paths.*, relative to the params file
        (proj / "outputs" / f"{k}.parquet").write_bytes(open(p[k], "rb").read())
    (proj / "params.yaml").write_text(yaml.safe_dump({"paths": {
        "dedupe_annotations": "outputs/dedupe.parquet", "detect_annotations": "outputs/detect.parquet",
        "repair_annotations": "outputs/missing.parquet", "dropped": "outputs/dropped.parquet"}}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report" / "diff.html"
    assert main(["diff", p["a"], p["b"], "--params", str(proj / "params.yaml"), "--format", "html",
                 "--out", str(out)]) == 0
    msg = capsys.readouterr().out
    assert msg == (f"diff: wrote {out} (html): added 1, removed 4, changed 3; reason unknown: 1 removed, "
                   "1 changed\n")
    assert "exact duplicate of r1" in out.read_text(encoding="utf-8")
    assert main(["diff", p["a"], p["b"], "--params", str(proj / "params.yaml"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {r["id"]: r["check"] for r in d["records"]["removed"]} == \
        {"r2": "exact", "r3": "short_output", "r4": None, "r9": "rouge_l"}
    # a params file given again with --annotations (another spelling) is read once
    assert main(["diff", p["a"], p["b"], "--params", str(proj / "params.yaml"), "--format", "json",
                 "--annotations", "proj/outputs/../outputs/detect.parquet"]) == 0
    d2 = json.loads(capsys.readouterr().out)
    assert len(d2["explained_by"]) == 3 and d2["records"] == d["records"]
    # no params file: only --annotations explain
    assert main(["diff", p["a"], p["b"], "--params", str(tmp_path / "none.yaml"), "--format", "json",
                 "--annotations", p["detect"]]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {r["id"]: r["check"] for r in d["records"]["removed"]} == \
        {"r2": None, "r3": "short_output", "r4": None, "r9": "short_output"}


@pytest.mark.parametrize("bad", ["text", "records", "missing"])
def test_cli_bad_annotation_file_is_one_line_naming_it(tmp_path, monkeypatch, capsys, bad):
    from curate.cli import main

    p = _versions(tmp_path)
    f = {"text": tmp_path / "ann.parquet", "records": tmp_path / "a.parquet", "missing": tmp_path / "nope.parquet"}[bad]
    if bad == "text":
        f.write_text("id,check\nr2,exact\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", p["a"], p["b"], "--annotations", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"curate diff: error: {f}: ") and err.count("\n") == 1 and "Traceback" not in err


def test_cli_bad_examples_and_unwritable_out_are_one_line(tmp_path, monkeypatch, capsys):
    from curate.cli import main

    p = _versions(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["diff", p["a"], p["b"], "--examples", "-1"]) == 2
    assert capsys.readouterr().err == "curate diff: error: --examples must be 0 or more, not -1\n"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["diff", p["a"], p["b"], "--out", str(blocker / "diff.txt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"curate diff: error: {blocker / 'diff.txt'}: cannot write") and err.count("\n") == 1


def test_rev_b_reads_annotations_at_that_revision_and_notes_a_workspace_fallback(tmp_path, monkeypatch):
    import shutil

    import yaml

    from curate.stages.diff import run

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    p = _versions(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"paths": {
        "dedupe_annotations": "dedupe.parquet", "detect_annotations": "detect.parquet", "dropped": "dropped.parquet",
        "repair_annotations": None}}), encoding="utf-8")
    git("init", "-q")
    git("config", "user.email", "t@t"), git("config", "user.name", "t")
    git("add", "b.parquet", "dedupe.parquet", "detect.parquet", "params.yaml")
    git("commit", "-qm", "v1")  # dropped.parquet is not committed: read from the workspace, with a note
    # the workspace moves on: B is now empty-ish and dedupe's reasons differ
    write_parquet(annotations_table([_ann("r2", "dedupe", "exact", "drop", "workspace reason", matched_id="r1")]),
                  tmp_path / "dedupe.parquet")
    shutil.copy(p["a"], tmp_path / "b.parquet")
    monkeypatch.chdir(tmp_path)
    d = json.loads(run("a.parquet", "HEAD:b.parquet", fmt="json", params="params.yaml"))
    assert (d["removed"], d["changed"]) == (4, 3)
    rm = {r["id"]: r for r in d["records"]["removed"]}
    assert rm["r2"]["reason"] == "exact duplicate of r1"  # the committed annotations, not the workspace's
    at = {s["file"]: s["read_at"] for s in d["explained_by"]}
    assert at == {"dedupe.parquet": "HEAD", "detect.parquet": "HEAD", "dropped.parquet": "workspace"}
    (note,) = d["notes"]
    assert note.startswith("dropped.parquet: not readable at revision 'HEAD'") and note.endswith("used the workspace file instead")
    text = run("a.parquet", "HEAD:b.parquet", params="params.yaml")
    assert "note: dropped.parquet: not readable at revision 'HEAD'" in text
    assert "explained by: dedupe.parquet at HEAD (2 annotations)" in text


def test_diff_of_28k_records_is_fast(tmp_path):
    import time

    n = 27_940
    a = [_rec(f"r{i}", f"Instruction number {i}.", f"output {i}") for i in range(n)]
    b = [r if i % 70 else {**r, "output": r["output"] + " fixed"} for i, r in enumerate(a) if i % 68]
    dropped = [_ann(f"r{i}", "dedupe", "exact", "drop", "dup") for i in range(0, n, 68)]
    fixes = [_ann(f"r{i}", "detect", "fix", "normalize", "fixed", field="output", value="x") for i in range(0, n, 70)]
    keeps = [_ann(f"r{i}", "detect", "hygiene", "keep", "fine") for i in range(n)]
    write_parquet(records_table(a), tmp_path / "a.parquet")
    write_parquet(records_table(b), tmp_path / "b.parquet")
    write_parquet(annotations_table(dropped + fixes + keeps), tmp_path / "ann.parquet")
    t0 = time.perf_counter()
    d = diff_report(str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"), annotations=[str(tmp_path / "ann.parquet")])
    took = time.perf_counter() - t0
    assert d["removed"] == len(dropped) and d["reason_unknown"] == {"removed": 0, "changed": 0}
    assert d["changed"] == sum(1 for i in range(0, n, 70) if i % 68)
    assert took < 30, took


def test_text_view_shows_a_long_field_from_just_before_its_first_difference(tmp_path):
    long = "word " * 100
    write_parquet(records_table([_rec("r1", "Write.", long + "old ending.")]), tmp_path / "a.parquet")
    write_parquet(records_table([_rec("r1", "Write.", long + "new ending.")]), tmp_path / "b.parquet")
    lines = diff_versions(str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")).splitlines()
    i = lines.index("~ r1  [reason unknown]")
    assert lines[i + 1].startswith("    output: …word") and lines[i + 1].endswith("word old ending.")
    assert lines[i + 2].startswith("          → …word") and lines[i + 2].endswith("word new ending.")

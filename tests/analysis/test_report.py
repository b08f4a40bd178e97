"""`curate report`: one self-contained offline HTML page of a run (reports/index.html).

A small run is built once with the real stages (ingest -> clean -> analyze -> detect-eval ->
compare) from two input files, with hand-written dedupe and detect annotations; the report of
that run must make no external request, show one chart per section, carry funnel totals equal to
metrics/clean.json, and name a missing input. The browser test opens it in the system Chromium
(offline) through scripts/check_report.py."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curate.analysis.report import CHART_SECTIONS, ablation_arms, render_report
from curate.cli import main
from curate.core.config import load_params
from curate.core.errors import CurateError
from curate.core.schema import annotations_table, write_parquet
from curate.stages import analyze, clean, compare, detect_eval, ingest
from curate.stages.base import Context
from tests.analysis.helpers import FIXTURE
from tests.conftest import ROOT
from tests.training.fake_eval import write_eval

SCRIPT = ROOT / "scripts" / "check_report.py"
SKIP_BROWSER = "Chromium not found: apt-get install chromium (Debian) to run the browser test"


def _build_run(root: Path) -> dict:
    """A run in ``root``: inputs a.json (34 real Alpaca records + 1 with an empty instruction)
    and b.jsonl (3 records, one a copy of an a.json record, + 1 whose output is not a string)."""
    a = json.loads(FIXTURE.read_text(encoding="utf-8"))
    (root / "data").mkdir()
    (root / "data/a.json").write_text(json.dumps(a + [{"instruction": "", "input": "", "output": "x"}]),
                                      encoding="utf-8")
    b = [dict(a[16]), {"instruction": "Name three primary colours.", "input": "", "output": "Red, yellow and blue."},
         {"instruction": "Translate 'cat' into French.", "input": "", "output": "Chat."},
         {"instruction": "Say hi.", "input": "", "output": 5}]
    (root / "data/b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in b), encoding="utf-8")
    params = {
        "seed": 7,
        "paths": {"raw_inputs": ["data/a.json", "data/b.jsonl"], "provenance": {},
                  "seed_tasks": str(ROOT / "data/seed/alpaca_seed_tasks.jsonl"),
                  "repair_annotations": None,
                  "devset_sample": "data/devset/sample.jsonl", "devset_labels": "data/devset/labels.jsonl"},
        "analyze": {"top_verbs": 5, "top_nouns": 2, "png": False},
        "ablation": {"arms": ["raw", "clean"], "seeds": [1], "n_boot": 500},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    ctx = Context(load_params(root / "params.yaml"), root)
    paths = ctx.paths
    ingest.run(ctx)
    rec = pq.read_table(paths["ingested"]).to_pylist()
    ida = {r["source_index"]: r["id"] for r in rec if r["source"] == "a.json"}
    idb = {r["source_index"]: r["id"] for r in rec if r["source"] == "b.jsonl"}
    dedupe = [
        {"id": idb[0], "stage": "dedupe", "check_name": "exact", "score": 1.0, "action": "drop",
         "reason": "exact duplicate of the instruction and input", "matched_id": ida[16]},
        {"id": ida[18], "stage": "dedupe", "check_name": "embedding", "score": 0.96, "action": "drop",
         "reason": "cosine 0.96 with an earlier record", "matched_id": ida[16]},
        {"id": ida[17], "stage": "dedupe", "check_name": "rouge_l", "score": 0.75, "action": "drop",
         "reason": "ROUGE-L F1 0.75 with seed task", "matched_id": "seed:seed_task_0"},
    ]
    detect = [
        {"id": ida[4], "stage": "detect", "check_name": "empty_output", "category": "empty_output", "score": 1.0,
         "action": "drop", "reason": "output is empty"},
        {"id": ida[30], "stage": "detect", "check_name": "placeholder_input", "category": "placeholder_input",
         "score": 1.0, "action": "normalize", "reason": "input '<no input>' is a placeholder", "field": "input",
         "value": ""},
        {"id": ida[9], "stage": "detect", "check_name": "unseeable_content", "category": "unseeable_content",
         "score": 0.8, "action": "review", "reason": "refers to content that is not given"},
        {"id": ida[18], "stage": "detect", "check_name": "unseeable_content", "category": "unseeable_content",
         "score": 0.7, "action": "review", "reason": "refers to content that is not given"},
        {"id": ida[28], "stage": "detect", "check_name": "computed_answer", "category": "wrong_math", "score": 1.0,
         "action": "repair", "reason": "geometric mean of 10 and 15 is 12.247, output says otherwise"},
        {"id": idb[1], "stage": "detect", "check_name": "missing_input", "category": "unclear_instruction",
         "score": 0.0, "action": "keep", "reason": "has everything it needs"},
    ]
    write_parquet(annotations_table(dedupe), paths["dedupe_annotations"])
    write_parquet(annotations_table(detect), paths["detect_annotations"])
    clean.run(ctx)
    analyze.run(ctx)
    dev = root / "data/devset"
    dev.mkdir(parents=True)
    labels = {ida[4]: ["empty_output"], ida[9]: ["unseeable_content"], ida[30]: ["placeholder_input"],
              ida[28]: [], ida[1]: [], ida[2]: ["unseeable_content"]}
    (dev / "sample.jsonl").write_text("".join(json.dumps({"id": i, "stratum": "random" if k % 2 else "blind",
                                                          "pool": None}) + "\n" for k, i in enumerate(labels)))
    (dev / "labels.jsonl").write_text("".join(json.dumps({"id": i, "labels": v}) + "\n" for i, v in labels.items()))
    detect_eval.run(ctx)
    for name, k in (("base", 25), ("raw-s1", 28), ("clean-s1", 30)):  # MC1 correct on k of 100 questions
        write_eval(Path(paths["eval"]), name, [1.0] * k + [0.0] * (100 - k))
    compare.run(ctx)
    return {"ctx": ctx, "ida": ida, "idb": idb}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_run")
    built = _build_run(root)
    assert main(["report", "--params", str(root / "params.yaml")]) == 0
    html = (root / "reports/index.html").read_text(encoding="utf-8")
    return {**built, "root": root, "html": html}


def _sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([a-z]+)">(.*?)</section>', html, flags=re.S))


def test_the_page_is_self_contained(run):
    html = run["html"]
    assert re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", html) is None  # nothing loaded from outside
    scripts = re.findall(r"<script\b[^>]*>", html)
    bundle = [s for s in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S) if len(s) > 1_000_000]
    assert len(bundle) == 1 and len(scripts) == 1 + len(CHART_SECTIONS)  # plotly.js once, one script per chart
    # outside plotly.js (whose defaults name a CDN for geo maps, which no chart here uses): no URL at all
    assert re.search(r"https?://|@import|@font-face|MathJax|cdn\.", html.replace(bundle[0], "")) is None
    assert html.count("Plotly.newPlot(") == len(CHART_SECTIONS)
    assert json.loads((run["root"] / "reports/report.json").read_text())["charts"] == len(CHART_SECTIONS)


def test_sections_in_order_each_with_one_chart(run):
    sections = _sections(run["html"])
    assert list(sections) == ["provenance", *CHART_SECTIONS]
    for name, body in sections.items():
        charts = re.findall(r'<div class="chart" data-chart="([a-z]+)">', body)
        assert charts == ([] if name == "provenance" else [name]), name
        assert body.count('class="plotly-graph-div"') == len(charts), name


def test_provenance(run):
    prov = _sections(run["html"])["provenance"]
    assert 'data-provenance="git">unknown<' in prov  # the tmp project is no git repository
    for rel in ("data/a.json", "data/b.jsonl", "ingest/records.parquet", "clean/records.parquet"):
        assert rel in prov
    assert len(re.findall(r"<code>[0-9a-f]{32}</code>", prov)) == 4
    assert "&quot;seed&quot;: 7" in prov and "OPENAI_API_KEY" in prov  # the params; env var names only


def test_funnel_totals_equal_the_metrics(run):
    root = run["root"]
    headline = json.loads((root / "metrics/clean.json").read_text())
    detail = json.loads((root / "reports/clean.json").read_text())
    shown = {k: int(v) for k, v in re.findall(r'data-metric="([a-z_]+)">(\d+)<', run["html"])}
    expected = {k: v for k, v in headline.items() if k != "seconds"}
    assert shown == expected and set(shown) >= {"read", "quarantined", "dropped", "normalized", "kept"}
    assert expected == {"read": 39, "quarantined": 2, "dropped": 4, "normalized": 1, "kept": 33}
    assert detail["records_read"] == 39 and detail["dropped_by_check"] == {
        "embedding": 1, "empty_output": 1, "exact": 1, "rouge_l": 1}
    funnel = _sections(run["html"])["funnel"]
    assert "inconsistent inputs" not in funnel  # the per-source numbers add up to every total
    rows = dict(re.findall(r"<tr class=\"(?:step|sub)\"><td>(?:&nbsp;)*([^<]+)</td>((?:<td[^>]*>\d+</td>)+)</tr>", funnel))
    cells = {k.strip(): [int(x) for x in re.findall(r">(\d+)<", v)] for k, v in rows.items()}
    assert cells["records read"] == [35, 4, 39]  # a.json, b.jsonl, total
    assert cells["kept"] == [31, 2, 33]
    assert cells["exact"] == [0, 1, 1] and cells["empty instruction"] == [1, 0, 1]
    assert cells["flagged for review (annotations)"] == [1, 0, 1]  # the review on a dropped record is not counted
    assert cells["flagged for repair (annotations)"] == [1, 0, 1]


def test_verbs_detectors_clusters_ablation(run):
    s = _sections(run["html"])
    assert 'data-stat="raw-distinct-pairs">' in s["verbs"] and "Share of instructions with a verb–noun pair" in s["verbs"]
    det = s["detectors"]
    assert "<td>computed_answer</td><td>wrong_math</td><td>1</td><td>repair 1</td>" in det
    assert "refers to content that is not given" in det and "geometric mean" in det
    clusters = s["clusters"]
    ida, idb = run["ida"], run["idb"]
    assert f"<code>{ida[16]}</code>: 3 members" in clusters and "seed:seed_task_0" in clusters
    assert clusters.index(ida[16]) < clusters.index("seed:seed_task_0")  # largest first
    assert idb[0] in clusters and "representative" in clusters and "kept" in clusters
    abl = s["ablation"]
    m = re.search(r"<td>clean</td><td>0\.3000 \[(0\.\d{4}), (0\.\d{4})\]</td>", abl)
    assert m and float(m[1]) < 0.30 < float(m[2]) and float(m[2]) - float(m[1]) < 0.25, abl


def test_ablation_is_optional_and_takes_future_arms():
    assert ablation_arms(None) == []
    arms = ablation_arms({"base": {"truthfulqa_mc1": 0.2, "truthfulqa_mc2": 0.4, "ci95": {}},
                          "clean_repaired": {"truthfulqa_mc1": 0.3, "truthfulqa_mc1_stderr": 0.01,
                                             "ci95": {"truthfulqa_mc2": [0.4, 0.5]}, "truthfulqa_mc2": 0.45},
                          "delta_clean_minus_raw": {"truthfulqa_mc1": 0.1}, "truthfulqa_subset": "s"})
    assert [a["arm"] for a in arms] == ["base", "clean_repaired"]
    assert arms[0]["metrics"]["truthfulqa_mc1"] == {"mean": 0.2, "lo": None, "hi": None}
    assert arms[1]["metrics"]["truthfulqa_mc1"]["lo"] == pytest.approx(0.3 - 0.0196)
    assert arms[1]["metrics"]["truthfulqa_mc2"] == {"mean": 0.45, "lo": 0.4, "hi": 0.5}


def test_missing_inputs(run, tmp_path, capsys):
    root, params = run["root"], run["ctx"].params
    other = tmp_path / "proj"  # same data files, but a project root without metrics/ and reports/
    other.mkdir()
    with pytest.raises(CurateError, match=re.escape(str(other / "metrics" / "clean.json"))):
        render_report(params, other)
    (other / "metrics").mkdir()
    (other / "reports").mkdir()
    for rel in ("metrics/clean.json", "reports/clean.json", "reports/detect_eval.json"):
        shutil.copy(root / rel, other / rel)
    page, charts = render_report(params, other)  # no reports/ablation.json: a sentence, no crash
    assert charts == len(CHART_SECTIONS) and "The ablation has not run" in _sections(page)["ablation"]
    gone = str(tmp_path / "nope.parquet")
    with pytest.raises(CurateError, match=re.escape(gone)):
        render_report({**params, "paths": {**params["paths"], "verb_noun": gone}}, root)
    (other / "params.yaml").write_text(yaml.safe_dump({"paths": {"database": gone}}), encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--params", str(other / "params.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("curate report: error: ") and gone in err and "\n" not in err


def _check_report():
    if importlib.util.find_spec("playwright") is None or shutil.which("chromium") is None:
        pytest.skip(SKIP_BROWSER)
    spec = importlib.util.spec_from_file_location("check_report", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.check_report


def test_the_page_renders_in_chromium_offline(run, tmp_path):
    check = _check_report()
    headline = json.loads((run["root"] / "metrics/clean.json").read_text())
    shot = tmp_path / "index.png"
    summary = check(run["root"] / "reports/index.html", screenshot=shot, metrics=headline)
    assert summary["console_errors"] == [] and summary["failed_requests"] == []
    assert summary["charts"] == summary["rendered"] == len(CHART_SECTIONS), summary["chart_details"]
    assert summary["funnel"] == {k: v for k, v in headline.items() if k != "seconds"}
    assert summary["ok"], summary["problems"]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

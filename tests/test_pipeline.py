"""End to end: the real dvc.yaml on the 100-record real sample, with a tiny random student so it
runs in about a minute. Checks every stage's outputs, the accounting, SQL, diff and that a
second `dvc repro` does nothing."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.slow


def _run(cmd, cwd, env):
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("e2e")
    shutil.copytree(ROOT / "curate", repo / "curate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", repo)
    for sub in ("seed", "eval", "devset"):
        shutil.copytree(ROOT / "data" / sub, repo / "data" / sub)
    (repo / "data/alpaca").mkdir(parents=True)
    shutil.copy(SAMPLE, repo / "data/alpaca/sample.json")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["paths"]["raw_inputs"] = ["data/alpaca/sample.json", params["paths"]["generated"]]
    # the real local teacher (SmolLM2 on loopback), a few short requests
    params["generate"].update(target=2, concurrency=1, progress=False, budgets={"max_requests": 8, "max_failures": 2})
    params["generate"]["local"].update(n_threads=1, sampling={"temperature": 0.7, "max_tokens": 384})
    params["train"]["sources"] = ["sample.json"]
    params["student"]["source"] = "tiny-random"
    params["train"].update(n_examples=24, max_length=96, per_device_train_batch_size=4,
                           gradient_accumulation_steps=1, max_steps=3)
    params["evaluate"].update(n_questions=4, n_user_oriented=4, batch_size=8)
    params["probes"].update(per_kind=2, max_new_tokens=8, batch_size=8, user_oriented=False)
    params["ablation"].update(seeds=[1], n_boot=200)  # all five arms, one seed
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    _run(["git", "init", "-q"], repo, env)
    _run([sys.executable, "-m", "dvc", "init", "-q"], repo, env)
    _run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], repo, env)
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")  # custom plot templates (errorbar)
    out = _run([sys.executable, "-m", "dvc", "repro"], repo, env)
    return repo, env, out


def _metrics(repo, name):
    """A stage's full metrics (``reports/<name>.json``; ``metrics/<name>.json`` is its headline)."""
    return json.loads((repo / "reports" / f"{name}.json").read_text())


def test_every_record_is_accounted_for(repo):
    repo, _, _ = repo
    ing, clean, gen = _metrics(repo, "ingest"), _metrics(repo, "clean"), _metrics(repo, "generate")
    assert gen["total_records"] == 2 and gen["teacher"]["local"]  # generated records flow into ingest
    assert ing["records_read"] == 102 and ing["quarantined"] == 2
    assert clean["kept"] + clean["dropped"] + clean["quarantined"] == 102 and clean["conservation_ok"]
    dd = _metrics(repo, "dedupe")
    assert dd["dropped_by_check"]["rouge_l"] >= 1  # the sample holds real near-duplicates
    assert clean["dropped"] >= dd["dropped"]


def test_sql_joins_records_and_annotations(repo):
    repo, env, _ = repo
    out = _run([sys.executable, "-m", "curate.cli", "sql", "--format", "json",
                "SELECT a.check_name, count(*) AS n FROM annotations a JOIN raw r USING (id) GROUP BY 1 ORDER BY 1"],
               repo, env)
    rows = {r["check_name"]: r["n"] for r in json.loads(out)}
    det = _metrics(repo, "detect")["flagged_by_check"]
    assert rows["placeholder_input"] == det["placeholder_input"] > 0
    res = subprocess.run([sys.executable, "-m", "curate.cli", "sql", "DELETE FROM raw"],
                         cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_diff_raw_vs_clean_matches_clean_metrics(repo):
    repo, env, _ = repo
    out = _run([sys.executable, "-m", "curate.cli", "diff", "--format", "json",
                "outputs/ingest/records.parquet", "outputs/clean/records.parquet"], repo, env)
    d = json.loads(out)
    clean = _metrics(repo, "clean")
    assert d["removed"] == clean["dropped"] and d["added"] == 0
    assert d["changed"] == clean["records_normalized"]


def test_training_evaluation_and_ablation(repo):
    import pyarrow.parquet as pq

    from curate.core.config import ARM_NAMES

    repo, env, _ = repo
    probes = pq.read_table(repo / "outputs/probes/probes.parquet").to_pylist()
    assert probes and _metrics(repo, "probes")["short_kinds"]  # the 100-record sample has no attachment task
    held = {r["id"] for r in probes}
    for arm in ARM_NAMES:
        t = _metrics(repo, f"train_{arm}-s1")
        assert t["steps"] == 3 and t["arm"]["arm"] == arm and t["arm"]["held_out"] == len(held)
        assert (repo / f"plots/train_loss_{arm}-s1.csv").read_text().startswith("step,loss")
        e = _metrics(repo, f"eval_{arm}-s1")
        assert e["truthfulqa_n_questions"] == 4 and e["probe_n"] == len(probes)
        tq = pq.read_table(repo / f"outputs/eval/{arm}-s1/truthfulqa.parquet")
        assert tq.num_rows == 4 and set(tq.column_names) >= {"question_index", "mc1_correct", "mc2", "mc1_lls"}
        gens = pq.read_table(repo / f"outputs/eval/{arm}-s1/generations.parquet").to_pylist()
        assert {g["id"] for g in gens} == held and all(g["new_tokens"] <= 8 for g in gens)
    ab = _metrics(repo, "ablation")
    assert not (repo / "metrics/ablation.json").exists()  # the arms' MC1/MC2 headline is in metrics/eval_*.json
    for arm in ("base", *ARM_NAMES):
        lo, hi = ab[arm]["ci95"]["truthfulqa_mc1"]
        assert lo <= ab[arm]["truthfulqa_mc1"] <= hi
    assert len(ab["pairs"]) == 2 * (10 + 5)  # MC1 and MC2 of every pair of arms and of each arm vs base
    md = (repo / "reports/ablation.md").read_text()
    assert "| clean − base | MC1 |" in md and "Behavioural probes" in md


def test_metrics_show_fits_a_terminal_with_flat_headlines(repo):
    from curate.stages.base import HEADLINE_KEYS

    repo, env, _ = repo
    out = _run([sys.executable, "-m", "dvc", "metrics", "show"], repo, env)
    assert "failed" not in out.lower()
    width = max(len(line) for line in out.splitlines())
    assert width < 200, out
    files = sorted(p.name for p in (repo / "metrics").glob("*.json"))
    assert len(files) >= 12 and all(f.removesuffix(".json") in out for f in files)
    for f in files:  # flat, headline keys only, each with its full detail in reports/
        m = json.loads((repo / "metrics" / f).read_text())
        assert m and set(m) <= set(HEADLINE_KEYS) and all(isinstance(v, (int, float)) for v in m.values()), (f, m)
        assert (repo / "reports" / f).is_file()
    head, full = json.loads((repo / "metrics/clean.json").read_text()), _metrics(repo, "clean")
    assert (head["read"], head["kept"], head["dropped"]) == (full["records_read"], full["kept"], full["dropped"])


def test_plots_cover_funnel_verbs_losses_and_ablation(repo):
    import csv

    repo, env, _ = repo
    shown = json.loads(_run([sys.executable, "-m", "dvc", "plots", "show", "--json"], repo, env))
    plots = shown.get("data", shown)  # {plot id: [rendered plot, ...]}
    assert not shown.get("errors"), shown.get("errors")
    for name in ("plots/funnel.csv", "plots/verb_noun_top.csv", "plots/train_loss_raw-s1.csv",
                 "plots/train_loss_clean-s1.csv", "plots/ablation.csv"):
        assert any(name in k for k in plots), (name, list(plots))
    funnel = {r["step"]: int(r["records"]) for r in csv.DictReader(open(repo / "plots/funnel.csv"))}
    clean = _metrics(repo, "clean")
    assert funnel["1 read"] == clean["records_read"] and funnel["6 kept"] == clean["kept"]
    assert sum(v for k, v in funnel.items() if k.startswith("3 dropped")) == clean["dropped"]


def test_second_repro_is_a_no_op(repo):
    repo, env, _ = repo
    out = _run([sys.executable, "-m", "dvc", "repro"], repo, env)
    assert "Running stage" not in out

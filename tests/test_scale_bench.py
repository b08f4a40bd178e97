"""benchmarks/scale.py without running any stage: the corpus builder (size, labels that point to
real sources with one edit, determinism), the params it derives and the growth-exponent fit."""

import importlib.util
import json
import math

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def real(scale):
    return scale.load_real()  # the 27,738 ingested real records (about 2 s)


def test_corpus_size_labels_and_sources(scale, real):
    n = len(real) + 3000
    records, labels = scale.build_corpus(real, n, seed=3)
    assert len(records) == n and len(labels) == 3000
    assert records[: len(real)] == real  # the real records first, unchanged
    ids = [r["id"] for r in records]
    assert len(set(ids)) == n  # ingest keeps ids: they must be unique
    by_id = {r["id"]: r for r in real}
    copies = {r["id"]: r for r in records[len(real):]}
    assert [lab["id"] for lab in labels] == list(copies)
    assert {lab["kind"] for lab in labels} == {"case", "drop", "swap"}
    for lab in labels:
        src, cp = by_id[lab["source_id"]], copies[lab["id"]]  # the label points to a real source
        assert lab["id"].startswith(lab["source_id"] + "~dup")
        assert len(src["instruction"].split()) >= 4
        a, b = src["instruction"], cp["instruction"]
        if lab["kind"] == "case":
            assert a.lower() == b.lower()
        elif lab["kind"] == "drop":
            assert len(b.split()) == len(a.split()) - 1
        else:
            assert sorted(b.split()) == sorted(a.split())


def test_corpus_deterministic_for_a_seed(scale, real):
    n = len(real) + 500
    assert scale.build_corpus(real, n, seed=7) == scale.build_corpus(real, n, seed=7)
    assert scale.build_corpus(real, n, seed=7)[1] != scale.build_corpus(real, n, seed=8)[1]


def test_corpus_past_the_real_records_repeats_sources(scale, real):
    small = real[:50]
    records, labels = scale.build_corpus(small, 400, seed=1)
    assert len(records) == 400 and len(labels) == 350
    assert {lab["source_id"] for lab in labels} <= {r["id"] for r in small}
    with pytest.raises(ValueError):
        scale.build_corpus(small, 49, seed=1)


def test_written_corpus_is_read_back_by_ingest_with_its_ids(scale, tmp_path, monkeypatch):
    from curate.core.ingest import ingest

    small = [{"id": f"r{i}", "instruction": f"Write a short poem about item {i}", "input": "",
              "output": f"Item {i} is a fine thing to write a poem about."} for i in range(20)]
    monkeypatch.setattr(scale, "load_real", lambda: small)
    corpus, labels = tmp_path / "c.jsonl", tmp_path / "l.jsonl"
    info = scale.write_corpus(60, 0, corpus, labels)
    assert info["records"] == 60 and info["copies"] == 40
    records, quarantine, _m = ingest([str(corpus)])
    assert quarantine.num_rows == 0
    lab_ids = [json.loads(line)["id"] for line in labels.read_text(encoding="utf-8").splitlines()]
    assert records.column("id").to_pylist()[20:] == lab_ids


def test_derived_params_validate(scale, tmp_path):
    from curate.core.config import load_params

    path, params, changes = scale.write_params(tmp_path, tmp_path / "corpus.jsonl", "ray")
    assert load_params(path) == params
    assert params["executor"] == "ray"
    assert params["paths"]["raw_inputs"] == [str(tmp_path / "corpus.jsonl")]
    assert params["paths"]["provenance"] == {} and params["paths"]["repair_annotations"] is None
    assert params["paths"]["ingested"].startswith(str(tmp_path))
    assert params["paths"]["seed_tasks"] == str(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    assert params["dedupe"]["embedding"]["enabled"] is False and params["dedupe"]["minhash"]["enabled"] is True
    assert params["repair"]["enabled"] is False
    assert not any(params["detect"][d]["enabled"] for d in scale.MODEL_DETECTORS)
    assert isinstance(changes["disabled_detectors"], list)


def test_growth_exponent(scale):
    sizes = [100_000, 300_000, 1_000_000]
    assert scale.growth_exponent(sizes, [n**2 for n in sizes]) == pytest.approx(2.0, abs=1e-3)
    assert scale.growth_exponent(sizes, [3e-5 * n for n in sizes]) == pytest.approx(1.0, abs=1e-3)
    assert scale.growth_exponent(sizes, [n * math.log(n) for n in sizes]) == pytest.approx(1.08, abs=0.01)
    assert scale.growth_exponent([100_000], [5.0]) is None
    assert scale.growth_exponent(sizes, [1.0, 0.0, 2.0]) is None


def test_totals_extrapolate_to_a_million(scale):
    rows = [{"n": n, "executor": "local", "stage": s, "ran_as": "local", "seconds": n / 1000,
             "tree_peak_rss": n * 1000, "tree_peak_pss": n * 900} for n in (10_000, 20_000) for s in scale.STAGES]
    exps = scale.fit_exponents(rows)
    assert {(e["stage"], e["seconds"], e["tree_peak_rss"]) for e in exps} == {(s, 1.0, 1.0) for s in scale.STAGES}
    tot = scale.totals(rows)
    ext = [t for t in tot if t["extrapolated"]]
    assert len(tot) == 3 and len(ext) == 1
    assert ext[0]["seconds"] == pytest.approx(4 * 1000.0, rel=1e-3)  # 4 linear stages of 1 s per 1,000 records
    assert ext[0]["tree_peak_rss"] == pytest.approx(1e9, rel=1e-3)  # 1,000 bytes per record


def test_dedupe_extrapolates_each_check_with_its_own_exponent(scale):
    # a quadratic check hidden in a stage whose total looks near-linear at small sizes
    def row(n, stage):
        r = {"n": n, "executor": "local", "stage": stage, "ran_as": "local", "tree_peak_rss": 1e8,
             "tree_peak_pss": 1e8, "seconds": 3.0 + n / 1000, "stage_seconds": n / 1000}
        if stage == "dedupe":
            checks = {"exact": n / 1e5, "rouge_l": (n / 1e4) ** 2, "minhash": 5.0}
            r["seconds_by_check"] = checks
            r["stage_seconds"] = sum(checks.values()) + 1.0
            r["seconds"] = r["stage_seconds"] + 3.0
        return r

    rows = [row(n, s) for n in (10_000, 20_000, 40_000) for s in scale.STAGES]
    ext = [t for t in scale.totals(rows) if t["extrapolated"]][0]
    # start-up as measured; exact linear; rouge_l quadratic; minhash and the rest (constant here)
    # floored at linear growth: 25x from 40K to 1M
    assert ext["seconds_by_stage"]["dedupe"] == pytest.approx(3.0 + 10 + 100**2 + 5 * 25 + 1 * 25, rel=1e-3)
    assert ext["seconds_by_stage"]["ingest"] == pytest.approx(3.0 + 1000, rel=1e-3)
    assert ext["seconds_by_stage"]["clean"] == pytest.approx(3.0 + 1000, rel=1e-3)

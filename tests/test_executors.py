"""``executor: local`` and ``executor: ray`` write the same annotations (issue 14).

A 2,000-record sample of the real data (1,850 real records drawn uniformly with a fixed seed,
plus 150 labelled perturbed copies so that every dedupe method has something to find) runs
through dedupe (each method alone, then the whole cascade), detect and clean on both executors, on a
local 2-worker Ray cluster; the annotations are compared after sorting (ids, checks, actions,
scores, matched ids, reasons). Ray is the ``curate[ray]`` extra, which the test command
installs: a missing Ray fails here rather than skipping.
"""

import copy
import logging
import random

import pyarrow.parquet as pq
import pytest

from curate.core.config import load_params
from curate.core.errors import CurateError
from curate.core.ingest import ingest
from curate.core.io import read_seed_tasks
from curate.core.schema import records_table
from curate.dedupe.perturb import with_known_duplicates
from curate.dedupe.pipeline import dedupe
from curate.detectors.distributed import detect_ray
from curate.detectors.runner import build_detectors, detect
from tests.conftest import ROOT

N_REAL, N_COPIES = 1850, 150


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    from curate.core.executor import ray_session

    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, logging_level=logging.WARNING)
    try:
        with ray_session() as r:  # reuses the open session and applies curate's Ray Data settings
            yield r
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(records table, labels of the known duplicates, Parquet path of the table)."""
    table, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    rows = table.to_pylist()
    keep = sorted(random.Random(14).sample(range(len(rows)), N_REAL))  # uniform, in file order
    out, labels = with_known_duplicates([rows[k] for k in keep], N_COPIES, seed=14)
    t = records_table(out)
    path = tmp_path_factory.mktemp("executors") / "records.parquet"
    pq.write_table(t, path)
    return t, labels, path


def _sorted(ann):
    return sorted(ann.to_pylist(), key=lambda a: (a["check_name"], a["id"], a["matched_id"] or ""))


def _only(cfg, method):
    c = copy.deepcopy(cfg)
    for m in ("exact", "rouge", "embedding", "minhash"):
        c[m]["enabled"] = m == method
    return c


@pytest.mark.parametrize("method", ["exact", "rouge", "minhash", "embedding", "all"])
def test_dedupe_same_annotations_on_both_executors(ray_cluster, params, sample, tmp_path_factory, method):
    table, labels, _ = sample
    cfg = params["dedupe"] if method == "all" else _only(params["dedupe"], method)
    seeds = read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    caches = tmp_path_factory.getbasetemp() / "executor-caches"  # one embedding cache per executor
    caches.mkdir(exist_ok=True)
    a_local, m_local = dedupe(table, cfg, seeds, cache_path=caches / "local.parquet")
    a_ray, m_ray = dedupe(table, cfg, seeds, cache_path=caches / "ray.parquet", executor="ray",
                          ray_settings={**params["ray"], "batch_size": 256})
    assert a_local.num_rows > 0, f"{method} found nothing: the comparison would be empty"
    assert _sorted(a_ray) == _sorted(a_local)
    assert m_ray["dropped_by_check"] == m_local["dropped_by_check"]
    if method == "all":  # every planted copy is found by some method
        dropped = {a["id"] for a in a_local.to_pylist()}
        missed = [lab for lab in labels if lab["id"] not in dropped]
        assert not missed, missed[:3]
        assert all(m_local["dropped_by_check"][c] > 0 for c in ("exact", "rouge_l")), m_local["dropped_by_check"]


def test_detect_same_annotations_and_counts_on_both_executors(ray_cluster, params, sample):
    table, _labels, path = sample
    d = params["detect"]
    a_local, m_local = detect(table, d["policy"], build_detectors(d, paths=params["paths"]))
    a_ray, m_ray = detect_ray(str(path), d, params["paths"], batch_size=300)
    assert a_local.num_rows > 50
    assert a_ray.equals(a_local)  # same rows in the same order: record, then detector
    timing = {"seconds_by_detector", "prepare_seconds"}
    assert {k: v for k, v in m_ray.items() if k not in timing | {"batches"}} == \
           {k: v for k, v in m_local.items() if k not in timing}
    assert m_ray["batches"] == 7  # 2,000 records in batches of 300: the merge was exercised


def test_clean_same_files_on_both_executors(ray_cluster, params, sample, tmp_path):
    """clean on Ray (batches of 300 through an actor) writes the same clean and dropped files
    and the same metrics as in one process, with real dedupe and detect annotations: drops,
    normalisations and review flags."""
    from curate.core.annotations import apply_annotations
    from curate.core.distributed import clean_ray

    table, _labels, path = sample
    d = params["detect"]
    det, _ = detect(table, d["policy"], build_detectors(d, paths=params["paths"]))
    cfg = _only(params["dedupe"], "exact")
    cfg["rouge"]["enabled"] = True
    dup, _ = dedupe(table, cfg, read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl"))
    anns = [dup, det]
    assert {a for a in det.column("action").to_pylist()} >= {"drop", "normalize", "review"}
    clean, dropped, m_local = apply_annotations(table, anns, quarantined=2, records_read=table.num_rows + 2)
    m_ray = clean_ray(path, anns, tmp_path / "clean.parquet", tmp_path / "dropped.parquet", quarantined=2,
                      records_read=table.num_rows + 2, batch_size=300)
    assert m_ray == m_local and m_local["records_normalized"] > 0 and m_local["dropped"] > 100
    assert pq.read_table(tmp_path / "clean.parquet").equals(clean)
    assert pq.read_table(tmp_path / "dropped.parquet").equals(dropped)
    with pytest.raises(CurateError, match="clean lost records"):  # the check still can fail
        clean_ray(path, anns, tmp_path / "c2.parquet", tmp_path / "d2.parquet", records_read=table.num_rows + 5)
    assert not list(tmp_path.glob("*2.parquet*"))  # and leaves no file behind


def test_missing_ray_is_one_line(monkeypatch):
    import sys

    from curate.core import executor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(CurateError, match=r"pip install 'curate\[ray\]'"):
        executor.import_ray()


def test_ingest_same_tables_on_both_executors(ray_cluster, tmp_path):
    """ingest on Ray (items checked in batches on the workers, ids assigned on the driver) gives
    the same records, quarantine and metrics as in one process: the real Alpaca JSON with its
    provenance sidecar, plus a JSONL file (parsed on the workers) holding repeats of the same
    prompt, a repeated own id, malformed and invalid lines."""
    import json

    from curate.core.distributed import ingest_ray

    lines = [json.dumps({"instruction": "Say hi.", "input": "", "output": "hi"}),
             json.dumps({"instruction": "Say hi.", "input": "", "output": "hello"}),  # same prompt: id -2
             json.dumps({"id": "x1", "instruction": "A", "input": "", "output": "b", "extra": [1, {"k": None}]}),
             json.dumps({"id": "x1", "instruction": "B", "input": "", "output": "c"}),  # repeated id
             "{not json", "", json.dumps({"instruction": "", "input": "", "output": "x"}),
             json.dumps({"instruction": "Bad\u0000", "input": "", "output": "x"}), json.dumps([1, 2]),
             '{"instruction": "dup key", "instruction": "twice", "input": "", "output": "o"}']
    (tmp_path / "extra.jsonl").write_text("\n".join(lines * 40) + "\n", encoding="utf-8")
    alpaca = str(ROOT / "data/alpaca/alpaca52k_real_subset.json")
    sources = [alpaca, str(tmp_path / "extra.jsonl")]
    prov = {alpaca: str(ROOT / "data/alpaca/alpaca52k_real_subset_provenance.jsonl")}
    local = ingest(sources, provenance=prov)
    ray_ = ingest_ray(sources, provenance=prov, batch_size=4096)
    assert local[2]["quarantined"] > 200 and local[0].num_rows > 27_000
    assert ray_[0].equals(local[0]) and ray_[1].equals(local[1]) and ray_[2] == local[2]
    reasons = " | ".join(local[2]["quarantined_by_reason"])
    assert all(r in reasons for r in ("duplicate id", "malformed JSON", "empty instruction", "NUL byte"))

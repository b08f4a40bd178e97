"""Dedupe on real duplicates: each drop names the record it duplicates and the score."""

import json

import numpy as np
import pyarrow.parquet as pq

from curate.models import embedder as E
from curate.dedupe.pipeline import dedupe, load_seed_tasks, normalize_text
from curate.core.schema import make_record, records_table
from tests.conftest import ROOT, find

NO_EMB = {"embedding": {"enabled": False}}


def _table(rows):
    return records_table([make_record(id=f"r{i}", source="t", source_index=i, **r) for i, r in enumerate(rows)])


def test_exact_duplicates_after_whitespace_and_case_normalisation(real_data):
    r = find(real_data, lambda r: r["input"] == "" and len(r["instruction"]) > 40)
    rows = [r, dict(r, instruction="  " + r["instruction"].upper().replace(" ", "\n ") + " "), dict(r, input="x")]
    ann, m = dedupe(_table(rows), {"rouge": {"enabled": False}, "embedding": {"enabled": False}})
    (a,) = ann.to_pylist()
    assert (a["id"], a["check_name"], a["matched_id"], a["action"]) == ("r1", "exact", "r0", "drop")
    assert a["reason"] == "exact duplicate of r0 on instruction+input after whitespace/case normalisation"
    assert normalize_text(" A\n\tB ") == "a b"
    assert m["kept"] + m["dropped"] == 3


def test_rouge_drops_real_near_duplicate_and_seed_copies(real_data):
    seeds = load_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    assert len(seeds) == 175
    a = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    b = find(real_data, lambda r: r["instruction"] != a["instruction"] and "200-word story using" in r["instruction"])
    seed_copy = {"instruction": seeds[3]["instruction"] + " ", "input": "", "output": "x"}
    ann, m = dedupe(_table([a, b, seed_copy]), NO_EMB, seeds)
    got = {x["id"]: x for x in ann.to_pylist()}
    assert set(got) == {"r1", "r2"} and m["dropped_by_check"]["rouge_l"] == 2
    assert got["r1"]["matched_id"] == "r0" and got["r1"]["score"] > 0.7
    assert got["r1"]["reason"].startswith(f"ROUGE-L F1 {got['r1']['score']:.3f} > 0.7 on instruction with kept record r0:")
    assert got["r2"]["matched_id"] == f"seed:{seeds[3]['id']}" and got["r2"]["score"] == 1.0


def test_embedding_near_duplicates_and_cache(tmp_path, monkeypatch):
    rows = [{"instruction": "Write a poem about the ocean.", "input": "", "output": "Waves."},
            {"instruction": "Write a poem about the sea.", "input": "", "output": "Tides."},
            {"instruction": "Explain how a car engine works.", "input": "", "output": "Pistons."}]
    cache = tmp_path / "emb.parquet"
    params = {"exact": {"enabled": False}, "rouge": {"enabled": False}, "embedding": {"threshold": 0.8}}
    ann, m = dedupe(_table(rows), params, cache_path=cache)
    (a,) = ann.to_pylist()
    assert (a["id"], a["check_name"], a["matched_id"]) == ("r1", "embedding", "r0")
    assert 0.8 <= a["score"] < 1.0 and "all-MiniLM-L6-v2" in a["reason"]
    # cache keyed by content hash: a rerun embeds nothing new and returns the same vectors
    assert pq.read_table(cache).num_rows == 3
    def no_model():
        raise AssertionError("model loaded on a cached rerun")

    monkeypatch.setattr(E, "load_model", no_model)
    again = E.embed(["Write a poem about the ocean."], cache)
    assert again.shape == (1, 384) and abs(float(np.linalg.norm(again[0])) - 1.0) < 1e-5


def test_greedy_cosine_filter_blocks_only_with_kept_rows():
    v = np.array([[1, 0], [0.96, 0.28], [0.85, 0.53]], dtype=np.float32)  # cos(0,1)=.96, cos(1,2)=.96, cos(0,2)=.85
    out = E.greedy_cosine_filter(v, 0.95)
    assert [k for k, _, _ in out] == [True, False, True]  # row 2 is close only to the dropped row 1
    assert out[1][1] == 0


def test_rouge_fields_instruction_plus_input(real_data):
    """dedupe.rouge.fields: real pairs whose verdict depends on whether the input is compared."""
    essay = find(real_data, lambda r: r["instruction"] == "Write an argumentative essay on the given topic.")
    essay2 = find(real_data, lambda r: r["instruction"] == "Write an essay about a given topic.")
    a = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    b = find(real_data, lambda r: r["instruction"] != a["instruction"] and "200-word story using" in r["instruction"])
    table = _table([essay, essay2, a, b])
    base = {"exact": {"enabled": False}, "embedding": {"enabled": False}}

    def run(fields):
        ann, _ = dedupe(table, dict(base, rouge={"threshold": 0.6, "fields": fields}))
        return {x["id"]: (x["matched_id"], round(x["score"], 4), x["reason"]) for x in ann.to_pylist()}

    inst = run(["instruction"])
    both = run(["instruction", "input"])
    assert inst["r1"][:2] == ("r0", 0.6667)  # similar instructions, different topics ...
    assert "r1" not in both  # ... are distinct prompts once the input is compared (F1 0.522)
    assert inst["r3"][:2] == ("r2", 0.9412)
    assert both["r3"][:2] == ("r2", 1.0)  # b moved its input into the instruction: same prompt tokens
    assert " on instruction+input with kept record r2" in both["r3"][2]


def test_metrics_add_up_with_all_four_methods(real_data, tmp_path):
    """One real duplicate for each method; counts per check, kept and dropped add up."""
    base = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    near = find(real_data, lambda r: r["instruction"] != base["instruction"] and "200-word story using" in r["instruction"])
    camp = find(real_data, lambda r: r["instruction"] == "Generate a list of ten items a person might need for a camping trip")
    mt1 = find(real_data, lambda r: r["instruction"] == "Create a multiplication table from 2 to 10.")
    mt2 = find(real_data, lambda r: r["instruction"] == "Output a multiplication table for the numbers 2 to 10.")
    rows = [base, dict(base, instruction=base["instruction"].upper()), near, camp,
            dict(camp, instruction="Make a list of 10 things one might need when going on a camping trip"),
            mt1, dict(mt2, instruction="Print the grid of products described in the input.")] + real_data[100:110]
    # the paraphrase: ROUGE-L F1 0.552 with the camping record, cosine 0.790
    params = {"embedding": {"threshold": 0.78}, "minhash": {"enabled": True}}
    ann, m = dedupe(_table(rows), params, cache_path=tmp_path / "e.parquet")
    by = {x["id"]: x["check_name"] for x in ann.to_pylist()}
    assert by == {"r1": "exact", "r2": "rouge_l", "r4": "embedding", "r6": "minhash"}
    assert m["dropped_by_check"] == {"exact": 1, "rouge_l": 1, "embedding": 1, "minhash": 1}
    assert m["records_in"] == len(rows) == m["kept"] + m["dropped"]
    assert m["dropped"] == sum(m["dropped_by_check"].values()) == ann.num_rows
    assert set(m["seconds_by_check"]) == {"exact", "rouge_l", "embedding", "minhash"}


def test_embedding_params_are_checked():
    import pytest

    from curate.core.errors import CurateError

    t = _table([{"instruction": "a", "input": "", "output": "b"}])
    with pytest.raises(CurateError, match="mode"):
        dedupe(t, {"embedding": {"mode": "kmeans"}})
    with pytest.raises(CurateError, match="views"):
        dedupe(t, {"embedding": {"views": ["answer"]}})

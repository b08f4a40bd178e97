"""ROUGE-L dedupe (curate.dedupe.rouge): Alpaca's greedy filter against seed tasks and kept records.
The ROUGE-L scores themselves are checked against rouge-score in tests/core/test_rouge.py."""

from curate.core.io import read_seed_tasks
from curate.dedupe.pipeline import dedupe
from curate.dedupe.rouge import rouge_duplicates
from tests.conftest import ROOT, find
from tests.dedupe.helpers import records, table

NO_EMB = {"embedding": {"enabled": False}}
SEEDS = ROOT / "data/seed/alpaca_seed_tasks.jsonl"


def test_rouge_drops_real_near_duplicate_and_seed_copies(real_data):
    seeds = read_seed_tasks(SEEDS)
    assert len(seeds) == 175
    a = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    b = find(real_data, lambda r: r["instruction"] != a["instruction"] and "200-word story using" in r["instruction"])
    seed_copy = {"instruction": seeds[3]["instruction"] + " ", "input": "", "output": "x"}
    ann, m = dedupe(table([a, b, seed_copy]), NO_EMB, seeds)
    got = {x["id"]: x for x in ann.to_pylist()}
    assert set(got) == {"r1", "r2"} and m["dropped_by_check"]["rouge_l"] == 2
    assert got["r1"]["matched_id"] == "r0" and got["r1"]["score"] > 0.7
    assert got["r1"]["reason"].startswith(f"ROUGE-L F1 {got['r1']['score']:.3f} > 0.7 on instruction with kept record r0:")
    assert got["r2"]["matched_id"] == f"seed:{seeds[3]['id']}" and got["r2"]["score"] == 1.0


def test_seed_tasks_are_compared_only_when_included():
    seeds = read_seed_tasks(SEEDS)
    rows = [{"instruction": seeds[0]["instruction"], "input": "", "output": "x"}]
    on = {"threshold": 0.7, "fields": ["instruction"], "include_seed_tasks": True}
    found = rouge_duplicates(records(rows), on, seeds)
    assert found.dropped == {0} and found.annotations[0]["matched_id"] == f"seed:{seeds[0]['id']}"
    off = rouge_duplicates(records(rows), dict(on, include_seed_tasks=False), seeds)
    assert off.dropped == set() and off.annotations == []


def test_rouge_fields_instruction_plus_input(real_data):
    """dedupe.rouge.fields: real pairs whose verdict depends on whether the input is compared."""
    essay = find(real_data, lambda r: r["instruction"] == "Write an argumentative essay on the given topic.")
    essay2 = find(real_data, lambda r: r["instruction"] == "Write an essay about a given topic.")
    a = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    b = find(real_data, lambda r: r["instruction"] != a["instruction"] and "200-word story using" in r["instruction"])
    tab = table([essay, essay2, a, b])
    base = {"exact": {"enabled": False}, "embedding": {"enabled": False}}

    def run(fields):
        ann, _ = dedupe(tab, dict(base, rouge={"threshold": 0.6, "fields": fields}))
        return {x["id"]: (x["matched_id"], round(x["score"], 4), x["reason"]) for x in ann.to_pylist()}

    inst = run(["instruction"])
    both = run(["instruction", "input"])
    assert inst["r1"][:2] == ("r0", 0.6667)  # similar instructions, different topics ...
    assert "r1" not in both  # ... are distinct prompts once the input is compared (F1 0.522)
    assert inst["r3"][:2] == ("r2", 0.9412)
    assert both["r3"][:2] == ("r2", 1.0)  # b moved its input into the instruction: same prompt tokens
    assert " on instruction+input with kept record r2" in both["r3"][2]


def test_any_screen_order_and_chunk_size_give_the_same_decisions(sample_records):
    """greedy_filter's decisions depend neither on how the screen runs its tasks (Ray runs them
    anywhere; here: in reverse) nor on the chunk size: copies planted across chunk borders are
    dropped either against the kept pool or within their chunk."""
    from curate.core.rouge import greedy_filter, screen_tasks

    texts = [r["instruction"] for r in sample_records] * 3  # each text again, twice
    def reverse(pool, tasks, cutoff):
        return screen_tasks(pool, tasks[::-1], cutoff)[::-1]

    ref = [(d.keep, d.matched, d.score) for d in greedy_filter(texts, 0.7)]
    assert sum(not k for k, _, _ in ref) >= 2 * len(sample_records)  # the copies are dropped
    for chunk in (7, 64, 10**6):
        got = [(d.keep, d.matched, d.score) for d in greedy_filter(texts, 0.7, screen=reverse, chunk=chunk)]
        assert got == ref, chunk


def test_band_tasks_cover_every_pair_that_can_pass():
    """Brute force on random lengths: every (query, pool) pair whose length bound allows
    F1 >= cutoff falls in a block that screens it, at any max_cells."""
    import numpy as np

    from curate.core.rouge import band_tasks

    rng = np.random.default_rng(0)
    q = np.sort(rng.integers(0, 60, 300))
    p = np.sort(rng.integers(0, 60, 500))
    for cutoff in (0.3, 0.7 - 1e-6, 0.9):
        for cells in (64 * 40, 1 << 22):
            covered = np.zeros((len(q), len(p)), dtype=bool)
            for s, e, lo, hi in band_tasks(q, p, cutoff, max_cells=cells):
                covered[s:e, lo:hi] = True
            m, n = q[:, None], p[None, :]
            can = 2 * np.minimum(m, n) >= cutoff * (m + n)  # F1 <= 2*min/(m+n)
            assert covered[can].all(), (cutoff, cells)
            if cutoff > 0.5 and cells < len(q) * len(p):
                assert covered.mean() < 0.7  # and small blocks do prune


"""The ablation's arms: what each student sees, and that no held-out probe leaks into any."""

from __future__ import annotations

import math

import pytest

from curate.training.arms import ARMS, arm_records, flagged_records, match_on_length


def _rec(i, out_words=5, inst_words=4, source="a.json"):
    return {"id": f"r{i:03d}", "instruction": " ".join(["do"] * inst_words), "input": "",
            "output": " ".join([f"w{i}"] * out_words), "source": source}


@pytest.fixture
def data():
    raw = [_rec(i, out_words=1 + (i * 7) % 40, inst_words=2 + i % 9) for i in range(200)]
    raw += [_rec(200 + i, source="gen.jsonl") for i in range(20)]
    # cleaning drops every 10th record and rewrites the output of every 15th (not also dropped)
    clean = []
    for r in raw:
        i = int(r["id"][1:])
        if i % 10 == 0:
            continue
        clean.append({**r, "output": r["output"] + " fixed"} if i % 15 == 0 else dict(r))
    return raw, clean


def test_flagged_are_the_dropped_and_rewritten_records_in_raw_form(data):
    raw, clean = data
    flagged = flagged_records(raw, clean)
    ids = {r["id"] for r in flagged}
    assert ids == {r["id"] for r in raw if int(r["id"][1:]) % 10 == 0 or int(r["id"][1:]) % 15 == 0}
    by_id = {r["id"]: r for r in raw}
    assert all(r == by_id[r["id"]] for r in flagged)  # raw form, not the rewrite


def test_every_arm_has_n_records_from_its_sources_and_no_held_out_id(data):
    raw, clean = data
    held = ["r001", "r002", "r020", "r030"]
    for arm in ARMS:
        recs, desc = arm_records(arm, raw, clean, 20, seed=1, sources=["a.json"], exclude_ids=held)
        assert len(recs) == 20 and desc["n"] == 20 and desc["arm"] == arm
        assert all(r["source"] == "a.json" for r in recs)
        assert not {r["id"] for r in recs} & set(held)
        assert len({r["id"] for r in recs}) == 20


def test_arm_contents(data):
    raw, clean = data
    clean_ids = {r["id"] for r in clean}
    raw_s, _ = arm_records("raw", raw, clean, 30, seed=3)
    clean_s, _ = arm_records("clean", raw, clean, 30, seed=3)
    assert {r["id"] for r in clean_s} <= clean_ids
    # the same seeded ranking: every raw-sample record that cleaning kept is in the clean sample
    assert {r["id"] for r in raw_s} & clean_ids <= {r["id"] for r in clean_s}
    longest, _ = arm_records("longest", raw, clean, 10, seed=3)
    cut = min(len(r["output"]) for r in longest)
    assert all(len(r["output"]) <= cut for r in raw if r["id"] not in {x["id"] for x in longest})
    flagged, _ = arm_records("flagged", raw, clean, 10, seed=3)
    changed = {r["id"] for r in flagged_records(raw, clean)}
    assert {r["id"] for r in flagged} <= changed
    matched, desc = arm_records("kept_matched", raw, clean, 10, seed=3)
    assert not {r["id"] for r in matched} & changed and {r["id"] for r in matched} <= clean_ids
    assert desc["match_distance_mean"] >= 0 and "flagged_reference" in desc
    # matched on length: mean log output length close to the flagged sample's
    mean = lambda rs: sum(math.log1p(len(r["output"].split())) for r in rs) / len(rs)  # noqa: E731
    assert abs(mean(matched) - mean(flagged)) < 0.25


def test_seeds_give_different_samples_and_the_same_seed_the_same(data):
    raw, clean = data
    a, _ = arm_records("raw", raw, clean, 30, seed=1)
    b, _ = arm_records("raw", raw, clean, 30, seed=2)
    c, _ = arm_records("raw", raw, clean, 30, seed=1)
    assert a == c and {r["id"] for r in a} != {r["id"] for r in b}


def test_small_pools_and_bad_arguments(data):
    raw, clean = data
    recs, desc = arm_records("flagged", raw, clean, 10_000, seed=1)
    assert len(recs) == desc["pool_flagged"] < 10_000  # all of them when fewer than n
    with pytest.raises(ValueError, match="unknown arm"):
        arm_records("best", raw, clean, 10, seed=1)
    with pytest.raises(ValueError, match=">= 1"):
        arm_records("raw", raw, clean, 0, seed=1)
    with pytest.raises(ValueError, match="no records"):
        arm_records("raw", raw, clean, 10, seed=1, sources=["nothing.json"])
    with pytest.raises(ValueError, match="cannot match"):
        match_on_length(raw[:5], raw[:3], seed=1)


def test_matching_prefers_the_nearest_unused_record():
    targets = [_rec(1, out_words=10), _rec(2, out_words=10)]
    pool = [_rec(10, out_words=10), _rec(11, out_words=11), _rec(12, out_words=100)]
    out, dist = match_on_length(targets, pool, seed=0)
    assert [r["id"] for r in out] == ["r010", "r011"] and dist == pytest.approx(
        (0 + abs(math.log1p(11) - math.log1p(10))) / 2)

"""Semantic near-duplicates (curate.dedupe.semantic): components, representative rule, ANN ==
exact, the embedding method in the pipeline and its content-hash cache."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from curate.dedupe import semantic as S
from curate.dedupe.pipeline import dedupe
from curate.models import embedder as E
from tests.dedupe.helpers import table


def _unit(rows):
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _angle(deg):
    return [np.cos(np.radians(deg)), np.sin(np.radians(deg)), 0.0]


def test_connected_components_are_transitive_and_score_is_cosine_to_representative():
    # 0 ~ 1 (cos 0.966) and 1 ~ 2 (cos 0.966) but 0 vs 2 only cos(30 deg) = 0.866; 3 is alone
    v = _unit([_angle(0), _angle(15), _angle(30), [0, 0, 1]])
    hi, lo, sim = S.similar_pairs([v], 0.95)
    assert sorted(zip(hi.tolist(), lo.tolist())) == [(1, 0), (2, 1)]
    assert S.clusters(4, hi, lo).tolist() == [0, 0, 0, -1]
    dec = S.cluster_decisions([v], 0.95, output_lengths=[5, 3, 4, 9])
    assert [d["keep"] for d in dec] == [True, False, False, True]  # 0 has the longest output
    assert dec[2]["matched"] == 0 and dec[2]["size"] == 3
    assert dec[2]["score"] == pytest.approx(np.cos(np.radians(30)), abs=1e-6) and dec[2]["score"] < 0.95
    assert dec[2]["max_edge"] >= 0.95  # it joined through record 1
    # the greedy mode differs exactly here: 2 is only close to the dropped 1, so it is kept
    assert [d["keep"] for d in S.greedy_decisions([v], 0.95)] == [True, False, True, True]


def test_representative_longest_non_empty_output_ties_earliest():
    labels = np.array([0, 0, 0, -1, 1, 1])
    assert S.representatives(labels, [3, 7, 7, 100, 0, 0]) == {0: 1, 1: 4}  # tie 7/7 -> row 1; all empty -> row 4


def test_min_over_views_needs_both_prompt_and_output_close():
    prompt = _unit([_angle(0), _angle(5), _angle(6)])
    output = _unit([_angle(0), _angle(60), _angle(4)])
    hi, lo, sim = S.similar_pairs([prompt, output], 0.95)
    assert list(zip(hi.tolist(), lo.tolist())) == [(2, 0)]  # 1 has a different output
    assert sim[0] == pytest.approx(np.cos(np.radians(6)), abs=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="at least one"):
        S.similar_pairs([], 0.9)
    with pytest.raises(ValueError, match="force"):
        S.similar_pairs([_unit([[1, 0], [0, 1]])], 0.9, force="hnsw")


@pytest.fixture(scope="module")
def real_vectors(real_data, tmp_path_factory):
    """Prompt embeddings of 300 real records plus 60 lightly edited copies of some of them."""
    texts = [r["instruction"] for r in real_data[:300]]
    texts += [t.rstrip(".") + " please." for t in texts[::5]]
    return texts, E.embed(texts, tmp_path_factory.mktemp("emb") / "e.parquet")


def test_ann_path_equals_exact_path_on_real_embeddings(real_vectors):
    _, v = real_vectors
    for thr in (0.9, 0.95):
        ex = S.similar_pairs([v], thr, force="exact")
        ann = S.similar_pairs([v], thr, ann_min_records=0)  # ANN threshold forced low
        assert len(ex[0]) > 30  # the planted copies are found
        for a, b in zip(ex, ann):
            np.testing.assert_array_equal(a, b)
    # a small ann_k forces the exact fallback for rows with many neighbours: still identical
    ex = S.similar_pairs([v], 0.5, force="exact")
    ann = S.similar_pairs([v], 0.5, force="ann", ann_k=2)
    for a, b in zip(ex, ann):
        np.testing.assert_array_equal(a, b)


def test_dedupe_cluster_mode_on_real_records(real_data, tmp_path):
    """Real record + two light edits of its instruction: one cluster, the longest output kept,
    the others name it with their cosine and 'cluster <id> of 3 records'."""
    r = next(x for x in real_data if x["instruction"] == "Generate a list of ten items a person might need for a camping trip")
    other = real_data[1]
    rows = [dict(r, output="Tent."), dict(r, instruction=r["instruction"] + "."),
            dict(r, instruction="Generate a list of 10 items a person might need for a camping trip"), other]
    tab = table(rows)
    params = {"exact": {"enabled": False}, "rouge": {"enabled": False},
              "embedding": {"threshold": 0.95, "mode": "cluster"}}
    ann, m = dedupe(tab, params, cache_path=tmp_path / "e.parquet")
    got = {a["id"]: a for a in ann.to_pylist()}
    assert set(got) == {"r0", "r2"}  # r1 keeps: same length output as r2, but earlier
    assert all(a["matched_id"] == "r1" and 0.95 <= a["score"] <= 1.0 for a in got.values())
    assert "cluster 0 of 3 records" in got["r0"]["reason"]
    assert m["embedding_clusters"] == 1 and m["kept"] == 2
    greedy = dict(params, embedding={"threshold": 0.95, "mode": "greedy"})
    ann_g, _ = dedupe(tab, greedy, cache_path=tmp_path / "e.parquet")
    assert sorted((a["id"], a["matched_id"]) for a in ann_g.to_pylist()) == [("r1", "r0"), ("r2", "r0")]


def test_embedding_near_duplicates_and_cache(tmp_path, monkeypatch):
    rows = [{"instruction": "Write a poem about the ocean.", "input": "", "output": "Waves."},
            {"instruction": "Write a poem about the sea.", "input": "", "output": "Tides."},
            {"instruction": "Explain how a car engine works.", "input": "", "output": "Pistons."}]
    cache = tmp_path / "emb.parquet"
    params = {"exact": {"enabled": False}, "rouge": {"enabled": False}, "embedding": {"threshold": 0.8}}
    ann, m = dedupe(table(rows), params, cache_path=cache)
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
    ann2, _ = dedupe(table(rows), params, cache_path=cache)  # the whole method runs from the cache
    assert ann2.to_pylist() == ann.to_pylist()

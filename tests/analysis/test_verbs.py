"""Verb-noun extraction (self-instruct Figure 2 method) on real Alpaca instructions."""

from __future__ import annotations

import pyarrow as pa
import pytest

from curate.analysis.verbs import (
    extract_verb_nouns,
    first_line,
    load_model,
    top_verb_nouns,
    verb_noun_table,
)

# Real instructions from alpaca52k_real_subset.json and the pair spaCy's parse gives them.
EXPECTED = {
    "Write a story about a family that moves to a new city.": ("write", "story"),
    # "Given ..." clause: the root is the main verb, not "Given"
    "Given the input, generate a metaphor.": ("generate", "metaphor"),
    "Given the input, describe the setting of the scene.": ("describe", "setting"),
    # questions: a verb under an auxiliary root is found; a copula-only question has none
    "How can a person develop a healthy sleep routine?": ("develop", "routine"),
    "What is a bond?": (None, None),
    "Is it a good idea to start an online business?": ("start", "business"),
    # the verb is in a relative clause under the AUX root; its object is the relativised noun
    "What are some methods you can use to combat post-conference fatigue?": ("use", None),
    # imperatives spaCy tags as NOUN/PROPN but parses with a direct object
    "List three strategies to reduce carbon emissions.": ("list", "strategy"),
    "Reword the following sentence so that it begins with the same letter.": ("reword", "sentence"),
    "Which is the hottest planet in our Solar System?": (None, None),
    # lemmatised, lowercase: "animals" -> "animal"
    "Classify these animals: lion, elephant, giraffe, turtle": ("classify", "animal"),
    "Generate a list of 8 social media platforms.": ("generate", "list"),
    "Find the square root of 156.": ("find", "root"),
    # a verb with no noun direct object
    "Explain how quantum computing differs from classical computing.": ("explain", None),
    # only the first line: the quoted sentence after the colon does not supply the verb
    'Rewrite this sentence in a more concise way: \n"I\'m feeling kind of tired after having worked all day."': ("rewrite", "sentence"),
    # only the first sentence
    "Trading stocks has become increasingly popular with more people investing. Explain the risks.": ("become", None),
    "": (None, None),
}


@pytest.fixture(scope="module")
def nlp():
    return load_model()


def test_expected_pairs_on_real_instructions(nlp):
    texts = list(EXPECTED)
    got = dict(zip(texts, extract_verb_nouns(texts, nlp=nlp, batch_size=4)))
    assert got == EXPECTED


def test_order_and_duplicates_preserved(nlp):
    texts = ["What is a bond?", "Write a poem about the ocean.", "What is a bond?", "Write a poem about the ocean."]
    assert extract_verb_nouns(texts, nlp=nlp) == [(None, None), ("write", "poem")] * 2


def test_first_line():
    assert first_line('\n  Rewrite this: \n"x"') == "Rewrite this:"
    assert first_line(None) == "" and first_line(" \n ") == ""


def test_verb_noun_table(nlp):
    table = verb_noun_table(["a", "b"], ["Write a poem about the ocean.", "What is a bond?"], nlp=nlp)
    assert table.column_names == ["id", "verb", "noun"]
    assert table.to_pylist() == [
        {"id": "a", "verb": "write", "noun": "poem"},
        {"id": "b", "verb": None, "noun": None},
    ]
    with pytest.raises(ValueError, match="2 ids but 1 instructions"):
        verb_noun_table(["a", "b"], ["Write."], nlp=nlp)


def test_top_verb_nouns_counts_and_limits():
    pairs = (
        [("write", "poem")] * 5 + [("write", "story")] * 4 + [("write", "essay")] * 3
        + [("write", "letter")] * 2 + [("write", "song")] * 1          # 5 nouns: one is cut
        + [("generate", "list")] * 6 + [("generate", "idea")] * 2
        + [("find", "root")] * 3
        + [("explain", None)] * 50 + [(None, None)] * 50               # no pair: not counted
    )
    table = pa.table({"verb": [v for v, _ in pairs], "noun": [n for _, n in pairs]})
    rows = top_verb_nouns(table, top_verbs=2, top_nouns=4)
    assert [(r["verb"], r["noun"], r["count"]) for r in rows] == [
        ("write", "poem", 5), ("write", "story", 4), ("write", "essay", 3), ("write", "letter", 2),
        ("generate", "list", 6), ("generate", "idea", 2),
    ]
    assert {r["verb"]: r["verb_count"] for r in rows} == {"write": 15, "generate": 8}
    assert [r["verb_rank"] for r in rows] == [1, 1, 1, 1, 2, 2]
    assert rows[0]["label"] == "write: poem"

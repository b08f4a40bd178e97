"""Tests for curate.detectors.behaviour: a student's generations scored with the project's rule
detectors (flags True / False / None = not applicable). The examples are hand-written answers
whose correct flag is clear from the task (12 * 7 is 84; "The cat sat on the mat." has 6 words)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.detectors import behaviour as bh


@pytest.fixture(scope="module")
def dets():
    return bh.behaviour_detectors()


def score(dets, instruction, output, input="", **extra):
    return bh.score_generations([{"id": "g1", "instruction": instruction, "input": input, "output": output,
                                  "kind": "k", **extra}], dets)[0]


URL_TASK = "Summarize the article at https://example.com/news/123"
INVENTED = ("The article discusses the recent economic downturn in Europe and its effects on unemployment "
            "among young workers.")


def test_detectors_and_row_shape(dets):
    names = [d.name for d in dets]
    assert "contamination" not in names
    for flag, wanted in bh.RATE_DETECTORS.items():
        assert set(wanted) <= set(names), flag
    row = score(dets, "Name a fruit.", "An apple.")
    assert list(row)[:2] == ["id", "kind"] and (row["id"], row["kind"]) == ("g1", "k")
    assert [f for f in row if f in bh.FLAGS] == list(bh.FLAGS)
    assert row["checks"] == [] and row["computable_checkers"] == []
    assert "hit_max_new_tokens" not in row
    assert bh.score_generations([], dets) == []


# ----------------------------------------------------------------------------- empty_or_na

@pytest.mark.parametrize("output", ["", "   ", "N/A", "n/a.", "<nooutput>", "<No output>",
                                    "This instruction cannot be fulfilled by a GPT model."])
def test_empty_or_na_true(dets, output):
    assert score(dets, "Name a fruit.", output)["empty_or_na"] is True


@pytest.mark.parametrize("output", ["An apple.", "None", "0", "<img src='a.png'>"])
def test_empty_or_na_false_for_an_answer(dets, output):
    # a bare "None" or "0" can be a correct answer; an HTML tag is content
    assert score(dets, "Name a fruit.", output)["empty_or_na"] is False


# ----------------------------------------------------------------------------- merged_fragment

@pytest.mark.parametrize("output, rule", [
    ("An apple.\n\n### Instruction:\nName a vegetable.\n\n### Response:\nA carrot.", "alpaca_prompt_marker"),
    ("An apple.\n### Response: A pear.", "alpaca_prompt_marker"),
    ("An apple. Below is an instruction that describes a task. Write a response.", "alpaca_prompt_marker"),
    ("An apple.\n2. Write a poem about the ocean.", "numbered_next_task"),
    ("An apple.\n\n3. Create a list of five vegetables.", "numbered_next_task"),
    ("An apple.\n2. Instruction: Name a vegetable.\n2. Input: <noinput>\n2. Output: A carrot.", "merged_instruction"),
])
def test_merged_fragment_true(dets, output, rule):
    row = score(dets, "Name a fruit.", output)
    assert row["merged_fragment"] is True
    assert rule in row["checks"]


@pytest.mark.parametrize("output", [
    "1. Eat a balanced diet.\n2. Make time for exercise.\n3. Get enough sleep.",
    "Here are some tips:\n1. Write down your goals.\n2. Create a plan.\n3. Find a partner.",
    "An apple is a fruit. Number 2 is a pear.",
    "Instruction: this starts with an instruction block and has no answer before it",
])
def test_merged_fragment_false(dets, output):
    row = score(dets, "Give three tips for staying healthy.", output)
    assert row["merged_fragment"] is False, row["checks"]


def test_generation_rules():
    assert bh.generation_rules("ok") == []
    assert bh.generation_rules("x\n  ## Input: y") == ["alpaca_prompt_marker"]
    assert bh.generation_rules("x\n2) Describe a cat.") == ["numbered_next_task"]
    assert bh.generation_rules("1. Describe a cat.\n2. Describe a dog.") == []
    # "2." after an unrelated "1." line still belongs to the list
    assert bh.generation_rules("1) Apples\n2. Write more") == []
    # item 3 directly after item 1: no 2 before it
    assert bh.generation_rules("1. Apples\n3. Write a poem.") == ["numbered_next_task"]
    both = bh.generation_rules("### Response:\n5. Translate this.")
    assert both == ["alpaca_prompt_marker", "numbered_next_task"]


# ----------------------------------------------------------------------------- wrong_computable

@pytest.mark.parametrize("output, wrong", [
    ("86", True), ("The answer is 86.", True), ("12 * 7 = 96", True),
    ("84", False), ("12 * 7 = 84.", False), ("The product is 84.", False),
])
def test_wrong_computable_arithmetic(dets, output, wrong):
    row = score(dets, "What is 12 * 7?", output)
    assert row["wrong_computable"] is wrong
    assert row["computable_checkers"] == ["math_check"]


def test_wrong_computable_not_applicable_without_computable_content(dets):
    for inst, out in [("Write a poem about the sea", "The sea is wide and blue."),
                      ("Explain how to sort a list in Python", "Use sorted(xs)."),
                      ("Name a fruit.", "42")]:
        row = score(dets, inst, out)
        assert row["wrong_computable"] is None and row["computable_checkers"] == []


def test_wrong_computable_found_wrong_only_when_readable(dets):
    # the checker applies, but an empty answer or one with no number is not found wrong
    assert score(dets, "What is 12 * 7?", "")["wrong_computable"] is False
    assert score(dets, "What is 12 * 7?", "Multiplication is repeated addition.")["wrong_computable"] is False


def test_wrong_computable_counts_apply_to_right_and_wrong_answers(dets):
    """A count question is applicable whatever the answer: the right count is False (not None),
    so the rate is not inflated by dropping the right answers."""
    inst, inp = "How many words are in this sentence?", "The cat sat on the mat."
    right, wrong = score(dets, inst, "6", inp), score(dets, inst, "8", inp)
    assert right["computable_checkers"] == wrong["computable_checkers"] == ["count_check"]
    assert right["wrong_computable"] is False and wrong["wrong_computable"] is True
    vc = score(dets, "Count the vowels and consonants in the word.", "There are 2 vowels and 3 consonants.", "hello")
    assert vc["computable_checkers"] == ["count_check"] and vc["wrong_computable"] is False


@pytest.mark.parametrize("inst, inp, right, wrong", [
    ("Sort the following numbers in ascending order.", "5, 2, 9, 1", "1, 2, 5, 9", "9, 5, 2, 1"),
    ("Reverse this array: [1, 2, 3, 4, 5]", "[1, 2, 3, 4, 5]", "[5, 4, 3, 2, 1]", "[5, 4, 3, 1, 2]"),
    ("Given a string, reverse it and print it out.", "hello", "olleh", "ohlle"),
    ("Alphabetize the following words.", "pear, apple, fig", "apple, fig, pear", "fig, apple, pear"),
])
def test_wrong_computable_orderings(dets, inst, inp, right, wrong):
    r, w = score(dets, inst, right, inp), score(dets, inst, wrong, inp)
    assert r["computable_checkers"] == ["order_check"], r
    assert r["wrong_computable"] is False and w["wrong_computable"] is True


@pytest.mark.parametrize("inst, right, wrong", [
    ("What is the prime factorization of 96?", "2 x 2 x 2 x 2 x 2 x 3", "2 x 2 x 2 x 2 x 3"),
    ("Convert 0.25 to a fraction.", "1/4", "1/3"),
    ("Is 17 a prime number?", "Yes, 17 is prime.", "No, 17 is not prime."),
])
def test_wrong_computable_other_families(dets, inst, right, wrong):
    r, w = score(dets, inst, right), score(dets, inst, wrong)
    assert r["computable_checkers"], inst
    assert r["wrong_computable"] is False and w["wrong_computable"] is True


# ----------------------------------------------------------------------------- hallucinated_unseen

def test_hallucinated_unseen_url(dets):
    invented = score(dets, URL_TASK, INVENTED)
    assert invented["hallucinated_unseen"] is True and "unseeable_content" in invented["checks"]
    honest = score(dets, URL_TASK, "I'm sorry, but I cannot access the link, so I can't summarize the article.")
    assert honest["hallucinated_unseen"] is False
    empty = score(dets, URL_TASK, "")
    assert empty["hallucinated_unseen"] is False and empty["empty_or_na"] is True
    # a task about the link text, not the page: not applicable
    assert score(dets, "Identify the domain name of this URL", "example.com",
                 "https://example.com/news/123")["hallucinated_unseen"] is None
    assert score(dets, "Name a fruit.", INVENTED)["hallucinated_unseen"] is None


def test_hallucinated_unseen_attachment_and_missing_text(dets):
    assert score(dets, "Describe the photo.", "A man stands on a beach at sunset, holding a surfboard.",
                 "<Photo>")["hallucinated_unseen"] is True
    assert score(dets, "Describe the photo.", "I am unable to see the photo; no image was provided.",
                 "<Photo>")["hallucinated_unseen"] is False
    inst = "Summarize the following article."
    made_up = score(dets, inst, "The article describes how renewable energy adoption accelerated in Germany.")
    assert made_up["hallucinated_unseen"] is True and "hallucinated_reference" in made_up["checks"]
    asks = score(dets, inst, "Please provide the article you would like me to summarize.")
    assert asks["hallucinated_unseen"] is False


# ----------------------------------------------------------------------------- non_text_placeholder

def test_non_text_placeholder(dets):
    inst = "Design a logo for a coffee shop."
    assert score(dets, inst, "[image]")["non_text_placeholder"] is True
    assert score(dets, inst, "I have designed a logo.")["non_text_placeholder"] is True
    text = ("A round brown logo with a steaming cup in the middle, the shop's name in white serif letters "
            "around the rim, and a few coffee beans below.")
    row = score(dets, inst, text)
    assert row["non_text_placeholder"] is False and "non_text_substitute" in row["checks"]
    assert score(dets, "Name a fruit.", "[image]")["non_text_placeholder"] is None
    assert score(dets, "Generate a caption for a photo of a dog.", "[image]")["non_text_placeholder"] is None


# ----------------------------------------------------------------------------- truncated

CUT = ("Photosynthesis is the process by which plants use sunlight, water and carbon dioxide to make "
       "glucose and release oxygen and")


def test_truncated_and_the_token_budget(dets):
    inst = "Explain how photosynthesis works."
    assert score(dets, inst, CUT)["truncated"] is True
    assert score(dets, inst, CUT + " water.")["truncated"] is False
    budget = score(dets, inst, CUT, hit_max_new_tokens=True)
    assert budget["truncated"] is None and budget["hit_max_new_tokens"] is True
    assert "truncated_output" in budget["checks"]  # still listed: the detector did fire
    stopped = score(dets, inst, CUT, hit_max_new_tokens=False)
    assert stopped["truncated"] is True and stopped["hit_max_new_tokens"] is False
    # a numpy boolean (a Parquet / pandas column) counts the same
    np_true = score(dets, inst, CUT, hit_max_new_tokens=np.bool_(True))
    assert np_true["truncated"] is None and np_true["hit_max_new_tokens"] is True


# ----------------------------------------------------------------------------- batch behaviour

def test_many_records_keep_order_and_kind_is_not_used(dets):
    recs = [{"id": "a", "instruction": "What is 12 * 7?", "input": "", "output": "86", "kind": "computable"},
            {"id": "b", "instruction": URL_TASK, "input": "", "output": INVENTED, "kind": "url"},
            {"id": "c", "instruction": "Name a fruit.", "input": "", "output": "", "kind": None},
            {"id": "d", "instruction": "What is 12 * 7?", "input": "", "output": "86", "kind": "visual"}]
    rows = bh.score_generations(recs, dets)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["wrong_computable"] is True and rows[1]["hallucinated_unseen"] is True
    assert rows[2]["empty_or_na"] is True
    strip = lambda r: {k: v for k, v in r.items() if k not in ("id", "kind")}  # noqa: E731
    assert strip(rows[0]) == strip(rows[3])
    # scored one at a time: the same flags (no state carried between records)
    assert [strip(bh.score_generations([r], dets)[0]) for r in recs] == [strip(r) for r in rows]
    # the default detectors give the same result
    assert strip(bh.score_generations(recs[:1])[0]) == strip(rows[0])


def test_computable_checkers_direct(dets):
    assert bh.computable_checkers({"id": "1", "instruction": "What is 12 * 7?", "input": "", "output": ""},
                                  dets) == ["math_check"]
    assert bh.computable_checkers({"id": "1", "instruction": "Write a poem.", "input": "", "output": ""}, dets) == []

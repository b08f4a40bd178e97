"""Each detector on real records of the Alpaca data, asserting the reason it gives, and on real
records it must leave alone."""

import pyarrow.compute as pc
import pytest

from curate.detectors import rules as D
from curate.core.errors import CurateError
from curate.core.schema import make_record, records_table
from tests.conftest import find


def _rec(real_data, instruction, input=None):
    return find(real_data, lambda r: r["instruction"] == instruction and (input is None or r["input"] == input))


def test_placeholder_inputs_normalise_to_empty(real_data):
    for raw in ["<no input>", "No input", "Noinput", "No input required.", "`<noinput>`", "N/A", "<none>"]:
        rec = find(real_data, lambda r, raw=raw: r["input"].strip() == raw)
        f = D.PlaceholderInput().check(rec)
        assert f is not None, raw
        assert (f.field, f.value) == ("input", "")
        assert f.reason == f"input is a placeholder {rec['input'].strip()!r}; means no input"
    # a real, short input is not a placeholder
    assert D.PlaceholderInput().check(find(real_data, lambda r: r["input"] == "New York City")) is None


def test_empty_and_placeholder_outputs(real_data):
    empty = find(real_data, lambda r: r["output"] == "" and r["instruction"].strip())
    assert D.EmptyOutput().check(empty).reason == "output is empty"
    nooutput = find(real_data, lambda r: r["output"] == "<nooutput>")
    assert D.EmptyOutput().check(nooutput).reason == "output is a placeholder '<nooutput>'"
    # short real answers are not empty
    for out in ["Negative", "0", "Yes", "None"]:
        assert D.EmptyOutput().check({"instruction": "q", "input": "", "output": out}) is None


def test_merged_instruction_is_cut_before_the_marker(real_data):
    rec = find(real_data, lambda r: "\n///\n14. Instruction: Calculate the mean" in r["output"])
    f = D.MergedInstruction().check(rec)
    assert f.reason.startswith("output contains a merged instruction at character ")
    assert "'14. Instruction: Calculate the mean" in f.reason
    assert f.field == "output"
    assert f.value.endswith("the curse was finally broken.")  # the '///' separator goes too
    assert "Instruction" not in f.value
    # an output that merely mentions the word is left alone
    assert D.MergedInstruction().check({"instruction": "x", "input": "", "output": "Follow the instruction: add 2."}) is None


def test_url_whose_page_the_answer_pretends_to_have_read(real_data):
    rec = _rec(real_data, "Summarize the article on the link")
    f = D.UnseeableContent().check(rec)
    assert f.reason.startswith("input points at a URL 'https://www.nytimes.com/2019/07/14/")
    assert f.reason.endswith("describes it as if seen")


def test_attached_photo_and_following_painting_with_no_input(real_data):
    rec = _rec(real_data, "Describe what you see in this photo.", "<Photo Attached>")
    assert "refers to an attachment '<Photo Attached>'" in D.UnseeableContent().check(rec).reason
    rec = _rec(real_data, "Analyze the following painting and describe its elements in three sentences.", "")
    assert D.UnseeableContent().check(rec).reason.startswith("instruction refers to 'following painting' but no input is given")


def test_unseeable_content_leaves_honest_or_textual_records_alone(real_data):
    # the painting is named in text: a text model can answer
    rec = _rec(real_data, "Classify the following painting into an art movement.")
    assert D.UnseeableContent().check(rec) is None
    # the answer admits it cannot see the link
    assert D.UnseeableContent().check({"instruction": "Summarize the article.", "input": "https://x.org/a",
                                       "output": "I cannot access external links."}) is None
    # a task about the URL string itself, not the page
    assert D.UnseeableContent().check({"instruction": "Extract the domain name from the URL.",
                                       "input": "https://www.example.com/page", "output": "example.com"}) is None


def test_non_text_requests(real_data):
    rec = _rec(real_data, "Design a logo for a new coffee shop.")
    assert D.NonTextRequest().check(rec).reason == "instruction asks for non-text output: 'Design a logo'"
    rec = _rec(real_data, "Generate a cartoon drawing of a cat.")
    assert D.NonTextRequest().check(rec).reason == "instruction asks for non-text output: 'Generate a cartoon drawing'"
    # lyrics, character sketches, "illustrate how" and descriptions of paintings are text
    for inst in ["Generate lyrics for a romantic love song", "Create a character sketch for an animator in a few sentences.",
                 "Illustrate how to make a chocolate sundae.", "Illustrate the given proverb with an example. Output the example directly.",
                 "Create a descriptive phrase for a painting featuring a forest in sunset"]:
        assert D.NonTextRequest().check(_rec(real_data, inst)) is None, inst


def test_cannot_fulfil_non_answers(real_data):
    rec = _rec(real_data, "Remainder the assistant to remind someone at 5pm.")
    assert D.CannotFulfil().check(rec).reason == "output is a non-answer: 'This instruction cannot be completed'"


def test_control_characters_are_removed(real_data):
    rec = find(real_data, lambda r: "\x0b" in r["output"])
    f = D.ControlChars().check(rec)
    assert f.reason == "control characters U+000B in output"
    assert f.value == rec["output"].replace("\x0b", "")


def _table(rows):
    return records_table([make_record(id=f"r{i}", source="t", source_index=i, **r) for i, r in enumerate(rows)])


def test_detect_applies_policy_and_chains_normalisation():
    rows = [{"instruction": "Describe the following photo.", "input": "<noinput>", "output": "A dog on a beach."},
            {"instruction": "Name a fruit.", "input": "", "output": "Apple."}]
    ann, m = D.detect(_table(rows), policy={"unseeable_content": "review"})
    got = [(a["id"], a["check_name"], a["action"]) for a in ann.to_pylist()]
    # the placeholder is normalised first, so the photo then has no input at all
    assert got == [("r0", "placeholder_input", "normalize"), ("r0", "unseeable_content", "review")]
    assert m["flagged_by_check"]["unseeable_content"] == 1 and m["records_flagged"] == 1


def test_detect_rejects_unknown_policy():
    with pytest.raises(CurateError, match="unknown action 'delete'"):
        D.detect(_table([]), policy={"empty_output": "delete"})
    with pytest.raises(CurateError, match="unknown detector 'typo'"):
        D.detect(_table([]), policy={"typo": "drop"})

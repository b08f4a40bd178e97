"""Hygiene detectors (curate/detectors/hygiene.py) on real records of the Alpaca data: placeholder
inputs, merged instructions, control characters; each asserting the reason it gives, and on real
records it must leave alone."""

from curate.detectors import hygiene as D
from tests.conftest import find, by_instruction as _inst


def test_placeholder_inputs_normalise_to_empty(real_data):
    for raw in ["<no input>", "No input", "Noinput", "No input required.", "`<noinput>`", "N/A", "<none>"]:
        rec = find(real_data, lambda r, raw=raw: r["input"].strip() == raw)
        f = D.PlaceholderInput().check(rec)
        assert f is not None, raw
        assert (f.field, f.value) == ("input", "")
        assert f.reason == f"input is a placeholder {rec['input'].strip()!r}; means no input"
    # a real, short input is not a placeholder
    assert D.PlaceholderInput().check(find(real_data, lambda r: r["input"] == "New York City")) is None


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


def test_control_characters_are_removed(real_data):
    rec = find(real_data, lambda r: "\x0b" in r["output"])
    f = D.ControlChars().check(rec)
    assert f.reason == "control characters U+000B in output"
    assert f.value == rec["output"].replace("\x0b", "")


def test_dev_set_false_positive_stays_fixed(real_data):
    """A false positive found on the labelled dev set: an output that *is* a task because the
    instruction asked for one (the empty_output half: tests/detectors/test_non_answers.py)."""
    rec = _inst(real_data, "Create a task that a GPT model can complete with a given input and output.")
    assert D.MergedInstruction().check(rec) is None

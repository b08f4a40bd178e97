"""missing_input (curate/detectors/missing_input.py), the detector added as one new file: real Alpaca
records whose instruction refers to "the following X" that is not there, and real near-misses
whose instruction carries the content itself. Opt-in: a detect.policy line switches it on."""

from curate.core.schema import make_record, records_table
from curate.detectors import registry
from curate.detectors.missing_input import MissingInput
from curate.detectors.runner import build_detectors, detect
from curate.detectors.unseeable import UnseeableContent
from tests.conftest import by_instruction as _inst


def test_references_to_content_that_is_not_there(real_data):
    det = MissingInput()
    rec = _inst(real_data, "Provide the programming language for the following code snippet.")
    assert det.check(rec).reason == ("instruction refers to 'the following code snippet' but no input is given and "
                                     "the instruction does not contain it; output 'Python'")
    rec = _inst(real_data, "Given the following sentence, explain the concept of microaggression.")  # input 'no input'
    f = det.check(rec)
    assert f.reason.startswith("instruction refers to 'the following sentence' but the input is a placeholder "
                               "'no input' and")
    assert (f.score, f.field, f.value) == (0.9, None, None)
    for inst in ["Create the HTML code necessary to display the following text.",
                 "Summarize a given article in 50 words or less.",
                 "Add three correct suffixes for the following words.",
                 "Create a program that prints the following pattern:"]:  # a colon with nothing after it
        assert det.check(_inst(real_data, inst)) is not None, inst
    assert det.check(_inst(real_data, "Reverse engineer this program to understand how it works.")).score == 0.8


def test_content_in_the_instruction_or_a_general_task_is_left_alone(real_data):
    det = MissingInput()
    near_misses = [
        "Is the following sentence true or false? Humans can breathe underwater.",     # content after '?'
        "Tell me the result of this equation 14 + 35",                                 # right after the noun
        "Change this sentence from active to passive voice - Jack bought a new car.",  # after a dash
        "Answer the following question. What are the 5 basic freedoms outlined in the First Amendment of the US "
        "Constitution?",
        "Create a function to remove all the punctuation from a given sentence.",      # a general input
        "Analyze the following painting and describe its elements in three sentences.",  # media: unseeable_content's
    ]
    for inst in near_misses:
        assert det.check(_inst(real_data, inst)) is None, inst
    painting = _inst(real_data, "Analyze the following painting and describe its elements in three sentences.")
    assert UnseeableContent().check(painting) is not None
    # an input, a colon with content, quotes, the answer's own "this poem"
    for rec in [{"instruction": "Rewrite the following sentence.", "input": "He go home.", "output": "He goes home."},
                {"instruction": "Rewrite the following sentence: he go home.", "input": "", "output": "He goes home."},
                {"instruction": 'Rewrite the following sentence "he go home".', "input": "", "output": "He goes home."},
                {"instruction": "Write a poem about rain. This poem should rhyme.", "input": "", "output": "Rain..."}]:
        assert det.check(rec) is None, rec["instruction"]


def test_opt_in_through_a_policy_line_and_default_output_unchanged():
    spec = registry.get("missing_input")
    assert spec.opt_in and spec.category == "unclear_instruction" and spec.cls is MissingInput
    assert "missing_input" not in [d.name for d in build_detectors({})]
    on = build_detectors({"policy": {"missing_input": "review"}})
    assert [d.name for d in on][-1] == "missing_input"
    t = records_table([make_record(id="r0", instruction="Summarize the following article.", input="<noinput>",
                                   output="It is about cats.", source="t", source_index=0)])
    policy = {"placeholder_input": "normalize", "missing_input": "review"}
    ann, _ = detect(t, policy, on)
    got = [(a["check_name"], a["action"], a["category"]) for a in ann.to_pylist()]
    assert got == [("placeholder_input", "normalize", "placeholder_input"),
                   ("missing_input", "review", "unclear_instruction")]
    # without the policy line the default run never sees it
    ann, _ = detect(t, {"placeholder_input": "normalize"})
    assert [a["check_name"] for a in ann.to_pylist()] == ["placeholder_input"]

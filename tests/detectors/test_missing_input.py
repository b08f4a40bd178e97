"""missing_input (curate/detectors/missing_input.py), the detector added as one new file: real Alpaca
records whose instruction refers to "the following X" that is not there, and real near-misses
whose instruction carries the content itself; hallucinated_reference, its split for outputs that act as if
they had seen the missing content. Both run by default."""

from curate.core.schema import make_record, records_table
from curate.detectors import registry
from curate.detectors.missing_input import HallucinatedReference, MissingInput
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


def test_formatting_references_without_markup(real_data):
    det = MissingInput()
    rec = _inst(real_data, "Seek appropriate replacements for the italicized words.")  # input is a plain sentence
    assert det.check(rec).reason.startswith("instruction refers to 'the italicized words' but the record has no "
                                            "formatting to show it")
    # markup present, or the input is the one word meant: not dangling
    for rec in [{"instruction": "Replace the bolded words with synonyms.", "input": "The town was **teeming**.", "output": "x"},
                {"instruction": "Identify the part of speech of the underlined word.", "input": "hard", "output": "Adverb"},
                {"instruction": "Replace the underlined phrase.\n\nHe was _bereft_ of it.", "input": "", "output": "x"}]:
        assert det.check(rec) is None, rec


def test_hallucinated_reference_splits_pretending_from_asking():
    pretend = {"instruction": "Summarize a given article in 50 words or less.", "input": "",
               "output": "This article discusses the effects of racism and the importance of taking action."}
    asks = dict(pretend, output="Please provide the article you would like me to summarize.")
    missing = dict(pretend, output="No article was provided, so there is nothing to summarize.")
    h, m = HallucinatedReference(), MissingInput()
    assert h.check(pretend).reason == ("instruction refers to 'a given article' but no input is given; the output "
                                       "acts as if it had seen it: 'This article discusses the effects of racism and "
                                       "the import…'")
    assert h.check(asks) is None and h.check(missing) is None
    assert all(m.check(r) is not None for r in (pretend, asks, missing))  # all three dangle
    assert h.check(dict(pretend, output="")) is None  # empty output: empty_output's case


def test_on_by_default_with_the_shipped_policy():
    from curate.core.config import load_params
    from tests.conftest import ROOT

    spec = registry.get("missing_input")
    assert not spec.opt_in and spec.category == "unclear_instruction" and spec.cls is MissingInput
    assert registry.get("hallucinated_reference").category == "hallucination"
    names = [d.name for d in build_detectors({})]
    assert "missing_input" in names and "hallucinated_reference" in names
    t = records_table([make_record(id="r0", instruction="Summarize the following article.", input="<noinput>",
                                   output="It is about cats.", source="t", source_index=0)])
    policy = load_params(ROOT / "params.yaml")["detect"]["policy"]
    ann, _ = detect(t, policy)
    got = [(a["check_name"], a["category"]) for a in ann.to_pylist()]
    assert got == [("placeholder_input", "placeholder_input"), ("missing_input", "unclear_instruction"),
                   ("hallucinated_reference", "hallucination")]

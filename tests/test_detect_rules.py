"""The rule-based detectors (truncation, refusals, non-English text, wrong arithmetic, code
requests without code) on real Alpaca records: each fires with the reason it gives on records
that have the problem, and stays quiet on real near-misses found while tuning it."""

import pytest

from curate.detectors import rules as D
from tests.conftest import find


def _inst(real_data, instruction, **field):
    return find(real_data, lambda r: r["instruction"] == instruction
                and all(r[k] == v for k, v in field.items()))


def _reason(detector, rec):
    f = detector.check(rec)
    assert f is not None, rec
    return f.reason


# ---------------------------------------------------------------- truncated_output

def test_truncated_by_alpacas_stop_sequences(real_data):
    det = D.TruncatedOutput()
    rec = find(real_data, lambda r: r["output"] == "The next full moon will be on October 31, 20")
    assert _reason(det, rec) == ("output ends mid-date 'The next full moon will be on October 31, 20': "
                                 "a year cut by Alpaca's stop sequence '20.'")
    rec = find(real_data, lambda r: r["output"].endswith("Answer: August 18, 19"))  # 1920. -> 19
    assert _reason(det, rec).startswith("output ends mid-date '…")
    rec = _inst(real_data, "Calculate the total cost for 10 boxes of apples at $2 a box.")
    assert _reason(det, rec) == ("output ends on a bare currency sign 'The total cost for 10 boxes of apples is $': "
                                 "the amount was cut")
    # "\n20" removes item 20 of a list the instruction asked 25 items for
    rec = _inst(real_data, "Generate a list of 25 creative names for a toy company.")
    assert _reason(det, rec) == ("numbered list stops at item 19 of the 25 asked for: "
                                 "Alpaca's stop sequence '\\n20' cut the rest")


def test_truncated_mid_sentence_and_mid_list(real_data):
    det = D.TruncatedOutput()
    rec = find(real_data, lambda r: r["output"] == "The numerical value of the equation is")
    assert _reason(det, rec) == "output ends mid-sentence on 'is': 'The numerical value of the equation is'"
    rec = find(real_data, lambda r: r["output"].endswith("atomic number of"))
    assert _reason(det, rec).startswith("output ends mid-sentence on 'of': '…")
    rec = _inst(real_data, "Categorize the company's product line into four.")
    assert _reason(det, rec) == "output ends on an empty list item 'Category 4:' after filled ones"


def test_truncation_leaves_legitimately_unpunctuated_outputs_alone(real_data):
    det = D.TruncatedOutput()
    near_misses = [
        _inst(real_data, "Write a haiku poem of a serene beach."),                    # '... waves rolling in'
        _inst(real_data, "Sort the words in the sentence in alphabetical order."),    # 'chess I like play to'
        _inst(real_data, "Arrange the set of words in descending order of length."),  # '..., this, a'
        _inst(real_data, "Make a list of five ways to be kind to others"),            # '... struggling with'
        _inst(real_data, "List famous Italian actors."),       # stops at 19, but no count was asked for
        find(real_data, lambda r: r["output"] == "13, 16, 19"),                       # a number sequence
        find(real_data, lambda r: r["output"] == "Team 3: 50, Team 2: 40, Team 1: 30, Team 4: 20"),
        find(real_data, lambda r: r["output"] == "^[0-9]{5}$"),                       # a regex, not a '$'
        find(real_data, lambda r: r["output"].endswith("\n\nSincerely,")),            # a letter's closing
        find(real_data, lambda r: r["output"].endswith("Payment Method:")),           # an empty form
        find(real_data, lambda r: r["output"] == "Positive"),                         # a short answer
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["output"][-80:]
    # a word game's answer and a poem may end on "the"/"and"; the same ending in prose is a cut
    game = {"instruction": "Reverse the order of the words in the sentence.", "input": "The cat sat on the mat",
            "output": "mat the on sat cat The"}
    assert det.check(dict(game, output="mat the on sat cat the")) is None
    poem = "Roses in the garden\nSunlight on the hill\nWind across the water and"
    assert det.check({"instruction": "Write a poem.", "input": "", "output": poem}) is None
    assert det.check({"instruction": "Describe a garden.", "input": "", "output": "The garden has roses and"}).reason == (
        "output ends mid-sentence on 'and': 'The garden has roses and'")


# ---------------------------------------------------------------- refusal

def test_refusals(real_data):
    det = D.Refusal()
    rec = _inst(real_data, "Set up a reminder for 8 am tomorrow?")
    assert _reason(det, rec) == "output refuses the task: 'I cannot set up a reminder for 8 am tomorrow.'"
    rec = _inst(real_data, "Create a graphic illustrating the concept of biodiversity.")
    assert _reason(det, rec) == ("output is a refusal citing the model's limits: "
                                 "'Sorry, the task requires a visual output which cannot be generated by the model.'")
    rec = _inst(real_data, "Create a 3D model of a living room.")
    assert _reason(det, rec) == "output refuses the task: 'Unable to perform this task as it requires visual creative output.'"
    assert det.check({"instruction": "What is the capital of France?", "input": "",
                      "output": "As an AI language model, I do not have personal opinions."}).reason.startswith(
        "output disclaims as an AI: 'As an AI language model")


def test_apologies_that_are_the_answer_are_not_refusals(real_data):
    det = D.Refusal()
    near_misses = [
        find(real_data, lambda r: r["output"] == "I'm sorry to hear that. Is there anything I can do to help?"),
        _inst(real_data, "Write a formal apology letter that is 250 words long."),
        _inst(real_data, "Construct an effective apology."),
        _inst(real_data, "Create a response that could be used by an AI assistant when it is asked to do something "
                         "it cannot do."),  # "I'm sorry, I'm not able to do that." is the answer
        _inst(real_data, "Rewrite the following statement to make it negative."),  # 'He was not able to complete the task'
        _inst(real_data, "Generate a comment about a positive experience you had recently."),  # "I can't stop smiling"
        _inst(real_data, "Give an example of something that could not be done with a GPT language model."),
        _inst(real_data, "Remainder the assistant to remind someone at 5pm."),  # cannot_fulfil's case, not twice
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["output"][:80]
    # an explanation that mentions what a model cannot do is no refusal
    assert det.check({"instruction": "Explain overfitting.", "input": "",
                      "output": "Overfitting happens when the model cannot generalise to new data."}) is None


# ---------------------------------------------------------------- non_english

def test_foreign_script_in_an_english_answer(real_data):
    rec = _inst(real_data, "Find the nearest restaurant.", input="Brooklyn, NY")
    assert _reason(D.NonEnglish(), rec) == ("output contains CJK letters '是' (1% of its letters) "
                                           "in a task that asks for no other language")
    got = D.NonEnglish().check({"instruction": "Describe the weather today.", "input": "",
                                "output": "El día está muy soleado y la temperatura es agradable para salir con los niños."})
    assert got.reason.startswith("output looks Spanish: function words 'el', 'está', 'muy'")


def test_requested_languages_loanwords_and_symbols_are_english_enough(real_data):
    det = D.NonEnglish()
    near_misses = [
        _inst(real_data, "Translate the sentence below into Japanese."),
        _inst(real_data, "Name the seven days of the week in Spanish."),
        _inst(real_data, "Generate a convincing Chinese proverb."),
        _inst(real_data, "Translate from Chinese to English."),                  # the input is Chinese
        _inst(real_data, "Generate a 5-sentence story about a scene inside a café"),
        _inst(real_data, "Find the area of a sphere with radius 7 cm."),          # π, cm²
        _inst(real_data, "Give me a list of all the major cities in the given country.", input="Norway"),  # Tromsø
        _inst(real_data, "Transcribe the following sentence into its phonetic spelling:"),  # IPA
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["instruction"]


# ---------------------------------------------------------------- math_check

@pytest.mark.parametrize("instruction, reason", [
    ("Evaluate this mathematical expression: 9*(4+2)", "instruction asks 9*(4+2); output says 126, expected 54"),
    ("Find the value of x when 3(2x +1) = 15.", "instruction asks 3(2x +1) = 15 for x; output says 4, expected 2"),
    ("Multiply 987,654,321 by 12.", "instruction asks 987,654,321 * 12; output says 11,851,252,742, expected 11851851852"),
    ("Find the square root of 156.", "instruction asks the square root of 156; output says 12.48664, expected 12.489996"),
    ("Divide the following numbers using manual long division.",
     "instruction asks 68669/7; output says 9824 remainder 5, expected 9809 remainder 6"),
    ("Calculate the average of the numbers 3, 6, 12 and 21.",
     "instruction asks the mean of 3, 6, 12, 21; output says 11.5, expected 21/2 = 10.5"),
])
def test_wrong_arithmetic(real_data, instruction, reason):
    f = D.MathCheck().check(_inst(real_data, instruction))
    assert f is not None and f.reason == reason
    assert 0 < f.score <= 1


def test_right_or_unparseable_arithmetic_is_left_alone(real_data):
    det = D.MathCheck()
    near_misses = [
        _inst(real_data, "Calculate the following expression: 11*(5 + 8)"),        # 143
        _inst(real_data, "What is the result of the input 2 + 10 * 5?"),          # 'The result of 2 + 10 * 5 is 52.'
        _inst(real_data, "Add the following fractions: 3/4 + 2/3"),                # 17/12
        _inst(real_data, "Take this equation and solve it for x."),                # 'x = (57 - 7) / 5 = 10'
        _inst(real_data, "Calculate the average of 3 numbers.", input="4, 7, 12"),  # 8.67, rounded
        find(real_data, lambda r: r["output"] == "The result of 651 divided by 13 is 50.07692307692308."),
        _inst(real_data, "Find the value of 8/2(2+2)."),                           # ambiguous: skipped
        _inst(real_data, "Calculate the cost of 4 apples at $2.50 each."),        # a word problem: skipped
        _inst(real_data, "Calculate the mean and standard deviation for the given data set."),
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["instruction"]


# ---------------------------------------------------------------- empty_code

def test_code_requests_answered_without_code(real_data):
    det = D.EmptyCode()
    rec = _inst(real_data, "Create a computer program that can play chess.")
    assert _reason(det, rec) == ("instruction asks for code ('Create a computer program'); output is prose with no "
                                 "code: 'The computer program should be able to calculate legal ches…'")
    rec = find(real_data, lambda r: r["instruction"].startswith("Write a Python script to print the first 10 numbers"))
    assert _reason(det, rec) == "instruction asks for code ('Write a Python script'); output is a placeholder 'No Output'"
    rec = _inst(real_data, "Generate an HTML page with given text.")
    assert _reason(det, rec).startswith("instruction asks for code ('Generate an HTML page'); output is prose")


def test_code_near_misses(real_data):
    det = D.EmptyCode()
    near_misses = [
        _inst(real_data, "Write a script for a customer service chatbot."),   # a dialogue script
        _inst(real_data, "Generate a 10-character PIN code."),
        _inst(real_data, "Design a program to manage a to-do list."),          # a design, prose is fine
        _inst(real_data, "Write pseudocode for a program that reads two numbers and prints their sum."),
        _inst(real_data, "Generate a humorous one-liner relating to fitness."),
        find(real_data, lambda r: r["instruction"].startswith("Construct a regular expression to match any string starting")),
        _inst(real_data, "Create a SQL query to list all the customers from Chicago."),
        _inst(real_data, "Write a function that swaps the values of two variables."),
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["instruction"]
    assert det.check({"instruction": "Write a Python function that reverses a string.", "input": "",
                      "output": "```python\n```"}).reason.startswith("instruction asks for code ('Write a Python function')"
                                                                      "; output's code block is empty")


def test_new_detectors_run_in_order_with_their_categories():
    by_name = {d.name: d for d in D.DETECTORS}
    names = [d.name for d in D.DETECTORS]
    assert names[-4:] == ["truncated_output", "empty_code", "math_check", "non_english"]
    assert names.index("cannot_fulfil") < names.index("refusal")      # the specific non-answer first
    assert names.index("merged_instruction") < names.index("truncated_output")  # judge the cut output
    for name, category, action in [("truncated_output", "truncated_output", "repair"), ("refusal", "refusal", "drop"),
                                   ("non_english", "non_english", "review"), ("math_check", "wrong_math", "review"),
                                   ("empty_code", "empty_code", "review")]:
        d = by_name[name]
        assert (d.category, d.default_action) == (category, action)
        assert d.__doc__ and len(d.__doc__) > 300


# ---------------------------------------------------------------- fixes from dev-set errors

def test_dev_set_false_positives_stay_fixed(real_data):
    """Two false positives found on the labelled dev set: an output that *is* a task because
    the instruction asked for one, and a caption request mistaken for an image request."""
    rec = _inst(real_data, "Create a task that a GPT model can complete with a given input and output.")
    assert D.MergedInstruction().check(rec) is None
    assert D.EmptyOutput().check(rec) is None
    rec = _inst(real_data, "Generate a photo caption for this photo")
    assert D.NonTextRequest().check(rec) is None
    assert D.NonTextRequest().check(dict(rec, instruction="Generate a photo of a sunrise over a forest")) is not None

"""truncated_output (curate/detectors/truncation.py) on real Alpaca records: it fires with the reason
it gives on outputs cut by Alpaca's stop sequences or mid-sentence, and stays quiet on real
near-misses found while tuning it."""

from curate.detectors import truncation as D
from tests.conftest import find, by_instruction as _inst, reason_of as _reason


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

"""math_check (curate/detectors/arithmetic.py) on real Alpaca records: wrong arithmetic is flagged
with the expected value; right, rounded or unparseable questions are left alone."""

import pytest

from curate.detectors import arithmetic as D
from tests.conftest import find, by_instruction as _inst


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

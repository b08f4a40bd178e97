"""empty_code (curate/detectors/code_requests.py) on real Alpaca records: code requests answered
with prose, a placeholder or an empty block; real near-misses are left alone."""

from curate.detectors import code_requests as D
from tests.conftest import find, by_instruction as _inst, reason_of as _reason


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

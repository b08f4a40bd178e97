"""Exact duplicates (curate.dedupe.exact): equal after whitespace/case normalisation, first kept."""

from curate.core.text import normalize_text
from curate.dedupe.exact import exact_duplicates
from curate.dedupe.pipeline import dedupe
from tests.conftest import find
from tests.dedupe.helpers import records, table

FIELDS = {"fields": ["instruction", "input"]}


def test_exact_duplicates_after_whitespace_and_case_normalisation(real_data):
    r = find(real_data, lambda r: r["input"] == "" and len(r["instruction"]) > 40)
    rows = [r, dict(r, instruction="  " + r["instruction"].upper().replace(" ", "\n ") + " "), dict(r, input="x")]
    ann, m = dedupe(table(rows), {"rouge": {"enabled": False}, "embedding": {"enabled": False}})
    (a,) = ann.to_pylist()
    assert (a["id"], a["check_name"], a["matched_id"], a["action"]) == ("r1", "exact", "r0", "drop")
    assert a["reason"] == "exact duplicate of r0 on instruction+input after whitespace/case normalisation"
    assert normalize_text(" A\n\tB ") == "a b"
    assert m["kept"] + m["dropped"] == 3


def test_every_later_copy_names_the_first_and_positions_are_returned():
    rows = [{"instruction": "Name a colour.", "input": "", "output": "Blue"},
            {"instruction": "Add 2 and 2.", "input": "", "output": "4"},
            {"instruction": "name a  colour.", "input": "", "output": "Red"},
            {"instruction": "NAME A COLOUR.", "input": "", "output": "Green"}]
    found = exact_duplicates(records(rows), FIELDS)
    assert found.dropped == {2, 3} and found.metrics == {}
    assert [(a["id"], a["matched_id"], a["score"]) for a in found.annotations] == [("r2", "r0", 1.0), ("r3", "r0", 1.0)]
    # comparing the output too makes them distinct
    assert exact_duplicates(records(rows), {"fields": ["instruction", "output"]}).dropped == set()


def test_no_records():
    found = exact_duplicates([], FIELDS)
    assert (found.annotations, found.dropped) == ([], set())

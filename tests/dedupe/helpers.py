"""Shared builders for the dedupe tests."""

from curate.core.schema import make_record, records_table


def table(rows):
    """Records table of ``rows`` (dicts with instruction, input, output) with ids ``r0``, ``r1`` ..."""
    return records_table([make_record(id=f"r{i}", source="t", source_index=i, **r) for i, r in enumerate(rows)])


def records(rows):
    """``rows`` as the dicts a dedupe method takes (``id`` ``r0``, ``r1`` ... and the text fields)."""
    return [{"id": f"r{i}", "instruction": r["instruction"], "input": r["input"], "output": r["output"]}
            for i, r in enumerate(rows)]

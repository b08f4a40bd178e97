"""Alpaca's completion parser and instruction filters, on completions built from real records."""

import re

import pytest

from curate.generation.parse import (ALPACA_STOP_SEQUENCES, STOP_SEQUENCES, apply_stop,
                                     check_instruction, parse_response, stop_sequences)
from tests.conftest import find
from tests.fixtures.generation.fake_openai import format_tasks


@pytest.fixture(scope="module")
def clean_real(sample_records):
    """Real records that pass Alpaca's filters and contain nothing that looks like a header."""
    bad = re.compile(r"###|\d+\.\s+(Instruction|Input|Output):")
    out = [r for r in sample_records
           if check_instruction(r["instruction"]) is None
           and r["instruction"] == r["instruction"].strip() and "\n" not in r["instruction"]
           and r["input"].strip() == r["input"] and r["output"].strip() == r["output"]
           and r["input"].lower() != "<noinput>"
           and not any(bad.search(r[f]) for f in ("instruction", "input", "output"))]
    assert len(out) >= 20
    return out


def fields(items):
    return [{k: a[k] for k in ("instruction", "input", "output")} for a in items]


def test_real_records_round_trip(clean_real):
    recs = clean_real[:16]
    text = format_tasks(recs) + "###\n20. Instruction: cut here"
    text = apply_stop(text, STOP_SEQUENCES)
    accepted, rejected = parse_response(text, "stop")
    assert fields(accepted) == fields(recs)
    assert [a["position"] for a in accepted] == list(range(4, 20))
    assert rejected == []


def test_alpaca_stop_leaves_an_empty_chunk(clean_real):
    text = format_tasks(clean_real[:3]) + "###\n20. Instruction: x"
    text = apply_stop(text, ["\n20. Instruction:"])  # ends with "###"
    accepted, rejected = parse_response(text, "stop")
    assert len(accepted) == 3
    assert [r["reason"] for r in rejected] == ["empty"]


def test_length_finish_drops_the_last_task(clean_real):
    text = format_tasks(clean_real[:5])
    text = text[: len(text) - 5]
    accepted, rejected = parse_response(text, "length")
    assert fields(accepted) == fields(clean_real[:4])
    assert [(r["reason"], r["position"]) for r in rejected] == [("truncated", 8)]
    # the same text with finish_reason stop keeps all 5 (Alpaca only drops on "length")
    assert len(parse_response(text, "stop")[0]) == 5


def test_malformed_chunks(clean_real):
    recs = clean_real[:4]
    text = format_tasks(recs)
    no_output = text.replace("5. Output:\n", "", 1)
    acc, rej = parse_response(no_output, "stop")
    assert [a["position"] for a in acc] == [4, 6, 7]
    assert [(r["reason"], r["position"]) for r in rej] == [("malformed", 5)]
    wrong_number = text.replace("6. Input:", "9. Input:", 1)
    acc, rej = parse_response(wrong_number, "stop")
    assert [(r["reason"], r["position"]) for r in rej] == [("malformed", 6)]
    assert [a["position"] for a in acc] == [4, 5, 7]
    for garbage in ("", "I'm sorry, I can't help with that.", "### ### 4. Output: x"):
        acc, rej = parse_response(garbage, "stop")
        assert acc == [] and rej and {r["reason"] for r in rej} <= {"malformed", "empty"}


def test_noinput_becomes_empty(clean_real):
    r = find(clean_real, lambda r: r["input"] == "")
    acc, _ = parse_response(format_tasks([r]), "stop")
    assert acc[0]["input"] == "" and "<noinput>" in format_tasks([r])


@pytest.mark.parametrize("instruction,reason,detail", [
    ("Summarize it.", "too_short", "2 words"),
    ("Name three birds", "too_short", "3 words"),
    ("Describe " + "very " * 150 + "much.", "too_long", "152 words"),
    ("Describe the image of a cat in detail.", "blacklist", "image"),
    ("Explain the MAPS of the city briefly.", "blacklist", "maps"),
    ("Tell me how to go to the station.", "blacklist", "go to"),
    ("Write a program that prints the primes below 100.", "write_a_program", ""),
    ('"Translate this sentence into French please.', "starts_with_punctuation", '"'),
    ("¿Cómo se dice hello en inglés?", "non_ascii_start", "¿"),
    ("Éxplain the rules of chess briefly.", "non_ascii_start", "É"),
])
def test_filter_reasons(sample_records, instruction, reason, detail):
    r = dict(sample_records[0], instruction=instruction)
    acc, rej = parse_response(format_tasks([r]), "stop")
    assert acc == []
    assert [(x["reason"], x["detail"]) for x in rej] == [(reason, detail)]


@pytest.mark.parametrize("instruction", [
    "Describe the imagery in this poem in detail.",  # whole words only
    "Write a poem about a programmer.",
    "write a program that sorts numbers quickly",  # case-sensitive startswith, as Alpaca
    "Describe a mapping between two sets.",
])
def test_filters_keep(instruction):
    assert check_instruction(instruction) is None


def test_repeated_header_from_chat_models(clean_real):
    text = format_tasks(clean_real[:3])
    restated = "4. Instruction:" + text
    acc, rej = parse_response(restated, "stop")  # Alpaca's behaviour: task 4 lost as malformed
    assert fields(acc) == fields(clean_real[1:3])
    assert [(r["reason"], r["position"]) for r in rej] == [("malformed", 4)]
    acc, rej = parse_response(restated, "stop", repeated_header=True)
    assert fields(acc) == fields(clean_real[:3]) and rej == []
    # without a restated header the option changes nothing
    assert parse_response(text, "stop", repeated_header=True) == parse_response(text, "stop")


def test_stop_sequences_do_not_cut_dates_but_stop_at_task_20(real_data, clean_real):
    # the bundled real data holds an output that Alpaca's "20." stop cut
    cut = find(real_data, lambda r: r["output"].endswith("October 31, 20"))
    assert cut["instruction"] == "Find out the date of the next full moon."
    for full in ("The next full moon will be on October 31, 2023.",
                 "The next full moon will be on October 31, 2020.",
                 "Steps:\n1. Mix.\n20 minutes later, serve.\n2023 was a good year."):
        assert apply_stop(full, STOP_SEQUENCES) == full
    assert apply_stop("...on October 31, 2020.", ALPACA_STOP_SEQUENCES) == "...on October 31, 20"
    assert apply_stop("a\n20 minutes", ALPACA_STOP_SEQUENCES) == "a"
    body = format_tasks(clean_real[:16])
    for header in ("###\n20. Instruction: next", "\n20. Instruction: next", "###\n20.  Instruction:"):
        assert apply_stop(body + header, STOP_SEQUENCES).rstrip("#\n") == body.rstrip("\n")
    assert stop_sequences(10) == ["###\n10.", "\n10. Instruction:"]
    assert len(STOP_SEQUENCES) <= 4  # OpenAI's limit

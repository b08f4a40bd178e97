import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = FIXTURES / "alpaca_sample.json"  # 100 real Alpaca records, incl. known problems


@pytest.fixture(scope="session")
def sample_records():
    """The 100 real records of tests/fixtures/alpaca_sample.json as dicts."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def real_data():
    """All 27,740 bundled real Alpaca records."""
    return json.loads((ROOT / "data/alpaca/alpaca52k_real_subset.json").read_text(encoding="utf-8"))


def find(records, pred):
    """First real record satisfying ``pred`` (fail loudly if the data changed)."""
    for r in records:
        if pred(r):
            return r
    raise AssertionError("no record in the real data matches")


def by_instruction(records, instruction, **field):
    """First real record with this exact ``instruction`` (and these exact other fields)."""
    return find(records, lambda r: r["instruction"] == instruction and all(r[k] == v for k, v in field.items()))


def reason_of(detector, rec):
    """The reason of ``detector``'s finding on ``rec``; fails if it finds nothing."""
    f = detector.check(rec)
    assert f is not None, rec
    return f.reason


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny randomly initialised student (same architecture family and tokenizer as
    SmolLM2-135M), built once per test session for the training and evaluation tests."""
    from curate.models.student import tiny_random_student

    return tiny_random_student(tmp_path_factory.mktemp("tiny_student"), seed=0)

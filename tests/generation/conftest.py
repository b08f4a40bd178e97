"""What the generation tests share: real records the fake teacher answers with, and a project
root working directory with the test key in the environment (never a real key)."""

import pytest

from tests.conftest import ROOT
from tests.fixtures.generation.failing import KEY


@pytest.fixture(scope="module")
def real(real_data):
    """Real Alpaca records that pass Alpaca's filters (distinct enough to be accepted)."""
    from curate.generation.parse import check_instruction

    return [r for r in real_data[:3000] if check_instruction(r["instruction"]) is None
            and "###" not in r["instruction"] + r["input"] + r["output"]]


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CURATE_TEST_KEY", KEY)

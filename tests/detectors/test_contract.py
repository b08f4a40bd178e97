"""The detector contract: every registered detector, run over the same fixtures (real Alpaca
records and adversarial ones: empty and whitespace fields, 100,000-character text, many scripts,
weird numbers), returns a Finding with a non-empty reason and a score in its declared unit, or
None, and never raises. The rule detectors run for real; the model-based ones get small fakes:
a hash-seeded embedder, the tiny random student and a fake judge server."""

import hashlib
import json
import math

import numpy as np
import pytest

from curate.core.config import load_params
from curate.core.schema import make_record, records_table
from curate.detectors import registry
from curate.detectors.registry import SCORE_UNITS, Finding
from curate.detectors.runner import detect
from tests.conftest import ROOT, SAMPLE
from tests.detectors.test_llm_judge import FakeJudge

BIG = 100_000  # ingest's max_field_chars: longer fields never reach the detectors

# (instruction, input, output). Ingest quarantines NUL bytes and lone surrogates, so there are none.
ADVERSARIAL = [
    ("", "", ""),
    (" \t\n ", "\n\n", "   "),
    ("", "", "An answer to no question."),
    ("Summarize the text.", "", ("The cat sat on the mat. " * 5000)[:BIG]),
    ("Summarize the text.", ("Word " * 25000)[:BIG], ""),
    ("Repeat the letter.", "", "a" * BIG),
    # Runs of blank lines stay short here: truncated_output's and empty_code's `^\s*...` patterns
    # (MULTILINE) cost time quadratic in such a run (20,000 newlines: 4 s and 26 s), and
    # merged_instruction's trailing-junk pattern exponential in the blank lines before a non-junk
    # character ahead of the marker (22: 0.3 s, x2 per line). Real records have no such runs.
    ("Answer briefly.", "", "Yes.\n" + "\n" * 2000 + "1. Instruction: x"),
    ("Answer briefly.", "", "Yes." + "\n" * 12 + "z\n1. Instruction: x"),
    ("List items.", "", "\n".join(f"{i}. item" for i in range(1, 12000))[:BIG]),
    ("Rewrite the following sentence: " + "x " * 40000, "", "x"),
    ("Describe this: 你好世界 مرحبا שלום Привет 👋🏽", "e\u0301\u200d\u202e ١٢٣", "Ⅻ 𝑥 ß ı ½ 2² ＡＢＣ 🤔"),
    ("Translate to English.", "Ελληνικά κείμενα εδώ", "Greek text here."),
    ("Describe the weather.", "", "El día está muy soleado y la temperatura es agradable para salir con los niños."),
    ("What is 1e308 * 10?", "", "inf"),
    ("What is 5 / 0?", "", "undefined"),
    ("What is 0/0?", "", "NaN"),
    ("Calculate 99999999999999999999 * 99999999999999999999", "", "1"),
    ("What is 2^1000?", "", "1"),
    ("What is 2^2^2^2?", "", "65536"),
    ("Find the square root of -4.", "", "2i"),
    ("Solve for x: 0x = 5", "", "x = 5"),
    ("Solve for x: 2x + 3 = 2x + 3", "", "x = 1"),
    ("What is 3.14159265358979323846264338327950288419716939937510 * 2?", "", "6.28"),
    ("Add 1,000,000,000.5 and 0.5", "", "1,000,000,001"),
    ("What is １２ + ３?", "", "15"),
    ("What is ٣ + ٤?", "", "٧"),
    ("What is the factorial of 25?", "", "1"),
    ("Calculate 10 divided by 3.", "", "3.33333333333333333333333333333333333333333333333"),
    ("What is -0 + 0?", "", "-0"),
    ("What is 1,2,3 + 4?", "", "7"),
    ("What is 10 ** 10 ** 10?", "", "10"),
    ("Write a Python function that adds two numbers.", "", "```python\n" + "\n" * 5000 + "```"),
    ("Write a Python function that adds two numbers.", "", "It adds them."),
    ("Summarize the article at https://example.com/" + "x" * 1000, "", "The article says a lot."),
    ("Describe the attached photo.", "<Photo Attached>", "A dog."),
    ("Name a colour.", "", "\x01\x02\x7f\x9f\r\nRed\r"),
    ("Rate the answer.", "", "WRONG: it is 5."),
    ("Generate a list of 25 items.", "", "\n".join(f"{i}. item" for i in range(1, 20))),
    ("Fill in the form.", "<noinput>", "<nooutput>"),
    ("Explain.", "N/A", "As an AI language model, I cannot."),
    ("Give the date.", "", "It was October 31, 20"),
]


def _records():
    real = json.loads(SAMPLE.read_text(encoding="utf-8"))
    rows = [dict(r, id=f"real-{i}") for i, r in enumerate(real)]
    rows += [{"id": f"adv-{i}", "instruction": a, "input": b, "output": c} for i, (a, b, c) in enumerate(ADVERSARIAL)]
    return rows


RECORDS = _records()


@pytest.fixture(scope="module")
def table():
    return records_table([make_record(id=r["id"], instruction=r["instruction"], input=r["input"], output=r["output"],
                                      source="contract", source_index=i) for i, r in enumerate(RECORDS)])


class FakeModel:
    max_seq_length = 256


def fake_embed(texts, cache_path=None, batch_size=128):
    """A unit vector per text, seeded by its SHA-256: deterministic, no model (near-orthogonal
    texts, so the embedding detectors fire often and their Finding path is exercised)."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, t in enumerate(texts):
        seed = int.from_bytes(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(384)
        out[i] = v / np.linalg.norm(v)
    return out


@pytest.fixture
def fake_embedder(monkeypatch):
    from curate.models import embedder

    monkeypatch.setattr(embedder, "embed", fake_embed)
    monkeypatch.setattr(embedder, "load_model", lambda: FakeModel())


def build(spec, tmp_path, request):
    """The detector with fakes for what it needs; one without constructor arguments is built
    as it is, so a new rule detector is covered without editing this file."""
    if spec.name in ("output_mismatch", "input_ignored"):
        return spec.cls(cache_path=None)  # the fake embedder
    if spec.name == "ifd":
        return spec.cls(request.getfixturevalue("tiny"), batch_size=4, max_length=96, torch_threads=1)
    if spec.name == "llm_judge":
        fake = request.getfixturevalue("fake_judge")
        return spec.cls(fake.base_url, "judge-model", tmp_path / "judge.jsonl", concurrency=4, max_attempts=1,
                        timeout_s=30.0)
    return spec.cls()


@pytest.fixture
def fake_judge():
    with FakeJudge() as fake:
        yield fake


def check_finding(spec, rec, f):
    assert f is None or isinstance(f, Finding), (spec.name, rec["id"], f)
    if f is None:
        return
    _, lo, hi = SCORE_UNITS[spec.score]
    assert isinstance(f.reason, str) and f.reason.strip(), (spec.name, rec["id"])
    assert isinstance(f.score, (int, float)) and not math.isnan(f.score) and lo <= f.score <= hi, (spec.name, f.score)
    assert f.field in (None, "instruction", "input", "output"), (spec.name, f.field)
    assert (f.field is None) == (f.value is None) and (f.value is None or isinstance(f.value, str)), spec.name
    assert f.confidence is None or 0 <= f.confidence <= 1, spec.name


@pytest.mark.parametrize("name", [s.name for s in registry.specs()])
def test_detector_contract(name, table, tmp_path, fake_embedder, request):
    spec = registry.get(name)
    det = build(spec, tmp_path, request)
    det.prepare(table)
    found = 0
    for rec in table.select(["id", "instruction", "input", "output"]).to_pylist():
        f = det.check(rec)
        check_finding(spec, rec, f)
        found += f is not None
    assert found or not spec.opt_in or spec.name not in registry.sections(), f"{name}: its fake should make it fire"


def test_rule_detectors_find_something_in_the_fixtures_and_chain_normalisation(table):
    ann, m = detect(table, load_params(ROOT / "params.yaml")["detect"]["policy"])
    fired = {n for n, k in m["flagged_by_check"].items() if k}
    assert len(fired) >= 10, m["flagged_by_check"]
    assert all(a["reason"] for a in ann.to_pylist())

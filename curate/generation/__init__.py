"""Self-instruct generation the way Alpaca did it (``generate_instruction.py``).

Modules: :mod:`~curate.generation.prompt` (the prompt and ``encode_prompt``),
:mod:`~curate.generation.parse` (completion parser, Alpaca's filters, stop sequences),
:mod:`~curate.generation.filters` (ROUGE-L novelty filter), :mod:`~curate.models.teacher`
(OpenAI-compatible teacher with retries), :mod:`~curate.generation.generate`
(``run_generate``: concurrent, budgeted, resumable generation). See docs/generation.md.
"""

"""Self-instruct generation the way Alpaca did it (``generate_instruction.py``).

Modules: :mod:`~curate.generation.prompt` (the prompt and ``encode_prompt``),
:mod:`~curate.generation.parse` (completion parser, Alpaca's filters, stop sequences),
:mod:`~curate.generation.filters` (ROUGE-L novelty filter), :mod:`~curate.generation.generate`
(``run_generate``: concurrent, budgeted, resumable generation). The teacher client, the
concurrent request pool and the local teacher are in :mod:`curate.models`; repair (new outputs
for flagged records) is :mod:`curate.repair`. Imports only :mod:`curate.models` and
:mod:`curate.core`. See docs/generation.md.
"""

"""curate: build, clean, analyse and ablate Alpaca-style instruction-tuning datasets.

Subpackages: ``generation`` (self-instruct), ``cleaning`` (ingest, dedupe, detect, clean),
``analysis`` (verb-noun diversity, DuckDB, diffs), ``training`` (SFT and evaluation).
"""

__version__ = "0.1.0"

"""Ground floor: the record schema, the one reader and writer, annotations and how they are
applied, durable JSONL, the params schema, text helpers, ROUGE-L and Alpaca's prompt
templates. Imports the standard library, pyarrow, pydantic, rapidfuzz and rouge-score only; no
other curate package (docs/architecture.md)."""

"""Near-duplicate removal: exact, ROUGE-L (Alpaca's greedy filter), embedding clusters and
MinHash LSH, each decision an annotation naming the record it duplicates (docs/dedupe.md)."""

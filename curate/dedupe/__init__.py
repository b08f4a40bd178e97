"""Near-duplicate removal: exact, ROUGE-L (Alpaca's greedy filter), embedding clusters and
MinHash LSH, each decision an annotation naming the record it duplicates (docs/dedupe.md).

* :mod:`curate.dedupe.pipeline`  ``dedupe``: the methods in order, each on the records kept so far
* :mod:`curate.dedupe.exact`     ``exact_duplicates``
* :mod:`curate.dedupe.rouge`     ``rouge_duplicates`` (over :mod:`curate.core.rouge`)
* :mod:`curate.dedupe.semantic`  ``embedding_duplicates`` and the pair search / clustering
* :mod:`curate.dedupe.minhash`   ``minhash_duplicates`` and the MinHash LSH filter
* :mod:`curate.dedupe.common`    what they share: compared text, drop annotation, ``Found``
"""

"""Draw the labelled development set for the detectors (docs/detectors.md).

Two strata from the 27,738 ingested real Alpaca records (bundled data/alpaca/...):

* ``random``: 200 records drawn uniformly at random (seed 20261121). Estimates prevalence and
  gives recall that is not biased by how candidates were found.
* ``enriched``: 25 records from each of six broad keyword pools (below), drawn at random within
  the pool from records not already drawn. The pools are deliberately much wider than any
  detector (e.g. *any* output without final punctuation, *any* digit-and-operator instruction),
  so that rare classes get enough positives for precision without sampling only what the
  detectors already find.

A third stratum, ``hits``, measures precision where the first two hold too few flags:
``python data/devset/sample.py --hits ANNOTATIONS [--checks a,b]`` appends, for each detector
(``check_name``) in that detect annotations file, up to 20 of its hits drawn at random from
records not yet in the sample. They are labelled like the rest, blind to which detector
flagged them (shards mix detectors and are shuffled). Being drawn *because* a detector fired,
they count for precision only, never for recall (curate.detectors.deveval).

Run ``python data/devset/sample.py`` from the repository root; it rewrites
``data/devset/sample.jsonl`` (id, source_index, stratum, pool) deterministically, keeping any
``hits`` lines already there.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from curate.core.ingest import ingest  # noqa: E402

SEED = 20261121
N_RANDOM = 200
N_PER_POOL = 25

POOLS = {
    # content a text model may not see, or asked to produce media
    "media_or_link": lambda r: re.search(r"https?://|www\.|\.com\b|\b(?:photo|picture|image|video|audio|attached|painting|drawing|logo|chart|graph|link|url|article)s?\b",
                                         r["instruction"] + " " + r["input"], re.I),
    # math-like: a digit next to an operator, or a math verb with a digit
    "math": lambda r: re.search(r"\d\s*[-+*/x×÷^=%]\s*\d|\b(?:calculate|compute|solve|sum|product|percent|average|convert|how many|area|perimeter)\b.*\d",
                                r["instruction"] + " " + r["input"], re.I),
    # code asked for
    "code": lambda r: re.search(r"\b(?:code|program|function|script|sql|python|java|javascript|html|css|regex|algorithm|query)\b", r["instruction"], re.I),
    # output shape: very short, no final punctuation, or task-like markers
    "output_shape": lambda r: (len(r["output"].strip()) < 20 or not re.search(r"[.!?\"')\]}>*`]\s*$", r["output"])
                               or re.search(r"Instruction|###|<\w+>", r["output"])),
    # any non-ASCII letter anywhere
    "non_ascii": lambda r: re.search(r"[^\x00-\x7f]", r["instruction"] + r["input"] + r["output"]),
    # apology / inability / AI words in the output, or a placeholder-looking input
    "refusal_words": lambda r: (re.search(r"\b(?:sorry|cannot|can't|unable|not possible|AI|language model|N/A|no input)\b", r["output"], re.I)
                                or re.search(r"^\W*(?:no\s*input|none|n/?a|null|empty)\W*$", r["input"], re.I)),
}


N_PER_DETECTOR = 20

# ``blind`` stratum (issue 11): a second uniform draw, labelled before any detector output on it
# was looked at. Uniform over the ingested records not already in the dev set.
BLIND_SEED = 20261202
N_BLIND = 320


def add_blind() -> None:
    """Append the ``blind`` stratum: ``N_BLIND`` records drawn uniformly (``BLIND_SEED``) from the
    ingested records not yet in ``sample.jsonl``. Idempotent: does nothing if it is already there."""
    path = ROOT / "data/devset/sample.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    if any(r["stratum"] == "blind" for r in rows):
        print("blind stratum already drawn")
        return
    taken = {r["id"] for r in rows}
    records, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    pool = [(i, s) for i, s in zip(records.column("id").to_pylist(), records.column("source_index").to_pylist())
            if i not in taken]
    pick = random.Random(BLIND_SEED).sample(pool, N_BLIND)
    with path.open("a") as f:
        f.write("".join(json.dumps({"id": i, "source_index": s, "stratum": "blind", "pool": None,
                                    "pool_size": len(pool)}) + "\n" for i, s in pick))
    print(f"{len(pick)} blind records (of {len(pool)}) -> {path}")


def add_hits(annotations: str, checks: list[str] | None) -> None:
    """Append the ``hits`` stratum for ``checks`` (default: every check in the file)."""
    import pyarrow.parquet as pq

    path = ROOT / "data/devset/sample.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    taken = {r["id"] for r in rows}
    records, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    index = dict(zip(records.column("id").to_pylist(), records.column("source_index").to_pylist()))
    ann = pq.read_table(annotations, columns=["id", "check_name"]).to_pylist()
    by_check: dict[str, list[str]] = {}
    for a in ann:
        if a["id"] in index:
            by_check.setdefault(a["check_name"], []).append(a["id"])
    added = []
    for check in sorted(by_check):
        if checks and check not in checks:
            continue
        if any(r.get("pool") == check for r in rows if r["stratum"] == "hits"):
            continue  # already sampled
        ids = sorted(set(by_check[check]))
        cand = [i for i in ids if i not in taken]
        pick = random.Random(f"{SEED}:{check}").sample(cand, min(N_PER_DETECTOR, len(cand)))
        taken.update(pick)
        added += [{"id": i, "source_index": index[i], "stratum": "hits", "pool": check, "pool_size": len(ids)}
                  for i in pick]
    with path.open("a") as f:
        f.write("".join(json.dumps(o) + "\n" for o in added))
    print(f"{len(added)} hits added -> {path}")


def main() -> None:
    if "--blind" in sys.argv:
        return add_blind()
    if "--hits" in sys.argv:
        i = sys.argv.index("--hits")
        checks = sys.argv[sys.argv.index("--checks") + 1].split(",") if "--checks" in sys.argv else None
        return add_hits(sys.argv[i + 1], checks)
    path = ROOT / "data/devset/sample.jsonl"
    hits = [x for x in path.read_text().splitlines() if '"stratum": "hits"' in x] if path.exists() else []
    records, _quarantine, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    rows = records.to_pylist()
    rng = random.Random(SEED)
    chosen = rng.sample(range(len(rows)), N_RANDOM)
    taken = set(chosen)
    out = [{"id": rows[i]["id"], "source_index": rows[i]["source_index"], "stratum": "random", "pool": None}
           for i in chosen]
    for pool, pred in POOLS.items():
        cand = [i for i, r in enumerate(rows) if i not in taken and pred(r)]
        pick = rng.sample(cand, N_PER_POOL)
        taken.update(pick)
        out += [{"id": rows[i]["id"], "source_index": rows[i]["source_index"], "stratum": "enriched", "pool": pool,
                 "pool_size": len(cand)} for i in pick]
    path.write_text("".join(json.dumps(o) + "\n" for o in out) + "".join(h + "\n" for h in hits))
    print(f"{len(out)} records (+{len(hits)} hits kept) -> {path}")


if __name__ == "__main__":
    main()

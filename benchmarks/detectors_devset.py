"""Every detector, including the optional model-based ones, on the labelled dev set only.

    python benchmarks/detectors_devset.py [--ifd outputs/models/base] [--opt-in missing_input] [--json out.json]

The `detect_eval` DVC stage measures the detectors that `dvc repro` runs (params.yaml
`detect:`); this script also runs `output_mismatch` and `input_ignored` (MiniLM embeddings,
using the project's embedding cache) and, with `--ifd CHECKPOINT`, the IFD score of the student
(Cherry LLM; about 1.5 records/s on one CPU thread), and prints the same precision/recall tables
(`curate.detectors.deveval`). The dev set is small: read the confidence intervals.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from curate.core.config import load_params  # noqa: E402
from curate.core.ingest import ingest  # noqa: E402
from curate.detectors.deveval import evaluate, load_devset, render_markdown  # noqa: E402
from curate.detectors.runner import build_detectors, detect  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ifd", help="student checkpoint for the IFD detector (slow on CPU)")
    ap.add_argument("--json", help="also write the metrics here")
    ap.add_argument("--opt-in", nargs="*", default=[], metavar="NAME",
                    help="also run these opt-in rule detectors (enabled by a review line in the policy)")
    args = ap.parse_args()
    dev = load_devset(ROOT / "data/devset/sample.jsonl", ROOT / "data/devset/labels.jsonl")
    table, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    table = table.filter(pc.is_in(table.column("id"), value_set=pa.array(sorted(r["id"] for r in dev))))
    policy = load_params(ROOT / "params.yaml")["detect"]["policy"]  # the hygiene fixes apply first
    params = {"output_mismatch": {"enabled": True}, "input_ignored": {"enabled": True},
              "policy": {**policy, **{n: "review" for n in args.opt_in}}}
    if args.ifd:
        params["ifd"] = {"enabled": True, "torch_threads": 1}
    dets = build_detectors(params, str(ROOT / ".cache/curate/embeddings.parquet"), ifd_checkpoint=args.ifd)
    t0 = time.perf_counter()
    ann, m = detect(table, params["policy"], dets)
    wall = time.perf_counter() - t0
    ev = evaluate(ann, dev, {d.name: d.category for d in dets})
    print(f"{table.num_rows} dev-set records, all detectors in {wall:.1f} s "
          f"(prepare: {m['prepare_seconds']})\n")
    print(render_markdown(ev))
    if args.json:
        Path(args.json).write_text(json.dumps(ev, indent=2))


if __name__ == "__main__":
    main()

"""Wall time of `curate detect`'s default detectors on the bundled real records, per detector,
against a baseline measured in the same run: the 13 detectors that ran by default before
issue 11 (contamination + 12 rules). Target (issue 11): the whole default set under 60 s on a
2-core CPU.

    python benchmarks/detect_time.py [--repeat 3]

Prints one row per detector (seconds: prepare + check over every record) and the ratio of the
full default run to the baseline run, each the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curate.core.config import load_params  # noqa: E402
from curate.core.ingest import ingest  # noqa: E402
from curate.detectors.runner import build_detectors, detect  # noqa: E402

BASELINE = ("contamination", "control_chars", "placeholder_input", "merged_instruction", "empty_output",
            "cannot_fulfil", "refusal", "unseeable_content", "non_text_request", "truncated_output", "empty_code",
            "math_check", "non_english")


def best(records, policy, dets, repeat):
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        _ann, m = detect(records, policy, dets)
        dt = time.perf_counter() - t0
        if out is None or dt < out[0]:
            out = (dt, m["seconds_by_detector"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    params = load_params(ROOT / "params.yaml")["detect"]
    records, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    policy = params["policy"]
    full = build_detectors(params)
    base = [d for d in build_detectors(params) if d.name in BASELINE]
    t_base, _ = best(records, policy, base, a.repeat)
    t_full, per = best(records, policy, full, a.repeat)
    print(f"{records.num_rows} records, best of {a.repeat}")
    print("| detector | seconds |\n|---|---|")
    for name, s in per.items():
        print(f"| {name} | {s:.2f} |")
    print(f"\nbaseline ({len(base)} detectors): {t_base:.1f} s; default ({len(full)} detectors): {t_full:.1f} s; "
          f"ratio {t_full / t_base:.2f}x; target < 60 s: {'met' if t_full < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()

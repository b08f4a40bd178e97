"""Scale benchmark on real text (issue 14): ingest -> detect -> dedupe -> clean at 100K, 300K and 1M records.

What it measures. For each corpus size N and each executor (``local``, ``ray``) the four stages
run one after another in a fresh project directory, each as its own ``python -m curate.cli``
subprocess, so that each stage's memory is its own. Per stage: wall seconds of the subprocess
(Python start-up, imports and, for Ray, the local cluster's start-up included: what ``dvc repro``
pays), the stage's own ``wall_seconds`` (reports/<stage>.json), records/s (N / wall seconds), the
peak RSS of the stage process (``ru_maxrss`` from ``os.wait4``: the process and the descendants
it reaped) and the peak of the summed RSS and PSS of the whole process tree (the stage process
plus every descendant, e.g. Ray's GCS, raylet and workers), sampled every 0.2 s with psutil and
``/proc/<pid>/smaps_rollup``. Summed RSS counts shared pages (Ray's object store in /dev/shm)
once per process that maps them; summed PSS counts them once. Where a stage ran is the
``executor`` its report (reports/<stage>.json) names; a stage that names none would have run
in-process and is marked ``local`` (all four read ``executor`` today).
A growth exponent (least-squares slope of log seconds against log N) is fitted per stage and
executor, the ingest->clean total is checked against the goal (1M records under 30 min with
peak RSS under 8 GB = 8e9 bytes, embeddings excluded), and when the largest size run is below
1M a rough extrapolation to 1M is printed, marked as such (see :func:`totals`).

Corpus. The 27,738 real records ingested from the bundled data/alpaca/alpaca52k_real_subset.json
(27,740 read, 2 quarantined) come first, with their ingest ids, then N - 27,738 perturbed copies
made by ``curate.dedupe.perturb.with_known_duplicates`` (fixed ``--seed``): each copy is a real
record (among those whose instruction one edit keeps a ROUGE-L near-duplicate:
``perturb.copyable``) with one edit of one kind, cycling case
change, word drop, adjacent-word swap, applied to each of instruction, input and output, and the
id ``<source id>~dup<k>``. Past 27.7K copies the sources repeat (drawn with replacement), so at
1M every real record that qualifies has ~35 copies. A copy is a single-edit perturbation of its
source, so it is a known duplicate; the corpus is the real text 1x plus labelled near-copies,
so nearly all of its records beyond the first 27,738 are duplicates. Corpora are written as
JSONL (id, instruction, input, output; ingest keeps the ids) with labels.jsonl ({id, source_id,
kind}) under ``--work`` and reused by later runs.

Params. Derived from params.yaml: input files made absolute to the repository, outputs inside
the run directory, ``paths.raw_inputs`` = the corpus, no provenance, ``executor`` set,
``dedupe.embedding.enabled: false`` (GPU work, outside the goal), exact/ROUGE-L/MinHash as
params.yaml sets them (MinHash switched on if it is off; the output says so), ``repair.enabled:
false`` with no repair annotations, and the model- or teacher-based detectors (output_mismatch,
input_ignored, ifd, llm_judge) switched off where enabled (listed in the results).

Checks. After clean: every labelled copy of a source that dedupe kept must be dropped by a
dedupe check (exact, rouge_l, minhash) and be in paths.dropped: found/total per kind and overall
recall, and how many of the copied sources were kept. Copies of a source that dedupe itself
dropped are counted apart (``copies_of_dropped_sources``) and not scored: in the greedy passes a
dropped record blocks nothing, so such a copy is compared with the record that removed its
source, which it need not match; kept + dropped + quarantined must equal the records ingest read (= N).
Exits 1 when a stage fails (its stderr tail printed), when a count does not add up, or when a
known duplicate is missed (misses printed; ``--allow-misses`` reports them without failing).

    python benchmarks/scale.py [--sizes 100000,300000,1000000] [--executors local,ray]
        [--stages ingest,detect,dedupe,clean] [--work /tmp/curate-scale] [--seed 14]
        [--allow-misses] [--out benchmarks/results/scale.json]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "data/alpaca/alpaca52k_real_subset.json"
PARAMS = ROOT / "params.yaml"
STAGES = ("ingest", "detect", "dedupe", "clean")  # run order
MODEL_DETECTORS = ("output_mismatch", "input_ignored", "ifd", "llm_judge")  # need a model or a teacher
DEDUPE_CHECKS = ("exact", "rouge_l", "minhash")  # the dedupe checks that run here (embedding is off)
OUTPUT_PREFIXES = ("outputs/", ".cache/", "plots/")  # params.yaml paths that stages write
GOAL_N, GOAL_SECONDS, GOAL_RSS = 1_000_000, 30 * 60, 8e9
SAMPLE_S = 0.2
MAX_MISSES = 1000  # misses kept in the results (all are counted)
MiB = 2**20


# ------------------------------------------------------------------------------ corpus

def load_real(path: Path = REAL) -> list[dict]:
    """The bundled real records as ingest makes them (``{id, instruction, input, output}``)."""
    from curate.core.ingest import ingest

    records, _q, _m = ingest([str(path)])
    return records.select(["id", "instruction", "input", "output"]).to_pylist()


def build_corpus(real: list[dict], n: int, seed: int) -> tuple[list[dict], list[dict]]:
    """``n`` records: ``real`` first, then ``n - len(real)`` labelled perturbed copies
    (:func:`curate.dedupe.perturb.with_known_duplicates` with ``seed``). Returns ``(records,
    labels)``; a label is ``{id, source_id, kind}``. Raises ``ValueError`` when ``n`` is below
    ``len(real)``."""
    from curate.dedupe.perturb import with_known_duplicates

    if n < len(real):
        raise ValueError(f"size {n:,} is below the {len(real):,} real records the corpus starts with")
    return with_known_duplicates(real, n - len(real), seed=seed)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_key(n: int, seed: int) -> dict:
    """What a cached corpus must have been built from: size, seed, the real file and the perturber."""
    return {"n": n, "seed": seed, "real_sha256": _sha256(REAL),
            "perturb_sha256": _sha256(ROOT / "curate/dedupe/perturb.py")}


def write_corpus(n: int, seed: int, corpus: Path, labels: Path) -> dict:
    """Build the corpus of ``n`` records and write it (JSONL) and its labels (JSONL),
    atomically. Returns counts."""
    real = load_real()
    records, labs = build_corpus(real, n, seed)
    for path, rows in ((corpus, records), (labels, labs)):
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    return {"records": len(records), "real": len(real), "copies": len(labs),
            "sources": len({x["source_id"] for x in labs}), "by_kind": dict(Counter(x["kind"] for x in labs))}


def ensure_corpus(work: Path, n: int, seed: int) -> tuple[Path, Path, dict]:
    """The cached corpus of ``n`` records under ``work`` (built in a subprocess when missing or
    stale, so this process never holds a million records)."""
    d = work / "corpora"
    d.mkdir(parents=True, exist_ok=True)
    corpus, labels, meta = d / f"corpus-{n}-s{seed}.jsonl", d / f"labels-{n}-s{seed}.jsonl", d / f"meta-{n}-s{seed}.json"
    key = corpus_key(n, seed)
    if meta.is_file() and corpus.is_file() and labels.is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        if info.get("key") == key:
            return corpus, labels, {**info, "cached": True}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, __file__, "--_build-corpus", str(n), "--seed", str(seed),
                        "--_corpus", str(corpus), "--_labels", str(labels)],
                       capture_output=True, text=True, env=_env())
    if r.returncode:
        sys.exit(f"building the {n:,}-record corpus failed:\n{r.stderr[-3000:]}")
    info = {"key": key, **json.loads(r.stdout.strip().splitlines()[-1]),
            "build_seconds": round(time.perf_counter() - t0, 2), "bytes": corpus.stat().st_size}
    meta.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return corpus, labels, {**info, "cached": False}


# ------------------------------------------------------------------------------ params

def derive_params(run_dir: Path, corpus: Path, executor: str, base: Path = PARAMS) -> tuple[dict, dict]:
    """params.yaml adapted to one benchmark run (see the module doc). Returns ``(params,
    changes)``: the raw params to write and what was changed beyond the paths."""
    import yaml

    p = yaml.safe_load(base.read_text(encoding="utf-8"))
    changes: dict = {"disabled_detectors": [], "minhash_enabled_by_benchmark": False}
    paths = p.setdefault("paths", {})
    for k, v in list(paths.items()):
        if k in ("raw_inputs", "provenance") or v is None:
            continue
        if Path(v).is_absolute():
            continue
        paths[k] = str((run_dir if v.startswith(OUTPUT_PREFIXES) else ROOT) / v)
    paths["raw_inputs"] = [str(corpus)]
    paths["provenance"] = {}
    paths["repair_annotations"] = None  # repair does not run: clean applies dedupe and detect only
    p["executor"] = executor
    d = p.setdefault("dedupe", {})
    d.setdefault("embedding", {})["enabled"] = False
    mh = d.setdefault("minhash", {})
    if not mh.get("enabled"):
        mh["enabled"] = True
        changes["minhash_enabled_by_benchmark"] = True
    p.setdefault("repair", {})["enabled"] = False
    det = p.setdefault("detect", {})
    for name in MODEL_DETECTORS:
        if (det.get(name) or {}).get("enabled"):
            det[name]["enabled"] = False
            changes["disabled_detectors"].append(name)
    changes["dedupe"] = {k: d.get(k) for k in ("exact", "rouge", "minhash")}
    return p, changes


def write_params(run_dir: Path, corpus: Path, executor: str) -> tuple[Path, dict, dict]:
    """Write the run's params.yaml and validate it with ``load_params``. Returns ``(path,
    validated params, changes)``."""
    import yaml

    from curate.core.config import load_params

    raw, changes = derive_params(run_dir, corpus, executor)
    path = run_dir / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path, load_params(path), changes


# ------------------------------------------------------------------------------ measuring

def _env() -> dict:
    env = dict(os.environ, CURATE_QUIET="1", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _pss(pid: int) -> int:
    """Proportional set size of ``pid`` in bytes (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree(root) -> tuple[int, int, int]:
    """(summed RSS, summed PSS, process count) of ``root`` (a psutil.Process) and its descendants."""
    import psutil

    try:
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0, 0, 0
    rss = pss = n = 0
    for p in procs:
        try:
            rss += p.memory_info().rss
        except psutil.Error:
            continue
        pss += _pss(p.pid)
        n += 1
    return rss, pss, n


def measure(cmd: list[str], cwd: Path, log: Path) -> dict:
    """Run ``cmd`` in ``cwd`` (stdout/stderr to ``log``.out/.err) and return its exit code,
    wall seconds, ``ru_maxrss`` (bytes) and the peaks of the process tree's summed RSS/PSS."""
    import psutil

    out, err = open(log.with_suffix(".out"), "wb"), open(log.with_suffix(".err"), "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=_env())
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = peak_n = samples = 0
    try:
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss, pss, n = _tree(root)
            peak_rss, peak_pss, peak_n = max(peak_rss, rss), max(peak_pss, pss), max(peak_n, n)
            samples += 1
            time.sleep(SAMPLE_S)
    finally:
        out.close()
        err.close()
    seconds = time.perf_counter() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    return {"rc": rc, "seconds": round(seconds, 2), "stage_peak_rss": ru.ru_maxrss * 1024,  # KB on Linux
            "tree_peak_rss": max(peak_rss, ru.ru_maxrss * 1024), "tree_peak_pss": peak_pss,
            "tree_max_processes": peak_n, "samples": samples}


def run_stage(stage: str, params_file: Path, run_dir: Path, n: int, executor: str) -> dict:
    """One stage as ``python -m curate.cli --params P --quiet STAGE``, measured. Exits the
    benchmark (status 1, stderr tail printed) when it fails."""
    cmd = [sys.executable, "-m", "curate.cli", "--params", str(params_file), "--quiet", stage]
    m = measure(cmd, run_dir, run_dir / "logs" / stage)
    row = {"n": n, "executor": executor, "stage": stage, "ran_as": None, **m}
    if m["rc"]:
        tail = (run_dir / "logs" / f"{stage}.err").read_text(encoding="utf-8", errors="replace")[-4000:]
        row["stderr_tail"] = tail
        return row
    report = json.loads((run_dir / "reports" / f"{stage}.json").read_text(encoding="utf-8"))
    row["ran_as"] = report.get("executor", "local")  # a stage that reads `executor` reports it
    row["stage_seconds"] = report.get("wall_seconds")
    row["records_per_s"] = round(n / m["seconds"], 1) if m["seconds"] else None
    if stage == "dedupe":
        row["seconds_by_check"] = report.get("seconds_by_check")
        row["dropped_by_check"] = report.get("dropped_by_check")
    if stage == "detect":
        row["records_by_action"] = report.get("records_by_action")
    if stage in ("ingest", "clean"):
        row["counts"] = {k: report.get(k) for k in ("records_read", "ingested", "quarantined", "kept", "dropped")
                         if k in report}
    return row


# ------------------------------------------------------------------------------ checks and fits

def check_duplicates(paths: dict, reports_dir: Path, labels_path: Path, n: int) -> dict:
    """Did the run drop every labelled copy with a dedupe check, and do the counts add up?"""
    import pyarrow.parquet as pq

    labels = [json.loads(x) for x in labels_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    ann = pq.read_table(paths["dedupe_annotations"], columns=["id", "check_name", "action"]).to_pylist()
    dedupe_drop = {}
    for a in ann:
        if a["action"] == "drop":
            dedupe_drop.setdefault(a["id"], a["check_name"])
    dropped = pq.read_table(paths["dropped"], columns=["id", "drop_check"]).to_pylist()
    drop_check = {r["id"]: r["drop_check"] for r in dropped}
    kept_ids = set(pq.read_table(paths["clean"], columns=["id"]).column("id").to_pylist())
    quarantined = pq.read_metadata(paths["quarantine"]).num_rows
    read = json.loads((reports_dir / "ingest.json").read_text(encoding="utf-8"))["records_read"]

    total, found, by_check, misses = Counter(), Counter(), Counter(), []
    of_dup = Counter()  # copies of a source that dedupe itself dropped: reported, not scored
    for lab in labels:
        if lab["source_id"] in dedupe_drop:  # greedy: a dropped record blocks nothing, so its
            of_dup["total"] += 1             # copy is compared with what removed the source
            of_dup["found"] += lab["id"] in dedupe_drop
            continue
        total[lab["kind"]] += 1
        check = dedupe_drop.get(lab["id"])
        if check is not None and lab["id"] in drop_check:
            found[lab["kind"]] += 1
            by_check[check] += 1
        else:
            where = "kept" if lab["id"] in kept_ids else (
                f"dropped by {drop_check[lab['id']]}" if lab["id"] in drop_check else "not ingested")
            misses.append({**lab, "where": where})
    sources = {lab["source_id"] for lab in labels}
    fate = {s: "kept" if s in kept_ids else f"dropped:{drop_check.get(s, '?')}" for s in sources}
    src_fate = Counter(fate.values())
    why = explain_misses(misses, fate, dedupe_drop, paths["ingested"])
    counts = {"records_read": read, "corpus": n, "kept": len(kept_ids), "dropped": len(drop_check),
              "quarantined": quarantined}
    counts["adds_up"] = read == n and len(kept_ids) + len(drop_check) + quarantined == read
    n_all, f_all = sum(total.values()), sum(found.values())
    return {"by_kind": {k: {"found": found[k], "total": total[k],
                            "recall": round(found[k] / total[k], 6) if total[k] else None} for k in sorted(total)},
            "found": f_all, "total": n_all, "recall": round(f_all / n_all, 6) if n_all else None,
            "found_by_check": dict(sorted(by_check.items())),
            "copies_of_dropped_sources": {"found": of_dup["found"], "total": of_dup["total"]},
            "sources": len(sources), "sources_kept": src_fate.get("kept", 0),
            "sources_by_fate": dict(sorted(src_fate.items())),
            "n_misses": len(misses), "misses_by_reason": dict(why.most_common()), "misses": misses[:MAX_MISSES],
            "counts": counts}


def explain_misses(misses: list[dict], fate: dict, dedupe_drop: dict, ingested: str) -> Counter:
    """Add ``source_fate``, ``source_rouge_tokens`` and ``why`` to each miss (in place); returns
    the count of each ``why``. The two known causes: the source itself was removed by a dedupe
    check (in the greedy passes a dropped record blocks nothing, so a copy is compared with the
    record that removed its source, which it may not match), and a source instruction with
    fewer than 4 ROUGE tokens (the perturber counts words by whitespace: "Compute 3 + 4" has 4
    words but 3 tokens, and one swap takes ROUGE-L F1 to 2/3)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from curate.core.rouge import tokenize

    if not misses:
        return Counter()
    src_ids = sorted({m["source_id"] for m in misses})
    t = pq.read_table(ingested, columns=["id", "instruction"])
    t = t.filter(pc.is_in(t.column("id"), value_set=pa.array(src_ids, pa.string())))
    ntok = {i: len(tokenize(x)) for i, x in zip(t.column("id").to_pylist(), t.column("instruction").to_pylist())}
    why = Counter()
    for m in misses:
        m["source_fate"] = fate.get(m["source_id"])
        m["source_rouge_tokens"] = ntok.get(m["source_id"])
        if m["source_id"] in dedupe_drop:
            m["why"] = f"source removed by {dedupe_drop[m['source_id']]}"
        elif m["source_rouge_tokens"] is not None and m["source_rouge_tokens"] < 4:
            m["why"] = "source instruction has < 4 ROUGE tokens"
        else:
            m["why"] = "unexplained"
        why[m["why"]] += 1
    return why


def growth_exponent(sizes, values) -> float | None:
    """Least-squares slope of log(value) against log(size) (``numpy.polyfit``); None with fewer
    than two distinct sizes or a non-positive value."""
    import numpy as np

    pts = [(s, v) for s, v in zip(sizes, values) if v is not None]
    if len({s for s, _ in pts}) < 2 or any(v <= 0 or s <= 0 for s, v in pts):
        return None
    x = np.log([s for s, _ in pts])
    y = np.log([v for _, v in pts])
    return round(float(np.polyfit(x, y, 1)[0]), 3)


def fit_exponents(rows: list[dict]) -> list[dict]:
    """Growth exponents per (stage, executor) of process seconds, in-stage seconds and tree peak
    RSS; per dedupe check of its seconds; and of the ingest->clean total."""
    out = []
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["stage"], r["executor"]), []).append(r)
    for (stage, ex), rs in groups.items():
        sizes = [r["n"] for r in rs]
        out.append({"stage": stage, "executor": ex, "ran_as": rs[0]["ran_as"], "sizes": sizes,
                    "seconds": growth_exponent(sizes, [r["seconds"] for r in rs]),
                    "stage_seconds": growth_exponent(sizes, [r.get("stage_seconds") for r in rs]),
                    "tree_peak_rss": growth_exponent(sizes, [r["tree_peak_rss"] for r in rs])})
        if stage == "dedupe":
            for c in DEDUPE_CHECKS:
                vals = [(r.get("seconds_by_check") or {}).get(c) for r in rs]
                if any(v is not None for v in vals):
                    out.append({"stage": f"dedupe:{c}", "executor": ex, "ran_as": ex, "sizes": sizes,
                                "seconds": growth_exponent(sizes, vals), "stage_seconds": None,
                                "tree_peak_rss": None})
    return out


def _components(row: dict) -> dict[str, float]:
    """The parts of a stage's process seconds that grow differently: start-up (process seconds
    minus the stage's own ``wall_seconds``: interpreter, imports, Ray's cluster) and the stage's
    work; for dedupe the work is split into each check's seconds and the rest (reading,
    writing)."""
    inner = row.get("stage_seconds") or row["seconds"]
    out = {"startup": max(row["seconds"] - inner, 0.01)}
    checks = {c: v for c, v in (row.get("seconds_by_check") or {}).items() if c in DEDUPE_CHECKS and v}
    if checks:
        return {**out, **checks, "rest": max(inner - sum(checks.values()), 0.01)}
    return {**out, "work": inner}


def linear_at(sizes, values, n: float) -> float:
    """``values`` (memory) fitted as ``a + b * size`` by least squares, evaluated at ``n``."""
    import numpy as np

    b, a = np.polyfit(np.asarray(sizes, float), np.asarray(values, float), 1)
    return float(a + b * n)


def totals(rows: list[dict]) -> list[dict]:
    """The ingest->clean total per (size, executor) against the goal, and, when two or more
    sizes ran and the largest is below 1M, a rough, conservative extrapolation to 1M: each
    stage's start-up kept as measured at the largest size and each other part of its seconds
    (:func:`_components`) scaled by its own growth exponent, but never by less than linearly;
    each stage's tree peak RSS fitted linearly in N (a fixed base plus bytes per record)."""
    out = []
    runs: dict[tuple, dict] = {}
    for r in rows:
        runs.setdefault((r["n"], r["executor"]), {})[r["stage"]] = r
    for (n, ex), st in sorted(runs.items()):
        if set(st) != set(STAGES):
            continue
        secs = sum(st[s]["seconds"] for s in STAGES)
        peak = max(st[s]["tree_peak_rss"] for s in STAGES)
        out.append({"n": n, "executor": ex, "seconds": round(secs, 2), "tree_peak_rss": peak,
                    "tree_peak_pss": max(st[s]["tree_peak_pss"] for s in STAGES),
                    "meets_goal": secs < GOAL_SECONDS and peak < GOAL_RSS, "extrapolated": False})
    for ex in sorted({ex for _, ex in runs}):
        done = sorted(n for (n, e), st in runs.items() if e == ex and set(st) == set(STAGES))
        if len(done) < 2 or done[-1] >= GOAL_N:
            continue
        scale = GOAL_N / done[-1]
        by_stage, peaks = {}, []
        for s in STAGES:
            parts = [_components(runs[(n, ex)][s]) for n in done]
            t = 0.0
            for name, v in parts[-1].items():
                k = growth_exponent(done, [p.get(name) for p in parts])
                # start-up stays as measured; every other part touches each record, so it grows at
                # least linearly (a lower slope at small N is fixed cost): conservative
                t += v if name == "startup" else v * scale ** max(1.0 if k is None else k, 1.0)
            by_stage[s] = round(t, 1)
            peaks.append(linear_at(done, [runs[(n, ex)][s]["tree_peak_rss"] for n in done], GOAL_N))
        secs, peak = sum(by_stage.values()), max(peaks)
        out.append({"n": GOAL_N, "executor": ex, "seconds": round(secs, 1), "tree_peak_rss": int(peak),
                    "tree_peak_pss": None, "meets_goal": secs < GOAL_SECONDS and peak < GOAL_RSS,
                    "extrapolated": True, "from_sizes": done, "seconds_by_stage": by_stage})
    return out


# ------------------------------------------------------------------------------ output

def _mib(b) -> str:
    return "" if b is None else f"{b / MiB:,.0f}"


def print_report(rows, exps, tots, checks) -> None:
    print("\n| N | executor | stage | ran as | seconds | in-stage s | records/s | stage peak RSS MiB "
          "| tree peak RSS MiB | tree peak PSS MiB |")
    print("|---:|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['executor']} | {r['stage']} | {r['ran_as']} | {r['seconds']:.1f} | "
              f"{r.get('stage_seconds') or 0:.1f} | {r.get('records_per_s') or 0:,.0f} | "
              f"{_mib(r['stage_peak_rss'])} | {_mib(r['tree_peak_rss'])} | {_mib(r['tree_peak_pss'])} |")
    dd = [r for r in rows if r["stage"] == "dedupe" and r.get("seconds_by_check")]
    if dd:
        print("\ndedupe seconds by check (in-stage):")
        for r in dd:
            print(f"  N={r['n']:,} {r['executor']}: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds_by_check"].items())
                  + "; dropped " + ", ".join(f"{k} {v:,}" for k, v in (r.get("dropped_by_check") or {}).items()))
    if exps:
        print("\ngrowth exponents (slope of log y vs log N; 1 = linear):")
        print("| stage | executor | ran as | sizes | seconds | in-stage seconds | tree peak RSS |")
        print("|---|---|---|---|---:|---:|---:|")
        for e in exps:
            f = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
            print(f"| {e['stage']} | {e['executor']} | {e['ran_as']} | {','.join(f'{s:,}' for s in e['sizes'])} | "
                  f"{f(e['seconds'])} | {f(e['stage_seconds'])} | {f(e['tree_peak_rss'])} |")
    if tots:
        print(f"\ningest -> clean against the goal ({GOAL_N:,} records: < {GOAL_SECONDS // 60} min, "
              f"peak RSS < 8 GB = {GOAL_RSS / MiB:,.0f} MiB; peak = the largest tree RSS of the four stages):")
        for t in tots:
            tag = (f"EXTRAPOLATED from N={','.join(f'{x:,}' for x in t['from_sizes'])}, exponents floored at 1: "
                   + ", ".join(f"{k} {v:,.0f} s" for k, v in t["seconds_by_stage"].items())
                   + "; RSS linear in N") if t["extrapolated"] else "measured"
            if t["n"] == GOAL_N:
                goal = "meets the goal" if t["meets_goal"] else "MISSES the goal"
            else:
                goal = "within the goal's limits" if t["meets_goal"] else "over the goal's limits"
            print(f"  N={t['n']:,} {t['executor']}: {t['seconds']:,.1f} s ({t['seconds'] / 60:.1f} min), "
                  f"peak tree RSS {_mib(t['tree_peak_rss'])} MiB ({tag}; {goal})")
    for c in checks:
        k = c["check"]
        kinds = ", ".join(f"{kind} {v['found']:,}/{v['total']:,}" for kind, v in k["by_kind"].items())
        cnt = k["counts"]
        print(f"\nknown duplicates, N={c['n']:,} {c['executor']}: {k['found']:,}/{k['total']:,} found "
              f"(recall {k['recall']}); {kinds}; by check {k['found_by_check']}; sources kept "
              f"{k['sources_kept']:,}/{k['sources']:,} {k['sources_by_fate']}")
        print(f"  counts: read {cnt['records_read']:,} (corpus {cnt['corpus']:,}) = kept {cnt['kept']:,} + dropped "
              f"{cnt['dropped']:,} + quarantined {cnt['quarantined']:,}: {'ok' if cnt['adds_up'] else 'DOES NOT ADD UP'}")
        if k["misses"]:
            print(f"  {k['n_misses']:,} misses {k['misses_by_reason']}: " + "; ".join(
                f"{m['id']} ({m['kind']}, {m['where']}; {m['why']})" for m in k["misses"][:50])
                + (" ..." if k["n_misses"] > 50 else ""))


def machine() -> dict:
    import psutil

    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    try:
        import ray
        ray_version = ray.__version__
    except ImportError:
        ray_version = None
    return {"cpu_count": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
            "memory_bytes": psutil.virtual_memory().total, "platform": platform.platform(),
            "python": platform.python_version(), "ray": ray_version,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": git("rev-parse", "HEAD"),
            "git_modified": (git("diff", "--name-only", "HEAD") or "").split()}  # uncommitted edits measured too


def save(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ main

def _csv(text: str, cast=str) -> list:
    return [cast(x.strip().replace("_", "")) if cast is int else cast(x.strip()) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000", help="corpus sizes, comma-separated")
    ap.add_argument("--executors", default="local,ray", help="local and/or ray, comma-separated")
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="subset of ingest,detect,dedupe,clean (without ingest, a run reuses the outputs "
                         "of an earlier one in its --work directory)")
    ap.add_argument("--work", default="/tmp/curate-scale", help="corpora and run directories (reused)")
    ap.add_argument("--seed", type=int, default=14, help="seed of the perturbed copies")
    ap.add_argument("--allow-misses", action="store_true", help="report missed known duplicates without failing")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/scale.json"))
    ap.add_argument("--_build-corpus", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_corpus", help=argparse.SUPPRESS)
    ap.add_argument("--_labels", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._build_corpus is not None:  # the corpus-building subprocess of ensure_corpus
        print(json.dumps(write_corpus(args._build_corpus, args.seed, Path(args._corpus), Path(args._labels))))
        return 0

    sizes = sorted(set(_csv(args.sizes, int)))
    executors = _csv(args.executors)
    stages = [s for s in STAGES if s in set(_csv(args.stages))]
    bad = [e for e in executors if e not in ("local", "ray")] + [s for s in _csv(args.stages) if s not in STAGES]
    if bad or not sizes or not executors or not stages:
        ap.error(f"bad --sizes/--executors/--stages: {bad or 'empty'}")
    work, out = Path(args.work), Path(args.out)
    result = {"machine": machine(), "sizes": sizes, "executors": executors, "stages": stages, "seed": args.seed,
              "goal": {"n": GOAL_N, "seconds": GOAL_SECONDS, "peak_rss_bytes": GOAL_RSS},
              "corpora": {}, "params_changes": None, "rows": [], "checks": [], "exponents": [], "totals": []}

    def finish(status: int) -> int:
        result["exponents"] = fit_exponents(result["rows"])
        result["totals"] = totals(result["rows"])
        print_report(result["rows"], result["exponents"], result["totals"], result["checks"])
        result["status"] = "ok" if status == 0 else "failed"
        save(out, result)
        print(f"\nresults: {out}")
        return status

    status = 0
    for n in sizes:
        corpus, labels, info = ensure_corpus(work, n, args.seed)
        result["corpora"][str(n)] = {k: v for k, v in info.items() if k != "key"} | {"path": str(corpus)}
        print(f"corpus N={n:,}: {info['real']:,} real + {info['copies']:,} copies of {info['sources']:,} sources "
              f"{info['by_kind']} ({'cached' if info['cached'] else 'built in %s s' % info['build_seconds']}; "
              f"{info['bytes'] / MiB:,.0f} MiB)", file=sys.stderr, flush=True)
        for ex in executors:
            run_dir = work / "runs" / f"n{n}-{ex}"
            if "ingest" in stages:
                shutil.rmtree(run_dir, ignore_errors=True)
            (run_dir / "logs").mkdir(parents=True, exist_ok=True)
            params_file, params, changes = write_params(run_dir, corpus, ex)
            if result["params_changes"] is None:
                result["params_changes"] = changes
                notes = ["embedding dedupe off (GPU work, outside the goal)", "repair off"]
                if changes["minhash_enabled_by_benchmark"]:
                    notes.append("MinHash dedupe was off in params.yaml: switched ON by the benchmark")
                if changes["disabled_detectors"]:
                    notes.append(f"detectors switched off (need a model or a teacher): {changes['disabled_detectors']}")
                print("params: " + "; ".join(notes), file=sys.stderr, flush=True)
            for stage in stages:
                row = run_stage(stage, params_file, run_dir, n, ex)
                result["rows"].append(row)
                if row["rc"]:
                    print(f"\nFAILED: {stage} (N={n:,}, executor {ex}) exited {row['rc']} after {row['seconds']} s; "
                          f"logs in {run_dir / 'logs'}; stderr tail:\n{row['stderr_tail']}", file=sys.stderr)
                    return finish(1)
                print(f"  N={n:,} {ex:<5} {stage:<7} {row['seconds']:8.1f} s  {row['records_per_s']:>9,.0f} rec/s  "
                      f"tree peak RSS {_mib(row['tree_peak_rss'])} MiB", file=sys.stderr, flush=True)
            if "clean" in stages:
                chk = check_duplicates(params["paths"], run_dir / "reports", labels, n)
                result["checks"].append({"n": n, "executor": ex, "check": chk})
                if not chk["counts"]["adds_up"]:
                    print(f"COUNTS DO NOT ADD UP (N={n:,}, {ex}): {chk['counts']}", file=sys.stderr)
                    status = 1
                missed = {k: v for k, v in chk["by_kind"].items() if v["recall"] is not None and v["recall"] < 1.0}
                if missed:
                    print(f"MISSED KNOWN DUPLICATES (N={n:,}, {ex}): {missed}; {chk['n_misses']:,} ids"
                          f"{' (first %d)' % MAX_MISSES if chk['n_misses'] > MAX_MISSES else ''}: "
                          + ", ".join(m["id"] for m in chk["misses"]), file=sys.stderr)
                    if not args.allow_misses:
                        status = 1
    return finish(status)


if __name__ == "__main__":
    raise SystemExit(main())

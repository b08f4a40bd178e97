"""``curate <stage>``: the one command line that ``dvc.yaml`` calls.

Stages read ``params.yaml`` (``--params``), validated against :mod:`curate.core.config` before any
work, write their outputs to the paths in its ``paths`` section and their metrics to
``metrics/<stage>.json``. Relative paths in the params file, ``metrics/``, ``plots/`` and
``reports/`` are relative to the project root, the params file's directory (``.`` for the
default ``--params params.yaml``), not to the working directory. Errors in input or parameters
print one line naming the file, record and field (or key path), and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import yaml

from curate.core.errors import CurateError

#: The project root: the params file's directory (set by :func:`main`).
ROOT = Path(".")
METRICS_DIR = ROOT / "metrics"


def set_root(root: str | Path) -> None:
    """Make ``root`` the project root: ``metrics/``, ``plots/`` and ``reports/`` go there."""
    global ROOT, METRICS_DIR
    ROOT = Path(root)
    METRICS_DIR = ROOT / "metrics"


def load_params(path: str | Path = "params.yaml") -> dict:
    """Read the params file, validate it (:func:`curate.core.config.validate_params`: every section,
    every key, with the schema's defaults filled in) and resolve its relative paths against its
    directory (:func:`curate.core.config.resolve_paths`). Raises :class:`CurateError` when the file is
    missing or not a YAML mapping, and :class:`curate.core.config.ParamsError` (one line naming the
    file and each bad key's path) when it does not fit the schema."""
    from curate.core.config import resolve_paths, validate_params

    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurateError(f"{path}: no such params file") from None
    except yaml.YAMLError as e:
        raise CurateError(f"{path}: invalid YAML: {e}") from None
    if not isinstance(params, dict):
        raise CurateError(f"{path}: expected a mapping of stage sections")
    return resolve_paths(validate_params(params, source=path), path.parent)


def write_metrics(name: str, metrics: dict) -> Path:
    """Write ``metrics/<name>.json`` (sorted keys, for readable ``dvc metrics diff``)."""
    METRICS_DIR.mkdir(exist_ok=True)
    path = METRICS_DIR / f"{name}.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _timed(name: str, fn) -> dict:
    t0 = time.perf_counter()
    metrics = fn()
    metrics["wall_seconds"] = round(time.perf_counter() - t0, 2)
    write_metrics(name, metrics)
    print(f"{name}: " + json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}))
    return metrics


# ------------------------------------------------------------------------------ stages

def cmd_ingest(args, p):
    from curate.core.ingest import ingest
    from curate.core.schema import write_parquet

    def run():
        paths = p["paths"]
        sources = args.inputs or paths["raw_inputs"]
        cfg = p["ingest"]
        records, quarantine, m = ingest(sources, cfg["field_map"], cfg["max_field_chars"],
                                        provenance=paths["provenance"])
        write_parquet(records, paths["ingested"])
        write_parquet(quarantine, paths["quarantine"])
        if records.num_rows == 0:  # nothing usable is a failure, not an empty success
            top = ", ".join(f"{r} {n}" for r, n in sorted(m["quarantined_by_reason"].items(), key=lambda x: -x[1])[:3])
            raise CurateError(f"all {m['records_read']} records read were quarantined ({top}); "
                              f"see {paths['quarantine']}")
        return m
    _timed("ingest", run)


def cmd_dedupe(args, p):
    from curate.dedupe.pipeline import dedupe, load_seed_tasks
    from curate.core.io import read_records
    from curate.core.schema import write_parquet

    def run():
        paths = p["paths"]
        seeds = load_seed_tasks(paths["seed_tasks"]) if paths["seed_tasks"] else []
        ann, m = dedupe(read_records(paths["ingested"]), p["dedupe"], seeds,
                        cache_path=paths["embedding_cache"])
        write_parquet(ann, paths["dedupe_annotations"])
        return m
    _timed("dedupe", run)


def cmd_detect(args, p):
    from curate.detectors.rules import build_detectors, detect
    from curate.core.io import read_records
    from curate.core.schema import write_parquet

    def run():
        paths = p["paths"]
        d = p["detect"]
        ann, m = detect(read_records(paths["ingested"]), d["policy"],
                        build_detectors(d, paths["embedding_cache"], ifd_checkpoint=paths["ifd_checkpoint"],
                                        judge_cache=paths["judge_cache"]))
        write_parquet(ann, paths["detect_annotations"])
        return m
    _timed("detect", run)


def cmd_detect_eval(args, p):
    from curate.detectors.deveval import evaluate, load_devset, render_markdown
    from curate.core.schema import ANNOTATION_SCHEMA, read_table

    def run():
        paths = p["paths"]
        ann = read_table(paths["detect_annotations"], ANNOTATION_SCHEMA)
        dev = load_devset(paths["devset_sample"], paths["devset_labels"])
        from curate.detectors.rules import DETECTORS

        cats = {d.name: d.category for d in DETECTORS}  # detectors with no hit count too
        for a in ann.select(["check_name", "category"]).to_pylist():
            cats.setdefault(a["check_name"], a["category"])
        m = evaluate(ann, dev, dict(sorted(cats.items())))
        out = Path(args.report) if args.report else ROOT / "reports" / "detect_eval.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# Detectors on the labelled dev set\n\n" + render_markdown(m), encoding="utf-8")
        return m
    _timed("detect_eval", run)


def cmd_clean(args, p):
    from curate.core.annotations import apply_annotations, ingest_records_read
    from curate.core.io import read_records
    from curate.core.schema import ANNOTATION_SCHEMA, QUARANTINE_SCHEMA, read_table, write_parquet

    def run():
        paths = p["paths"]
        keys = ["dedupe_annotations", "detect_annotations"] + (["repair_annotations"] if paths.get("repair_annotations") else [])
        anns = [read_table(paths[k], ANNOTATION_SCHEMA) for k in keys]
        quarantine = read_table(paths["quarantine"], QUARANTINE_SCHEMA)
        read = ingest_records_read(METRICS_DIR / "ingest.json")  # ingest's own count, so the check can fail
        clean, dropped, m = apply_annotations(read_records(paths["ingested"]), anns, quarantine.num_rows,
                                              records_read=read)
        write_parquet(clean, paths["clean"])
        write_parquet(dropped, paths["dropped"])
        if clean.num_rows == 0:  # nothing left to train on is a failure, not an empty success
            raise CurateError(f"every record was dropped ({m['dropped']} dropped, {m['quarantined']} "
                              f"quarantined); see {paths['dropped']}")
        return m
    _timed("clean", run)


def cmd_analyze(args, p):
    from curate.stages.analyze import run_analyze

    _timed("analyze", lambda: run_analyze(p))


def cmd_sql(args, p):
    from curate.analysis.sql import QueryError, run_query

    db = args.db or p["paths"]["database"]
    try:
        print(run_query(db, args.query, fmt=args.format, max_rows=args.max_rows))
    except QueryError as e:
        raise CurateError(str(e)) from None


def cmd_generate(args, p):
    import logging

    from curate.generation.generate import run_generate, run_regenerate

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    g = generate_params(p)
    if args.regenerate_outputs:
        out = args.out or p["paths"]["repair_annotations"]
        if not out:
            raise CurateError("paths.repair_annotations is null: pass --out for --regenerate-outputs")
        if not p["repair"]["enabled"] and not args.force:
            from curate.repair.regenerate import empty_repairs

            _timed("repair", lambda: empty_repairs(out))
            return
        _timed("repair", lambda: run_regenerate(g, args.regenerate_outputs, p["paths"]["ingested"], out))
        return
    if not g["seed_tasks"]:
        raise CurateError("paths.seed_tasks is null: generate needs the seed tasks file")
    _timed("generate", lambda: run_generate(g))


def generate_params(p: dict) -> dict:
    """The dict :func:`curate.generation.generate.run_generate` / ``run_regenerate`` take: the
    validated ``generate`` section plus its files from ``paths`` (``out`` = ``generated``,
    ``rejected``, ``failures``, ``seed_tasks``, ``regenerate_log`` = ``repair_log``,
    ``local.log`` = ``local_teacher_log``)."""
    import copy

    paths = p["paths"]
    g = copy.deepcopy(p["generate"])
    g.update(seed_tasks=paths["seed_tasks"], out=paths["generated"], rejected=paths["generate_rejected"],
             failures=paths["generate_failures"], regenerate_log=paths["repair_log"])
    g["local"]["log"] = paths["local_teacher_log"]
    return g


def cmd_diff(args, p):
    from curate.analysis.diff import diff_versions

    print(diff_versions(args.a, args.b, examples=args.examples, fmt=args.format))


def cmd_export(args, p):
    from curate.core.ingest import ingest
    from curate.core.io import write_records

    records, quarantine, m = ingest([args.src])
    if records.num_rows == 0:  # an empty export would look like success
        raise CurateError(f"{args.src}: no record could be read ({quarantine.num_rows} unreadable; "
                          "`curate ingest` lists why)")
    write_records(records, args.dst)
    alpaca = Path(args.dst).suffix.lower() == ".json"  # Alpaca's format has no id, source or meta
    print(f"exported {records.num_rows} records to {args.dst}" +
          (f" ({quarantine.num_rows} unreadable records skipped; `curate ingest` lists them)" if quarantine.num_rows else "") +
          (" (Alpaca format: id, source and meta not written; use .jsonl or .parquet to keep them)" if alpaca else ""))


def cmd_prepare_student(args, p):
    from curate.models.student import prepare_student, tiny_random_student

    out = Path(p["paths"]["models"]) / "base"
    source = p["student"]["source"]  # validated: smollm2-gguf or tiny-random
    if source == "smollm2-gguf":
        prepare_student(out)
    else:  # tiny-random (tests): same architecture and tokenizer, random weights
        tiny_random_student(out, seed=p["seed"])
    print(f"prepare-student: {source} -> {out}")


def cmd_train(args, p):
    from curate.training.sft import train

    paths = p["paths"]
    data = {"raw": paths["ingested"], "clean": paths["clean"]}
    if args.variant not in data:
        raise CurateError(f"curate train: unknown variant {args.variant!r}; expected one of {sorted(data)}")
    models = Path(paths["models"])
    _timed(f"train_{args.variant}", lambda: train(
        records_path=data[args.variant], model_dir=models / "base", out_dir=models / args.variant,
        params={**p["train"], "seed": p["seed"]}, metrics_path=None,
        loss_csv_path=ROOT / "plots" / f"train_loss_{args.variant}.csv"))


def cmd_evaluate(args, p):
    from curate.training.evaluate import evaluate

    paths = p["paths"]
    model_dir = Path(paths["models"]) / args.model
    if not model_dir.is_dir():
        raise CurateError(f"{model_dir}: no such model; run `curate prepare-student` / `curate train` first")
    cfg = {**p["evaluate"], "seed": p["seed"],
           "truthfulqa_path": paths["truthfulqa"], "user_oriented_path": paths["user_oriented"]}
    _timed(f"eval_{args.model}", lambda: evaluate(model_dir, cfg, None, name=args.model))


def cmd_compare(args, p):
    from curate.training.compare import compare

    _timed("ablation", lambda: compare(METRICS_DIR, p))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="curate", description=__doc__.split("\n")[0])
    ap.add_argument("--params", default="params.yaml", help="parameters file (default: params.yaml)")
    sub = ap.add_subparsers(dest="stage", required=True, metavar="<stage>")
    s = sub.add_parser("generate", help="self-instruct generation with an OpenAI-compatible teacher "
                       "(a local llama.cpp one when generate.base_url is null)")
    s.add_argument("--regenerate-outputs", metavar="ANNOTATIONS",
                   help="instead: ask the teacher for new outputs of the records marked 'repair' in this "
                        "annotations file; writes normalize annotations to paths.repair_annotations")
    s.add_argument("--out", help="with --regenerate-outputs: output annotations file")
    s.add_argument("--force", action="store_true", help="with --regenerate-outputs: run even if repair.enabled is false")
    s.set_defaults(fn=cmd_generate)
    s = sub.add_parser("ingest", help="validate raw input into records; quarantine bad ones")
    s.add_argument("inputs", nargs="*", help="override paths.raw_inputs (files, hf:NAME, URLs)")
    s.set_defaults(fn=cmd_ingest)
    sub.add_parser("dedupe", help="exact, ROUGE-L and embedding near-duplicates -> annotations").set_defaults(fn=cmd_dedupe)
    sub.add_parser("detect", help="detectors for AlpacaDataCleaned's problem classes -> annotations").set_defaults(fn=cmd_detect)
    s = sub.add_parser("detect-eval", help="precision/recall of the detectors on the labelled dev set")
    s.add_argument("--report", help="Markdown report path (default: reports/detect_eval.md in the project root)")
    s.set_defaults(fn=cmd_detect_eval)
    sub.add_parser("clean", help="apply annotations -> clean dataset").set_defaults(fn=cmd_clean)
    sub.add_parser("analyze", help="verb-noun diversity, lengths, DuckDB database").set_defaults(fn=cmd_analyze)
    s = sub.add_parser("sql", help="run a read-only SQL query on the analysis database")
    s.add_argument("query")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--db", help="database file (default: paths.database)")
    s.add_argument("--max-rows", type=int, default=100, help="rows shown in table format")
    s.set_defaults(fn=cmd_sql)
    s = sub.add_parser("diff", help="record-level diff of two dataset versions (files or REV:path)")
    s.add_argument("a")
    s.add_argument("b")
    s.add_argument("--examples", type=int, default=3)
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(fn=cmd_diff)
    s = sub.add_parser("export", help="convert records between Alpaca JSON, JSONL and Parquet")
    s.add_argument("src")
    s.add_argument("dst")
    s.set_defaults(fn=cmd_export)
    sub.add_parser("prepare-student", help="convert the GGUF student to a checkpoint").set_defaults(fn=cmd_prepare_student)
    s = sub.add_parser("train", help="SFT of the student on raw or clean data (Alpaca's recipe)")
    s.add_argument("variant", choices=["raw", "clean"])
    s.set_defaults(fn=cmd_train)
    s = sub.add_parser("evaluate", help="TruthfulQA MC1/MC2 and user-oriented response loss")
    s.add_argument("model", help="base, raw or clean")
    s.set_defaults(fn=cmd_evaluate)
    sub.add_parser("compare", help="raw vs clean ablation table from the eval metrics").set_defaults(fn=cmd_compare)
    return ap


def main(argv: list[str] | None = None) -> int:
    # Nothing downloads weights or data at run time unless the user opts in with
    # HF_HUB_OFFLINE=0 (needed for an ``hf:`` source such as hf:tatsu-lab/alpaca).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    set_root(Path(args.params).parent)
    try:
        # diff and export use no parameters; sql needs them only for the default database
        no_params = args.stage in ("diff", "export") or (
            args.stage == "sql" and args.db and not Path(args.params).exists())
        params = {} if no_params else load_params(args.params)
        args.fn(args, params)
    except CurateError as e:
        print(f"curate {args.stage}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

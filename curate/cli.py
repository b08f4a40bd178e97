"""``curate <command>``: the one command line that ``dvc.yaml`` calls.

It parses arguments, loads ``params.yaml`` (``--params``; validated against
:mod:`curate.core.config` before any work), dispatches to ``curate.stages.<name>.run`` and
prints the stage's metrics line; nothing else. Stages write their outputs to the paths in the
params' ``paths`` section and their metrics to ``metrics/<stage>.json``; relative paths,
``metrics/``, ``plots/`` and ``reports/`` are relative to the project root, the params file's
directory (``.`` for the default ``--params params.yaml``). Errors in input or parameters print
one line naming the file, record and field (or key path) and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from curate.core.errors import CurateError

#: command -> (stage module, help). Commands without a stage params section: sql, diff (reads paths only), export.
COMMANDS = {
    "generate": ("generate", "self-instruct generation with an OpenAI-compatible teacher (a local llama.cpp one "
                             "when generate.base_url is null)"),
    "ingest": ("ingest", "validate raw input into records; quarantine bad ones"),
    "dedupe": ("dedupe", "exact, ROUGE-L, embedding and MinHash near-duplicates -> annotations"),
    "detect": ("detect", "detectors for AlpacaDataCleaned's problem classes -> annotations"),
    "repair": ("repair", "new outputs from the teacher for records marked 'repair' -> annotations"),
    "clean": ("clean", "apply annotations -> clean dataset"),
    "analyze": ("analyze", "verb-noun diversity, lengths, DuckDB database"),
    "detect-eval": ("detect_eval", "precision/recall of the detectors on the labelled dev set"),
    "prepare-student": ("prepare_student", "convert the GGUF student to a checkpoint"),
    "probes": ("probes", "held-out behavioural probe records (in no training arm)"),
    "train": ("train", "SFT of the student on one ablation arm with one seed (Alpaca's recipe)"),
    "evaluate": ("evaluate", "TruthfulQA MC1/MC2 per question, user-oriented loss, behavioural probes"),
    "compare": ("compare", "paired differences of the arms with bootstrap intervals and McNemar tests"),
    "report": ("report", "self-contained HTML report of the run -> reports/index.html"),
    "sql": ("sql", "run a read-only SQL query on the analysis database"),
    "diff": ("diff", "record-level diff of two dataset versions (files or REV:path)"),
    "export": ("export", "convert records between Alpaca JSON, JSONL and Parquet"),
}


QUIET_HELP = "no progress bars (also off with CI=true or CURATE_QUIET=1 in the environment)"


class _CommandParser(argparse.ArgumentParser):
    """A command's parser whose epilog, the params its stage reads (:func:`params_epilog`),
    is made only when its help is shown: parsing never pays for it."""

    def __init__(self, *args, command: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.command = command

    def format_help(self) -> str:
        if self.command is not None and self.epilog is None:
            self.epilog = params_epilog(self.command)
        return super().format_help()


def params_epilog(command: str) -> str | None:
    """What ``curate COMMAND --help`` says after the options: every params key the command's
    ``dvc.yaml`` stage reads (:data:`curate.core.config.STAGE_SECTIONS`, nested sections
    flattened to dotted keys), with the schema's default and description, one per line.
    None for a command without a stage (sql, diff, export)."""
    from curate.core.config import STAGE_SECTIONS, WHOLE_FILE, Params

    stage = COMMANDS[command][0]
    if stage not in STAGE_SECTIONS:
        return None
    keys = STAGE_SECTIONS[stage]
    if WHOLE_FILE in keys:  # every key; each stage's --help describes its own
        return ("params: all of params.yaml (every section: " + ", ".join(Params.model_fields)
                + "; `curate <stage> --help` lists each stage's keys)")
    head = "params (params.yaml; defaults from the schema in curate/core/config.py):"
    rows = [r for key in keys for r in param_rows(Params, key)]
    if not rows:
        return "params: none (the stage reads only files: its dvc.yaml deps)"
    kw = max(len(k) for k, _, _ in rows)
    dw = min(max(len(d) for _, d, _ in rows), 14)
    lines = [head]
    for key, default, desc in rows:
        if len(default) > dw:  # a long default (a path) gets its own line
            lines += [f"  {key:<{kw}}  {default}", f"  {'':<{kw}}  {'':<{dw}}  {desc}".rstrip()]
        else:
            lines.append(f"  {key:<{kw}}  {default:<{dw}}  {desc}".rstrip())
    return "\n".join(lines)


def param_rows(model, key: str) -> list[tuple[str, str, str]]:
    """``(dotted key, default as YAML, description)`` of every leaf under ``key`` (a section,
    ``"dedupe.rouge"``, or one key, ``"repair.enabled"``) of the pydantic ``model``; a
    sub-section that may be null gets a row of its own before its keys. Raises ``KeyError``
    for a key the schema does not have."""
    info, m = None, model
    for part in key.split("."):
        if m is None:
            raise KeyError(key)
        info = m.model_fields[part]
        m = _section_model(info.annotation)
    return list(_rows(key, info))


def _rows(name: str, info):
    sub = _section_model(info.annotation)
    if sub is None or not sub.model_fields:  # a value (or a free mapping such as detect.policy)
        yield name, _yaml(info.get_default(call_default_factory=True)), info.description or ""
        return
    if info.default is None:  # an optional sub-section, null by default
        yield name, "null", info.description or ""
    for n, f in sub.model_fields.items():
        yield from _rows(f"{name}.{n}", f)


def _section_model(annotation):
    """The pydantic model class of a field's annotation (``X`` or ``Optional[X]``), else None."""
    for tp in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(tp, type) and hasattr(tp, "model_fields"):
            return tp
    return None


def _yaml(v) -> str:
    """A default as it would be written in params.yaml (flow style)."""
    if hasattr(v, "model_dump"):
        v = v.model_dump()
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_yaml(x)}" for k, x in v.items()) + "}"
    return str(v)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="curate", description=__doc__.split("\n")[0])
    ap.add_argument("--params", default="params.yaml", help="parameters file (default: params.yaml)")
    ap.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    sub = ap.add_subparsers(dest="stage", required=True, metavar="<command>", parser_class=_CommandParser)
    s = {name: sub.add_parser(name, help=h, description=h, command=name,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
         for name, (_, h) in COMMANDS.items()}
    for p in s.values():  # `curate evaluate base --params p.yaml` as well as `curate --params p.yaml evaluate base`
        p.add_argument("--params", default=argparse.SUPPRESS, help="parameters file (default: params.yaml)")
        p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP)
    s["ingest"].add_argument("inputs", nargs="*", help="override paths.raw_inputs (files, hf:NAME, URLs)")
    s["repair"].add_argument("--annotations", help="annotations file marking records (default: paths.detect_annotations)")
    s["repair"].add_argument("--out", help="output annotations file (default: paths.repair_annotations)")
    s["repair"].add_argument("--force", action="store_true", help="run even if repair.enabled is false")
    s["detect-eval"].add_argument("--report", help="Markdown report (default: reports/detect_eval.md in the project root)")
    s["report"].add_argument("--out", help="HTML file (default: reports/index.html in the project root)")
    from curate.core.config import ARM_NAMES

    s["train"].add_argument("arm", choices=list(ARM_NAMES), help="the ablation arm (docs/ablation.md)")
    s["train"].add_argument("--seed", type=int, help="training seed (default: the first of ablation.seeds)")
    s["evaluate"].add_argument("model", help="base or ARM-sSEED, e.g. clean-s1")
    s["sql"].add_argument("query", nargs="?", help="SQL, or the name of a saved query (--list)")
    s["sql"].add_argument("--list", dest="list_queries", action="store_true", help="list the saved queries")
    s["sql"].add_argument("--param", action="append", metavar="KEY=VALUE", help="a saved query's parameter ($KEY)")
    s["sql"].add_argument("--format", choices=["table", "csv", "json"], default="table")
    s["sql"].add_argument("--db", help="database file (default: paths.database)")
    s["sql"].add_argument("--max-rows", type=int, default=100, help="rows shown in table format")
    for name in ("diff",):
        s[name].add_argument("a")
        s[name].add_argument("b")
        s[name].add_argument("--examples", type=int, default=3, help="examples of each kind in the text view")
        s[name].add_argument("--format", choices=["text", "json", "csv", "html"], default="text")
        s[name].add_argument("--annotations", action="append", metavar="FILE",
                             help="annotations or dropped Parquet explaining removed/changed records (repeatable; "
                                  "added to paths.dropped and the annotation files of --params when it exists)")
        s[name].add_argument("--out", metavar="FILE", help="write the diff to FILE instead of stdout")
    s["export"].add_argument("src")
    s["export"].add_argument("dst")
    return ap


def _options(args: argparse.Namespace) -> dict:
    """The stage's keyword arguments: every parsed option but the global ones."""
    opts = {k: v for k, v in vars(args).items() if k not in ("params", "stage", "quiet")}
    if "format" in opts:
        opts["fmt"] = opts.pop("format")
    return opts


def dispatch(args: argparse.Namespace) -> object:
    """Run ``args.stage``: load the params (not for export; diff reads the params file itself,
    when it exists, only for the annotation files that explain the diff; sql given ``--db`` or
    ``--list`` needs no params file), call the stage module's ``run`` and return what it returned."""
    from curate.core.config import load_params
    from curate.stages.base import Context

    stage = importlib.import_module(f"curate.stages.{COMMANDS[args.stage][0]}")
    if args.stage == "diff":  # the params file only names the files that explain the diff
        return stage.run(**_options(args), params=args.params)
    if args.stage == "export":
        return stage.run(**_options(args))
    if args.stage == "sql" and (args.db or args.list_queries) and not Path(args.params).exists():
        params = {"paths": {"database": args.db}}
    else:
        params = load_params(args.params)
    return stage.run(Context(params, Path(args.params).parent), **_options(args))


def main(argv: list[str] | None = None) -> int:
    # Nothing downloads weights or data at run time unless the user opts in with
    # HF_HUB_OFFLINE=0 (needed for an ``hf:`` source such as hf:tatsu-lab/alpaca).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    if args.quiet:  # read by curate.core.progress wherever a bar is made
        os.environ["CURATE_QUIET"] = "1"
    try:
        result = dispatch(args)
    except CurateError as e:
        print(f"curate {args.stage}: error: {e}", file=sys.stderr)
        return 2
    if isinstance(result, dict):  # a stage's metrics: the scalars on one line
        label = " ".join([args.stage] + [str(getattr(args, k)) for k in ("arm", "model") if hasattr(args, k)])
        print(f"{label}: " + json.dumps({k: v for k, v in result.items() if not isinstance(v, (dict, list))}))
    elif result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

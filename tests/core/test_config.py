"""params.yaml schema (curate/core/config.py): every section typed, unknown keys / wrong types /
values out of range rejected with one line naming the file, the key path and what is allowed;
defaults equal to what the stages did before; paths resolved against the params file's folder."""

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from curate.core.config import load_params
from curate.core.config import (PROMPT_NAMES, Dedupe, EvaluateRun, Generate, Params, ParamsError, TrainRun,
                           validate_params)
from curate.core.errors import CurateError
from curate.core.schema import make_record, records_table, write_parquet
from tests.conftest import ROOT

PARAMS = ROOT / "params.yaml"


def _problem(tmp_path, text):
    """The ParamsError message of loading ``text`` as a params file."""
    p = tmp_path / "params.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as e:
        load_params(p)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{p}: "), msg
    assert "pydantic" not in msg and "http" not in msg, msg
    return msg


# Every failure mode of the issue: (params text, key path, fragment of what is allowed).
FAILURES = [
    ("dedupe: {rouge: {treshold: 0.5}}", "dedupe.rouge.treshold",
     "unknown parameter, did you mean 'threshold'? (allowed: enabled, fields, include_seed_tasks, threshold)"),
    ("ingest: {max_field_char: 10}", "ingest.max_field_char", "(allowed: field_map, max_field_chars)"),
    ("detect: {polcy: {refusal: drop}}", "detect.polcy", "did you mean 'policy'?"),
    ("dedup: {rouge: {threshold: 0.5}}", "dedup", "unknown section, did you mean 'dedupe'? (allowed: ablation, analyze, dedupe,"),
    ("generate: {sampling: {temprature: 0.5}}", "generate.sampling.temprature",
     "(allowed: max_tokens, stop, temperature, top_p)"),
    ("dedupe: {rouge: {threshold: -0.5}}", "dedupe.rouge.threshold",
     "-0.5 is out of range (expected a number in [0, 1])"),
    ("ingest: {max_field_chars: -1}", "ingest.max_field_chars", "-1 is out of range (expected an integer >= 1)"),
    ("dedupe: {rouge: {threshold: high}}", "dedupe.rouge.threshold",
     "'high' is not a number (expected a number in [0, 1])"),
    ("dedupe: {minhash: {num_perm: -1}}", "dedupe.minhash.num_perm", "-1 is out of range (expected an integer >= 1)"),
    ("dedupe: {embedding: {batch_size: -1}}", "dedupe.embedding.batch_size",
     "-1 is out of range (expected an integer >= 1)"),
    ("generate: {retry: {max_attempts: six}}", "generate.retry.max_attempts",
     "'six' is not an integer (expected an integer >= 1)"),
    ("ingest: {field_map: [response, output]}", "ingest.field_map", "a list is not a mapping"),
    ("analyze: {batch_size: 0}", "analyze.batch_size", "0 is out of range (expected an integer >= 1)"),
    # and the same kinds of mistake elsewhere
    ("paths: {raw_inputs: [a.json, 5]}", "paths.raw_inputs[1]", "5 is not a string"),
    ("dedupe: {rouge: {threshold: '0.5'}}", "dedupe.rouge.threshold", "'0.5' is not a number"),
    ("train: {n_examples: true}", "train.n_examples", "true is not an integer (expected an integer >= 1 or null)"),
    ("train: {learning_rate: 1e-4}", "train.learning_rate", "YAML reads 1e-4 as text: write 1.0e-4"),
    ("train: {lr: 0.1}", "train.lr", "unknown parameter"),
    ("evaluate: {batch_size: 1.5}", "evaluate.batch_size", "1.5 is not an integer"),
    ("dedupe: {embedding: {mode: kmeans}}", "dedupe.embedding.mode", "'kmeans' is not allowed (expected cluster or greedy)"),
    ("dedupe: {embedding: {views: [prompt, answer]}}", "dedupe.embedding.views[1]", "(expected prompt or output)"),
    ("dedupe: {exact: {fields: []}}", "dedupe.exact.fields", "a non-empty list of instruction, input or output"),
    ("detect: {policy: {refusal: delete}}", "detect.policy.refusal", "keep, review, normalize, repair, drop, repair_or_drop or null"),
    # an unknown detector name in detect.policy is the registry's to reject, when the detectors are
    # built: tests/detectors/test_registry.py::test_unknown_policy_name_is_rejected_when_building
    ("generate: {endpoint: responses}", "generate.endpoint", "(expected chat or completions)"),
    ("generate: {parser: loose}", "generate.parser", "(expected alpaca or lenient)"),
    ("student: {source: smollm3}", "student.source", "(expected smollm2-gguf or tiny-random)"),
    ("analyze: {plot_dataset: both}", "analyze.plot_dataset", "(expected clean or raw)"),
    ("generate: {sampling: {stop: 5}}", "generate.sampling.stop", "5 is not a string or a list of strings or null"),
    ("generate: {base_url: 'http://127.0.0.1:8080/v1'}", "generate", "base_url needs model"),
    ("detect: {llm_judge: {enabled: true}}", "detect.llm_judge", "enabled needs base_url and model"),
    ("seed: '42'", "seed", "'42' is not an integer"),
    ("dedupe: [exact, rouge]", "dedupe", "a list is not a mapping"),
    # paths live in `paths:` only
    ("generate: {out: x.jsonl}", "generate.out", "unknown parameter"),
    ("generate: {seed_tasks: s.jsonl}", "generate.seed_tasks", "unknown parameter"),
    ("generate: {local: {log: l.log}}", "generate.local.log", "unknown parameter"),
    ("generate: {regenerate_log: r.jsonl}", "generate.regenerate_log", "unknown parameter"),
    ("detect: {ifd: {checkpoint: m}}", "detect.ifd.checkpoint", "unknown parameter"),
    ("detect: {llm_judge: {cache_path: c.jsonl}}", "detect.llm_judge.cache_path", "unknown parameter"),
    ("detect: {output_mismatch: {cache_path: c.parquet}}", "detect.output_mismatch.cache_path", "unknown parameter"),
    ("ingest: {provenance: {a.json: b.jsonl}}", "ingest.provenance", "unknown parameter"),
]


@pytest.mark.parametrize("text,key,allowed", FAILURES, ids=[f[1] for f in FAILURES])
def test_every_failure_mode_is_one_line_naming_key_and_what_is_allowed(tmp_path, text, key, allowed):
    msg = _problem(tmp_path, text + "\n")
    assert f": {key}: " in msg, msg
    assert allowed in msg, msg


def test_several_problems_on_one_line(tmp_path):
    msg = _problem(tmp_path, "dedupe: {rouge: {threshold: -0.5}, minhash: {num_perm: x}}\nanalyze: {batch_size: 0}\n")
    assert msg.count("; ") == 2 and "\n" not in msg
    for key in ("dedupe.rouge.threshold", "dedupe.minhash.num_perm", "analyze.batch_size"):
        assert f"{key}: " in msg


def test_a_params_file_that_is_not_a_mapping(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("- dedupe\n", encoding="utf-8")
    with pytest.raises(CurateError, match="expected a mapping of stage sections"):
        load_params(p)


def test_null_sections_mean_defaults(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("dedupe:\ngenerate: {local: }\n", encoding="utf-8")
    d = load_params(p)
    assert d["dedupe"] == Dedupe().model_dump() and d["generate"]["local"]["n_ctx"] == 4096


# ------------------------------------------------------------------ the CLI: exit 2, one line, no work

def _project(tmp_path):
    """A project folder with a 2-record ingested file, so a stage that ran would write outputs."""
    proj = tmp_path / "proj"
    rows = [make_record(id=f"r{i}", instruction=f"Name a colour number {i}.", input="", output="Red.",
                        source="t.jsonl", source_index=i) for i in range(2)]
    write_parquet(records_table(rows), proj / "out" / "records.parquet")
    (proj / "in.jsonl").write_text(json.dumps({"instruction": "Name a fruit.", "input": "", "output": "Apple."})
                                   + "\n", encoding="utf-8")
    return proj


BASE = ("paths: {raw_inputs: [in.jsonl], provenance: {}, ingested: out/records.parquet, "
        "quarantine: out/quarantine.parquet, dedupe_annotations: out/dedupe.parquet, seed_tasks: null, "
        "database: out/db.duckdb, verb_noun: out/vn.parquet, verb_noun_plot: out/vn.csv, verb_noun_png: out/vn.png}\n"
        "dedupe: {embedding: {enabled: false}}\n")

CLI_FAILURES = [
    ("dedupe", "dedupe: {embedding: {enabled: false}, rouge: {treshold: 0.5}}\n", "dedupe.rouge.treshold: unknown parameter"),
    ("ingest", "dedup: {rouge: {threshold: 0.5}}\n", "dedup: unknown section"),
    ("ingest", "ingest: {max_field_chars: -1}\n", "ingest.max_field_chars: -1 is out of range"),
    ("ingest", "ingest: {field_map: [response, output]}\n", "ingest.field_map: a list is not a mapping"),
    ("analyze", "analyze: {batch_size: 0, png: false}\n", "analyze.batch_size: 0 is out of range"),
]


@pytest.mark.parametrize("stage,extra,message", CLI_FAILURES, ids=[m.split(":")[0] for _, _, m in CLI_FAILURES])
def test_cli_exits_2_with_one_line_and_does_no_work(tmp_path, stage, extra, message):
    proj = _project(tmp_path)
    text = BASE.replace("dedupe: {embedding: {enabled: false}}\n", "") if extra.startswith("dedupe:") else BASE
    (proj / "params.yaml").write_text(text + extra, encoding="utf-8")
    before = sorted(p.relative_to(proj) for p in proj.rglob("*"))
    r = subprocess.run([sys.executable, "-m", "curate.cli", "--params", str(proj / "params.yaml"), stage],
                       cwd=proj, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"curate {stage}: error: {proj / 'params.yaml'}: "), r.stderr
    assert message in r.stderr, r.stderr
    assert sorted(p.relative_to(proj) for p in proj.rglob("*")) == before  # no outputs, no metrics


def test_cli_paths_are_relative_to_the_params_file_not_the_working_directory(tmp_path):
    proj = _project(tmp_path)
    (proj / "params.yaml").write_text(BASE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([sys.executable, "-m", "curate.cli", "--params", str(proj / "params.yaml"), "ingest"],
                       cwd=elsewhere, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert (proj / "out/quarantine.parquet").is_file()
    assert json.loads((proj / "reports/ingest.json").read_text())["records_read"] == 1
    assert json.loads((proj / "metrics/ingest.json").read_text())["read"] == 1
    assert list(elsewhere.iterdir()) == []


def test_params_option_is_accepted_before_or_after_the_command(tmp_path):
    from curate.cli import build_parser

    ap = build_parser()
    assert ap.parse_args(["evaluate", "base"]).params == "params.yaml"
    assert ap.parse_args(["--params", "a.yaml", "evaluate", "base"]).params == "a.yaml"
    assert ap.parse_args(["evaluate", "base", "--params", "b.yaml"]).params == "b.yaml"
    # after the command wins: it is the one written last
    assert ap.parse_args(["--params", "a.yaml", "train", "raw", "--params", "b.yaml"]).params == "b.yaml"
    # and a bad file named after the command is reported like one named before it
    from curate.cli import main

    missing = str(tmp_path / "nope.yaml")
    assert main(["detect", "--params", missing]) == main(["--params", missing, "detect"]) == 2


def test_sql_and_diff_need_no_params_file(tmp_path, capsys):
    import duckdb

    from curate.cli import main

    db = tmp_path / "x.duckdb"
    duckdb.connect(str(db)).close()
    assert main(["--params", str(tmp_path / "missing.yaml"), "sql", "SELECT 41 + 1 AS n", "--db", str(db)]) == 0
    assert "42" in capsys.readouterr().out


# ------------------------------------------------------------------ shipped files and defaults

def test_shipped_params_yaml_validates_and_is_what_the_stages_read():
    raw = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    d = validate_params(raw, "params.yaml")
    assert d["dedupe"]["minhash"]["enabled"] is True and d["generate"]["target"] == 200
    # load_params from the project root keeps every path's spelling (dvc repro sees the same strings)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        p = load_params("params.yaml")
    finally:
        os.chdir(cwd)
    assert p["paths"] == {**d["paths"], **raw["paths"]}
    assert p["paths"]["raw_inputs"] == raw["paths"]["raw_inputs"]


def test_params_gpu_yaml_is_a_valid_overlay():
    """params-gpu.yaml: its sections copied over params.yaml's, or its values set one by one
    (the `dvc exp run -S key=value` lines of its header)."""
    base = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    gpu_text = (ROOT / "params-gpu.yaml").read_text(encoding="utf-8")
    gpu = yaml.safe_load(gpu_text)
    assert set(gpu) <= set(Params.model_fields)
    merged = validate_params({**base, **gpu}, "params.yaml + params-gpu.yaml")
    assert merged["train"]["num_train_epochs"] == 3 and merged["train"]["learning_rate"] == 2e-5
    assert merged["train"]["per_device_train_batch_size"] * merged["train"]["gradient_accumulation_steps"] == 128
    assert merged["train"]["sources"] == base["train"]["sources"]  # a copied section keeps the real-only data
    assert merged["evaluate"]["n_questions"] is None
    sets = re.findall(r"-S ([\w.]+)=(\S+)", gpu_text)
    assert len(sets) >= 6
    one_by_one = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    for key, value in sets:
        section, name = key.split(".")
        assert name in one_by_one[section], key
        v = yaml.safe_load(value)
        # dvc reads -S values as YAML 1.2 (2e-5 is a number) and writes 2.0e-05 into params.yaml
        one_by_one[section][name] = float(v) if isinstance(v, str) and re.fullmatch(r"[\d.]+e-?\d+", v) else v
    assert validate_params(one_by_one)["train"] == merged["train"]


def test_defaults_are_todays_effective_values():
    from curate.analysis.verbs import DEFAULT_MODEL
    from curate.generation.generate import DEFAULTS
    from curate.training import evaluate as ev
    from curate.training import sft

    d = Params().model_dump()
    assert d["seed"] == 42
    assert d["dedupe"]["rouge"] == {"enabled": True, "threshold": 0.7, "fields": ["instruction"],
                                    "include_seed_tasks": True}
    assert d["dedupe"]["embedding"]["mode"] == "cluster" and d["dedupe"]["embedding"]["threshold"] == 0.95
    assert d["dedupe"]["minhash"] == {"enabled": False, "threshold": 0.8, "num_perm": 128, "ngram": 5, "min_words": 15}
    assert d["ingest"] == {"field_map": {}, "max_field_chars": 100_000}
    assert d["detect"]["policy"] == {}  # every detector reviews (the registry's default) unless the policy escalates it
    assert d["analyze"]["model"] == DEFAULT_MODEL and d["analyze"]["batch_size"] == 256
    assert d["student"]["source"] == "smollm2-gguf" and d["repair"]["enabled"] is True
    assert TrainRun().model_dump() == sft.DEFAULT_PARAMS and sft.DEFAULT_PARAMS["learning_rate"] == 1e-4
    assert sft.DEFAULT_PARAMS["n_examples"] == 256 and sft.DEFAULT_PARAMS["max_steps"] == 16 and sft.DEFAULT_PARAMS["sources"] is None
    assert EvaluateRun().model_dump() == ev.DEFAULT_PARAMS and ev.DEFAULT_PARAMS["n_questions"] is None
    assert ev.DEFAULT_PARAMS["truthfulqa_path"] == d["paths"]["truthfulqa"]
    # generate: run_generate's own DEFAULTS without the files, which moved to `paths`
    files = {"seed_tasks", "out", "rejected", "failures", "regenerate_log"}
    want = {k: v for k, v in DEFAULTS.items() if k not in files}
    want["local"] = {k: v for k, v in DEFAULTS["local"].items() if k != "log"}
    assert Generate().model_dump() == want
    assert d["paths"]["seed_tasks"] == DEFAULTS["seed_tasks"] and d["paths"]["generated"] == DEFAULTS["out"]
    assert d["paths"]["generate_rejected"] == DEFAULTS["rejected"]
    assert d["paths"]["generate_failures"] == DEFAULTS["failures"]
    assert d["paths"]["repair_log"] == DEFAULTS["regenerate_log"]
    assert d["paths"]["local_teacher_log"] == DEFAULTS["local"]["log"]


def test_generate_gets_the_dict_run_generate_takes_with_the_files_from_paths(tmp_path):
    from curate.stages.base import generate_params
    from curate.generation.generate import DEFAULTS, resolve_params

    p = load_params(PARAMS)
    g = generate_params(p)
    assert set(g) == set(DEFAULTS) and set(g["local"]) == set(DEFAULTS["local"])
    assert (g["out"], g["rejected"], g["seed_tasks"]) == (p["paths"]["generated"], p["paths"]["generate_rejected"],
                                                          p["paths"]["seed_tasks"])
    assert g["local"]["log"] == p["paths"]["local_teacher_log"] and g["regenerate_log"] == p["paths"]["repair_log"]
    r = resolve_params(g)  # generate's own check accepts it
    assert r["sampling"]["stop"] and r["local"]["sampling"] == {"temperature": 0.7, "max_tokens": 768}
    assert r["regenerate_sampling"] == {"temperature": 0.7, "top_p": 1.0, "max_tokens": 1024}


def test_schema_knows_every_detector_and_every_constructor_argument():
    from curate.core.config import Detect, Policy
    from curate.detectors import registry

    assert not Policy.model_fields  # any name: the registry checks them, config holds no copy
    sections = set(Detect.model_fields) - {"policy"}
    opt_in = {s.name: s.cls for s in registry.specs()}  # every detector: contamination is on by default
    assert sections <= set(opt_in)  # every section belongs to a registered detector

    def arguments(cls):  # named constructor arguments other than the files from `paths`
        named = {n for n, p in inspect.signature(cls.__init__).parameters.items()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        return named - {"self"} - set(cls.files)

    for name, cls in opt_in.items():  # every detector with arguments has a section
        if arguments(cls):
            assert name in sections, name
    for name in sections:
        cls = opt_in[name]
        args = arguments(cls)
        fields = Detect.model_fields[name].annotation.model_fields
        assert set(fields) - {"enabled"} == args, name
        for k in args:  # the same defaults as the constructor
            default = inspect.signature(cls.__init__).parameters[k].default
            if default is not inspect.Parameter.empty:
                assert fields[k].default == default, (name, k)


def test_every_path_dvc_yaml_names_is_in_the_schema():
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    from curate.core.config import Paths

    used = set(re.findall(r"\$\{paths\.(\w+)\}", text)) | set(re.findall(r"- paths\.(\w+)", text))
    assert used and used <= set(Paths.model_fields)
    shipped = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))["paths"]
    assert used <= set(shipped)  # dvc interpolates from the file itself, not from the schema


# ------------------------------------------------------------------ paths and prompt names

def test_relative_paths_resolve_against_the_params_file(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "params.yaml").write_text(
        "paths: {raw_inputs: [data/a.json, 'hf:tatsu-lab/alpaca', 'https://x.org/b.json', /abs/c.json],\n"
        "        provenance: {data/a.json: data/a_prov.jsonl}, embedding_cache: null}\n"
        "generate: {prompt: prompts/mine.txt}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    p = load_params(proj / "params.yaml")
    assert p["paths"]["raw_inputs"] == [str(proj / "data/a.json"), "hf:tatsu-lab/alpaca", "https://x.org/b.json",
                                        "/abs/c.json"]
    assert p["paths"]["provenance"] == {str(proj / "data/a.json"): str(proj / "data/a_prov.jsonl")}
    assert p["paths"]["ingested"] == str(proj / "outputs/ingest/records.parquet")
    assert p["paths"]["embedding_cache"] is None
    assert p["generate"]["prompt"] == str(proj / "prompts/mine.txt")
    monkeypatch.chdir(proj)
    assert load_params("params.yaml")["paths"]["ingested"] == "outputs/ingest/records.parquet"


def test_prompt_names_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    from curate.generation.prompt import PROMPTS, load_prompt

    assert set(PROMPTS) == set(PROMPT_NAMES)
    (tmp_path / "params.yaml").write_text("generate: {prompt: pr24}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no data/seed here
    assert load_params(tmp_path / "params.yaml")["generate"]["prompt"] == "pr24"  # the name is what records record
    assert "\n9. The output should be" in load_prompt("pr24")
    assert "\n7. The output should be" in load_prompt("original")


# ------------------------------------------------------------------ library entry points validate too

def test_library_entry_points_validate_partial_sections(tmp_path):
    from curate.stages.analyze import run_analyze
    from curate.dedupe.pipeline import dedupe
    from curate.detectors.runner import build_detectors
    from curate.training.evaluate import merged_params as eval_params
    from curate.training.sft import merged_params as train_params

    t = records_table([make_record(id="r0", instruction="a", input="", output="b", source="t", source_index=0)])
    with pytest.raises(ParamsError, match=r"^dedupe\.rouge\.threshold: -0\.5 is out of range"):
        dedupe(t, {"rouge": {"threshold": -0.5}})
    with pytest.raises(ParamsError, match=r"^detect\.ifd\.checkpoint: unknown parameter"):
        build_detectors({"ifd": {"enabled": True, "checkpoint": "x"}})
    with pytest.raises(Exception, match=r"detect\.ifd is enabled but no checkpoint was given \(paths\.ifd_checkpoint\)"):
        build_detectors({"ifd": {"enabled": True}})
    with pytest.raises(ParamsError, match=r"^analyze\.batch_size: 0 is out of range"):
        run_analyze({"paths": {"ingested": str(tmp_path / "missing.parquet")}, "analyze": {"batch_size": 0}})
    with pytest.raises(ParamsError, match=r"^train\.max_length: 'long' is not an integer"):
        train_params({"max_length": "long"})
    assert train_params({"num_train_epochs": 2})["num_train_epochs"] == 2  # an int stays an int
    assert train_params({"learning_rate": 1})["learning_rate"] == 1.0  # an int is a number
    assert eval_params({"n_questions": None})["n_questions"] is None
    with pytest.raises(ParamsError, match=r"^evaluate\.n_questions: 0 is out of range"):
        eval_params({"n_questions": 0})

"""``curate <stage> --help`` lists the params keys its stage reads, with the schema's defaults
and descriptions (curate.core.config), and the stage -> params mapping behind it cannot drift
from dvc.yaml's ``params:`` lists."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from curate.cli import COMMANDS, main, param_rows, params_epilog
from curate.core.config import STAGE_SECTIONS, WHOLE_FILE, Params, validate_params
from tests.conftest import ROOT


def help_text(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


def dumped_leaves(value, prefix: str):
    """Dotted keys of the validated defaults under ``prefix`` (an empty mapping or null is a leaf)."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from dumped_leaves(v, f"{prefix}.{k}")
    else:
        yield prefix


def lookup(params: dict, key: str):
    for part in key.split("."):
        params = params[part]
    return params


def test_dedupe_help_lists_rouge_threshold_with_default_and_description(capsys):
    out = help_text(capsys, "dedupe")
    assert re.search(r"^  dedupe\.rouge\.threshold +0\.7 +ROUGE-L F1 above which a record is dropped", out, re.M), out
    assert re.search(r"^  dedupe\.minhash\.enabled +false +\S", out, re.M)  # the schema's default, not params.yaml's
    assert "--quiet" in out and "--params" in out


def test_help_after_global_options_is_the_same(capsys):
    assert help_text(capsys, "--params", "params.yaml", "dedupe") == help_text(capsys, "dedupe")


@pytest.mark.parametrize("command", [c for c, (m, _) in COMMANDS.items()
                                     if STAGE_SECTIONS.get(m) and WHOLE_FILE not in STAGE_SECTIONS[m]])
def test_every_key_of_every_listed_section_appears(capsys, command):
    out = help_text(capsys, command)
    defaults = validate_params({})
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.strip()}
    for key in STAGE_SECTIONS[COMMANDS[command][0]]:
        for leaf in dumped_leaves(lookup(defaults, key), key):
            assert leaf in listed, f"{command} --help lacks {leaf}"


def test_every_row_has_a_description_and_the_schema_default():
    defaults = validate_params({})
    for stage, keys in STAGE_SECTIONS.items():
        for key in [k for k in keys if k != WHOLE_FILE] or (list(Params.model_fields) if keys else []):
            rows = param_rows(Params, key)
            assert rows, key
            for name, default, desc in rows:
                assert desc.strip(), f"{name} has no description in curate/core/config.py"
    rows = dict((k, d) for k, d, _ in param_rows(Params, "train"))
    assert rows["train.learning_rate"] == "0.0001" and rows["train.sources"] == "null"
    assert dict((k, d) for k, d, _ in param_rows(Params, "dedupe"))["dedupe.exact.fields"] == "[instruction, input]"
    assert param_rows(Params, "repair.enabled") == [
        ("repair.enabled", json.dumps(defaults["repair"]["enabled"]), Params.model_fields["repair"]
         .annotation.model_fields["enabled"].description)]


def test_stage_sections_mirror_dvc_yaml_params():
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    dvc = {}
    for name, st in doc["stages"].items():
        body = st.get("do", st)  # foreach / matrix stages: their do: block
        dvc[name] = []
        for p in body.get("params") or []:
            if isinstance(p, dict):  # `- FILE:` (every key of FILE) or `- FILE: [keys]`
                ((file, keys),) = p.items()
                assert file == WHOLE_FILE, f"{name}: params from another file: {p}"
                dvc[name] += [WHOLE_FILE] if keys is None else list(keys)
            else:
                dvc[name].append(p)
    assert STAGE_SECTIONS == dvc, "curate.core.config.STAGE_SECTIONS and dvc.yaml's params: lists differ"


def test_every_mapped_key_exists_in_the_schema():
    for keys in STAGE_SECTIONS.values():
        for key in keys:
            if key != WHOLE_FILE:
                param_rows(Params, key)  # KeyError if not
    with pytest.raises(KeyError):
        param_rows(Params, "dedupe.rouge.treshold")


def test_stages_without_params_say_so_and_commands_without_a_stage_have_no_list(capsys):
    assert "params: none" in help_text(capsys, "detect-eval")  # a stage that reads no params
    for stage, keys in STAGE_SECTIONS.items():
        if WHOLE_FILE in keys:  # report: every section, named
            command = next(c for c, (m, _) in COMMANDS.items() if m == stage)
            assert "params: all of params.yaml" in params_epilog(command) and "dedupe" in params_epilog(command)
    for command in ("sql", "diff", "export"):
        assert params_epilog(command) is None
        assert "params (" not in help_text(capsys, command)


def test_help_is_fast_and_imports_no_heavy_library():
    code = ("import sys, time, io, contextlib\n"
            "t0 = time.perf_counter()\n"
            "from curate.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    try:\n"
            "        main(['detect', '--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "heavy = sorted(m for m in ('torch', 'transformers', 'spacy', 'sentence_transformers', 'openai',\n"
            "               'datasets', 'duckdb', 'numpy') if m in sys.modules)\n"
            "print(round(time.perf_counter() - t0, 3), heavy, 'detect.contamination.ngram' in buf.getvalue())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    seconds, rest = out.split(" ", 1)
    assert rest.strip() == "[] True", out
    assert float(seconds) < 1.0, out

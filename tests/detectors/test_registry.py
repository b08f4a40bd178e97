"""The detector registry (curate/detectors/registry.py): one declaration per detector (name,
category, order, opt-in, score unit), review by default, escalations only in detect.policy, and
the docs' detector table generated from it."""

import subprocess
import sys

import pytest
import yaml

from curate.core.config import ParamsError, load_params
from curate.core.schema import ACTIONS
from curate.detectors import registry
from curate.detectors.registry import Detector, register
from tests.conftest import ROOT

SHIPPED_POLICY = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["detect"]["policy"]

#: The action each detector gets with the shipped params.yaml (no repair teacher: repair.enabled is
#: false, so the verified wrong answers' repair_or_drop resolves to drop). Before issue 11 these were
#: the actions the registry had to preserve; issue 11 changed math_check (repair -> repair_or_drop)
#: and added the rest below.
ACTIONS_BEFORE = {
    "control_chars": "normalize", "placeholder_input": "normalize", "merged_instruction": "normalize",
    "empty_output": "drop", "cannot_fulfil": "review", "refusal": "drop", "unseeable_content": "review",
    "non_text_request": "drop", "truncated_output": "repair", "empty_code": "repair", "math_check": "drop",
    "non_english": "review", "output_mismatch": "review", "input_ignored": "review", "ifd": "review",
    "llm_judge": "review", "non_text_substitute": "keep", "missing_input": "review",
    "hallucinated_reference": "review", "computed_answer": "drop", "count_check": "drop", "order_check": "drop",
    "choice_check": "review",
}


def test_every_detector_is_declared_once_with_a_valid_unit_and_reviews_by_default():
    specs = registry.specs()
    names = [s.name for s in specs]
    assert len(names) == len(set(names)) >= 16 and set(ACTIONS_BEFORE) <= set(names)
    assert [s.order for s in specs] == sorted({s.order for s in specs})  # unique, run order
    for s in specs:
        assert s.score in registry.SCORE_UNITS and s.summary and "|" not in s.summary, s.name
        assert s.default_action == registry.DEFAULT_ACTION == "review"
        assert (s.cls.name, s.cls.category) == (s.name, s.category) and issubclass(s.cls, Detector)
        assert 0 <= s.cls.confidence <= 1
        assert s.cls.__doc__ and len(s.cls.__doc__) > 100, s.name
    assert registry.get("refusal").cls.__name__ == "Refusal"
    with pytest.raises(KeyError, match="no detector 'nope'; known: "):
        registry.get("nope")


def test_new_detectors_run_in_order_with_their_categories():
    by_name = {s.name: s for s in registry.specs()}
    names = [s.name for s in registry.specs() if not s.opt_in]
    actions = registry.resolve_policy(SHIPPED_POLICY)
    assert names.index("truncated_output") < names.index("empty_code") < names.index("math_check") < names.index("non_english")
    assert names.index("cannot_fulfil") < names.index("refusal")      # the specific non-answer first
    assert names.index("merged_instruction") < names.index("truncated_output")  # judge the cut output
    # (category, action with the shipped params.yaml); the action of math_check and empty_code
    # was review by default and repair by policy, as it still is
    for name, category, action in [("truncated_output", "truncated_output", "repair"), ("refusal", "refusal", "drop"),
                                   ("non_english", "non_english", "review"), ("math_check", "wrong_math", "drop"),
                                   ("empty_code", "empty_code", "repair")]:
        d = by_name[name]
        assert (d.category, actions[name]) == (category, action)
        assert d.cls.__doc__ and len(d.cls.__doc__) > 300


def test_shipped_policy_resolves_every_detector_to_its_action_before_the_registry():
    policy = load_params(ROOT / "params.yaml")["detect"]["policy"]
    actions = registry.resolve_policy(policy)
    assert {n: actions[n] for n in ACTIONS_BEFORE} == ACTIONS_BEFORE
    # every escalation is written in params.yaml, none is left to code
    assert all(n in SHIPPED_POLICY for n, a in ACTIONS_BEFORE.items() if a != "review")
    # with a repair teacher (repair.enabled), every repair_or_drop detector repairs instead
    with_teacher = registry.resolve_policy(policy, teacher=True)
    wrong = [n for n, a in SHIPPED_POLICY.items() if a == "repair_or_drop"]
    assert "math_check" in wrong
    assert all(with_teacher[n] == "repair" and actions[n] == "drop" for n in wrong)
    assert {n: a for n, a in with_teacher.items() if n not in wrong} == {n: a for n, a in actions.items() if n not in wrong}


def test_policy_values_and_names():
    assert registry.resolve_policy(None)["empty_output"] == "review"
    assert registry.resolve_policy({"empty_output": None})["empty_output"] == "review"  # null = the default
    assert registry.resolve_policy({"empty_output": "keep"})["empty_output"] == "keep"
    with pytest.raises(ParamsError, match=r"^detect\.policy\.empty_output: unknown action 'delete' \(expected "
                                          + ", ".join(ACTIONS) + r", repair_or_drop or null\)$"):
        registry.resolve_policy({"empty_output": "delete"})
    with pytest.raises(ParamsError, match=r"^detect\.policy\.zzz: unknown detector 'zzz' \(known: \w+"):
        registry.resolve_policy({"zzz": "drop"})
    assert registry.resolve_policy({"double": "drop"}, ("double",))["double"] == "drop"  # a test double


def test_unknown_policy_name_is_rejected_when_building(tmp_path):
    """Moved from tests/core/test_config.py: the schema takes any name (it holds no copy of the
    detector names); the registry rejects it, in one line naming the key and the known names."""
    p = tmp_path / "params.yaml"
    p.write_text("detect: {policy: {refusals: drop}}\n", encoding="utf-8")
    d = load_params(p)["detect"]
    assert d["policy"] == {"refusals": "drop"}
    with pytest.raises(ParamsError) as e:
        registry.enabled(d)
    msg = str(e.value)
    assert msg.startswith("detect.policy.refusals: unknown detector 'refusals', did you mean 'refusal'? (known: ")
    assert "\n" not in msg and all(n in msg for n in ACTIONS_BEFORE)


def test_opt_in_switches():
    default = [s.name for s in registry.enabled({})]
    assert default == [s.name for s in registry.specs() if not s.opt_in] == list(registry.categories({}))
    # a detector with a section in core/config.py is switched by its `enabled`; a policy line only
    # sets the action it would get
    assert "output_mismatch" in registry.sections()
    assert "output_mismatch" not in [s.name for s in registry.enabled({"policy": {"output_mismatch": "review"}})]
    assert [s.name for s in registry.enabled({"output_mismatch": {"enabled": True}})][-1] == "output_mismatch"
    # one without a section (no constructor arguments) is switched on by a policy line
    plain = [s.name for s in registry.specs() if s.opt_in and s.name not in registry.sections()]
    for name in plain:
        assert name not in default
        assert name in [s.name for s in registry.enabled({"policy": {name: "review"}})]
        assert name not in [s.name for s in registry.enabled({"policy": {name: None}})]


def test_categories_cover_what_detect_eval_reads():
    assert registry.categories()["math_check"] == "wrong_math" and len(registry.categories()) == len(registry.specs())
    # with the shipped params: every detector that is not opt-in
    cats = registry.categories(load_params(ROOT / "params.yaml")["detect"])
    assert list(cats)[:4] == ["contamination", "control_chars", "placeholder_input", "merged_instruction"]
    assert list(cats) == [s.name for s in registry.specs() if not s.opt_in] and cats["contamination"] == "contamination"
    assert cats["missing_input"] == "unclear_instruction" and cats["hallucinated_reference"] == "hallucination"
    assert cats["cannot_fulfil"] == cats["refusal"] == "refusal"


def test_register_rejects_an_unknown_unit_and_a_second_class_under_a_name():
    with pytest.raises(ValueError, match="unknown score unit 'percent'"):
        register("x_test", category="x", order=9999, score="percent", summary="x")
    with pytest.raises(ValueError, match="detector 'refusal' is registered twice"):
        @register("refusal", category="refusal", order=9998, score="strength", summary="x")
        class Impostor(Detector):
            pass


def test_docs_table_is_the_registry_table():
    table = registry.markdown_table(SHIPPED_POLICY)
    docs = (ROOT / "docs/detectors.md").read_text(encoding="utf-8")
    assert table in docs, "regenerate it: python -m curate.detectors.registry --markdown --params params.yaml"
    r = subprocess.run([sys.executable, "-m", "curate.detectors.registry", "--markdown", "--params", "params.yaml"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout == table, r.stderr[-2000:]

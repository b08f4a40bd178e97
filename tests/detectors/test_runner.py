"""The runner (curate/detectors/runner.py): detect() applies the policy's actions and chains
normalisations; build_detectors() builds what the params enable, in run order, with their files."""

import pytest

from curate.core.config import ParamsError
from curate.core.errors import CurateError
from curate.core.schema import make_record, records_table
from curate.detectors import registry
from curate.detectors.registry import Detector, Finding
from curate.detectors.runner import build_detectors, detect


def _table(rows):
    return records_table([make_record(id=f"r{i}", source="t", source_index=i, **r) for i, r in enumerate(rows)])


PHOTO = [{"instruction": "Describe the following photo.", "input": "<noinput>", "output": "A dog on a beach."},
         {"instruction": "Name a fruit.", "input": "", "output": "Apple."}]


def test_detect_applies_policy_and_chains_normalisation():
    ann, m = detect(_table(PHOTO), policy={"placeholder_input": "normalize", "unseeable_content": "review"})
    got = [(a["id"], a["check_name"], a["action"]) for a in ann.to_pylist()]
    # the placeholder is normalised first, so the photo then has no input at all
    assert got == [("r0", "placeholder_input", "normalize"), ("r0", "unseeable_content", "review")]
    assert m["flagged_by_check"]["unseeable_content"] == 1 and m["records_flagged"] == 1


def test_without_a_policy_every_finding_is_review_and_nothing_is_normalised():
    ann, _ = detect(_table(PHOTO))
    got = [(a["id"], a["check_name"], a["action"]) for a in ann.to_pylist()]
    # "<noinput>" stays the input (review does not rewrite), so the photo is not "missing"
    assert got == [("r0", "placeholder_input", "review")]


def test_detect_rejects_unknown_policy():
    with pytest.raises(CurateError, match="unknown action 'delete'"):
        detect(_table([]), policy={"empty_output": "delete"})
    with pytest.raises(CurateError, match="unknown detector 'typo'"):
        detect(_table([]), policy={"typo": "drop"})


def test_default_detectors_are_the_registered_rules_in_order():
    names = [d.name for d in build_detectors({})]
    assert names == [s.name for s in registry.specs() if not s.opt_in]
    assert names[:4] == ["contamination", "control_chars", "placeholder_input", "merged_instruction"]
    assert {"missing_input", "hallucinated_reference", "non_text_substitute"} <= set(names)
    assert [d.name for d in build_detectors(None)] == names
    # build_detectors gives new instances each time: prepared state is never shared between runs
    assert build_detectors({})[0] is not build_detectors({})[0]


def test_opt_in_detectors_get_their_arguments_and_files(tmp_path):
    dets = build_detectors({"output_mismatch": {"enabled": True, "threshold": 0.2},
                            "ifd": {"enabled": True, "batch_size": 2}},
                           str(tmp_path / "emb.parquet"), ifd_checkpoint=str(tmp_path / "ckpt"))
    by_name = {d.name: d for d in dets}
    assert [d.name for d in dets][-2:] == ["output_mismatch", "ifd"]
    assert by_name["output_mismatch"].threshold == 0.2
    assert by_name["output_mismatch"].cache_path == str(tmp_path / "emb.parquet")
    assert str(by_name["ifd"].checkpoint) == str(tmp_path / "ckpt") and by_name["ifd"].batch_size == 2
    # the embedding cache is optional (None = no cache); the judge's cache is not
    assert build_detectors({"input_ignored": {"enabled": True}})[-1].cache_path is None
    with pytest.raises(CurateError, match=r"^detect\.llm_judge is enabled but no cache_path was given \(paths\.judge_cache\)$"):
        build_detectors({"llm_judge": {"enabled": True, "base_url": "http://127.0.0.1:9/v1", "model": "m"}})


def test_build_rejects_an_unknown_policy_name_in_one_line():
    with pytest.raises(ParamsError) as e:
        build_detectors({"policy": {"refusals": "drop"}})
    msg = str(e.value)
    assert msg.startswith("detect.policy.refusals: unknown detector 'refusals', did you mean 'refusal'? (known: ")
    assert "\n" not in msg and "control_chars" in msg and "llm_judge" in msg


def test_an_unregistered_detector_runs_with_its_policy_action():
    class Shout(Detector):  # a test double, not registered
        name, category = "shout", "other"

        def check(self, rec):
            return Finding(1.0, "all caps") if rec["output"].isupper() else None

    ann, m = detect(_table([{"instruction": "Say hi.", "input": "", "output": "HI"}]), {"shout": "drop"}, [Shout()])
    assert [(a["check_name"], a["action"], a["category"]) for a in ann.to_pylist()] == [("shout", "drop", "other")]
    assert m["flagged_by_check"] == {"shout": 1}


def test_metrics_of_detectors_that_saw_parts_merge_to_the_whole(sample_records):
    """executor: ray runs fresh detectors per batch; merged per-detector counts equal one run's."""
    from curate.detectors.registry import sum_counts

    assert sum_counts([{"a": 1, "b": {"c": 2}, "s": "x"}, {"a": 2, "b": {"c": 1, "d": 1}, "s": "y"}]) == \
        {"a": 3, "b": {"c": 3, "d": 1}, "s": "x"}
    rows = records_table([make_record(id=f"s{i}", source="t", source_index=i, **r) for i, r in enumerate(sample_records)])
    whole = {d.name: d for d in build_detectors({})}
    detect(rows, None, list(whole.values()))
    parts = [build_detectors({}) for _ in range(3)]
    for k, dets in enumerate(parts):
        detect(rows.slice(k * 34, 34), None, dets)
    for name, d in whole.items():
        got = [x for dets in parts for x in [next(p for p in dets if p.name == name).metrics()] if x is not None]
        if d.metrics() is not None:
            assert type(d).merge_metrics(got) == d.metrics(), name

"""The ablation's stages fail loudly, with one line naming what is missing, before any work."""

from __future__ import annotations

import pytest

from curate.cli import main
from curate.core.config import validate_params
from curate.core.errors import CurateError
from curate.core.schema import make_record, records_table, write_parquet
from curate.stages import evaluate, probes, train
from curate.stages.base import Context


def _ctx(tmp_path, **sections):
    return Context(validate_params({"paths": {k: str(tmp_path / v) for k, v in {
        "ingested": "in.parquet", "clean": "clean.parquet", "probes": "probes.parquet",
        "models": "models", "eval": "eval"}.items()}, **sections}), tmp_path)


def _records(path, texts):
    rows = [make_record(id=f"r{i}", instruction=t, input="", output="ok", source="a.json", source_index=i)
            for i, t in enumerate(texts)]
    write_parquet(records_table(rows), path)


def test_evaluate_rejects_bad_names_and_missing_models(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(CurateError, match="not base or ARM-sSEED"):
        evaluate.run(ctx, "raw")
    with pytest.raises(CurateError, match="no such model"):
        evaluate.run(ctx, "clean-s1")
    assert not (tmp_path / "reports").exists()  # nothing written for a failed stage


def test_train_needs_its_inputs_and_a_known_arm(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(CurateError, match="unknown arm"):
        train.run(ctx, "best")
    with pytest.raises(CurateError, match="run `curate ingest` first"):
        train.run(ctx, "raw", seed=1)
    _records(tmp_path / "in.parquet", ["Say hi."])
    _records(tmp_path / "clean.parquet", ["Say hi."])
    with pytest.raises(CurateError, match="run `curate probes` first"):
        train.run(ctx, "raw", seed=1)


def test_probes_takes_what_a_small_set_has_and_fails_on_none(tmp_path):
    ctx = _ctx(tmp_path, probes={"per_kind": 2})
    _records(tmp_path / "in.parquet", ["Summarize the article at https://example.com/a/1", "What is 12 * 7?",
                                       "Write a poem about the sea."])
    m = probes.run(ctx)
    assert m["by_kind"] == {"url": 1, "attachment": 0, "visual": 0, "computable": 1}
    assert set(m["short_kinds"]) == {"url", "attachment", "visual", "computable"}
    assert [r["id"] for r in probes.read_probes(tmp_path / "probes.parquet")] == ["r0", "r1"]
    _records(tmp_path / "in.parquet", ["Write a poem about the sea."])
    with pytest.raises(CurateError, match="no record of train.sources"):
        probes.run(ctx)


def test_cli_train_takes_an_arm_and_a_seed(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "best"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
    (tmp_path / "params.yaml").write_text("paths: {ingested: nope.parquet}\n")
    assert main(["--params", str(tmp_path / "params.yaml"), "train", "kept_matched", "--seed", "3"]) == 2
    assert "nope.parquet: no such file" in capsys.readouterr().err

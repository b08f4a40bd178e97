"""Progress bars (curate.core.progress): on stderr with a rate when enabled, silent when quiet
(``--quiet`` before or after the command, ``CI=true``/``1``, ``CURATE_QUIET=1``), and never a
change to what the code computes."""

import io
import os

import pytest

from curate.cli import main
from curate.core.progress import progress, quiet


@pytest.fixture
def loud(monkeypatch):
    """Bars enabled whatever the environment running the tests says."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("CURATE_QUIET", raising=False)


def drain(bar_iter) -> list:
    out = list(bar_iter)
    bar_iter.close()
    return out


@pytest.mark.parametrize("env, expected", [
    ({}, False), ({"CI": "true"}, True), ({"CI": "1"}, True), ({"CI": "TRUE "}, True),
    ({"CI": "false"}, False), ({"CI": "0"}, False), ({"CI": ""}, False),
    ({"CURATE_QUIET": "1"}, True), ({"CURATE_QUIET": "0"}, False),
])
def test_quiet_comes_from_ci_or_curate_quiet(loud, monkeypatch, env, expected):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert quiet() is expected


def test_enabled_bar_shows_records_per_second(loud):
    buf = io.StringIO()
    assert drain(progress(range(50), desc="dedupe minhash", file=buf, mininterval=0)) == list(range(50))
    text = buf.getvalue()
    assert "dedupe minhash" in text and "50/50" in text and "record/s" in text, text


def test_manual_bar_counts_updates_and_goes_to_stderr(loud, capsys):
    with progress(total=10, desc="train", unit="step") as bar:
        bar.update(4)
        bar.update(6)
    cap = capsys.readouterr()
    assert cap.out == ""
    assert "train" in cap.err and "10/10" in cap.err and "step/s" in cap.err, cap.err


@pytest.mark.parametrize("var, value", [("CI", "true"), ("CI", "1"), ("CURATE_QUIET", "1")])
def test_quiet_environment_disables_the_bar(loud, monkeypatch, capsys, var, value):
    monkeypatch.setenv(var, value)
    bar = progress(range(20), desc="detect", mininterval=0)
    assert bar.disable
    assert drain(bar) == list(range(20))
    assert capsys.readouterr().err == ""


def test_enabled_false_disables_the_bar(loud, capsys):
    assert drain(progress(range(3), desc=None, enabled=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["--quiet", "clean"], ["clean", "--quiet"]])
def test_cli_quiet_flag_before_or_after_the_command_sets_curate_quiet(loud, tmp_path, capsys, argv):
    missing = str(tmp_path / "missing.yaml")  # the stage stops at once; the flag is seen first
    assert main([*argv, "--params", missing]) == 2
    assert os.environ.get("CURATE_QUIET") == "1" and quiet()


def test_cli_without_quiet_leaves_the_environment(loud, tmp_path, capsys):
    assert main(["clean", "--params", str(tmp_path / "missing.yaml")]) == 2
    assert "CURATE_QUIET" not in os.environ and not quiet()


def test_bars_change_no_result(loud, monkeypatch, capsys, sample_records):
    """The dedupe filters give the same decisions with bars shown and with bars off."""
    from curate.core.rouge import greedy_filter
    from curate.dedupe.minhash import minhash_filter

    texts = [r["instruction"] for r in sample_records] * 2
    outputs = [r["output"] for r in sample_records] * 2
    shown = (greedy_filter(texts, 0.7, desc="dedupe rouge_l"), minhash_filter(outputs, desc="dedupe minhash"))
    err = capsys.readouterr().err
    assert "dedupe rouge_l" in err and "dedupe minhash" in err
    monkeypatch.setenv("CI", "true")
    off = (greedy_filter(texts, 0.7, desc="dedupe rouge_l"), minhash_filter(outputs, desc="dedupe minhash"))
    assert capsys.readouterr().err == ""
    assert shown == off
    assert shown == (greedy_filter(texts, 0.7), minhash_filter(outputs))  # and without a bar at all


def test_detect_annotations_identical_with_and_without_bars(loud, monkeypatch, capsys, sample_records):
    import pyarrow as pa

    from curate.core.schema import RECORD_SCHEMA
    from curate.detectors.runner import detect

    rows = [{"id": f"r{i}", "instruction": r["instruction"], "input": r["input"], "output": r["output"],
             "source": "t", "source_index": i, "meta": "{}"} for i, r in enumerate(sample_records)]
    table = pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)
    shown, _ = detect(table)
    assert "detect" in capsys.readouterr().err
    monkeypatch.setenv("CURATE_QUIET", "1")
    off, _ = detect(table)
    assert capsys.readouterr().err == ""
    assert shown.equals(off)


def test_embedding_bar_counts_rows_and_changes_no_vector(loud, monkeypatch, capsys):
    """The bar counts each encoder batch as it is done: vectors are bit-identical to a run
    without it, and to the batches of ``encoder_batches`` encoded directly."""
    import numpy as np

    from curate.core.schema import text_hash
    from curate.models import embedder

    texts = [f"Write a {w} poem about the ocean." for w in ("short", "long", "sad", "happy", "free-verse")] * 3
    shown = embedder.embed(texts, None, batch_size=4, desc="dedupe embedding (prompt)")
    err = capsys.readouterr().err
    assert "dedupe embedding (prompt)" in err and "5/5" in err, err  # 5 distinct texts encoded
    plain = embedder.embed(texts, None, batch_size=4, desc=None)
    assert capsys.readouterr().err == ""
    assert np.array_equal(shown, plain)
    model = embedder.load_model()
    todo = sorted({text_hash(t): t for t in texts}.items())  # what embed() encodes, in its order
    batches = embedder.encoder_batches([t for _, t in todo], 4)
    assert [len(b) for b in batches] == [4, 1]
    by_text = {t: v for b in batches for t, v in zip(b, model.encode(b, batch_size=4, normalize_embeddings=True,
                                                                     convert_to_numpy=True, show_progress_bar=False))}
    assert np.array_equal(plain, np.stack([by_text[t] for t in texts]))

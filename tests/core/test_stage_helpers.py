"""The helpers generation and repair share from core: one-line error quoting, counter
summaries, and StageFailed carrying the run's metrics."""

from collections import Counter

from curate.core.errors import CurateError, StageFailed
from curate.core.text import format_counts, oneline


def test_oneline_collapses_whitespace_and_cuts_with_dots():
    assert oneline("a\n  b\tc ") == "a b c"
    assert oneline(ValueError("x  y")) == "x y"
    long = oneline("word " * 100)
    assert len(long) == 300 and long.endswith("...")
    assert oneline("abcdef", limit=5) == "ab..." and oneline("abcde", limit=5) == "abcde"


def test_format_counts_most_common_first():
    assert format_counts(Counter(http_500=2, rate_limit=6)) == "rate_limit 6, http_500 2"
    assert format_counts({"a": 1, "b": 1}) == "a 1, b 1"  # ties keep insertion order
    assert format_counts({}) == "none"


def test_stage_failed_is_a_curate_error_with_metrics():
    e = StageFailed("generate: no record accepted", {"accepted": 0})
    assert isinstance(e, CurateError) and str(e) == "generate: no record accepted"
    assert e.metrics == {"accepted": 0} and StageFailed("x").metrics is None

"""curate.core.text: the exact-duplicate key and the clipping/quoting of evidence in reasons."""

import pytest

from curate.core.text import clip, normalize_text, quote


def test_normalize_text_is_the_exact_dedupe_key():
    assert normalize_text("  Name  a\nColour\t") == "name a colour"
    assert normalize_text("A\u00a0B") == "a b"  # re's \s is Unicode whitespace: no-break space too
    assert normalize_text("") == ""


def test_clip_start_end_and_collapse():
    assert clip("short", 10) == "short"
    assert clip("one  two\nthree", 100) == "one two three"
    assert clip("abcdefghij", 5) == "abcd…" and len(clip("abcdefghij", 5)) == 5
    assert clip("abcdefghij", 5, keep="end") == "…ghij"
    assert clip("a  b", 100, collapse=False) == "a  b"
    with pytest.raises(ValueError, match="keep"):
        clip("abcdefghij", 5, keep="middle")


def test_quote_is_a_repr_of_the_clipped_text():
    assert quote("Describe the attached photo.") == "'Describe the attached photo.'"
    assert quote("x" * 100, 10) == repr("x" * 9 + "…")
    assert quote("it's") == '"it\'s"'

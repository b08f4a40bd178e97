"""Unseeable-content detectors (curate/detectors/unseeable.py) on real Alpaca records: answers
about a URL's page or an attached picture written as if seen, and requests for images, logos or
video; honest, textual and caption records are left alone."""

from curate.detectors import unseeable as D
from tests.conftest import find, by_instruction as _inst


def _rec(real_data, instruction, input=None):
    return find(real_data, lambda r: r["instruction"] == instruction and (input is None or r["input"] == input))


def test_url_whose_page_the_answer_pretends_to_have_read(real_data):
    rec = _rec(real_data, "Summarize the article on the link")
    f = D.UnseeableContent().check(rec)
    assert f.reason.startswith("input points at a URL 'https://www.nytimes.com/2019/07/14/")
    assert f.reason.endswith("describes it as if seen")


def test_attached_photo_and_following_painting_with_no_input(real_data):
    rec = _rec(real_data, "Describe what you see in this photo.", "<Photo Attached>")
    assert "refers to an attachment '<Photo Attached>'" in D.UnseeableContent().check(rec).reason
    rec = _rec(real_data, "Analyze the following painting and describe its elements in three sentences.", "")
    assert D.UnseeableContent().check(rec).reason.startswith("instruction refers to 'following painting' but no input is given")


def test_unseeable_content_leaves_honest_or_textual_records_alone(real_data):
    # the painting is named in text: a text model can answer
    rec = _rec(real_data, "Classify the following painting into an art movement.")
    assert D.UnseeableContent().check(rec) is None
    # the answer admits it cannot see the link
    assert D.UnseeableContent().check({"instruction": "Summarize the article.", "input": "https://x.org/a",
                                       "output": "I cannot access external links."}) is None
    # a task about the URL string itself, not the page
    assert D.UnseeableContent().check({"instruction": "Extract the domain name from the URL.",
                                       "input": "https://www.example.com/page", "output": "example.com"}) is None


def test_non_text_requests(real_data):
    rec = _rec(real_data, "Design a logo for a new coffee shop.")
    assert D.NonTextRequest().check(rec).reason == "instruction asks for non-text output: 'Design a logo'"
    rec = _rec(real_data, "Generate a cartoon drawing of a cat.")
    assert D.NonTextRequest().check(rec).reason == "instruction asks for non-text output: 'Generate a cartoon drawing'"
    # lyrics, character sketches, "illustrate how" and descriptions of paintings are text
    for inst in ["Generate lyrics for a romantic love song", "Create a character sketch for an animator in a few sentences.",
                 "Illustrate how to make a chocolate sundae.", "Illustrate the given proverb with an example. Output the example directly.",
                 "Create a descriptive phrase for a painting featuring a forest in sunset"]:
        assert D.NonTextRequest().check(_rec(real_data, inst)) is None, inst


def test_dev_set_false_positive_stays_fixed(real_data):
    """A false positive found on the labelled dev set: a caption request mistaken for an image
    request."""
    rec = _inst(real_data, "Generate a photo caption for this photo")
    assert D.NonTextRequest().check(rec) is None
    assert D.NonTextRequest().check(dict(rec, instruction="Generate a photo of a sunrise over a forest")) is not None

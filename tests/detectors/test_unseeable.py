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


def test_url_answer_readable_from_the_link_text_is_left_alone():
    # every word the output uses is in the URL path: readable, not hallucinated
    rec = {"instruction": "Identify the name of the artist who created this painting.",
           "input": "https://upload.wikimedia.org/wikipedia/commons/3/33/Vincent_van_Gogh_Starry_Night.jpg",
           "output": "Vincent van Gogh"}
    assert D.UnseeableContent().check(rec) is None
    rec = {"instruction": "Classify the type of article in a given URL",
           "input": "https://www.nytimes.com/2021/06/07/fashion/supreme-top-level.html", "output": "Fashion Article."}
    assert D.UnseeableContent().check(rec) is None
    # the output claims content beyond the link text: flagged, and the reason names the extra words
    rec = dict(rec, instruction="Summarize the given article.",
               output="The article reports that the streetwear brand doubled its revenue after a luxury takeover.")
    f = D.UnseeableContent().check(rec)
    assert "the output uses 8 words the link text does not carry (e.g. 'reports', 'streetwear', 'brand', 'doubled')" in f.reason


def test_angle_bracket_media_placeholders(real_data):
    for inp in ["<image of a train station>", "<link to article>", "< insert photograph here>",
                "<audio of two people speaking>"]:
        rec = {"instruction": "Describe what it shows.", "input": inp, "output": "It shows a busy scene at dusk."}
        assert "refers to an attachment" in D.UnseeableContent().check(rec).reason, inp
    # HTML in the input is code, not an attachment
    rec = {"instruction": "Fix the HTML.", "input": '<link rel="stylesheet" href="a.css">', "output": "ok"}
    assert D.UnseeableContent().check(rec) is None


def test_non_text_requests(real_data):
    nt, sub = D.NonTextRequest(), D.NonTextSubstitute()
    rec = _rec(real_data, "Generate a cartoon drawing of a cat.")
    assert nt.check(rec).reason.startswith("instruction asks for non-text output: 'Generate a cartoon drawing'; "
                                           "output gives no usable text substitute: 'No output as GPT")
    assert sub.check(rec) is None
    for inst, shown in [("Create a flow chart to illustrate the customer purchase journey.", "'[Flow Chart]'"),
                        ("Design a logo for a tech startup. Output a visual logo design.", "'<A visual logo design>'")]:
        assert nt.check(_rec(real_data, inst)).reason.endswith(f"no usable text substitute: {shown}"), inst
    # a usable text substitute: kept by the shipped policy, and the reason says which
    rec = _rec(real_data, "Design a logo for a new coffee shop.")
    assert nt.check(rec) is None
    assert sub.check(rec).reason.startswith("instruction asks for non-text output: 'Design a logo'; output gives a "
                                            "usable text substitute: a ")
    rec = _rec(real_data, "Create a chart outlining the world's population from 2000-2015.")
    assert sub.check(rec).reason.endswith("usable text substitute: a table or code")
    # lyrics, character sketches, titles and lists about media, "illustrate how" and descriptions of paintings are text
    for inst in ["Generate lyrics for a romantic love song", "Create a character sketch for an animator in a few sentences.",
                 "Illustrate how to make a chocolate sundae.", "Illustrate the given proverb with an example. Output the example directly.",
                 "Create a descriptive phrase for a painting featuring a forest in sunset",
                 "Generate a creative title for a podcast episode."]:
        r = _rec(real_data, inst)
        assert nt.check(r) is None and sub.check(r) is None, inst


def test_dev_set_false_positive_stays_fixed(real_data):
    """A false positive found on the labelled dev set: a caption request mistaken for an image
    request."""
    rec = _inst(real_data, "Generate a photo caption for this photo")
    assert D.NonTextRequest().check(rec) is None and D.NonTextSubstitute().check(rec) is None
    photo = dict(rec, instruction="Generate a photo of a sunrise over a forest")
    assert D.NonTextRequest().check(photo) is not None or D.NonTextSubstitute().check(photo) is not None

"""Embedding detectors (curate/detectors/embedding.py): output/prompt mismatch and ignored input with
all-MiniLM-L6-v2, their exemptions, and the length-keyed embedding cache."""

import pyarrow as pa
import pytest

from curate.detectors import embedding as S
from curate.core.schema import RECORD_SCHEMA


def table(recs):
    rows = [{"id": r.get("id", f"r{i}"), "instruction": r["instruction"], "input": r.get("input", ""),
             "output": r["output"], "source": "t", "source_index": i, "meta": "{}"}
            for i, r in enumerate(recs)]
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


def rec(instruction, input, output, id):
    return {"id": id, "instruction": instruction, "input": input, "output": output}


# ---------------------------------------------------------------- cheap helpers


@pytest.mark.parametrize("instruction,input,output,why", [
    ("Classify the sentiment of the review.", "I loved it", "Positive", "short"),
    ("Is the statement true or false?", "The sun is cold.", "False.", "short"),
    ("Add the numbers.", "12,345.67 and 89.1", "12,345.67 + 89.1 = 12,434.77", "number"),
    ("Choose the best title: 'A Day at Sea' or 'The Long Road Home'.", "", "The Long Road Home.", "label"),
    ("Pick the odd one out.", "the blue whale, the great white shark, the tuna", '"The great white shark"', "label"),
    ("Explain photosynthesis.", "", "Plants turn light, water and CO2 into sugar and oxygen.", None),
    ("Name a long river.", "", "The Long Road Home", None),  # 4 words, not offered in the prompt
])
def test_short_or_label_answer(instruction, input, output, why):
    assert S.short_or_label_answer(rec(instruction, input, output, "x"), 4) == why


def test_short_answer_that_is_an_offered_label():
    r = rec("Is the statement true or false?", "The sun is cold.", "False.", "x")
    assert S.short_or_label_answer(r, 1) == "label"
    assert S.short_or_label_answer(dict(r, output="Maybe."), 1) is None


def test_task_type_and_content_words():
    assert S.task_type("Rewrite the following sentence in passive voice.") == "recode"
    assert S.task_type("Rewrite the following sentence to make it more formal.") == "transform"
    assert S.task_type("Summarize the given article in two sentences.") == "transform"
    assert S.task_type("Translate the sentence into French.") == "recode"
    assert S.task_type("Decipher the message using a substitution cipher.") == "recode"
    assert S.task_type("Make a list of 5 books suitable for the given audience.") == "other"
    assert S.task_type("Add a humorous punchline to the following joke.") == "other"
    assert S.task_type("Classify the following animal as a mammal or a reptile.") == "classify"
    assert S.task_type("Identify the main idea of the text and rewrite it.") == "classify"
    assert S.task_type("Write a story about the given character.") == "other"
    assert S.content_words("The summarized summary of the Cats!") == {"summar", "cats"}


def test_cache_for_keeps_truncated_vectors_apart(tmp_path):
    p = tmp_path / "embeddings.parquet"
    assert S.cache_for(p, None) == p and S.cache_for(p, 256) == p
    assert S.cache_for(p, 128) == tmp_path / "embeddings.msl128.parquet"
    assert S.cache_for(None, 128) is None
    with pytest.raises(ValueError):
        S.embed_texts(["x"], None, max_seq_length=0)


# ---------------------------------------------------------------- MiniLM detectors on real records

from tests.conftest import find  # noqa: E402


@pytest.fixture(scope="module")
def real_cases(real_data):
    """A handful of real records, each picked for what the detectors must do with it."""
    pick = lambda pred, id: dict(find(real_data, pred), id=id)  # noqa: E731
    return {
        # output is a bullet summary of a CNN article on TV ad spending, not of the named article
        "mismatch": pick(lambda r: r["instruction"].startswith(
            "Create an example input for the following task - Summarize"), "mismatch"),
        # its correct neighbour: a title for that CNN article
        "neighbour": pick(lambda r: r["instruction"] == "Come up with an appropriate title for the following document."
                          and r["input"].startswith("WASHINGTON (CNN) -- A wide-open presidential race"), "neighbour"),
        # open-ended generation: dissimilar to its prompt by design
        "open_ended": pick(lambda r: r["instruction"] ==
                           "Compose a voiceover script in the style of a travel advertisement.", "open_ended"),
        # a non-answer that never engages with the input
        "ignored": pick(lambda r: r["instruction"] == "Render the given text into an audible version.", "ignored"),
        # paraphrases sharing no content word with the input: only the embedding says they are fine
        "paraphrase": pick(lambda r: r["instruction"] == "Rewrite the sentence using different phraseology"
                           and r["input"].startswith("Humans are directly"), "paraphrase"),
        "paraphrase2": pick(lambda r: r["instruction"] == "Rewrite the given passage using new vocabulary words."
                            and r["input"].startswith("The ship shifted"), "paraphrase2"),
        "label": rec("Classify the sentiment of the following review as positive or negative.",
                     "The food was cold and the waiter was rude.", "Negative", "label"),
    }


@pytest.fixture(scope="module")
def prepared(real_cases, tmp_path_factory):
    cache = tmp_path_factory.mktemp("emb") / "embeddings.parquet"
    t = table(list(real_cases.values()))
    om, ii = S.OutputMismatch(cache), S.InputIgnored(cache)
    om.prepare(t)
    ii.prepare(t)
    return om, ii, cache, t


def test_output_mismatch_flags_the_wrong_answer_not_its_neighbour(real_cases, prepared):
    om, _, _, _ = prepared
    f = om.check(real_cases["mismatch"])
    assert f is not None and f.score < 0.1 and "Mitt Romney" in f.reason and "cosine" in f.reason
    assert om.similarity["neighbour"] > 0.5 and om.check(real_cases["neighbour"]) is None
    # low similarity but exempt: open-ended generation and an offered label
    assert om.similarity["open_ended"] < 0.1 and om.check(real_cases["open_ended"]) is None
    assert om.check(real_cases["label"]) is None
    assert S.mismatch_exemption(real_cases["open_ended"], 4) == "open_ended"
    # the same output under its neighbour's prompt is no longer a mismatch: the signal is the pairing
    swapped = dict(real_cases["mismatch"], instruction=real_cases["neighbour"]["instruction"],
                   input=real_cases["neighbour"]["input"])
    p, o = S.embed_texts([S.prompt_text(swapped), swapped["output"]], None, max_seq_length=128)
    assert float(p @ o) > 0.5


def test_input_ignored_flags_non_answer_not_paraphrases(real_cases, prepared):
    _, ii, _, _ = prepared
    f = ii.check(real_cases["ignored"])
    assert f is not None and "0% of the input's content words" in f.reason
    for k in ("paraphrase", "paraphrase2"):
        s = ii.signals(real_cases[k])
        assert s["task"] == "transform" and s["overlap"] == 0.0 and s["similarity"] > 0.5
        assert ii.check(real_cases[k]) is None
    assert ii.check(real_cases["label"]) is None and ii.check(real_cases["open_ended"]) is None
    # an input emptied by a normalising detector: nothing to ignore
    assert ii.check(dict(real_cases["ignored"], input="")) is None


def test_embeddings_are_cached_by_length(real_cases, prepared, monkeypatch):
    om, _, cache, t = prepared
    assert cache.is_file() and S.cache_for(cache, 128).is_file()
    from curate.models import embedder as embed_mod
    assert embed_mod.load_model().max_seq_length == 256  # restored after the 128-piece pass

    def no_model():
        raise AssertionError("cache miss: the model was loaded")

    monkeypatch.setattr(embed_mod, "load_model", no_model)
    again = S.OutputMismatch(cache)
    again.prepare(t)  # everything from the two cache files
    assert again.similarity == pytest.approx(om.similarity)

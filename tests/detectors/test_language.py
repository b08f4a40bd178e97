"""non_english (curate/detectors/language.py) on real Alpaca records: foreign script or function
words where the task asks for no other language; requested languages, loanwords and symbols are
left alone."""

from curate.detectors import language as D
from tests.conftest import by_instruction as _inst, reason_of as _reason


def test_foreign_script_in_an_english_answer(real_data):
    rec = _inst(real_data, "Find the nearest restaurant.", input="Brooklyn, NY")
    assert _reason(D.NonEnglish(), rec) == ("output contains CJK letters '是' (1% of its letters) "
                                           "in a task that asks for no other language")
    got = D.NonEnglish().check({"instruction": "Describe the weather today.", "input": "",
                                "output": "El día está muy soleado y la temperatura es agradable para salir con los niños."})
    assert got.reason.startswith("output looks Spanish: function words 'el', 'está', 'muy'")


def test_requested_languages_loanwords_and_symbols_are_english_enough(real_data):
    det = D.NonEnglish()
    near_misses = [
        _inst(real_data, "Translate the sentence below into Japanese."),
        _inst(real_data, "Name the seven days of the week in Spanish."),
        _inst(real_data, "Generate a convincing Chinese proverb."),
        _inst(real_data, "Translate from Chinese to English."),                  # the input is Chinese
        _inst(real_data, "Generate a 5-sentence story about a scene inside a café"),
        _inst(real_data, "Find the area of a sphere with radius 7 cm."),          # π, cm²
        _inst(real_data, "Give me a list of all the major cities in the given country.", input="Norway"),  # Tromsø
        _inst(real_data, "Transcribe the following sentence into its phonetic spelling:"),  # IPA
    ]
    for rec in near_misses:
        assert det.check(rec) is None, rec["instruction"]

"""count_check, order_check and choice_check (curate/detectors/given_text.py): answers computable
from text the record gives. Wrong counts, wrong orders and answers outside the offered set are
flagged with both values in the reason; right answers in their several forms, and questions that
cannot be read confidently, are left alone."""

import json

import pytest

from curate.detectors import given_text as G
from curate.detectors.registry import get
from tests.conftest import by_instruction as _inst


def rec(instruction, output, input=""):
    return {"id": "synthetic", "instruction": instruction, "input": input, "output": output}


def reason(det, r):
    f = det.check(r)
    assert f is not None, r
    return f


# ------------------------------------------------------------------------------------- registry

def test_three_detectors_registered_separately():
    for name, order, unit, cls in [("count_check", 114, "relative_error", G.CountCheck),
                                   ("order_check", 115, "strength", G.OrderCheck),
                                   ("choice_check", 116, "strength", G.ChoiceCheck)]:
        spec = get(name)
        assert (spec.cls, spec.order, spec.score, spec.category) == (cls, order, unit, "wrong_math")
        assert 0 <= cls.confidence <= 1


# ------------------------------------------------------------------------------------- counting

@pytest.mark.parametrize("instruction, input, says", [
    ("Given a sentence, count the number of words.", "It is a beautiful day.", "output says 4, expected 5"),
    ('Count the number of vowels in the phrase "It\'s never too late to dream".', "It's never too late to dream",
     "output says 8, expected 10"),
    ('Count the number of occurrences of the letter "A" in the given sentence.',
     "The quick brown fox jumps over the lazy dog.", "output says 3, expected 0 or 1"),
    ("Find the number of characters in this string.", "She believes she can fly.",
     "output says 19, expected 20 or 21 or 24 or 25"),
    ("Given a sentence, output the number of vowels and the number of consonants.", "She had to decide what to do.",
     "output says 8 consonants, expected 13; 5 vowels, expected 9"),
])
def test_wrong_counts_in_real_records(real_data, instruction, input, says):
    f = reason(G.CountCheck(), _inst(real_data, instruction, input=input))
    assert f.reason.startswith("count: instruction asks the ") and f.reason.endswith(says)
    assert 0 < f.score <= 1


def test_count_reason_names_the_text_and_both_values():
    f = reason(G.CountCheck(), rec('Count the vowels in "banana".', "There are 2 vowels."))
    assert f.reason == "count: instruction asks the number of vowels in 'banana'; output says 2, expected 3"
    assert f.score == pytest.approx(1 / 3)
    f = reason(G.CountCheck(), rec("How many times does the letter 'a' appear in the word 'banana'?", "Twice."))
    assert f.reason.endswith("output says 2, expected 3")


def test_right_or_unreadable_counts_in_real_records_are_left_alone(real_data):
    det = G.CountCheck()
    for r in [
        _inst(real_data, 'How many words are there in the sentence "He helps the needy every day"?'),  # 6
        _inst(real_data, "Count the number of vowels in the following sentence"),                     # 11
        _inst(real_data, "Count how many characters are in the sentence"),             # 12: letters, accepted
        _inst(real_data, "Find the number of times the letter E appears in the following sentence."),  # 3
        _inst(real_data, "Count the number of characters in the string, including whitespaces and punctuation."),
        _inst(real_data, "Find the count of occurrences of the word 'dog' in a given paragraph"),  # "twice"
        _inst(real_data, 'Determine how many syllables the word "lightening" has.'),     # needs a dictionary
        _inst(real_data, "Determine the number of adjectives in this sentence."),        # needs a tagger
        _inst(real_data, "Write a Python function that will count the number of words in a string."),  # code
    ]:
        assert det.check(r) is None, r["instruction"]


@pytest.mark.parametrize("output", ["4", "There are 5 words.", "It has six words.", "Word count: 4"])
def test_every_reasonable_word_tokenisation_is_accepted(output):
    # "It's a well-known fact.": 4 by spaces, 5 with "it's" as two words, 6 splitting the hyphen too
    assert G.CountCheck().check(rec('How many words are in the sentence "It\'s a well-known fact."?', output)) is None


def test_a_count_matching_no_tokenisation_is_flagged():
    f = reason(G.CountCheck(), rec('How many words are in the sentence "It\'s a well-known fact."?', "3 words"))
    assert f.reason.endswith("output says 3, expected 4 or 5 or 6")


@pytest.mark.parametrize("instruction, output", [
    ('How many characters are in "Hi there"?', "8"),                       # with the space
    ('How many characters are in "Hi there"?', "7 characters"),            # without it
    ('How many letters are in "Hi there"?', "8"),                          # letters vs characters: either
    ('Count the characters in "Hi there", including spaces.', "The string has 8 characters."),
    ('How many vowels are in "rhythm"?', "1"),                             # y counted as a vowel
    ('How many vowels are in "rhythm"?', "0"),                             # or not
    ('Count the words in "one two three".', "There are 3 words in 'one two three'."),
])
def test_ambiguous_letter_and_vowel_counts_accept_either_reading(instruction, output):
    assert G.CountCheck().check(rec(instruction, output)) is None


@pytest.mark.parametrize("instruction, output", [
    ('Count the characters in "Hi there", including spaces.', "7"),        # exactly with spaces when asked
    ('How many characters are in "Hi there"?', "12"),
])
def test_wrong_character_counts(instruction, output):
    assert G.CountCheck().check(rec(instruction, output)) is not None


@pytest.mark.parametrize("instruction, output", [
    ('How many words are in "a b c"? Then list them.', "3: a, b, c"),     # a follow-up task
    ('Count the words in "one two three".', "1, 2 and 4"),                 # several unlabelled numbers
    ('How many unique words are in "a a b"?', "3"),                       # a condition
    ('How many words are in "a b" or "c d e"?', "2"),                     # two candidate texts
    ("How many words are in a typical novel?", "About 90,000."),           # no given text
])
def test_unreadable_counts_are_skipped(instruction, output):
    assert G.CountCheck().check(rec(instruction, output)) is None


@pytest.mark.parametrize("output", ["2", "There are 3 sentences.", "4"])
def test_sentence_counts_accept_end_marks_capitals_and_lines(output):
    # "Dr. Smith came.\nHe left. Bye": 4 by end marks, 3 before a capital ("Dr." is no end), 2 lines
    assert G.CountCheck().check(rec("How many sentences are in the text?", output,
                                    "Dr. Smith came.\nHe left. Bye")) is None
    assert G.CountCheck().check(rec("How many sentences are in the text?", "7", "Dr. Smith came.\nHe left. Bye"))


def test_a_rewrite_that_mentions_a_word_is_not_a_count():
    assert G.CountCheck().check(rec("Rewrite the paragraph so that the word 'children' does not appear.",
                                    "The young ones played 2 games.", "The children played.")) is None
    assert G.CountCheck().check(rec("Count the words in the second sentence.", "3", "I ran. You sat down.")) is None


# ------------------------------------------------------------------------------------- ordering

@pytest.mark.parametrize("instruction, input, said, want", [
    ("Sort the following words alphabetically and output the sorted list.", "Car, Cat, Ball, Bag",
     "Ball, Bag, Car, Cat", "Bag, Ball, Car, Cat"),
    ("Arrange the following words in alphabetical order: quickly, question, queue, quality.", "",
     "quality, queue, question, quickly", "quality, question, queue, quickly"),
    ("Order the following fractions from least to greatest: 2/3, 1/9, 7/12.", "",
     "1/9, 2/3, 7/12", "1/9, 7/12, 2/3"),
    ("Rank the following numbers using the least to greatest rule.", "2, 3, 5, 4", "2, 4, 3, 5", "2, 3, 4, 5"),
    ("Sort the given words according to length.", "river, ocean, lake, stream",
     "stream, lake, river, ocean", "lake, river, ocean, stream"),
    ("Reverse the following list alphabetically.", "apple, carrot, banana, potato",
     "potato, banana, carrot, apple", "potato, carrot, banana, apple"),
])
def test_wrong_orders_in_real_records(real_data, instruction, input, said, want):
    f = reason(G.OrderCheck(), _inst(real_data, instruction, input=input))
    assert f.reason.startswith("order: instruction asks to ")
    assert f"output order {said!r} differs from {want!r}" in f.reason
    assert 0 < f.score <= 1


def test_wrongly_reversed_string_in_a_real_record(real_data):
    f = reason(G.OrderCheck(), _inst(real_data, "Reverse a string without using any built-in functions."))
    assert f.reason == "order: instruction asks to reverse 'Hello World!'; output 'rldWo olleH!' differs from '!dlroW olleH'"


def test_right_or_unreadable_orders_in_real_records_are_left_alone(real_data):
    det = G.OrderCheck()
    for r in [
        _inst(real_data, "Arrange the following words alphabetically: ship, school, keep."),  # echo, then the answer
        _inst(real_data, "Arrange 10 books in alphabetical order."),              # "1984": numerals may go anywhere
        _inst(real_data, "Reverse the following words: cat, house, tree"),        # each word reversed: a reading
        _inst(real_data, 'Reverse the following phrase: "How are you?"'),         # words reversed: a reading
        _inst(real_data, "Sort the following numbers in descending order with the highest number first."),
        _inst(real_data, "Sort the following animals in order from smallest to largest."),   # needs knowledge
    ]:
        assert det.check(r) is None, r["instruction"]


@pytest.mark.parametrize("output", [
    "1. 3\n2. 5\n3. 9",                        # numbered lines
    "- 3\n- 5\n- 9",                           # bullets
    "The numbers 5, 3, 9 in ascending order are 3, 5, 9.",   # an echo of the question, then the answer
    "3 < 5 < 9",
    "[3, 5, 9]",
])
def test_sorted_numbers_in_any_layout(output):
    assert G.OrderCheck().check(rec("Sort these numbers in ascending order: 5, 3, 9", output)) is None


def test_unsorted_numbers_are_flagged():
    f = reason(G.OrderCheck(), rec("Sort these numbers in ascending order: 5, 3, 9", "The sorted list is 9, 3, 5."))
    assert f.reason == ("order: instruction asks to sort 3 given numbers in ascending order; output order "
                        "'9, 3, 5' differs from '3, 5, 9'")


@pytest.mark.parametrize("output", [
    "apple, Banana, pear",                     # case ignored
    "Apple\nbanana\nPear.",
    '"apple", "banana", "pear"',
])
def test_alphabetised_in_any_case_and_punctuation(output):
    assert G.OrderCheck().check(rec("Alphabetize the following words: pear, Apple, banana", output)) is None


def test_length_ties_may_go_either_way():
    det = G.OrderCheck()
    inst = "Sort the following words by length, shortest to longest: pear, fig, plum"
    assert det.check(rec(inst, "fig, plum, pear")) is None
    assert det.check(rec(inst, "fig, pear, plum")) is None
    assert det.check(rec(inst, "pear, fig, plum")) is not None


@pytest.mark.parametrize("instruction, output", [
    ("Alphabetize the following words: pear, apple, banana", "apple, pear"),              # an item dropped
    ("Sort the following countries by population: Chile, Peru, Brazil", "Peru, Chile, Brazil"),  # knowledge
    ("Sort these items into two groups: apple, carrot, pear", "Fruit: apple, pear"),      # grouping
    ("Rearrange the following words to make a sentence: dog the barked", "The dog barked."),
    ("Sort the numbers alphabetically: 3, 10, 2", "10, 2, 3"),                            # numbers, alphabetically
])
def test_orders_that_are_not_computable_are_skipped(instruction, output):
    assert G.OrderCheck().check(rec(instruction, output)) is None


@pytest.mark.parametrize("output", [
    "Jane Austen, Charles Dickens, Mark Twain",   # by surname
    "Charles Dickens, Jane Austen, Mark Twain",   # by first name
])
def test_names_may_be_alphabetised_by_first_or_last_name(output):
    inst = "Arrange these authors in alphabetical order: Mark Twain, Jane Austen, Charles Dickens"
    assert G.OrderCheck().check(rec(inst, output)) is None
    assert G.OrderCheck().check(rec(inst, "Mark Twain, Jane Austen, Charles Dickens")) is not None


def test_numerals_may_stand_anywhere_in_an_alphabetical_list():
    inst = "Alphabetize the following titles: Matilda, 1984, Emma"
    for output in ("1984, Emma, Matilda", "Emma, Matilda, 1984", "Emma, 1984, Matilda"):
        assert G.OrderCheck().check(rec(inst, output)) is None
    assert G.OrderCheck().check(rec(inst, "Matilda, 1984, Emma")) is not None


def test_negative_numbers_are_not_bullets():
    inst = "Sort the following numbers in ascending order: 2, -1, -3"
    assert G.OrderCheck().check(rec(inst, "-3\n-1\n2")) is None
    assert G.OrderCheck().check(rec(inst, "-1, -3, 2")) is not None


# ------------------------------------------------------------------------------ a given answer set

def test_answers_outside_the_offered_set_in_real_records(real_data):
    det = G.ChoiceCheck()
    f = reason(det, _inst(real_data, "Classify the following movie as romance, comedy, action, science fiction"))
    assert f.reason == ("choice: instruction offers 'romance', 'comedy', 'action', 'science fiction'; output "
                        "'Fantasy/Adventure' is none of them")
    f = reason(det, _inst(real_data, "Answer this question with a yes or no."))
    assert f.reason == "choice: instruction offers 'yes', 'no'; output 'Yes or No.' asserts both"
    f = reason(det, _inst(real_data, "Choose two words from the following list that are antonyms:"))
    assert f.reason == ("choice: instruction offers 'happy', 'slow', 'big', 'luxurious'; output 'Sad, fast.' is "
                        "none of them")


def test_choice_reason_names_the_options_and_the_answer():
    f = reason(G.ChoiceCheck(), rec("Classify the sentiment of this review as positive, negative or neutral.", "Mixed",
                                    "Great food, awful service."))
    assert f.reason == "choice: instruction offers 'positive', 'negative', 'neutral'; output 'Mixed' is none of them"
    assert 0 < f.score <= 1
    f = reason(G.ChoiceCheck(), rec("Is the following statement true or false? Coffee is healthy.",
                                    "It depends on how much you drink."))
    assert f.reason.startswith("choice: instruction offers 'true', 'false'; output 'It depends") and \
        f.reason.endswith("is neither")


def test_answers_from_the_set_in_real_records_are_left_alone(real_data):
    det = G.ChoiceCheck()
    for r in [
        _inst(real_data, "Given a text, classify the tone as either negative, positive, or neutral."),
        _inst(real_data, 'Classify the following tweet as being positive, negative, or neutral: '
                         '"My textbooks are still on the way!".'),    # "Neutral. ... any positive or negative ..."
        _inst(real_data, "Classify the following sentence as either positive or negative sentiment. Output 1 for "
                         "positive and 0 for negative."),              # "0": a code the instruction defines
        _inst(real_data, "Categorize the following words as fruits or vegetables: blueberries, onion, tomatoes, "
                         "grapefruit."),                               # several items, both labels
        _inst(real_data, "Which of the following two poem excerpts has the best meter?"),   # "Excerpt 1 ..."
        _inst(real_data, "Which of the following is not a type of machine learning?"),      # "C. Graphical Modeling"
    ]:
        assert det.check(r) is None, r["instruction"]


@pytest.mark.parametrize("instruction, output", [
    ("Classify the review as positive, negative or neutral.", "The sentiment is positive."),
    ("Classify the review as positive, negative or neutral.", "POSITIVE - the reviewer is not negative at all."),
    ("Classify the review as positive, negative or neutral.", "Favorable."),                # a known synonym
    ("Classify the object as living or non-living.", "Nonliving"),
    ("Categorize the text as fiction or non-fiction.", "This is a fictional story."),      # a longer form
    ("Classify the sentence as declarative, interrogative, imperative, or exclamatory.", "It is a question."),
    ("Classify the words as nouns or verbs: run, book", "run - verb, book - noun"),        # singular
    ("Answer yes or no: Is water wet?", "No, it is not."),
    ("Is the following statement true or false? The sun is a star.", "Correct - the sun is a star."),
    ("Answer yes or no: Is water wet?", "Water makes things wet."),         # no yes/no word: not read
    ("Convert the sentence into a yes/no question.", "Is it raining?"),     # the pair is not the answer set
    ("Classify the animal into a category, e.g. mammal or bird.", "Reptile"),   # an open set
    ("Rate the movie on a scale of 1 to 5.", "4"),                          # a graded answer
    ("Design a system to classify reviews as positive or negative.", "Use a neural network."),
])
def test_answers_in_the_set_or_unreadable_are_left_alone(instruction, output):
    assert G.ChoiceCheck().check(rec(instruction, output, "some text")) is None


def test_option_lists_in_the_input():
    det = G.ChoiceCheck()
    inst = "Which of the following is a fruit?"
    for output in ("B", "B) Apple", "The answer is option B.", "Apple is a fruit."):
        assert det.check(rec(inst, output, "A) Carrot\nB) Apple\nC) Potato")) is None, output
    f = reason(det, rec(inst, "Banana", "A) Carrot\nB) Apple\nC) Potato"))
    assert f.reason == "choice: instruction offers 'Carrot', 'Apple', 'Potato'; output 'Banana' is none of them"
    assert det.check(rec(inst, "None of them.", "Carrot, Potato, Onion")) is None   # a set answer


@pytest.mark.parametrize("output", ["Gaseous.", "It is in the gas phase."])
def test_longer_forms_of_a_short_option(output):
    assert G.ChoiceCheck().check(rec("Classify the substance as a solid, liquid or gas.", output, "Steam")) is None


def test_yes_and_no_together_asserts_both():
    f = reason(G.ChoiceCheck(), rec("Answer yes or no: is the sky green?", "Yes/No"))
    assert f.reason == "choice: instruction offers 'yes', 'no'; output 'Yes/No' asserts both"


# ------------------------------------------------------------------------------ metrics and script

def test_metrics_count_recognised_and_flagged_records():
    det = G.CountCheck()
    for r in [rec('Count the vowels in "banana".', "3"), rec('Count the vowels in "banana".', "2"),
              rec("Name a colour.", "Red")]:
        det.check(r)
    assert det.metrics() == {"parsed": 2, "flagged": 1}
    assert G.OrderCheck().metrics() == G.ChoiceCheck().metrics() == {"parsed": 0, "flagged": 0}


def test_script_mode_prints_parsed_flagged_and_time(tmp_path, capsys):
    p = tmp_path / "recs.json"
    p.write_text(json.dumps([
        {"instruction": 'Count the vowels in "banana".', "input": "", "output": "2"},
        {"instruction": "Sort these numbers in ascending order: 5, 3, 9", "input": "", "output": "3, 5, 9"},
        {"instruction": "Classify the review as positive or negative.", "input": "Fine.", "output": "Mixed"},
    ]), encoding="utf-8")
    assert G.main([str(p), "--show"]) == 0
    out = capsys.readouterr().out
    assert "count_check\tparsed 1\tflagged 1" in out and "order_check\tparsed 1\tflagged 0" in out
    assert "choice_check\tparsed 1\tflagged 1" in out and "3 records in " in out
    assert "expected 3" in out and "is none of them" in out

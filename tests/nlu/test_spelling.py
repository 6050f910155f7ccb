"""Misspelled words read as the words our users write (assistant/nlu/spelling.py), real words left alone."""

from __future__ import annotations

from assistant.nlu.spelling import SpellingCorrector, count_words

TRAINING = [
    "please cancel the cleaner tomorrow", "I need my pills reminder at eight", "book the hairdresser on friday",
    "I'd like a halal meal", "send someone to fix the boiler", "cancel my reminders please", "my pils are gone",
    "the cleaner was brilliant", "I want to order lunch", "remind me to take my tablets", "message me on whatsapp",
]


def corrector() -> SpellingCorrector:
    return SpellingCorrector(count_words(TRAINING))


def test_misspelled_words_are_read_as_the_training_words_they_miss() -> None:
    speller = corrector()
    assert speller.text("can you cancle the clener tomorow") == "can you cancel the cleaner tomorrow"
    assert speller.text("remnders for my tabelts") == "reminders for my tablets"
    assert speller.text("brilliant hairdreser") == "brilliant hairdresser"


def test_a_misspelling_in_the_training_data_is_read_as_its_word_too() -> None:
    assert corrector().text("I took all my pils") == "I took all my pills"


def test_a_missing_letter_is_put_back_from_the_dictionary_when_only_one_word_fits() -> None:
    assert corrector().text("everone has gone") == "everyone has gone"


def test_real_words_names_and_short_words_stay_as_written() -> None:
    speller = corrector()
    for text in ("the rewind button", "Olly turn it up", "yeap fine", "I'd like a halal meal",
                 "my grandson Pawel", "on whatsapp", "a cup of tea", "ring 999 now", "it's 8:30"):
        assert speller.text(text) == text, text


def test_punctuation_around_words_is_kept() -> None:
    assert corrector().text("Cancle it, please!") == "cancel it, please!"


def test_no_vocabulary_changes_nothing() -> None:
    assert SpellingCorrector({}).text("cancle the clener") == "cancle the clener"

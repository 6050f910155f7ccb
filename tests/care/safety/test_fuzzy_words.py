"""Misspelled emergency words are read as the words they stand for; real words are left alone."""

from __future__ import annotations

import pytest

from assistant.care.safety.fuzzy_words import correct, correct_word, sound_key
from assistant.care.safety.safety import emergency_sign


@pytest.mark.parametrize(("typed", "meant"), [
    ("smel", "smell"), ("gass", "gas"), ("bleedin", "bleeding"), ("colapsed", "collapsed"),
    ("unconcious", "unconscious"), ("ambulence", "ambulance"), ("siezure", "seizure"), ("brething", "breathing"),
    ("tablits", "tablets"), ("choaking", "choking"),
])
def test_one_slip_of_the_finger_is_read_as_the_emergency_word(typed: str, meant: str) -> None:
    assert correct_word(typed) == meant


@pytest.mark.parametrize("word", ["spoke", "cooker", "chore", "burglary", "fitter", "bleak", "pans", "fine", "gab"])
def test_real_words_and_short_words_are_never_changed(word: str) -> None:
    assert correct_word(word) == word


def test_only_the_misspelled_words_of_a_text_change() -> None:
    assert correct("i can smel gass in the kitchin") == "i can smell gas in the kitchin"


@pytest.mark.parametrize(("text", "kind"), [
    ("my wife has colapsed on the landing", "unresponsive"),
    ("theres smoke everywere i can smel burnin", "fire"),
    ("cant stop the bleedin from my arm", "bleeding"),
    ("i think i have taken an overdoes", "poisoning"),
])
def test_misspelled_emergencies_are_caught_by_the_rules(text: str, kind: str) -> None:
    assert emergency_sign(text) == kind


def test_a_word_one_letter_from_an_emergency_word_does_not_make_an_emergency() -> None:
    assert emergency_sign("the fitter spoke to the cooker man about the chore list") is None


@pytest.mark.parametrize(("typed", "meant"), [
    ("bleading", "bleeding"), ("kollapsed", "collapsed"), ("strock", "stroke"), ("poisend", "poisoned"),
    ("ambulanse", "ambulance"), ("medisin", "medicine"),
])
def test_a_word_written_as_it_sounds_is_read_as_the_emergency_word(typed: str, meant: str) -> None:
    assert sound_key(typed) == sound_key(meant)
    assert correct_word(typed) == meant


@pytest.mark.parametrize("word", ["smock", "smack", "blade", "bold", "brat", "first", "stroked", "parcel", "mistake"])
def test_real_words_that_sound_like_emergency_words_stay_as_written(word: str) -> None:
    assert correct_word(word) == word


def test_a_sound_alike_more_than_two_letters_away_stays_as_written() -> None:
    assert sound_key("aambulanssse") == sound_key("ambulance")
    assert correct_word("aambulanssse") == "aambulanssse"


@pytest.mark.parametrize(("text", "kind"), [
    ("my husband is bleading from the head", "bleeding"),
    ("she has kollapsed in the kitchen", "unresponsive"),
])
def test_emergencies_written_as_they_sound_are_caught_by_the_rules(text: str, kind: str) -> None:
    assert emergency_sign(text) == kind

"""Misspelled emergency words, matched by edit distance instead of listed one by one.

"the kitchin is on fiyer", "i can smel gass", "bleedin alot": a word that is not English and lies
within one or two edits of a word the safety net's patterns look for is read as that word
(:func:`correct`). Real words are never changed ("spoke" stays "spoke", not "smoke"): the English
vocabulary is the word list that ships with the sentence model (about 22,000 whole words), plus
the emergency words themselves.

Limits, chosen on our own phrase sets and the NLU-Evaluation-Data (never the blind sets): one edit
(a letter added, dropped, changed, or two swapped), words of four letters or more, the first letter
the same. Two edits also turned "cooker" into "choked" and "overdue" into "overdose".
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Final, FrozenSet

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.sentence_model import model_folder

log = logging.getLogger(__name__)

EMERGENCY_WORDS: Final[tuple[str, ...]] = (
    # falls and injuries
    "fallen", "fell", "fall", "floor", "ground", "stairs", "tripped", "slipped", "broken", "bleeding",
    "blood", "bleed", "burnt", "burned", "scalded",
    # breathing, heart, stroke, consciousness
    "breathe", "breathing", "breath", "chest", "pain", "pains", "heart", "attack", "stroke", "slurred",
    "slurring", "collapsed", "unconscious", "unresponsive", "responding", "fainted", "choking", "choked",
    "seizure", "fitting", "convulsing", "shaking", "breathless", "dizzy", "confused", "drooping",
    # fire, gas, electrics
    "fire", "smoke", "smoking", "flames", "burning", "smell", "gas", "sparks", "sparking", "electrics",
    "alarm", "carbon", "monoxide",
    # medicines and poisons
    "overdose", "overdosed", "tablets", "pills", "medication", "medicine", "paracetamol", "insulin",
    "sugar", "poison", "poisoned", "swallowed", "bleach",
    # people in danger, asking for help
    "ambulance", "emergency", "paramedic", "police", "burglar", "intruder", "someone", "somebody",
    "breaking", "hitting", "attacked", "threatening", "help", "dying", "suicide", "myself", "properly",
    "everywhere", "allergic", "swelling", "swollen", "throat", "tongue",
)
"""The words the patterns of :mod:`assistant.care.safety` turn on, in their usual spelling."""

OTHER_WORDS: Final[frozenset[str]] = frozenset({"burglary", "burglaries", "overdue", "cooker", "chore"})
"""Ordinary words one edit from an emergency word that the sentence model's word list lacks."""


@lru_cache(maxsize=1)
def english_words() -> FrozenSet[str]:
    """Whole words of the sentence model's vocabulary and the emergency words: never "corrected"."""
    words = set(EMERGENCY_WORDS) | OTHER_WORDS
    try:
        vocabulary = (model_folder() / "vocab.txt").read_text(encoding="utf-8").split()
        words.update(w for w in vocabulary if w.isalpha())
    except (RuntimeError, OSError) as error:  # pragma: no cover - make setup installs the model
        log.warning("no English word list (%s): misspellings are matched against emergency words only", error)
    return frozenset(words)


_SUFFIXES: Final = ("s", "es", "d", "ed", "ing", "er", "ers", "ly", "y")


def is_english(word: str) -> bool:
    """Whether ``word`` is in the word list, or is an inflection of a listed ordinary word ("pans")."""
    words = english_words()
    if word in words:
        return True
    stems = (word[: -len(suffix)] for suffix in _SUFFIXES if word.endswith(suffix) and len(word) > len(suffix) + 2)
    return any(stem in words and stem not in EMERGENCY_WORDS for stem in stems)


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """The emergency word a misspelled ``word`` stands for, or ``word`` itself."""
    if len(word) < 4 or not word.isalpha() or is_english(word):
        return word
    found = process.extractOne(word, EMERGENCY_WORDS, scorer=OSA.distance, score_cutoff=1)
    if found is None or found[0][0] != word[0]:
        return word
    return found[0]


def correct(normalised: str) -> str:
    """The normalised text with each misspelled emergency word replaced by its usual spelling."""
    return " ".join(correct_word(word) for word in normalised.split())

"""Misspelled emergency words, matched by edit distance instead of listed one by one.

"the kitchin is on fiyer", "i can smel gass", "bleedin alot": a word that is not English and lies
within one or two edits of a word the safety net's patterns look for is read as that word
(:func:`correct`). Real words are never changed ("spoke" stays "spoke", not "smoke"): the English
vocabulary is the word list that ships with the sentence model (about 22,000 whole words), plus
the emergency words themselves; a word read by its sound must not be in Debian's larger word lists
either ("smock" stays "smock").

Limits, chosen on our own phrase sets and the NLU-Evaluation-Data (never the blind sets): one edit
(a letter added, dropped, changed, or two swapped), words of four letters or more, the first letter
the same. Two edits also turned "cooker" into "choked" and "overdue" into "overdose". Beyond one
edit, a word written as it sounds ("smoak", "bleading", "brethe") is read as the emergency word with the
same rough sound key (:func:`sound_key`) when no more than two letters differ.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
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
"""The words the patterns of :mod:`assistant.care.safety.safety` turn on, in their usual spelling."""

OTHER_WORDS: Final[frozenset[str]] = frozenset({"burglary", "burglaries", "overdue", "cooker", "chore"})
"""Ordinary words one edit from an emergency word that the sentence model's word list lacks."""


WORD_LISTS: Final = (Path("/usr/share/dict/british-english"), Path("/usr/share/dict/american-english"))
"""Debian's English word lists (packages ``wbritish`` and ``wamerican``; ``make model`` installs them)."""


@lru_cache(maxsize=1)
def _word_lists() -> tuple[str, ...]:
    """The words of Debian's lists as written there, read once per process."""
    words: list[str] = []
    for path in WORD_LISTS:
        try:
            words.extend(path.read_text(encoding="utf-8").split())
        except OSError:
            continue
    if not words:
        log.warning("no English word list in /usr/share/dict: real words may be read as misspellings")
    return tuple(words)


@lru_cache(maxsize=1)
def common_words() -> FrozenSet[str]:
    """The words of the system's word lists written in lower case there (no names or places)."""
    return frozenset(w for w in _word_lists() if w.isalpha() and w.islower())


@lru_cache(maxsize=1)
def dictionary_words() -> FrozenSet[str]:
    """Every word of the system's word lists, names too, lower case with apostrophes dropped."""
    return frozenset(w.lower().replace("'", "") for w in _word_lists() if not w.endswith("'s"))


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


_SOUNDS: Final = (
    (re.compile(r"ph"), "f"), (re.compile(r"ck|q|c(?![eiy])"), "k"), (re.compile(r"c(?=[eiy])|z"), "s"),
    (re.compile(r"dg"), "j"), (re.compile(r"x"), "ks"), (re.compile(r"^wr"), "r"), (re.compile(r"^kn"), "n"),
    (re.compile(r"e$"), ""),
)
_SILENT: Final = re.compile(r"[aeiouyhw]")
_REPEATED: Final = re.compile(r"(.)\1+")


def sound_key(word: str) -> str:
    """A rough key of how a word sounds: its first letter, then its consonants, spelling variants merged
    ("smoak" and "smoke" are both "smk", "brethe" and "breath" "brt")."""
    for pattern, sound in _SOUNDS:
        word = pattern.sub(sound, word)
    return _REPEATED.sub(r"\1", word[:1] + _SILENT.sub("", word[1:]))


@lru_cache(maxsize=1)
def _words_by_sound() -> dict[str, tuple[str, ...]]:
    by_sound: dict[str, list[str]] = {}
    for word in EMERGENCY_WORDS:
        by_sound.setdefault(sound_key(word), []).append(word)
    return {key: tuple(words) for key, words in by_sound.items()}


@lru_cache(maxsize=4096)
def correct_word(word: str) -> str:
    """The emergency word a misspelled ``word`` stands for, or ``word`` itself: one slip of the finger
    away, or else written as it sounds ("smoak", "bleading") with no more than two letters changed."""
    if len(word) < 4 or not word.isalpha() or is_english(word):
        return word
    found = process.extractOne(word, EMERGENCY_WORDS, scorer=OSA.distance, score_cutoff=1)
    if found is not None and found[0][0] == word[0]:
        return found[0]
    if word in dictionary_words():  # a rarer real word ("smock") is not read by its sound
        return word
    return _nearest_sound(word) or word


def _nearest_sound(word: str) -> str:
    sounds_like = [w for w in _words_by_sound().get(sound_key(word), ()) if OSA.distance(word, w) <= 2]
    return min(sounds_like, key=lambda w: (OSA.distance(word, w), w)) if sounds_like else ""


def correct(normalised: str) -> str:
    """The normalised text with each misspelled emergency word replaced by its usual spelling."""
    return " ".join(correct_word(word) for word in normalised.split())

"""Misspelled words read as the words our users usually write, before the sentence model sees them.

"i took all my pils", "cancel the clener tomorow": a word that is not English (Debian's word lists,
and the sentence model's) and that the training data never uses is
replaced by the training-data word one edit away (a letter added, dropped, changed, or two swapped)
with the same first letter; of several, the one reached by adding or dropping letters ("staus" is
"status", not "stars"), then the most frequent in the training data. A four-letter word is only
read as a longer one ("vist", not "olly" as "only"). Shorter words, numbers, real words and words
with no such neighbour stay as written. The pretrained sentence
model splits an unknown word into word pieces that often mean something else ("pils" is not
"pills" to it); the sparse n-gram features still see the message as written.

Pure Python on rapidfuzz, no Rasa: the vocabulary is counted when the model is trained
(:func:`count_words`) and kept with it.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Final, Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from assistant.care.safety.fuzzy_words import common_words, dictionary_words, is_english

MIN_LENGTH: Final = 4
_WORD: Final = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")


def count_words(texts: Iterable[str]) -> Counter[str]:
    """How often each lower-case word occurs in the texts (apostrophes dropped, as the corrector reads)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_plain(match.group()) for match in _WORD.finditer(text))
    return counts


def _plain(word: str) -> str:
    return re.sub(r"['\u2019]", "", word.lower())


def is_word(word: str) -> bool:
    """Whether a lower-case word is English: in the system's word lists or the sentence model's."""
    return word in dictionary_words() or is_english(word)


@lru_cache(maxsize=1)
def _dictionary_by_letter() -> dict[str, list[str]]:
    by_letter: dict[str, list[str]] = {}
    for word in common_words():
        if len(word) >= MIN_LENGTH - 1 and word.isalpha():
            by_letter.setdefault(word[0], []).append(word)
    return by_letter


def _fitting(plain: str, found: Iterable[str]) -> list[str]:
    """Neighbours that start with the same letter; a four-letter word only reaches longer words."""
    return [c for c in found if c[0] == plain[0] and (len(plain) > MIN_LENGTH or len(c) > len(plain))]


def _dropped_or_swapped(word: str, candidate: str) -> bool:
    """Whether ``candidate`` is ``word`` with a letter put back or two letters swapped back."""
    return len(candidate) > len(word) or (len(candidate) == len(word) and sorted(candidate) == sorted(word))


class SpellingCorrector:
    """Corrects words towards the English words of a vocabulary (word counts of the training data)."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.vocabulary = {w: n for w, n in counts.items() if is_word(w)}
        self._choices = [w for w in self.vocabulary if len(w) >= MIN_LENGTH - 1]
        self._cache: dict[str, str] = {}
        # a word of the training data that is not English stays as written ("whatsapp", "halal"), unless
        # it is an English training word with a letter dropped or two swapped ("pils", "tomorow": a
        # misspelling written on purpose)
        self._known = set(self.vocabulary)
        self._known.update(w for w in counts if w not in self.vocabulary and not self._from_training(w, True))

    def _from_training(self, plain: str, dropped_only: bool = False) -> str:
        found = process.extract(plain, self._choices, scorer=OSA.distance, score_cutoff=1, limit=None)
        fitting = _fitting(plain, (choice for choice, _, _ in found))
        if dropped_only:
            fitting = [c for c in fitting if _dropped_or_swapped(plain, c)]
        if not fitting:
            return ""
        return min(fitting, key=lambda c: (Indel.distance(plain, c), -self.vocabulary[c], c))

    @staticmethod
    def _from_dictionary(plain: str) -> str:
        """The one common English word with a letter more, or two letters swapped ("everone": "everyone");
        none when there are several. Dropping a letter is left to the training data's words: "smoak"
        is not "soak"."""
        words = _dictionary_by_letter().get(plain[0], [])
        found = process.extract(plain, words, scorer=OSA.distance, score_cutoff=1, limit=None)
        fitting = [c for c in _fitting(plain, (choice for choice, _, _ in found)) if _dropped_or_swapped(plain, c)]
        return fitting[0] if len(fitting) == 1 else ""

    def word(self, word: str) -> str:
        """The English word a misspelled ``word`` stands for (lower case), or ``word`` unchanged."""
        plain = _plain(word)
        if len(plain) < MIN_LENGTH or not plain.isalpha() or plain in self._known or is_word(plain):
            return word
        if plain not in self._cache:
            self._cache[plain] = self._from_training(plain) or self._from_dictionary(plain)
        return self._cache[plain] or word

    def text(self, text: str) -> str:
        """The text with each misspelled word replaced; everything else as written."""
        if not self.vocabulary:
            return text
        return _WORD.sub(lambda match: self.word(match.group()), text)

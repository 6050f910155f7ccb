"""Dietary tags: the ones we can match, and how people say them."""

from __future__ import annotations

from typing import Final, Iterable

from assistant.care.errors import InvalidInput
from assistant.care.vocabulary import DIETARY_TAGS

SYNONYMS: Final = {
    "diabetic": "diabetic-friendly",
    "diabetes": "diabetic-friendly",
    "diabetic friendly": "diabetic-friendly",
    "sugar free": "diabetic-friendly",
    "sugar-free": "diabetic-friendly",
    "low sugar": "diabetic-friendly",
    "low salt": "low-salt",
    "salt free": "low-salt",
    "low sodium": "low-salt",
    "soft food": "soft",
    "soft foods": "soft",
    "easy to chew": "soft",
    "vegetarian": "vegetarian",
    "veggie": "vegetarian",
    "no meat": "vegetarian",
    "halal": "halal",
}
NONE_WORDS: Final = frozenset({"none", "no", "nothing", "no needs", "n/a", "-"})


def normalise_dietary_needs(values: Iterable[str]) -> tuple[str, ...]:
    """Map what a person said to known dietary tags, sorted and without repeats.

    Args:
        values: Needs as typed, e.g. ``["Diabetic", "low salt"]``.

    Raises:
        InvalidInput: If a need is not one we can match dishes against.
    """
    if isinstance(values, str):
        values = [values]
    tags: set[str] = set()
    for raw in values:
        word = " ".join(str(raw).strip().lower().replace("_", " ").split())
        if not word or word in NONE_WORDS:
            continue
        tag = word if word in DIETARY_TAGS else SYNONYMS.get(word)
        if tag is None:
            raise InvalidInput(
                "Sorry, I can only look for these needs: "
                + ", ".join(DIETARY_TAGS)
                + ". For anything else, a person from our team can help.",
                field="dietary_needs",
            )
        tags.add(tag)
    return tuple(sorted(tags))

"""Dietary tags: the ones we can match dishes against, and how people say them."""

from __future__ import annotations

import re
from typing import Final, Iterable, Union

from assistant.care.core.errors import InvalidInput
from assistant.care.core.vocabulary import DIETARY_TAGS

PHRASES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("diabetic-friendly", re.compile(r"diab\w*|sugar[\s-]?free|low[\s-]?sugar|no sugar|without sugar")),
    ("low-salt", re.compile(r"low[\s-]?salt|salt[\s-]?free|no salt|without salt|less salt|\bsalt\b|low[\s-]?sodium")),
    ("soft", re.compile(r"\bsoft\w*|minced|pur[eé]e\w*|easy to chew|mashed|can'?t chew|cannot chew")),
    ("vegetarian", re.compile(r"veg[ie]?tarian|vegitarian|veggie|no meat|without meat|don'?t eat meat")),
    ("halal", re.compile(r"hal+al")),
)
"""How people write each tag, including common misspellings."""

NONE_ANSWER: Final = re.compile(
    r"^\s*(none|no|nope|nothing|no needs|no special diet|no diet|normal|anything|i eat everything|"
    r"everything|not really|n/a|-)\s*[.!]?\s*$"
)


def read_diets(values: Union[str, Iterable[str]]) -> tuple[tuple[str, ...], list[str]]:
    """Map free text or entity values to dietary tags.

    "diabetic and low salt" gives both tags; "none" gives none.

    Returns:
        The recognised tags in canonical order, and the values that matched no tag.
    """
    if isinstance(values, str):
        values = [values]
    found: set[str] = set()
    unknown: list[str] = []
    for raw in values:
        text = " ".join(str(raw).strip().lower().replace("_", " ").split())
        if not text or NONE_ANSWER.match(text):
            continue
        if text in DIETARY_TAGS:
            found.add(text)
            continue
        hits = {tag for tag, pattern in PHRASES if pattern.search(text)}
        if hits:
            found |= hits
        else:
            unknown.append(str(raw))
    return tuple(tag for tag in DIETARY_TAGS if tag in found), unknown


def normalise_dietary_needs(values: Union[str, Iterable[str]]) -> tuple[str, ...]:
    """Map what a person said to known dietary tags, sorted and without repeats.

    Args:
        values: Needs as typed, e.g. ``["Diabetic", "low salt"]``.

    Raises:
        InvalidInput: If a need is not one we can match dishes against.
    """
    tags, unknown = read_diets(values)
    if unknown:
        raise InvalidInput(
            "Sorry, I can only look for these needs: "
            + ", ".join(DIETARY_TAGS)
            + ". For anything else, a person from our team can help.",
            field="dietary_needs",
        )
    return tuple(sorted(tags))


def describe_diets(tags: Iterable[str]) -> str:
    """'diabetic-friendly and low-salt', or 'no special diet'."""
    items = list(tags)
    if not items:
        return "no special diet"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]

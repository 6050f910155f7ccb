"""Turning what people write about their diet into the registry's dietary tags."""

from __future__ import annotations

import re
from typing import Iterable

from assistant.care.vocabulary import DIETARY_TAGS

_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("diabetic-friendly", re.compile(r"diab\w*|sugar[\s-]?free|low[\s-]?sugar|no sugar|without sugar")),
    ("low-salt", re.compile(r"low[\s-]?salt|salt[\s-]?free|no salt|without salt|less salt|\bsalt\b|low[\s-]?sodium")),
    ("soft", re.compile(r"\bsoft\w*|minced|pur[eé]e\w*|easy to chew|mashed|can'?t chew|cannot chew")),
    ("vegetarian", re.compile(r"veg[ie]?tarian|vegitarian|veggie|no meat|without meat|don'?t eat meat")),
    ("halal", re.compile(r"hal+al")),
)
_NONE = re.compile(
    r"^\s*(none|no|nope|nothing|no special diet|no diet|normal|anything|i eat everything|everything|not really|n/a)\s*[.!]?\s*$"
)


def normalise_diets(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """Map free text or entity values to dietary tags.

    Returns:
        The recognised tags in canonical order, and the values that matched nothing.
    """
    found: set[str] = set()
    unknown: list[str] = []
    for raw in values:
        text = raw.strip().lower()
        if not text or _NONE.match(text):
            continue
        if text in DIETARY_TAGS:
            found.add(text)
            continue
        hits = {tag for tag, pattern in _KEYWORDS if pattern.search(text)}
        if hits:
            found |= hits
        else:
            unknown.append(raw)
    return [tag for tag in DIETARY_TAGS if tag in found], unknown


def describe_diets(tags: Iterable[str]) -> str:
    """'diabetic-friendly and low-salt', or 'no special diet'."""
    items = list(tags)
    if not items:
        return "no special diet"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]

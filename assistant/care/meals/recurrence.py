"""Meal-plan recurrence text such as ``"weekdays 12:30"`` or ``"mon,wed,fri 18:00"``."""

from __future__ import annotations

from datetime import time
from typing import Iterable

from assistant.care.core.errors import InvalidInput
from assistant.care.core.vocabulary import WEEKDAYS

_NAMED = {
    (0, 1, 2, 3, 4, 5, 6): "daily",
    (0, 1, 2, 3, 4): "weekdays",
    (5, 6): "weekends",
}
_WORDS = {"daily": "every day", "weekdays": "every weekday", "weekends": "every weekend day"}


def clean_days(days: Iterable[int]) -> tuple[int, ...]:
    """Return weekday numbers (0 = Monday) sorted and without repeats.

    Raises:
        InvalidInput: If there are none or one is not 0..6.
    """
    try:
        values = sorted({int(d) for d in days})
    except (TypeError, ValueError):
        raise InvalidInput("Please choose the days of the week.", field="days") from None
    if not values or any(not 0 <= d <= 6 for d in values):
        raise InvalidInput("Please choose the days of the week.", field="days")
    return tuple(values)


def format_recurrence(days: Iterable[int], at: time) -> str:
    """Return the stored form, e.g. ``"weekdays 12:30"`` or ``"mon,thu 18:00"``."""
    key = clean_days(days)
    label = _NAMED.get(key) or ",".join(WEEKDAYS[d] for d in key)
    return f"{label} {at:%H:%M}"


def parse_recurrence(text: str) -> tuple[tuple[int, ...], time]:
    """Return ``(days, time)`` from a stored recurrence text.

    Raises:
        ValueError: If the text is not in the stored form.
    """
    label, clock = text.strip().split(" ", 1)
    reverse = {v: k for k, v in _NAMED.items()}
    days = reverse.get(label) or tuple(WEEKDAYS.index(d) for d in label.split(","))
    hours, minutes = clock.split(":")
    return tuple(days), time(int(hours), int(minutes))


def describe_recurrence(text: str) -> str:
    """Return the recurrence for people, e.g. ``"every weekday at 12:30"``."""
    label, clock = text.strip().split(" ", 1)
    if label in _WORDS:
        return f"{_WORDS[label]} at {clock}"
    names = [WEEKDAYS.index(d) for d in label.split(",")]
    full = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    words = [full[d] for d in names]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"every {joined} at {clock}"

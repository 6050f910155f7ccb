"""Tests for assistant.care.meals.recurrence."""

from __future__ import annotations

from datetime import time

import pytest

from assistant.care.core.errors import InvalidInput
from assistant.care.meals.recurrence import (
    clean_days,
    describe_recurrence,
    format_recurrence,
    parse_recurrence,
)


@pytest.mark.parametrize("days, text, words", [
    ([0, 1, 2, 3, 4], "weekdays 12:30", "every weekday at 12:30"),
    (range(7), "daily 12:30", "every day at 12:30"),
    ([6, 5], "weekends 12:30", "every weekend day at 12:30"),
    ([4, 0, 2, 2], "mon,wed,fri 12:30", "every Monday, Wednesday and Friday at 12:30"),
    ([3], "thu 12:30", "every Thursday at 12:30"),
])
def test_recurrence_round_trip(days, text: str, words: str) -> None:  # type: ignore[no-untyped-def]
    assert format_recurrence(days, time(12, 30)) == text
    assert parse_recurrence(text) == (clean_days(days), time(12, 30))
    assert describe_recurrence(text) == words


@pytest.mark.parametrize("days", [[], [7], ["x"]])
def test_bad_days_are_refused(days) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        clean_days(days)

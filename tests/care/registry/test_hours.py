"""Tests for assistant.care.registry.hours."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from assistant.care.core.errors import InvalidInput
from assistant.care.registry.hours import (
    describe_hours,
    dumps_hours,
    is_open,
    loads_hours,
    open_at_time,
    parse_hours_text,
    validate_hours,
)


def test_parse_text_with_ranges_lists_and_split_days() -> None:
    hours = parse_hours_text("mon-fri 08:00-18:00; sat 09:00-12:00, 14:00-17:00")
    assert hours["mon"] == [["08:00", "18:00"]]
    assert hours["sat"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert "sun" not in hours
    assert parse_hours_text("fri-mon 10:00-16:00").keys() == {"fri", "sat", "sun", "mon"}
    assert len(parse_hours_text("daily 07:00-20:00")) == 7
    assert parse_hours_text("weekends 09:00-13:00").keys() == {"sat", "sun"}


@pytest.mark.parametrize("text", ["", "sometimes", "mon 8-18", "funday 08:00-10:00", "mon 18:00-08:00",
                                  "mon 08:00-12:00, 11:00-13:00", "mon 25:00-26:00"])
def test_unreadable_hours_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_hours_text(text)


def test_is_open_includes_the_start_and_excludes_the_end() -> None:
    hours = parse_hours_text("mon 08:00-18:00; tue 00:00-24:00")
    monday = datetime(2025, 12, 1)
    assert not is_open(hours, monday.replace(hour=7, minute=59))
    assert is_open(hours, monday.replace(hour=8))
    assert not is_open(hours, monday.replace(hour=18))
    assert is_open(hours, datetime(2025, 12, 2, 23, 59))
    assert not is_open(hours, datetime(2025, 12, 3, 12, 0))
    assert open_at_time(hours, 0, time(12, 0)) and not open_at_time(hours, 6, time(12, 0))


def test_round_trip_and_description() -> None:
    hours = validate_hours({"Sat": [["09:00", "13:00"]], "mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]]})
    assert loads_hours(dumps_hours(hours)) == hours
    assert describe_hours(hours) == "Mon-Tue 08:00-18:00; Sat 09:00-13:00"
    assert describe_hours({}) == "closed"
    assert loads_hours("") == {}

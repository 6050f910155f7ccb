"""Tests for assistant.care.core.timeparse (stdlib-only natural date/time parsing).

All cases use a fixed ``now``: Thursday 26 November 2026, 10:15 in Europe/London.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.care.core.timeparse import (
    Recurrence,
    TimeParseError,
    When,
    describe,
    parse_recurrence,
    parse_when,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 26, 10, 15, tzinfo=LONDON)  # a Thursday


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# --------------------------------------------------------------------------
# Points in time
# --------------------------------------------------------------------------

POINTS = [
    # the phrasings seniors use
    ("tomorrow noon", at(11, 27, 12)),
    ("tomorow at 12", at(11, 27, 12)),
    ("next Monday at 3", at(11, 30, 15)),
    ("today at half past six", at(11, 26, 18, 30)),
    ("at 7pm", at(11, 26, 19)),
    ("12:30", at(11, 26, 12, 30)),
    ("25 December at 1pm", at(12, 25, 13)),
    ("on the 3rd at noon", at(12, 3, 12)),
    ("3/12 at 12", at(12, 3, 12)),
    ("lunchtime", at(11, 26, 12)),
    ("lunch time", at(11, 26, 12)),
    ("noon", at(11, 26, 12)),
    ("midday", at(11, 26, 12)),
    # tomorrow typos and slang
    ("tommorow at 12", at(11, 27, 12)),
    ("tomorrw at 12", at(11, 27, 12)),
    ("tmrw at 12", at(11, 27, 12)),
    ("2moro at noon", at(11, 27, 12)),
    ("to morrow at 12", at(11, 27, 12)),
    ("TOMORROW AT 12!!!", at(11, 27, 12)),
    ("tomorrow, 12 o clock", at(11, 27, 12)),
    # weekday typos (today is Thursday)
    ("fryday at 10", at(11, 27, 10)),
    ("wendesday at 10", at(12, 2, 10)),
    ("wednsday at 10", at(12, 2, 10)),
    ("thurday at 4pm", at(11, 26, 16)),
    ("satur day at 11", at(11, 28, 11)),
    ("munday at 11", at(11, 30, 11)),
    ("tuseday at 11", at(12, 1, 11)),
    ("sunday at noon", at(11, 29, 12)),
    ("on sat at 10", at(11, 28, 10)),
    # plain weekday on the same weekday: today if the time is still ahead
    ("thursday at 11", at(11, 26, 11)),
    ("thursday at 9", at(12, 3, 9)),
    # bare hours: 1-7 mean pm, 8-12 as written, next occurrence when no day
    ("at 3", at(11, 26, 15)),
    ("3 o'clock", at(11, 26, 15)),
    ("three o'clock", at(11, 26, 15)),
    ("at 8", at(11, 27, 8)),
    ("at 9am tomorrow", at(11, 27, 9)),
    ("07:30", at(11, 27, 7, 30)),
    ("19:30", at(11, 26, 19, 30)),
    ("at 0930", at(11, 27, 9, 30)),
    ("at 7.30", at(11, 26, 19, 30)),
    ("7 p.m.", at(11, 26, 19)),
    ("12pm", at(11, 26, 12)),
    ("12am", at(11, 27, 0)),
    ("at 7 in the morning", at(11, 27, 7)),
    ("tomorrow morning at 7", at(11, 27, 7)),
    ("tonight at 9", at(11, 26, 21)),
    # numbers as words
    ("quarter to one", at(11, 26, 12, 45)),
    ("quarter past 12", at(11, 26, 12, 15)),
    ("ten past three", at(11, 26, 15, 10)),
    ("twenty to seven", at(11, 26, 18, 40)),
    ("at half six", at(11, 26, 18, 30)),
    ("at seven thirty", at(11, 26, 19, 30)),
    # midnight is the end of the day named
    ("midnight", at(11, 27, 0)),
    ("tonight at midnight", at(11, 27, 0)),
    # explicit dates
    ("Friday 4 December at 10am", at(12, 4, 10)),
    ("December 25th at 1pm", at(12, 25, 13)),
    ("christmas eve at 6", at(12, 24, 18)),
    # relative and immediate
    ("in 2 hours", at(11, 26, 12, 15)),
    ("in half an hour", at(11, 26, 10, 45)),
    ("in an hour and a half", at(11, 26, 11, 45)),
    ("in 10 minutes", at(11, 26, 10, 25)),
    ("in ten minutes", at(11, 26, 10, 25)),
    ("2 hours from now", at(11, 26, 12, 15)),
    ("in 48 hours", at(11, 28, 10, 15)),
    ("now", NOW),
    ("asap", NOW),
    ("ASAP please", NOW),
    ("as soon as possible", NOW),
    ("right away", NOW),
]


@pytest.mark.parametrize(("text", "expected"), POINTS)
def test_points_in_time(text: str, expected: datetime) -> None:
    when = parse_when(text, NOW)
    assert when is not None
    assert when.start == expected
    assert when.start.utcoffset() == expected.utcoffset()
    assert when.end is None
    assert when.has_time is True


# --------------------------------------------------------------------------
# Day only (has_time False)
# --------------------------------------------------------------------------

DAYS = [
    ("on friday", at(11, 27)),
    ("tomorrow", at(11, 27)),
    ("tommorow", at(11, 27)),
    ("the day after tomorrow", at(11, 28)),
    ("in a week", at(12, 3)),
    ("in 2 days", at(11, 28)),
    ("thursday", at(12, 3)),
    ("next thursday", at(12, 3)),
    ("this thursday", at(11, 26)),
    ("next friday", at(11, 27)),  # strictly after today: tomorrow
    ("next week friday", at(12, 4)),
    ("friday next week", at(12, 4)),
    ("5 January", at(1, 5, year=2027)),
    ("the 31st", at(12, 31)),
    ("2026-12-03", at(12, 3)),
    ("3/12/26", at(12, 3)),
    ("the third of December", at(12, 3)),
    ("new year's day", at(1, 1, year=2027)),
]


@pytest.mark.parametrize(("text", "expected"), DAYS)
def test_day_only(text: str, expected: datetime) -> None:
    when = parse_when(text, NOW)
    assert when is not None
    assert (when.start, when.end, when.has_time) == (expected, None, False)


def test_day_only_uses_default_time() -> None:
    when = parse_when("on friday", NOW, default_time=time(9))
    assert when == When(at(11, 27, 9), None, False, "on friday")


# --------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------

WINDOWS = [
    ("friday morning", at(11, 27, 8), at(11, 27, 12)),
    ("next friday morning", at(11, 27, 8), at(11, 27, 12)),
    ("friday morning next week", at(12, 4, 8), at(12, 4, 12)),
    ("tomorrow afternoon", at(11, 27, 13), at(11, 27, 17)),
    ("fri evening", at(11, 27, 17), at(11, 27, 20)),
    ("this evening", at(11, 26, 17), at(11, 26, 20)),
    ("tonight", at(11, 26, 17), at(11, 26, 20)),
    ("tomorrow after lunch", at(11, 27, 13), at(11, 27, 17)),
    # a window already under way starts now
    ("this morning", NOW, at(11, 26, 12)),
    ("between 2 and 4", at(11, 26, 14), at(11, 26, 16)),
    ("from 8 to 10pm", at(11, 26, 20), at(11, 26, 22)),
]


@pytest.mark.parametrize(("text", "start", "end"), WINDOWS)
def test_windows(text: str, start: datetime, end: datetime) -> None:
    when = parse_when(text, NOW)
    assert when is not None
    assert (when.start, when.end, when.has_time) == (start, end, True)


# --------------------------------------------------------------------------
# Meal defaults
# --------------------------------------------------------------------------

MEALS = [
    ("lunch tomorrow", "lunch", at(11, 27, 12)),
    ("tomorrow", "breakfast", at(11, 27, 8)),
    ("friday", "dinner", at(11, 27, 18)),
    ("on friday", "supper", at(11, 27, 18)),
    ("today", "lunch", at(11, 26, 12)),
    ("tomorrow at 1pm", "lunch", at(11, 27, 13)),  # an explicit time wins
]


@pytest.mark.parametrize(("text", "meal", "expected"), MEALS)
def test_meal_type_default_times(text: str, meal: str, expected: datetime) -> None:
    when = parse_when(text, NOW, meal_type=meal, default_time=time(7))
    assert when is not None
    assert (when.start, when.has_time) == (expected, True)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

ERRORS = [
    ("today at 9", "past"),
    ("this morning at 9", "past"),
    ("yesterday", "past"),
    ("yesterday at noon", "past"),
    ("the day before yesterday", "past"),
    ("last friday", "past"),
    ("2 hours ago", "past"),
    ("1 November", "past"),
    ("25 December 2025", "past"),
    ("31 February", "invalid_date"),
    ("30 February", "invalid_date"),
    ("29 February", "invalid_date"),  # February 2027 has no 29th
    ("31/4", "invalid_date"),
    ("31 November", "invalid_date"),
    ("32 December", "invalid_date"),
    ("13/13", "invalid_date"),
    ("on the 0th", "invalid_date"),
    ("at 25:00", "invalid_date"),
    ("12:75", "invalid_date"),
    ("13pm", "invalid_date"),
    ("12/25", "ambiguous"),  # month/day order
    ("next week", "ambiguous"),
    ("weekend", "ambiguous"),
    ("in december", "ambiguous"),
    ("mon wed fri", "ambiguous"),
    ("Friday 5 December", "ambiguous"),
    ("tomorrow or saturday", "ambiguous"),
    ("at 8 and 8pm", "ambiguous"),
    ("in 400 days", "too_far"),
    ("25 December 2028", "too_far"),
    ("in 99999999999999999999 hours", "too_far"),
]


@pytest.mark.parametrize(("text", "kind"), ERRORS)
def test_errors(text: str, kind: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, NOW)
    error = info.value
    assert error.kind == kind
    assert isinstance(error, ValueError)
    assert error.message and error.message == str(error)
    assert error.message.endswith("?")
    assert "{" not in error.message and "None" not in error.message


def test_error_messages_are_plain() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("31 February", NOW)
    assert info.value.message == "31 February doesn't exist. Which day did you mean?"
    with pytest.raises(TimeParseError) as info:
        parse_when("25:00", NOW)
    assert "25:00" in info.value.message
    with pytest.raises(TimeParseError) as info:
        parse_when("12/25", NOW)
    assert "25 December" in info.value.message


def test_meal_time_already_passed_today() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("today", NOW, meal_type="breakfast")
    assert info.value.kind == "past"


def test_max_days_ahead() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_when("next friday", NOW, max_days_ahead=0)
    assert info.value.kind == "too_far"
    assert parse_when("today at noon", NOW, max_days_ahead=0) is not None


def test_leap_day_2028_is_valid() -> None:
    when = parse_when("29 February 2028 at noon", NOW, max_days_ahead=1000)
    assert when is not None and when.start == at(2, 29, 12, year=2028)
    december_2027 = datetime(2027, 12, 1, 9, 0, tzinfo=LONDON)
    when = parse_when("29/2", december_2027)
    assert when is not None and when.start.date().isoformat() == "2028-02-29"


# --------------------------------------------------------------------------
# Nothing to understand
# --------------------------------------------------------------------------

NO_TIME = [
    "I want soup",
    "",
    "   ",
    "good morning, I want soup",
    "good night",
    "lunch for 2 people",
    "room 12",
    "it costs £12.50",
    "I sat down",
    "I'd like a sundae",
    "may I come",
    "I need to remember",
    "every weekday",
    "weekends",
    "not now",
    "I'm fine now thanks",
    "I'll take the 2nd one",
    "the first one please",
]


@pytest.mark.parametrize("text", NO_TIME)
def test_no_time_expression(text: str) -> None:
    assert parse_when(text, NOW) is None


def test_matched_is_the_understood_part() -> None:
    when = parse_when("I would like lunch tomorrow at 12 please", NOW)
    assert when is not None and when.matched == "tomorrow at 12"
    when = parse_when("can you come in half an hour?", NOW)
    assert when is not None and when.matched == "in half an hour"


# --------------------------------------------------------------------------
# Time zones and daylight saving
# --------------------------------------------------------------------------


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        parse_when("tomorrow", datetime(2026, 11, 26, 10, 15))
    when = parse_when("tomorrow", NOW)
    assert when is not None
    with pytest.raises(ValueError):
        describe(when, datetime(2026, 11, 26, 10, 15))


def test_results_are_in_the_zone_of_now() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    now = NOW.astimezone(tokyo)  # 19:15 in Tokyo
    when = parse_when("tomorrow at 12", now)
    assert when is not None
    assert when.start == datetime(2026, 11, 27, 12, tzinfo=tokyo)
    assert when.start.tzinfo is tokyo
    when = parse_when("at 3", datetime(2026, 11, 26, 10, 15, tzinfo=timezone.utc))
    assert when is not None and when.start.tzinfo is timezone.utc


def test_dst_spring_forward_gap_moves_forward() -> None:
    now = datetime(2027, 3, 27, 22, 0, tzinfo=LONDON)  # clocks go forward at 01:00 on 28 March
    when = parse_when("tomorrow at 1:30am", now)
    assert when is not None
    assert (when.start.hour, when.start.minute) == (2, 30)
    assert when.start.utcoffset().total_seconds() == 3600
    when = parse_when("tomorrow at 9", now)
    assert when is not None
    assert when.start.astimezone(timezone.utc).hour == 8


def test_dst_durations_are_real_elapsed_time() -> None:
    now = datetime(2027, 3, 28, 0, 30, tzinfo=LONDON)
    when = parse_when("in 2 hours", now)
    assert when is not None
    assert when.start.astimezone(timezone.utc) == datetime(2027, 3, 28, 2, 30, tzinfo=timezone.utc)
    assert (when.start.hour, when.start.minute) == (3, 30)


def test_dst_autumn_offset() -> None:
    now = datetime(2026, 10, 24, 12, 0, tzinfo=LONDON)  # clocks go back on 25 October
    when = parse_when("tomorrow at 9", now)
    assert when is not None
    assert when.start.utcoffset().total_seconds() == 0


# --------------------------------------------------------------------------
# describe()
# --------------------------------------------------------------------------

DESCRIPTIONS = [
    ("today at noon", "today at 12:00"),
    ("tomorrow at 12", "tomorrow (Friday 27 November) at 12:00"),
    ("friday morning next week", "Friday 4 December, 08:00\u201312:00"),
    ("tomorrow", "tomorrow (Friday 27 November)"),
    ("5 January at 9", "Tuesday 5 January 2027 at 09:00"),
]


@pytest.mark.parametrize(("text", "expected"), DESCRIPTIONS)
def test_describe(text: str, expected: str) -> None:
    when = parse_when(text, NOW)
    assert when is not None
    assert describe(when, NOW) == expected


# --------------------------------------------------------------------------
# Recurrences
# --------------------------------------------------------------------------

WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)

RECURRENCES = [
    ("every weekday", WEEKDAYS, (), "every weekday"),
    ("lunch every weekday", WEEKDAYS, (time(12),), "every weekday at 12:00"),
    ("every day at 8", EVERY_DAY, (time(8),), "every day at 08:00"),
    ("every Monday and Thursday at 10", (0, 3), (time(10),), "every Monday and Thursday at 10:00"),
    ("mon wed fri", (0, 2, 4), (), "every Monday, Wednesday and Friday"),
    ("weekends", (5, 6), (), "every Saturday and Sunday"),
    ("every day at 8 and 8pm", EVERY_DAY, (time(8), time(20)), "every day at 08:00 and 20:00"),
    ("mondays and thursdays", (0, 3), (), "every Monday and Thursday"),
    ("monday to friday", WEEKDAYS, (), "every weekday"),
    ("mon-fri at 12", WEEKDAYS, (time(12),), "every weekday at 12:00"),
    ("daily at noon", EVERY_DAY, (time(12),), "every day at 12:00"),
    ("every day except sunday", (0, 1, 2, 3, 4, 5), (), "every day except Sunday"),
    ("every evening at 6", EVERY_DAY, (time(18),), "every day at 18:00"),
    ("every wendesday", (2,), (), "every Wednesday"),
    ("every thurday at 3pm", (3,), (time(15),), "every Thursday at 15:00"),
    ("on weekdays at half past twelve", WEEKDAYS, (time(12, 30),), "every weekday at 12:30"),
    ("breakfast and lunch every day", EVERY_DAY, (time(8), time(12)), "every day at 08:00 and 12:00"),
]


@pytest.mark.parametrize(("text", "weekdays", "times", "description"), RECURRENCES)
def test_recurrence(text: str, weekdays: tuple[int, ...], times: tuple[time, ...], description: str) -> None:
    assert parse_recurrence(text) == Recurrence(weekdays, times, description)


@pytest.mark.parametrize(
    "text", ["tomorrow at 12", "on friday", "I want soup", "every other day", "every 2 weeks", ""]
)
def test_not_a_recurrence(text: str) -> None:
    assert parse_recurrence(text) is None


def test_recurrence_rejects_impossible_time() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_recurrence("every day at 25:00")
    assert info.value.kind == "invalid_date"


# --------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------

ODD_INPUTS = [
    "",
    "🙂🙂",
    "a" * 5000,
    "tomorrow at 12 " * 400,
    "x y " * 2500,
    "<script>alert('hi')</script>",
    "'; DROP TABLE bookings; --",
    "\x00\n\t\r",
    "////::::....----",
    "at at at on the the",
    "99999999999999999999999999",
    "at 99999999999999999999999",
    "in 0 minutes",
    "the 99th",
    "٣/١٢",
    "ｔｏｍｏｒｒｏｗ",
    "12:30pm pm am",
    "every every every",
    "between and",
    "quarter to",
    "half past",
    "in an",
]


@pytest.mark.parametrize("text", ODD_INPUTS, ids=[repr(t[:20]) for t in ODD_INPUTS])
def test_odd_inputs_never_crash(text: str) -> None:
    try:
        when = parse_when(text, NOW)
    except TimeParseError as error:
        assert error.kind in TimeParseError.KINDS and error.message
    else:
        if when is not None:
            assert when.start.tzinfo is not None
            assert isinstance(describe(when, NOW), str)
    try:
        recurrence = parse_recurrence(text)
    except TimeParseError as error:
        assert error.message
    else:
        assert recurrence is None or isinstance(recurrence.description, str)

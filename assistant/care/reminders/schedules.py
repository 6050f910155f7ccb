"""Reminder schedules: when a reminder is due, read from what people say and stored as JSON.

:func:`parse_schedule` understands "every day at 8 and 20", "every Monday at 10",
"every 4 hours", "every other day at 9", "in 2 hours" or "tomorrow at 3pm" and returns a
:class:`Schedule` that knows its next due time, describes itself in words and is
stored with :meth:`Schedule.to_json`. Local times are read in the senior's timezone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final, Optional
from zoneinfo import ZoneInfo

from assistant.care.core.clock import require_aware
from assistant.care.core.errors import InvalidInput
from assistant.care.core.timeparse import (
    MAX_INPUT_CHARS,
    TimeParseError,
    When,
    describe,
    parse_recurrence,
    parse_when,
)

MIN_INTERVAL_MINUTES: Final = 15
MAX_INTERVAL_MINUTES: Final = 366 * 24 * 60

WEEKDAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

_NOT_UNDERSTOOD: Final = (
    "Sorry, I did not understand when. You could say 'every day at 8', "
    "'every Monday and Thursday at 10', 'in 2 hours' or 'tomorrow at 3pm'."
)
_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "zero": 0, "no": 0,
    "other": 2, "second": 2, "third": 3,
}
_UNIT_MINUTES: Final = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_INTERVAL: Final = re.compile(
    r"\bevery\s+(?P<count>\d+(?:[.,]\d+)?|half(?:\s+an?)?|" + "|".join(_NUMBER_WORDS) + r")?\s*"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|h|days?|weeks?)\b",
    re.IGNORECASE,
)
_WINDOW_TIMES: Final = (
    (re.compile(r"\bmornings?\b", re.I), time(8)),
    (re.compile(r"\bafternoons?\b", re.I), time(14)),
    (re.compile(r"\b(?:evenings?|nights?|tonight|bedtime)\b", re.I), time(19)),
)


def _utc_from_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return local ``day`` at ``at`` in UTC; a time skipped by a clock change moves forward."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


def join_words(words: list[str], last: str = "and") -> str:
    """Join ``["a", "b", "c"]`` as ``"a, b and c"``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def day_words(local: datetime) -> str:
    """Return e.g. ``"Tuesday 2 December"``."""
    return f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"


@dataclass(frozen=True)
class Schedule:
    """When a reminder is due: once, on weekdays at times, or at a fixed interval.

    Attributes:
        kind: ``"once"``, ``"weekly"`` or ``"interval"``.
        timezone: IANA name of the senior's timezone; local times are read in it.
        at: The one time of a ``once`` schedule (aware UTC).
        weekdays: Days of a ``weekly`` schedule, 0 = Monday, sorted.
        times: Local times of day of a ``weekly`` schedule, sorted.
        every_minutes: Length of an ``interval``; whole days keep the local time of day
            across clock changes, shorter intervals are elapsed time.
        start: First due time of an ``interval`` (aware UTC).
    """

    kind: str
    timezone: str
    at: Optional[datetime] = None
    weekdays: tuple[int, ...] = ()
    times: tuple[time, ...] = ()
    every_minutes: Optional[int] = None
    start: Optional[datetime] = None

    @property
    def tz(self) -> ZoneInfo:
        """The schedule's timezone."""
        return ZoneInfo(self.timezone)

    @property
    def recurring(self) -> bool:
        """Whether the reminder comes back after its first due time."""
        return self.kind != "once"

    def next_after(self, instant: datetime) -> Optional[datetime]:
        """Return the first due time strictly after ``instant`` (aware UTC), or None."""
        instant = require_aware(instant, "instant")
        if self.kind == "once":
            return self.at if self.at is not None and self.at > instant else None
        if self.kind == "weekly":
            return self._next_weekly(instant)
        return self._next_interval(instant)

    def _next_weekly(self, instant: datetime) -> Optional[datetime]:
        tz = self.tz
        first_day = instant.astimezone(tz).date() - timedelta(days=1)
        for offset in range(9):
            day = first_day + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            later = [c for c in sorted(_utc_from_local(day, t, tz) for t in self.times) if c > instant]
            if later:
                return later[0]
        return None

    def _next_interval(self, instant: datetime) -> Optional[datetime]:
        assert self.start is not None and self.every_minutes
        if self.start > instant:
            return self.start
        if self.every_minutes % 1440:
            step = timedelta(minutes=self.every_minutes)
            return self.start + step * ((instant - self.start) // step + 1)
        days = self.every_minutes // 1440
        tz = self.tz
        local = self.start.astimezone(tz)
        k = max((instant.astimezone(tz).date() - local.date()).days // days - 1, 0)
        while True:
            candidate = _utc_from_local(local.date() + timedelta(days=k * days), local.time(), tz)
            if candidate > instant:
                return candidate
            k += 1

    def describe(self, now: Optional[datetime] = None) -> str:
        """Return the schedule in words, e.g. ``"every day at 08:00 and 20:00"``.

        Args:
            now: With it, a one-off time is told relative to today ("tomorrow (...) at 15:00").
        """
        tz = self.tz
        if self.kind == "once":
            assert self.at is not None
            if now is not None:
                return describe(When(self.at.astimezone(tz), None, True, ""), now.astimezone(tz))
            local = self.at.astimezone(tz)
            return f"on {day_words(local)} at {local:%H:%M}"
        if self.kind == "weekly":
            return _weekly_words(self.weekdays, self.times)
        return _interval_words(self.every_minutes or 0, self.start.astimezone(tz) if self.start else None)

    def to_json(self) -> str:
        """Return the stored form of the schedule."""
        data: dict[str, Any] = {"kind": self.kind, "timezone": self.timezone}
        if self.kind == "once":
            data["at"] = self.at.isoformat() if self.at else None
        elif self.kind == "weekly":
            data["weekdays"] = list(self.weekdays)
            data["times"] = [f"{t:%H:%M}" for t in self.times]
        else:
            data["every_minutes"] = self.every_minutes
            data["start"] = self.start.isoformat() if self.start else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Schedule":
        """Read a schedule stored by :meth:`to_json`.

        Raises:
            ValueError: If the text is not a stored schedule.
        """
        data = json.loads(text)
        kind, tz_name = data.get("kind"), data.get("timezone")
        ZoneInfo(tz_name)
        if kind == "once":
            return cls("once", tz_name, at=require_aware(datetime.fromisoformat(data["at"]), "at"))
        if kind == "weekly":
            weekdays = tuple(sorted({int(d) for d in data["weekdays"]}))
            times = tuple(sorted(time.fromisoformat(t) for t in data["times"]))
            if not weekdays or not times or any(not 0 <= d <= 6 for d in weekdays):
                raise ValueError(f"incomplete weekly schedule: {text!r}")
            return cls("weekly", tz_name, weekdays=weekdays, times=times)
        if kind == "interval":
            minutes = int(data["every_minutes"])
            if minutes < 1:
                raise ValueError(f"bad interval: {text!r}")
            start = require_aware(datetime.fromisoformat(data["start"]), "start")
            return cls("interval", tz_name, every_minutes=minutes, start=start)
        raise ValueError(f"unknown schedule kind: {kind!r}")


def _weekly_words(days: tuple[int, ...], times: tuple[time, ...]) -> str:
    """Return e.g. ``"every Monday and Thursday at 10:00"``."""
    if days == tuple(range(7)):
        out = "every day"
    elif days == (0, 1, 2, 3, 4):
        out = "every weekday"
    elif days == (5, 6):
        out = "every Saturday and Sunday"
    elif len(days) == 6:
        out = "every day except " + WEEKDAY_NAMES[next(d for d in range(7) if d not in days)]
    else:
        out = "every " + join_words([WEEKDAY_NAMES[d] for d in days])
    return out + " at " + join_words([f"{t:%H:%M}" for t in times])


def _interval_words(minutes: int, start: Optional[datetime]) -> str:
    """Return e.g. ``"every 2 hours"`` or ``"every other day at 09:00"``."""
    if minutes % 10080 == 0 and start is not None:
        weeks = minutes // 10080
        every = "every week" if weeks == 1 else ("every other week" if weeks == 2 else f"every {weeks} weeks")
        return f"{every} on {WEEKDAY_NAMES[start.weekday()]} at {start:%H:%M}"
    if minutes % 1440 == 0:
        days = minutes // 1440
        every = "every day" if days == 1 else ("every other day" if days == 2 else f"every {days} days")
        return every + (f" at {start:%H:%M}" if start is not None else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return "every hour" if hours == 1 else f"every {hours} hours"
    return f"every {minutes} minutes"


def _interval_count(raw: Optional[str]) -> Optional[float]:
    """Return the number in "every <count> <unit>" (None when it was left out)."""
    if raw is None:
        return None
    word = " ".join(raw.lower().split())
    if word.startswith("half"):
        return 0.5
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    return float(word.replace(",", "."))


def _parse_interval(text: str, now: datetime, tz: ZoneInfo) -> Optional[Schedule]:
    """Return an interval schedule for "every 2 hours", "every other day at 9" ..., or None."""
    match = _INTERVAL.search(text)
    if match is None:
        return None
    count = _interval_count(match.group("count"))
    unit = match.group("unit").lower()[0]
    if count is None and unit in "dw":
        return None  # "every day", "every week on Monday": a weekly pattern
    minutes = round((1.0 if count is None else count) * _UNIT_MINUTES[unit])
    if minutes <= 0:
        raise InvalidInput(
            f"A reminder {match.group(0).strip()} is not possible. How often should I remind you, "
            "for example every 4 hours?", field="time",
        )
    if minutes < MIN_INTERVAL_MINUTES:
        raise InvalidInput(
            f"I can remind you at most every {MIN_INTERVAL_MINUTES} minutes. "
            "How often should I remind you?", field="time",
        )
    if minutes > MAX_INTERVAL_MINUTES:
        raise InvalidInput("That is too far apart. Please choose at most once a year.", field="time")
    rest = (text[: match.start()] + " " + text[match.end():]).strip()
    try:
        anchor = parse_when(rest, now) if rest else None
    except TimeParseError as error:
        raise InvalidInput(error.message, field="time") from None
    if anchor is not None and not anchor.has_time:
        anchor = None
    step = timedelta(minutes=minutes)
    if unit in "dw":
        if anchor is None:
            raise InvalidInput(
                "At what time of day should I remind you? For example 'every other day at 9'.",
                field="time",
            )
        start = require_aware(anchor.start)
    elif anchor is None:
        start = require_aware(now).replace(second=0, microsecond=0) + step
    else:
        first = require_aware(anchor.start)
        start = first - step * ((first - require_aware(now)) // step)
    return Schedule("interval", tz.key, every_minutes=minutes, start=start)


def parse_schedule(text: str, now: datetime, tz: ZoneInfo) -> Schedule:
    """Understand when a reminder should be due.

    Examples: "every day at 8 and 20", "every Monday and Thursday at 10", "every morning",
    "every 4 hours", "every other day at 9", "in 2 hours", "tomorrow at 3pm".

    Args:
        text: What the person said.
        now: The current time (aware).
        tz: The senior's timezone; local times are read in it.

    Raises:
        InvalidInput: (field ``"time"``) for a past time ("yesterday"), an interval under
            15 minutes ("every 0 minutes"), a repeating plan without a time, or text
            without a time at all; the message can be shown as it is.
    """
    now = require_aware(now, "now")
    local_now = now.astimezone(tz)
    raw = " ".join(str(text or "").split())[:MAX_INPUT_CHARS]
    if not raw:
        raise InvalidInput(_NOT_UNDERSTOOD, field="time")
    interval = _parse_interval(raw, local_now, tz)
    if interval is not None:
        return interval
    try:
        recurrence = parse_recurrence(raw)
        if recurrence is not None:
            times = recurrence.times or tuple(t for pattern, t in _WINDOW_TIMES if pattern.search(raw))
            if not times:
                raise InvalidInput(
                    f"At what time should I remind you {recurrence.description}? "
                    "For example 'at 8' or 'at 8 and 20'.", field="time",
                )
            return Schedule("weekly", tz.key, weekdays=recurrence.weekdays, times=tuple(sorted(times)))
        when = parse_when(raw, local_now)
    except TimeParseError as error:
        raise InvalidInput(error.message, field="time") from None
    if when is None:
        raise InvalidInput(_NOT_UNDERSTOOD, field="time")
    if not when.has_time:
        raise InvalidInput("At what time that day? For example 'at 10' or 'at 3pm'.", field="time")
    at = require_aware(when.start)
    if at <= now:
        raise InvalidInput("Please choose a time a little later than now.", field="time")
    return Schedule("once", tz.key, at=at)

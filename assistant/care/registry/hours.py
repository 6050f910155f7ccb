"""Opening hours: validation, parsing from text, and "is it open at ...?".

Stored as JSON text: ``{"mon": [["08:00", "18:00"]], "sat": [["09:00", "13:00"]]}``.
Weekdays that are missing are closed. Times are local to the deployment's
timezone; an interval may end at ``"24:00"`` but may not cross midnight.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from typing import Mapping, Sequence

from assistant.care.core.errors import InvalidInput
from assistant.care.core.vocabulary import WEEKDAYS

Hours = dict[str, list[list[str]]]
"""Normalised opening hours: weekday key to sorted ``[start, end]`` pairs."""

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_DAY_ALIASES: dict[str, tuple[str, ...]] = {"daily": WEEKDAYS, "everyday": WEEKDAYS, "weekdays": WEEKDAYS[:5], "weekends": WEEKDAYS[5:]}


def _minutes(text: str) -> int:
    """Return minutes since midnight for ``"HH:MM"``."""
    match = _TIME.match(text.strip())
    if not match:
        raise InvalidInput(f"{text!r} is not a time like 08:30.", field="opening_hours")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes:
        raise InvalidInput(f"{text!r} is not a valid time.", field="opening_hours")
    return hours * 60 + minutes


def _fmt(minutes: int) -> str:
    """Return ``"HH:MM"`` for minutes since midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def validate_hours(data: Mapping[str, Sequence[Sequence[str]]]) -> Hours:
    """Check and normalise opening hours given as a mapping.

    Raises:
        InvalidInput: On unknown weekdays, bad times, empty or overlapping intervals.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("Opening hours must map weekdays to time ranges.", field="opening_hours")
    spans_by_day: dict[str, list[tuple[int, int]]] = {}
    for raw_day, intervals in data.items():
        day = str(raw_day).strip().lower()[:3]
        if day not in WEEKDAYS:
            raise InvalidInput(f"{raw_day!r} is not a weekday.", field="opening_hours")
        spans = spans_by_day.setdefault(day, [])
        for interval in intervals or []:
            if isinstance(interval, str) or len(interval) != 2:
                raise InvalidInput("Each opening time needs a start and an end.", field="opening_hours")
            start, end = _minutes(str(interval[0])), _minutes(str(interval[1]))
            if end <= start:
                raise InvalidInput(
                    f"On {day}, {interval[0]} to {interval[1]} ends before it starts.",
                    field="opening_hours",
                )
            spans.append((start, end))
    result: Hours = {}
    for day in WEEKDAYS:
        spans = sorted(spans_by_day.get(day, []))
        for (_, first_end), (second_start, _) in zip(spans, spans[1:]):
            if second_start < first_end:
                raise InvalidInput(f"Opening times on {day} overlap.", field="opening_hours")
        if spans:
            result[day] = [[_fmt(s), _fmt(e)] for s, e in spans]
    return result


def _days(spec: str) -> tuple[str, ...]:
    """Expand ``"mon-fri"``, ``"sat,sun"`` or ``"daily"`` into weekday keys."""
    days: list[str] = []
    for part in spec.split(","):
        part = part.strip().lower()
        if part in _DAY_ALIASES:
            days.extend(_DAY_ALIASES[part])
            continue
        if "-" in part:
            first, last = (p.strip()[:3] for p in part.split("-", 1))
            if first not in WEEKDAYS or last not in WEEKDAYS:
                raise InvalidInput(f"{part!r} is not a range of weekdays.", field="opening_hours")
            i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
            span = range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]
            days.extend(WEEKDAYS[k] for k in span)
            continue
        if part[:3] not in WEEKDAYS:
            raise InvalidInput(f"{part!r} is not a weekday.", field="opening_hours")
        days.append(part[:3])
    return tuple(dict.fromkeys(days))


def parse_hours_text(text: str) -> Hours:
    """Parse ``"mon-fri 08:00-18:00; sat 09:00-13:00"`` into opening hours.

    Groups are separated by ``;``; a group is days then one or more
    comma-separated ranges, e.g. ``"sat 09:00-12:00, 14:00-17:00"``.

    Raises:
        InvalidInput: If the text cannot be read.
    """
    if not text or not text.strip():
        raise InvalidInput("Opening hours are missing.", field="opening_hours")
    data: dict[str, list[list[str]]] = {}
    for group in text.split(";"):
        group = group.strip()
        if not group:
            continue
        match = re.match(r"^([A-Za-z,\s-]+?)\s+(\d.*)$", group)
        if not match:
            raise InvalidInput(f"Could not read opening hours {group!r}.", field="opening_hours")
        ranges = []
        for span in match.group(2).split(","):
            parts = [p.strip() for p in span.split("-")]
            if len(parts) != 2:
                raise InvalidInput(f"Could not read the times {span.strip()!r}.", field="opening_hours")
            ranges.append(parts)
        for day in _days(match.group(1)):
            data.setdefault(day, []).extend(ranges)
    return validate_hours(data)


def is_open(hours: Mapping[str, Sequence[Sequence[str]]], local: datetime) -> bool:
    """Return whether the hours include the wall-clock time ``local``.

    Args:
        hours: Normalised opening hours.
        local: A datetime already converted to the provider's timezone.
    """
    day = WEEKDAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return any(_minutes(s) <= minute < _minutes(e) for s, e in hours.get(day, []))


def open_at_time(hours: Mapping[str, Sequence[Sequence[str]]], weekday: int, at: time) -> bool:
    """Return whether the hours include ``at`` on ``weekday`` (0 = Monday)."""
    minute = at.hour * 60 + at.minute
    return any(_minutes(s) <= minute < _minutes(e) for s, e in hours.get(WEEKDAYS[weekday], []))


def loads_hours(text: str | None) -> Hours:
    """Read opening hours stored as JSON text (empty means always closed)."""
    return validate_hours(json.loads(text)) if text else {}


def dumps_hours(hours: Hours) -> str:
    """Serialise normalised opening hours to JSON text."""
    return json.dumps(hours, separators=(",", ":"))


def describe_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> str:
    """Return a short description such as ``"Mon-Fri 08:00-18:00; Sat 09:00-13:00"``."""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        spans = ", ".join(f"{s}-{e}" for s, e in hours.get(day, []))
        if groups and groups[-1][1] == spans:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    parts = []
    for days, spans in groups:
        if not spans:
            continue
        label = days[0].title() if len(days) == 1 else f"{days[0].title()}-{days[-1].title()}"
        parts.append(f"{label} {spans}")
    return "; ".join(parts) if parts else "closed"

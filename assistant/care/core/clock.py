"""Time helpers: the injectable clock and timezone-aware conversions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.care.core.errors import InvalidInput

Clock = Callable[[], datetime]
"""A callable returning the current time as an aware datetime."""


def utcnow() -> datetime:
    """Return the current time in UTC (timezone-aware)."""
    return datetime.now(timezone.utc)


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC, refusing naive datetimes.

    Args:
        value: The datetime to check.
        name: Argument name used in the error message.

    Raises:
        ValueError: If ``value`` has no timezone (a programming error, not user input).
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(timezone.utc)


def zone(name: str) -> ZoneInfo:
    """Return the IANA timezone called ``name``.

    Raises:
        InvalidInput: If the name is not a known timezone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(
            "Sorry, I do not know that time zone.", field="timezone"
        ) from None

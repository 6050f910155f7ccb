"""Checks on when and where a provider can serve a booking."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from assistant.care.core.errors import InvalidInput, Unavailable
from assistant.care.registry.hours import describe_hours, is_open, loads_hours
from assistant.care.core.models import Provider

DEFAULT_TIMEZONE: Final = "Europe/London"
"""Deployment timezone: the one providers' opening hours are written in."""

MAX_ADVANCE: Final = timedelta(days=90)
"""How far ahead anything can be booked."""


def local_words(at: datetime, tz: ZoneInfo) -> str:
    """Return ``at`` as people say it, e.g. ``"Monday 1 December at 12:30"``."""
    local = at.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def check_lead_time(at: datetime, now: datetime, lead: timedelta, tz: ZoneInfo) -> None:
    """Refuse times in the past, too soon, or too far ahead.

    Raises:
        InvalidInput: If ``at`` has passed or is more than 90 days ahead.
        Unavailable: If ``at`` is sooner than ``lead`` from ``now``.
    """
    if at <= now:
        raise InvalidInput(
            "That time has already passed. When would you like it?", field="time"
        )
    if at < now + lead:
        minutes = int(lead.total_seconds() // 60)
        notice = f"{minutes} minutes'" if minutes < 120 else f"{minutes // 60} hours'"
        earliest = now + lead
        raise Unavailable(
            f"That is too soon. We need at least {notice} notice. "
            f"The earliest is {local_words(earliest, tz)}.",
            field="time",
        )
    if at > now + MAX_ADVANCE:
        raise InvalidInput(
            "That is too far ahead. Please choose a time within the next three months.",
            field="time",
        )


def serves(provider: Provider, district: str) -> bool:
    """Return whether ``provider`` serves ``district`` (any letter case)."""
    wanted = district.casefold()
    return any(d.district.casefold() == wanted for d in provider.districts)


def check_serves(provider: Provider, district: str) -> None:
    """Refuse a provider that does not serve the senior's district.

    Raises:
        Unavailable: If the district is not served.
    """
    if not serves(provider, district):
        raise Unavailable(
            f"Sorry, {provider.name} does not come to {district}.", field="provider"
        )


def provider_open(provider: Provider, at: datetime, tz: ZoneInfo) -> bool:
    """Return whether ``provider`` is open at ``at`` (its hours are in ``tz``)."""
    return is_open(loads_hours(provider.opening_hours), at.astimezone(tz))


def check_open(provider: Provider, at: datetime, tz: ZoneInfo) -> None:
    """Refuse a time when the provider is closed.

    Raises:
        Unavailable: If the provider is closed at ``at``.
    """
    if not provider_open(provider, at, tz):
        hours = describe_hours(loads_hours(provider.opening_hours))
        raise Unavailable(
            f"Sorry, {provider.name} is closed on {local_words(at, tz)}. "
            f"Their opening hours are: {hours}.",
            field="time",
        )

"""Helpers shared by the care tests: a settable clock, times, registry builders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

from assistant.care import CareServices
from assistant.care.registry.hours import parse_hours_text
from assistant.care.core.views import ProfileView

MONDAY_9AM = datetime(2025, 12, 1, 9, 0, tzinfo=timezone.utc)
"""Monday 1 December 2025, 09:00 in London (UTC in winter)."""


class FakeClock:
    """A clock the test can set and move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return an aware UTC datetime in December 2025 (1 December is a Monday)."""
    return datetime(2025, 12, day, hour, minute, tzinfo=timezone.utc)


def add_meal_provider(
    care: CareServices,
    name: str,
    districts: Sequence[str],
    *,
    verified: bool = True,
    rating: float = 4.0,
    hours: str = "daily 07:00-20:00",
    dishes: Sequence[tuple[str, str, int, Sequence[str]]] = (),
) -> dict[str, int]:
    """Add a meal provider with dishes ``(name, meal_type, price_cents, tags)``.

    Returns:
        Dish ids by dish name, plus ``"provider"`` for the provider id.
    """
    provider = care.registry.add_provider(
        name, "meal", list(districts), verified=verified, rating=rating,
        opening_hours=parse_hours_text(hours),
    )
    ids = {"provider": provider.provider_id}
    for dish_name, meal_type, price, tags in dishes:
        ids[dish_name] = care.registry.add_dish(
            provider.provider_id, dish_name, meal_type, price, tags=list(tags)
        ).dish_id
    return ids


def register(
    care: CareServices,
    conversation_id: str = "conv-edith",
    *,
    name: str = "Edith Smith",
    district: str = "Riverside",
    needs: Sequence[str] = (),
    timezone_name: Optional[str] = None,
) -> ProfileView:
    """Register a senior with consent."""
    kwargs = {"timezone": timezone_name} if timezone_name else {}
    return care.people.register_senior(
        conversation_id, "rest", name, "12 Mill Road", district, list(needs), True, **kwargs
    )


def add_home_provider(
    care: CareServices,
    name: str,
    kind: str,
    districts: Sequence[str],
    *,
    verified: bool = True,
    rating: float = 0.0,
    rating_count: int = 0,
    hours: str = "mon-fri 08:00-18:00",
    offerings: Sequence[tuple[str, str, int, int]] = (),
) -> dict[str, int]:
    """Add a home-service provider with offerings ``(mode, name, price_cents, duration_minutes)``.

    Returns:
        Offering ids by offering name, plus ``"provider"`` for the provider id.
    """
    provider = care.registry.add_provider(
        name, kind, list(districts), verified=verified, rating=rating, rating_count=rating_count,
        opening_hours=parse_hours_text(hours),
    )
    ids = {"provider": provider.provider_id}
    for mode, offering_name, price, minutes in offerings:
        ids[offering_name] = care.registry.add_offering(
            provider.provider_id, mode, offering_name, price, duration_minutes=minutes
        ).offering_id
    return ids

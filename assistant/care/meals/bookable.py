"""What can be booked: one answer for the options offered and for the booking, and the earliest time that works.

An option offered is a promise. So the offer and the booking ask the same functions here
(:func:`dish_refusal`, :func:`offering_refusal`), and when nothing can be booked at the time asked,
:func:`earliest` looks ahead for the first time something can, with the reason the asked time failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional, Sequence, Union
from zoneinfo import ZoneInfo

from assistant.care.core.clock import zone
from assistant.care.core.errors import CareError, NotFound, Unavailable
from assistant.care.core.models import Dish, Offering, SeniorProfile
from assistant.care.core.views import MealOption, OfferingView
from assistant.care.core.vocabulary import MEAL_PROVIDER_KIND
from assistant.care.registry.registry import meal_option, offering_view
from assistant.care.registry.scheduling import check_lead_time, check_open, check_serves

LEAD_TIME: Final = {
    "meal_delivery": timedelta(minutes=20),
    "meal_plan": timedelta(minutes=20),
    "chef_visit": timedelta(hours=24),
    "table_reservation": timedelta(hours=1),
}
"""Minimum notice per booking kind."""
SEARCH_STEP: Final = timedelta(minutes=30)
SEARCH_AHEAD: Final = timedelta(days=14)
"""How far :func:`earliest` looks, in steps of half an hour."""

Candidate = Union[Dish, Offering]


@dataclass(frozen=True)
class Earliest:
    """The first time something can be booked, and why the time asked for could not be."""

    at: datetime
    reason: str
    options: tuple[Union[MealOption, OfferingView], ...]


def check_dish(dish: Optional[Dish], profile: SeniorProfile) -> Dish:
    """The dish, if it is on offer and fits the senior's diet (any time).

    Raises:
        NotFound: The dish is gone or its provider stopped.
        Unavailable: A dietary need is not met.
    """
    if dish is None or not dish.active or not dish.provider.active or dish.provider.kind != MEAL_PROVIDER_KIND:
        raise NotFound("Sorry, that dish is not available any more. Shall I show you other dishes?")
    missing = [need for need in profile.dietary_needs if need not in dish.tag_names]
    if missing:
        raise Unavailable(
            f"Sorry, {dish.name} is not marked {' and '.join(missing)}, which you asked for. "
            "Shall I show you dishes that are?",
            field="dish",
        )
    return dish


def dish_refusal(dish: Optional[Dish], profile: SeniorProfile, at: datetime, now: datetime, tz: ZoneInfo) -> Optional[CareError]:
    """Why ``dish`` cannot be delivered to ``profile`` at ``at``, or None: every check an order runs."""
    try:
        check_lead_time(at, now, LEAD_TIME["meal_delivery"], zone(profile.timezone))
        dish = check_dish(dish, profile)
        check_serves(dish.provider, profile.district)
        check_open(dish.provider, at, tz)
    except CareError as error:
        return error
    return None


def offering_refusal(
    offering: Optional[Offering], kind: str, profile: SeniorProfile, at: datetime, now: datetime, tz: ZoneInfo
) -> Optional[CareError]:
    """Why a chef visit or table (``kind``) cannot be booked for ``profile`` at ``at``, or None."""
    try:
        check_lead_time(at, now, LEAD_TIME[kind], zone(profile.timezone))
        if (
            offering is None
            or not offering.active
            or offering.mode != kind
            or not offering.provider.active
            or offering.provider.kind != MEAL_PROVIDER_KIND
        ):
            raise NotFound("Sorry, that is not available any more. Shall I show you what is?")
        check_serves(offering.provider, profile.district)
        check_open(offering.provider, at, tz)
    except CareError as error:
        return error
    return None


def refusal(candidate: Candidate, kind: str, profile: SeniorProfile, at: datetime, now: datetime, tz: ZoneInfo) -> Optional[CareError]:
    """:func:`dish_refusal` or :func:`offering_refusal`, by what ``candidate`` is."""
    if isinstance(candidate, Dish):
        return dish_refusal(candidate, profile, at, now, tz)
    return offering_refusal(candidate, kind, profile, at, now, tz)


def bookable(
    candidates: Sequence[Candidate], kind: str, profile: SeniorProfile, at: datetime, now: datetime, tz: ZoneInfo,
    limit: int,
) -> list[Union[MealOption, OfferingView]]:
    """The views of the candidates that can be booked at ``at``, in order, at most ``limit``."""
    found: list[Union[MealOption, OfferingView]] = []
    for candidate in candidates:
        if refusal(candidate, kind, profile, at, now, tz) is None:
            found.append(meal_option(candidate) if isinstance(candidate, Dish) else offering_view(candidate))
            if len(found) >= limit:
                break
    return found


def earliest(
    candidates: Sequence[Candidate], kind: str, profile: SeniorProfile, asked: datetime, now: datetime, tz: ZoneInfo,
    limit: int,
) -> Optional[Earliest]:
    """The first half-hour from ``asked`` (within two weeks) when a candidate can be booked, or None."""
    if not candidates:
        return None
    first = refusal(candidates[0], kind, profile, asked, now, tz)
    reason = first.message if first is not None else ""
    at = _next_step(max(asked, now))
    end = at + SEARCH_AHEAD
    while at <= end:
        options = bookable(candidates, kind, profile, at, now, tz, limit)
        if options:
            return Earliest(at, reason, tuple(options))
        at += SEARCH_STEP
    return None


def _next_step(moment: datetime) -> datetime:
    """The moment rounded up to the next half hour."""
    floor = moment.replace(minute=0, second=0, microsecond=0)
    while floor < moment:
        floor += SEARCH_STEP
    return floor

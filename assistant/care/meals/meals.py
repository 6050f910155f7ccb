"""Meals: one-off deliveries, meal plans, chef visits and table reservations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from contextlib import contextmanager
from typing import Final, Iterator, Optional, Sequence, Union
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.bookings.bookings import (
    KIND_PREFIX,
    add_with_unique_reference,
    check_changeable,
    find_for_senior,
    list_for_senior,
    new_reference,
    to_view,
    transition,
)
from assistant.care.core.clock import Clock, require_aware, utcnow, zone
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, Unavailable
from assistant.care.registry.hours import describe_hours, loads_hours, open_at_time
from assistant.care.core.models import Booking, Dish, Offering, Person, SeniorProfile
from assistant.care.people.people import acting_for, require_actor
from assistant.care.meals.bookable import (
    LEAD_TIME,
    Candidate,
    Earliest,
    bookable,
    check_dish,
    dish_refusal,
    earliest,
    offering_refusal,
)
from assistant.care.meals.recurrence import clean_days, format_recurrence, parse_recurrence
from assistant.care.registry.registry import dishes_for, offerings_for
from assistant.care.registry.scheduling import (
    DEFAULT_TIMEZONE,
    MAX_ADVANCE,
    check_lead_time,
    check_open,
    check_serves,
)
from assistant.care.core.validation import MAX_TEXT, clean_int, clean_text
from assistant.care.core.views import BookingView, MealOption, OfferingView, OrderQuote
from assistant.care.core.vocabulary import MEAL_BOOKING_KINDS, MEAL_PROVIDER_KIND

DELIVERY_FEE_CENTS: Final = 150
"""Delivery fee, charged once per delivery: per order, and per delivery of a meal plan."""

KIND_OF_MODE: Final = {
    "delivery": "meal_delivery", "meal_plan": "meal_delivery",
    "chef_visit": "chef_visit", "table_reservation": "table_reservation",
}
"""The booking kind behind each way of having a meal the conversation offers."""
DEFAULT_LEAD_TIME: Final = timedelta(hours=2)
"""Minimum notice for other kinds (home services) when their time is changed here."""

DEFAULT_DURATION_MINUTES: Final = {"chef_visit": 180, "table_reservation": 90}
MAX_QUANTITY: Final = 10
MAX_PARTY_SIZE: Final = 12
MIN_WINDOW_MINUTES: Final = 15
MAX_WINDOW_MINUTES: Final = 240


class MealService:
    """Order meals for a registered senior.

    Every method that saves returns only after the transaction committed.

    Args:
        db: The database.
        clock: Returns the current aware time (inject a fixed one in tests).
        timezone: Deployment timezone in which providers' opening hours are written.
    """

    def __init__(self, db: Database, clock: Clock = utcnow, timezone: str = DEFAULT_TIMEZONE) -> None:
        self._db = db
        self._clock = clock
        self._tz = zone(timezone)

    # ---- one-off deliveries -------------------------------------------------

    def quote_order(
        self,
        conversation_id: str,
        dish_id: int,
        quantity: int,
        deliver_at: datetime,
        window_minutes: int = 30,
    ) -> OrderQuote:
        """Check an order and return its full price, without saving anything.

        Raises:
            NotRegistered: If the senior has no profile.
            NotFound: If the dish is not available.
            InvalidInput: If the time has passed or a number is out of range.
            Unavailable: If the time is too soon, the provider is closed or does
                not deliver to the senior, or the dish does not fit their diet.
        """
        with self._db.session() as session:
            _, profile, _ = acting_for(session, conversation_id, needs="bookings")
            _, quote = self._check_order(session, profile, dish_id, quantity, deliver_at, window_minutes)
        return quote

    def place_order(
        self,
        conversation_id: str,
        dish_id: int,
        quantity: int,
        deliver_at: datetime,
        window_minutes: int = 30,
        created_by_conversation: Optional[str] = None,
        details: Optional[str] = None,
    ) -> BookingView:
        """Save a confirmed meal delivery for the senior of ``conversation_id``.

        Args:
            conversation_id: The senior's conversation.
            dish_id: The chosen dish.
            quantity: Number of portions (1-10).
            deliver_at: Start of the delivery window (aware datetime).
            window_minutes: Length of the delivery window.
            created_by_conversation: A linked relative's conversation, when they order.
            details: A note for the provider, e.g. "ring twice".

        Raises:
            NotAllowed: If ``created_by_conversation`` is not linked to the senior.
            CareError: The same checks as :meth:`quote_order`.
        """
        note = _clean_note(details)
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            if created_by_conversation is not None:
                actor = require_actor(session, senior, created_by_conversation)
            dish, quote = self._check_order(session, profile, dish_id, quantity, deliver_at, window_minutes)
            booking = Booking(
                kind="meal_delivery", senior_id=senior.id, created_by_id=actor.id,
                provider_id=dish.provider_id, dish_id=dish.id, quantity=quote.quantity,
                starts_at=quote.starts_at, ends_at=quote.ends_at, details=note,
                price_cents=quote.price_cents, fees_cents=quote.fees_cents,
            )
            view = _save_confirmed(session, booking, actor, now)
        return view

    # ---- meal plans -----------------------------------------------------------

    def create_meal_plan(
        self,
        conversation_id: str,
        dish_id: int,
        days: Sequence[int],
        at_time: time,
        starts_on: date,
        window_minutes: int = 30,
        quantity: int = 1,
        created_by_conversation: Optional[str] = None,
        details: Optional[str] = None,
    ) -> BookingView:
        """Save a recurring delivery of one dish on some weekdays.

        ``at_time`` is a wall-clock time in the senior's timezone. The booking's
        ``starts_at`` is the first delivery on or after ``starts_on``; prices and
        fees are per delivery.

        Raises:
            InvalidInput: If no valid days are given or the start is too far ahead.
            Unavailable: If the provider is closed on one of the days at that time.
            CareError: The same dish checks as :meth:`quote_order`.
        """
        week_days = clean_days(days)
        if not isinstance(at_time, time):
            raise TypeError("at_time must be a datetime.time")
        wall = at_time.replace(tzinfo=None, second=0, microsecond=0)
        quantity = clean_int(quantity, "number of meals", 1, MAX_QUANTITY, field="quantity")
        window = _clean_window(window_minutes)
        note = _clean_note(details)
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            if created_by_conversation is not None:
                actor = require_actor(session, senior, created_by_conversation)
            senior_tz = zone(profile.timezone)
            first = _first_occurrence(week_days, wall, starts_on, now, senior_tz)
            dish = check_dish(session.get(Dish, dish_id), profile)
            check_serves(dish.provider, profile.district)
            self._check_open_on_days(dish.provider.opening_hours, dish.provider.name, week_days, wall, first, senior_tz)
            booking = Booking(
                kind="meal_plan", senior_id=senior.id, created_by_id=actor.id,
                provider_id=dish.provider_id, dish_id=dish.id, quantity=quantity,
                starts_at=first, ends_at=first + timedelta(minutes=window),
                recurrence=format_recurrence(week_days, wall), details=note,
                price_cents=dish.price_cents * quantity, fees_cents=DELIVERY_FEE_CENTS,
            )
            view = _save_confirmed(session, booking, actor, now)
        return view

    # ---- chef visits and tables ---------------------------------------------------

    def book_chef_visit(
        self,
        conversation_id: str,
        offering_id: int,
        at: datetime,
        created_by_conversation: Optional[str] = None,
        details: Optional[str] = None,
    ) -> BookingView:
        """Book a cook to come and prepare a meal at the senior's home.

        Needs 24 hours' notice. The price is the offering's price, without fees.

        Raises:
            NotFound: If the offering is not a chef visit available now.
            CareError: Time, district and opening-hours checks as for orders.
        """
        return self._book_offering(
            conversation_id, offering_id, at, "chef_visit", None, created_by_conversation, details
        )

    def reserve_table(
        self,
        conversation_id: str,
        offering_id: int,
        at: datetime,
        party_size: int,
        created_by_conversation: Optional[str] = None,
        details: Optional[str] = None,
    ) -> BookingView:
        """Reserve a table at a restaurant or community dining room.

        Needs one hour's notice. The offering's price is per person (0 = free).

        Raises:
            InvalidInput: If the party size is not 1-12.
            NotFound: If the offering is not a table reservation available now.
            CareError: Time, district and opening-hours checks as for orders.
        """
        size = clean_int(party_size, "number of people", 1, MAX_PARTY_SIZE, field="party_size")
        return self._book_offering(
            conversation_id, offering_id, at, "table_reservation", size, created_by_conversation, details
        )

    # ---- what can be offered ---------------------------------------------------

    def options_at(
        self, conversation_id: str, mode: str, at: datetime, meal_type: Optional[str] = None, limit: int = 4
    ) -> list[Union[MealOption, OfferingView]]:
        """Dishes (or chef visits, tables) for ``mode`` that a booking at ``at`` would accept: only promises.

        Raises:
            NotRegistered: If the senior has no profile.
            InvalidInput: On an unknown mode or meal type.
        """
        at = require_aware(at, "at")
        with self._candidates(conversation_id, mode, meal_type) as (candidates, profile):
            return bookable(candidates, KIND_OF_MODE[mode], profile, at, self._clock(), self._tz, limit)

    def earliest_options(
        self, conversation_id: str, mode: str, asked: datetime, meal_type: Optional[str] = None, limit: int = 4
    ) -> Optional[Earliest]:
        """When nothing fits ``asked``: the first half-hour (within two weeks) that something does, and why not then.

        Raises:
            NotRegistered: If the senior has no profile.
            InvalidInput: On an unknown mode or meal type.
        """
        asked = require_aware(asked, "asked")
        with self._candidates(conversation_id, mode, meal_type) as (candidates, profile):
            return earliest(candidates, KIND_OF_MODE[mode], profile, asked, self._clock(), self._tz, limit)

    @contextmanager
    def _candidates(
        self, conversation_id: str, mode: str, meal_type: Optional[str]
    ) -> Iterator[tuple[list[Candidate], SeniorProfile]]:
        """The dishes or offerings ``mode`` could use for this senior, and the profile, in an open session."""
        if mode not in KIND_OF_MODE:
            raise InvalidInput("Choose a delivery, a meal plan, a chef visit or a table.", field="mode")
        with self._db.session() as session:
            _, profile, _ = acting_for(session, conversation_id, needs="bookings")
            if mode in ("chef_visit", "table_reservation"):
                found: list[Candidate] = list(offerings_for(session, profile.district, MEAL_PROVIDER_KIND, mode))
            else:
                found = list(dishes_for(session, profile.district, profile.dietary_needs, meal_type))
            yield found, profile

    # ---- the senior's own bookings --------------------------------------------

    def list_orders(self, conversation_id: str, include_past: bool = False) -> list[BookingView]:
        """Return the senior's meal bookings: active ones, soonest first.

        Args:
            conversation_id: The senior's conversation.
            include_past: Also return done and cancelled ones, after the active ones.

        Raises:
            NotRegistered: If the senior has no profile.
        """
        with self._db.session() as session:
            senior, _, _ = acting_for(session, conversation_id, needs="bookings")
            bookings = list_for_senior(
                session, senior.id, kinds=MEAL_BOOKING_KINDS, include_past=include_past
            )
            return [to_view(b) for b in bookings]

    def cancel(self, conversation_id: str, reference: str) -> BookingView:
        """Cancel one of the senior's own bookings (reference in any letter case).

        Raises:
            NotRegistered: If the senior has no profile.
            NotFound: If the senior has no booking with this reference.
            InvalidTransition: If it is already cancelled, done or under way.
        """
        now = self._clock()
        with self._db.session() as session:
            senior, _, _ = acting_for(session, conversation_id, needs="bookings")
            booking = find_for_senior(session, senior.id, reference)
            transition(booking, "cancelled", audit.person_actor(senior.id), now=now)
            view = to_view(booking)
        return view

    def change_time(self, conversation_id: str, reference: str, new_at: datetime) -> BookingView:
        """Move one of the senior's bookings to a new start time, keeping its length.

        For a meal plan, ``new_at`` is the next delivery and sets the new time of
        day; it must fall on one of the plan's days.

        Raises:
            NotFound: If the senior has no booking with this reference.
            InvalidTransition: If a helper is assigned or the booking is over.
            CareError: Time and opening-hours checks as for new bookings.
        """
        new_at = require_aware(new_at, "new_at")
        now = self._clock()
        with self._db.session() as session:
            senior, profile, _ = acting_for(session, conversation_id, needs="bookings")
            senior_tz = zone(profile.timezone)
            booking = find_for_senior(session, senior.id, reference)
            check_changeable(booking)
            check_lead_time(new_at, now, LEAD_TIME.get(booking.kind, DEFAULT_LEAD_TIME), senior_tz)
            provider = booking.provider
            if booking.kind == "meal_plan" and booking.recurrence:
                days, _ = parse_recurrence(booking.recurrence)
                local = new_at.astimezone(senior_tz)
                if local.weekday() not in days:
                    raise InvalidInput(
                        "That day is not one of your meal plan's days. Please choose one of them.",
                        field="time",
                    )
                wall = local.time().replace(second=0, microsecond=0)
                self._check_open_on_days(provider.opening_hours, provider.name, days, wall, new_at, senior_tz)
                booking.recurrence = format_recurrence(days, wall)
            else:
                check_open(provider, new_at, self._tz)
            old_start = booking.starts_at
            length = booking.ends_at - booking.starts_at
            booking.starts_at = new_at
            booking.ends_at = new_at + length
            booking.updated_at = now
            audit.record(
                session, audit.person_actor(senior.id), "booking.rescheduled", "booking",
                booking.reference, at=now, old_start=old_start.isoformat(), new_start=new_at.isoformat(),
            )
            view = to_view(booking)
        return view

    # ---- checks -------------------------------------------------------------------

    def _check_order(
        self,
        session: Session,
        profile: SeniorProfile,
        dish_id: int,
        quantity: int,
        deliver_at: datetime,
        window_minutes: int,
    ) -> tuple[Dish, OrderQuote]:
        """Run every check of a one-off delivery and price it."""
        deliver_at = require_aware(deliver_at, "deliver_at")
        quantity = clean_int(quantity, "number of meals", 1, MAX_QUANTITY, field="quantity")
        window = _clean_window(window_minutes)
        dish = session.get(Dish, dish_id)
        refused = dish_refusal(dish, profile, deliver_at, self._clock(), self._tz)
        if refused is not None:
            raise refused
        assert dish is not None  # no refusal means the dish exists
        price = dish.price_cents * quantity
        quote = OrderQuote(
            dish_id=dish.id,
            dish_name=dish.name,
            provider_name=dish.provider.name,
            quantity=quantity,
            unit_price_cents=dish.price_cents,
            price_cents=price,
            fees_cents=DELIVERY_FEE_CENTS,
            total_cents=price + DELIVERY_FEE_CENTS,
            starts_at=deliver_at,
            ends_at=deliver_at + timedelta(minutes=window),
        )
        return dish, quote

    def _check_open_on_days(
        self,
        opening_hours: str,
        provider_name: str,
        days: Sequence[int],
        wall: time,
        first: datetime,
        senior_tz: ZoneInfo,
    ) -> None:
        """Refuse a plan if the provider is closed at ``wall`` on one of ``days``."""
        hours = loads_hours(opening_hours)
        first_local = first.astimezone(senior_tz).date()
        closed = []
        for day in days:
            on = first_local + timedelta(days=(day - first_local.weekday()) % 7)
            moment = datetime.combine(on, wall, tzinfo=senior_tz).astimezone(self._tz)
            if not open_at_time(hours, moment.weekday(), moment.time()):
                closed.append(day)
        if closed:
            names = ", ".join(_DAY_NAMES[d] for d in closed)
            raise Unavailable(
                f"Sorry, {provider_name} is closed at {wall:%H:%M} on {names}. "
                f"Their opening hours are: {describe_hours(hours)}.",
                field="days",
            )

    def _book_offering(
        self,
        conversation_id: str,
        offering_id: int,
        at: datetime,
        kind: str,
        party_size: Optional[int],
        created_by_conversation: Optional[str],
        details: Optional[str],
    ) -> BookingView:
        """Save a chef visit or a table reservation."""
        at = require_aware(at, "at")
        note = _clean_note(details)
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            if created_by_conversation is not None:
                actor = require_actor(session, senior, created_by_conversation)
            offering = session.get(Offering, offering_id)
            refused = offering_refusal(offering, kind, profile, at, now, self._tz)
            if refused is not None:
                raise refused
            assert offering is not None  # no refusal means the offering exists
            minutes = offering.duration_minutes or DEFAULT_DURATION_MINUTES[kind]
            people = party_size or 1
            booking = Booking(
                kind=kind, senior_id=senior.id, created_by_id=actor.id,
                provider_id=offering.provider_id, offering_id=offering.id, quantity=1,
                party_size=party_size, starts_at=at, ends_at=at + timedelta(minutes=minutes),
                details=note, price_cents=offering.price_cents * people, fees_cents=0,
            )
            view = _save_confirmed(session, booking, actor, now)
        return view


_DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _save_confirmed(session: Session, booking: Booking, actor: Person, now: datetime) -> BookingView:
    """Insert ``booking`` with a unique reference, audit it, confirm it, and view it."""
    booking.status = "requested"
    booking.created_at = now
    booking.updated_at = now
    add_with_unique_reference(session, booking, Booking, lambda: new_reference(KIND_PREFIX[booking.kind]))
    audit.record(
        session, audit.person_actor(actor.id), "booking.created", "booking", booking.reference,
        at=now, kind=booking.kind, senior_id=booking.senior_id, provider_id=booking.provider_id,
    )
    transition(booking, "confirmed", audit.ASSISTANT, now=now)
    session.flush()
    return to_view(booking)


def _first_occurrence(
    days: Sequence[int], wall: time, starts_on: date, now: datetime, senior_tz: ZoneInfo
) -> datetime:
    """Return the first delivery of a plan, on or after ``starts_on``, with enough notice."""
    if not isinstance(starts_on, date) or isinstance(starts_on, datetime):
        raise TypeError("starts_on must be a datetime.date")
    today = now.astimezone(senior_tz).date()
    if starts_on > today + MAX_ADVANCE:
        raise InvalidInput(
            "That is too far ahead. Please start within the next three months.", field="starts_on"
        )
    day = max(starts_on, today)
    earliest = now + LEAD_TIME["meal_plan"]
    for offset in range(15):
        candidate = day + timedelta(days=offset)
        if candidate.weekday() not in days:
            continue
        start = datetime.combine(candidate, wall, tzinfo=senior_tz).astimezone(timezone.utc)
        if start >= earliest:
            return start
    raise AssertionError("a weekday always recurs within 15 days")


def _clean_window(minutes: int) -> int:
    """Return a delivery window length in minutes."""
    return clean_int(
        minutes, "delivery window in minutes", MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES, field="window_minutes"
    )


def _clean_note(details: Optional[str]) -> str:
    """Return a free-text note for the provider (may be empty)."""
    return clean_text(details, "note", MAX_TEXT, field="details", required=False)

"""Booking lifecycle shared by meals and home services.

Statuses move ``requested -> confirmed -> assigned -> in_progress -> done``;
``cancelled`` is reachable from requested, confirmed and assigned. References
look like ``ML-7K3Q9``: a two-letter prefix by kind and five characters from an
alphabet without the look-alikes 0/O/1/I/L.

A booking that holds a provider's time (a home-service visit) owns
:class:`~assistant.care.core.models.BookingSlot` rows, one per ``SLOT_MINUTES``; their
primary key lets the database refuse overlapping bookings. Cancelling frees them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Callable, Collection, Final, Optional, TypeVar, Union

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from assistant.care.core import audit
from assistant.care.core.clock import require_aware, utcnow, zone
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotFound
from assistant.care.core.models import Booking, BookingSlot, Person
from assistant.care.core.views import (
    BookingRecord,
    BookingView,
    clean_day,
    day_bounds,
    record_id,
)
from assistant.care.core.vocabulary import (
    BOOKING_KINDS,
    BOOKING_STATUSES,
    FINAL_BOOKING_STATUSES,
    MEAL_BOOKING_KINDS,
    MEAL_PROVIDER_KIND,
)

REFERENCE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH: Final = 5
REFERENCE_ATTEMPTS: Final = 8

KIND_PREFIX: Final = {
    "meal_delivery": "ML",
    "meal_plan": "MP",
    "chef_visit": "CV",
    "table_reservation": "TR",
    "cleaning": "CL",
    "laundry": "LD",
    "repair": "RP",
    "hairdressing": "HD",
    "beauty": "BT",
}

TRANSITIONS: Final = {
    "requested": ("confirmed", "cancelled"),
    "confirmed": ("assigned", "cancelled"),
    "assigned": ("in_progress", "cancelled"),
    "in_progress": ("done",),
    "done": (),
    "cancelled": (),
}

STATUS_WORDS: Final = {
    "requested": "waiting for confirmation",
    "confirmed": "confirmed",
    "assigned": "assigned to a helper",
    "in_progress": "already under way",
    "done": "already done",
    "cancelled": "already cancelled",
}

ITEM_WORDS: Final = {
    "meal_delivery": "meal delivery",
    "meal_plan": "meal plan",
    "chef_visit": "chef visit",
    "table_reservation": "table reservation",
}

SLOT_MINUTES: Final = 30
"""Length of one :class:`BookingSlot`; a visit holds every slot it touches."""

_EPOCH: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)

T = TypeVar("T")


def floor_slot(at: datetime) -> datetime:
    """Return the start of the slot holding ``at`` (slots are aligned in UTC)."""
    at = require_aware(at, "at")
    step = timedelta(minutes=SLOT_MINUTES)
    return at - (at - _EPOCH) % step


def ceil_slot(at: datetime) -> datetime:
    """Return ``at`` if it starts a slot, else the start of the next slot."""
    start = floor_slot(at)
    return start if start == require_aware(at, "at") else start + timedelta(minutes=SLOT_MINUTES)


def slot_starts(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """Return the starts of every slot that ``[starts_at, ends_at)`` touches.

    An empty or inverted span still holds the slot of its start.
    """
    first = floor_slot(starts_at)
    last = max(ceil_slot(ends_at), first + timedelta(minutes=SLOT_MINUTES))
    count = int((last - first) / timedelta(minutes=SLOT_MINUTES))
    return [first + timedelta(minutes=SLOT_MINUTES * i) for i in range(count)]


def claim_slots(session: Session, booking: Booking, starts_at: datetime, ends_at: datetime) -> bool:
    """Hold the provider's slots for ``[starts_at, ends_at)`` for a flushed booking.

    The insert runs in a savepoint: when another booking (from any session) holds
    one of the slots, the database refuses it, only the savepoint is undone, and
    False is returned.
    """
    if booking.id is None:
        raise RuntimeError("claim_slots() needs a flushed booking")
    rows = [
        BookingSlot(provider_id=booking.provider_id, slot_start=start, booking_id=booking.id)
        for start in slot_starts(starts_at, ends_at)
    ]
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        for row in rows:
            if row in session:
                session.expunge(row)
        return False
    return True


def free_slots(session: Session, booking: Booking) -> None:
    """Release every slot the booking holds."""
    if booking.id is not None:
        session.execute(
            delete(BookingSlot).where(BookingSlot.booking_id == booking.id),
            execution_options={"synchronize_session": False},
        )


def new_reference(prefix: str) -> str:
    """Return a fresh random reference such as ``"ML-7K3Q9"``."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}-{code}"


def normalise_reference(text: str) -> str:
    """Return a reference as stored, from what a person typed.

    ``" ml 7k3q9 "`` and ``"ml-7k3q9"`` both become ``"ML-7K3Q9"``.
    """
    compact = re.sub(r"[^A-Za-z0-9]", "", text or "").upper()
    if len(compact) <= REFERENCE_LENGTH:
        return compact
    return f"{compact[:-REFERENCE_LENGTH]}-{compact[-REFERENCE_LENGTH:]}"


def add_with_unique_reference(
    session: Session, obj: T, model: type, make_reference: Callable[[], str]
) -> T:
    """Add ``obj`` and flush it, drawing a new reference on a collision.

    Each attempt runs in a savepoint so a duplicate reference only undoes itself.

    Raises:
        IntegrityError: If the failure is not a reference collision, or every
            attempt collided.
    """
    for attempt in range(REFERENCE_ATTEMPTS):
        reference = make_reference()
        obj.reference = reference  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(obj)
                session.flush()
            return obj
        except IntegrityError:
            taken = session.scalar(select(model.id).where(model.reference == reference))  # type: ignore[attr-defined]
            if taken is None or attempt == REFERENCE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def transition(
    booking: Booking,
    new_status: str,
    actor: str,
    *,
    now: Optional[datetime] = None,
    reason: Optional[str] = None,
) -> Booking:
    """Move ``booking`` to ``new_status`` and record it in the audit log.

    Args:
        booking: A booking attached to a session.
        new_status: The status to move to.
        actor: Who asks for the change, e.g. ``"person:12"``.
        now: The time of the change (default: now).
        reason: Optional short reason kept in the audit detail.

    Raises:
        InvalidTransition: If the lifecycle does not allow this move.
    """
    if new_status not in BOOKING_STATUSES:
        raise ValueError(f"unknown booking status {new_status!r}")
    session = object_session(booking)
    if session is None:
        raise RuntimeError("transition() needs a booking attached to a session")
    old_status = booking.status
    if new_status not in TRANSITIONS[old_status]:
        raise InvalidTransition(_refusal(booking.reference, old_status, new_status))
    at = require_aware(now, "now") if now is not None else utcnow()
    booking.status = new_status
    booking.updated_at = at
    if new_status == "cancelled":
        booking.cancelled_at = at
        free_slots(session, booking)
    detail = {"from": old_status, "to": new_status}
    if reason:
        detail["reason"] = reason
    audit.record(session, actor, f"booking.{new_status}", "booking", booking.reference, at=at, **detail)
    return booking


def _refusal(reference: str, old: str, new: str) -> str:
    """Return a plain-language reason why ``old`` cannot become ``new``."""
    if new == "cancelled":
        if old == "cancelled":
            return f"Booking {reference} is already cancelled. There is nothing more to do."
        if old == "done":
            return f"Booking {reference} is already done, so it cannot be cancelled."
        return (
            f"Booking {reference} is already under way, so I cannot cancel it now. "
            "A person from our team can help."
        )
    return f"Booking {reference} is {STATUS_WORDS[old]}, so it cannot be changed that way."


def to_view(booking: Booking) -> BookingView:
    """Return the frozen view of a booking (call inside its session)."""
    if booking.dish is not None:
        item = booking.dish.name
    elif booking.offering is not None:
        item = booking.offering.name
    else:
        item = ITEM_WORDS.get(booking.kind, booking.kind)
    return BookingView(
        reference=booking.reference,
        kind=booking.kind,
        status=booking.status,
        provider_name=booking.provider.name,
        item_name=item,
        quantity=booking.quantity,
        party_size=booking.party_size,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        recurrence=booking.recurrence,
        price_cents=booking.price_cents,
        fees_cents=booking.fees_cents,
        total_cents=booking.price_cents + booking.fees_cents,
        details=booking.details,
    )


def booking_record(booking: Booking) -> BookingRecord:
    """Return what coordinators see of a booking (call inside its session)."""
    view = to_view(booking)
    senior = booking.senior
    name = senior.profile.full_name if senior.profile is not None else senior.display_name
    return BookingRecord(
        reference=view.reference, kind=view.kind, status=view.status, senior_id=senior.id,
        senior_name=name or f"person {senior.id}", provider_id=booking.provider_id,
        provider_name=view.provider_name, item_name=view.item_name, quantity=view.quantity,
        party_size=view.party_size, starts_at=view.starts_at, ends_at=view.ends_at,
        recurrence=view.recurrence, price_cents=view.price_cents, fees_cents=view.fees_cents,
        total_cents=view.total_cents, details=view.details, created_at=booking.created_at,
        updated_at=booking.updated_at, next_statuses=tuple(TRANSITIONS[booking.status]),
    )


def clean_status(value: object) -> str:
    """Return a booking status such as ``"done"``.

    Raises:
        InvalidInput: If it is not one of the booking statuses.
    """
    status = value.strip().lower() if isinstance(value, str) else ""
    if status not in BOOKING_STATUSES:
        raise InvalidInput(f"The status must be one of: {', '.join(BOOKING_STATUSES)}.", field="status")
    return status


def clean_booking_kind(value: object) -> tuple[str, ...]:
    """Return the booking kinds meant by ``value``: one kind, or every meal kind for ``"meal"``.

    Raises:
        InvalidInput: If it is not a booking kind.
    """
    kind = value.strip().lower() if isinstance(value, str) else ""
    if kind == MEAL_PROVIDER_KIND:
        return tuple(MEAL_BOOKING_KINDS)
    if kind not in BOOKING_KINDS:
        raise InvalidInput(
            f"The kind must be meal or one of: {', '.join(BOOKING_KINDS)}.", field="kind"
        )
    return (kind,)


def find_for_senior(session: Session, senior_id: int, reference: str) -> Booking:
    """Return the senior's booking with this reference (any letter case).

    Raises:
        NotFound: If there is none, or it belongs to someone else (we do not say which).
    """
    ref = normalise_reference(reference)
    booking = session.scalar(
        select(Booking).where(Booking.reference == ref, Booking.senior_id == senior_id)
    )
    if booking is None:
        shown = ref or "that"
        raise NotFound(
            f"I could not find a booking with the reference {shown}. "
            "Please check the letters and numbers."
        )
    return booking


def list_for_senior(
    session: Session,
    senior_id: int,
    *,
    kinds: Optional[Collection[str]] = None,
    include_past: bool = False,
) -> list[Booking]:
    """Return a senior's bookings: active ones soonest first, then finished ones.

    Args:
        session: An open session.
        senior_id: The senior's person id.
        kinds: Only these booking kinds (default: all).
        include_past: Also return done and cancelled bookings (most recent first).
    """
    query = select(Booking).where(Booking.senior_id == senior_id)
    if kinds is not None:
        query = query.where(Booking.kind.in_(list(kinds)))
    finished = Booking.status.in_(list(FINAL_BOOKING_STATUSES))
    if not include_past:
        return list(session.scalars(query.where(~finished).order_by(Booking.starts_at, Booking.id)))
    active = list(session.scalars(query.where(~finished).order_by(Booking.starts_at, Booking.id)))
    past = list(
        session.scalars(query.where(finished).order_by(Booking.starts_at.desc(), Booking.id.desc()))
    )
    return active + past


class BookingService(CareService):
    """Status changes made by coordinators and providers (not by seniors).

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def get(self, reference: str) -> BookingView:
        """Return any booking by reference.

        Raises:
            NotFound: If there is no such booking.
        """
        with self._db.session() as session:
            booking = session.scalar(
                select(Booking).where(Booking.reference == normalise_reference(reference))
            )
            if booking is None:
                raise NotFound(f"There is no booking {normalise_reference(reference)}.")
            return to_view(booking)

    def search(
        self,
        *,
        status: Optional[str] = None,
        kind: Optional[str] = None,
        date_from: object = None,
        date_to: object = None,
        senior_id: Union[int, str, None] = None,
        timezone: str = "Europe/London",
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[BookingRecord], int]:
        """Return one page of bookings (latest start first) for coordinators, and how many match.

        Args:
            status: Only this status.
            kind: Only this kind (``"meal"``: every meal kind).
            date_from: Only bookings starting on or after this day (``YYYY-MM-DD``) in ``timezone``.
            date_to: Only bookings starting on or before this day.
            senior_id: Only this senior's bookings.
            timezone: The timezone the days are meant in.
            offset: How many to skip.
            limit: Page size, 1 to 500.

        Raises:
            InvalidInput: On an unknown status or kind, a bad date or senior id (with its ``field``).
        """
        query = select(Booking)
        if status:
            query = query.where(Booking.status == clean_status(status))
        if kind:
            query = query.where(Booking.kind.in_(clean_booking_kind(kind)))
        start, end = day_bounds(
            clean_day(date_from, "first day", field="from"), clean_day(date_to, "last day", field="to"),
            zone(timezone), field="to",
        )
        if start is not None:
            query = query.where(Booking.starts_at >= start)
        if end is not None:
            query = query.where(Booking.starts_at < end)
        if senior_id not in (None, ""):
            try:
                query = query.where(Booking.senior_id == record_id(senior_id, ""))
            except NotFound:
                raise InvalidInput("The senior must be given by their number.", field="senior") from None
        with self._db.reading() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.options(
                    selectinload(Booking.senior).selectinload(Person.profile), selectinload(Booking.provider),
                    selectinload(Booking.offering), selectinload(Booking.dish),
                )
                .order_by(Booking.starts_at.desc(), Booking.id.desc())
                .offset(max(0, int(offset))).limit(min(500, max(1, int(limit))))
            )
            return [booking_record(b) for b in rows], int(total)

    def record(self, reference: str) -> BookingRecord:
        """Return one booking as coordinators see it.

        Raises:
            NotFound: If there is no such booking.
        """
        ref = normalise_reference(reference)
        with self._db.reading() as session:
            booking = session.scalar(select(Booking).where(Booking.reference == ref)) if ref else None
            if booking is None:
                raise NotFound("There is no such booking.")
            return booking_record(booking)

    def set_status(self, reference: str, new_status: str, actor: str) -> BookingView:
        """Move a booking to ``new_status`` following the lifecycle.

        Raises:
            NotFound: If there is no such booking.
            InvalidTransition: If the move is not allowed.
        """
        with self._db.session() as session:
            ref = normalise_reference(reference)
            booking = session.scalar(select(Booking).where(Booking.reference == ref))
            if booking is None:
                raise NotFound(f"There is no booking {ref}.")
            transition(booking, new_status, actor, now=self._clock())
            view = to_view(booking)
        return view


CHANGEABLE_STATUSES: Final = ("requested", "confirmed")
"""Statuses in which a senior may still change the time of a booking."""


def check_changeable(booking: Booking) -> None:
    """Refuse a time change once a helper is assigned or the booking is over.

    Raises:
        InvalidTransition: If the booking's status no longer allows changes.
    """
    if booking.status in CHANGEABLE_STATUSES:
        return
    if booking.status == "assigned":
        message = (
            f"A helper is already assigned to booking {booking.reference}, so I cannot change "
            "the time myself. A person from our team can help."
        )
    else:
        message = f"Booking {booking.reference} is {STATUS_WORDS[booking.status]}, so the time cannot be changed."
    raise InvalidTransition(message)

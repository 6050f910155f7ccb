"""Home services: cleaning, laundry pickup, repairs, hairdressing and beauty visits.

A booking goes ``normalise_service`` + ``parse_window`` -> :meth:`HomeServiceService.find_options`
-> :meth:`~HomeServiceService.quote` -> :meth:`~HomeServiceService.book`. A visit holds
its provider's time as 30-minute :class:`~assistant.care.core.models.BookingSlot` rows whose
primary key makes the database refuse overlapping bookings, also from concurrent
sessions. Every :class:`~assistant.care.core.errors.Unavailable` this module raises is a
:class:`NoFreeSlot` carrying the nearest free ``alternatives`` (possibly none).

Service words and time windows live in :mod:`assistant.care.homeservices.service_words`, the search
for free times in :mod:`assistant.care.homeservices.slot_search`; their public names are re-exported here.

Opening hours are read in the deployment timezone; times told to people are in
the senior's timezone.
"""

from __future__ import annotations

import time as time_module
from datetime import datetime, timedelta
from typing import Callable, Final, Optional, Sequence, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.bookings.bookings import (
    KIND_PREFIX,
    SLOT_MINUTES,
    STATUS_WORDS,
    add_with_unique_reference,
    booking_record,
    check_changeable,
    claim_slots,
    clean_status,
    find_for_senior,
    free_slots,
    list_for_senior,
    new_reference,
    normalise_reference,
    slot_starts,
    to_view,
    transition,
)
from assistant.care.core.clock import Clock, require_aware, utcnow, zone
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotFound, Unavailable
from assistant.care.escalations.escalations import escalation_view, open_escalation
from assistant.care.registry.hours import describe_hours, loads_hours
from assistant.care.core.models import (
    Booking,
    BookingSlot,
    Offering,
    Person,
    Review,
    SeniorProfile,
)
from assistant.care.core.notifications import enqueue, enqueue_for_family
from assistant.care.people.people import acting_for
from assistant.care.reviews.reviews import (
    add_complaint,
    add_review,
    complaint_view,
    parse_rating,
    review_view,
)
from assistant.care.registry.scheduling import (
    DEFAULT_TIMEZONE,
    check_lead_time,
    local_words,
    serves,
)
from assistant.care.homeservices.service_words import (
    DAY_END,
    DAY_START,
    HELPER_WORDS,
    SERVICE_WORDS,
    SERVICES,
    UNKNOWN_SERVICE_MESSAGE,
    TimeWindow,
    normalise_service,
    parse_window,
    visit_words,
    window_for,
    window_words,
)
from assistant.care.homeservices.slot_search import (
    ALTERNATIVE_SPAN,
    DEFAULT_DURATION_MINUTES,
    FEES_CENTS,
    LAUNDRY_PICKUP_FEE_CENTS,
    LAUNDRY_RETURN_AFTER,
    LEAD_TIME,
    SlotSearch,
    duration,
    fits,
    opening_spans,
    service_option,
)
from assistant.care.core.validation import MAX_NAME, MAX_TEXT, clean_text
from assistant.care.core.views import (
    BookingRecord,
    BookingView,
    ComplaintView,
    EscalationView,
    ReviewView,
    ServiceOption,
)

__all__ = [
    "ALTERNATIVE_SPAN",
    "DAY_END",
    "DAY_START",
    "DEFAULT_DURATION_MINUTES",
    "FEES_CENTS",
    "HELPER_WORDS",
    "LAUNDRY_PICKUP_FEE_CENTS",
    "LAUNDRY_RETURN_AFTER",
    "LEAD_TIME",
    "LOCK_RETRIES",
    "MAX_DETAILS",
    "MAX_LAUNDRY_RETURN",
    "MAX_OPTIONS",
    "SERVICES",
    "SERVICE_WORDS",
    "SLOT_MINUTES",
    "UNKNOWN_SERVICE_MESSAGE",
    "HomeServiceService",
    "NoFreeSlot",
    "ServiceOption",
    "TimeWindow",
    "normalise_service",
    "parse_rating",
    "parse_window",
    "window_for",
]

MAX_LAUNDRY_RETURN: Final = timedelta(days=14)
"""Latest return a senior may ask for, after the pickup."""
MAX_DETAILS: Final = 500
"""Longest note for the provider."""
MAX_OPTIONS: Final = 20

LOCK_RETRIES: Final = 5
"""Attempts of a booking when SQLite reports a concurrent writer (the loser re-checks and sees the slot taken)."""

T = TypeVar("T")


REASSIGNABLE: Final = ("confirmed", "assigned")
"""Statuses in which a coordinator may give a visit to another provider."""


class NoFreeSlot(Unavailable):
    """Nobody (or not this provider) is free then; ``alternatives`` are the nearest free options."""

    def __init__(
        self,
        message: Optional[str] = None,
        *,
        alternatives: Sequence[ServiceOption] = (),
        field: Optional[str] = "time",
    ) -> None:
        super().__init__(message, field=field)
        self.alternatives: list[ServiceOption] = list(alternatives)


class _SlotTaken(Exception):
    """Another booking got one of the slots first (raised inside the transaction)."""

    def __init__(self, offering_id: int) -> None:
        super().__init__(offering_id)
        self.offering_id = offering_id



class HomeServiceService:
    """Find, book and follow up home-service visits for a senior (or a linked relative).

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
        self._slots = SlotSearch(self._tz)

    # ---- finding ----------------------------------------------------------------

    def find_options(
        self,
        conversation_id: str,
        service: str,
        window: TimeWindow,
        *,
        limit: int = 3,
        details: str = "",
    ) -> list[ServiceOption]:
        """Return the best providers free in ``window``, one option each, at their earliest free start.

        Only active, unflagged providers of the service who serve the senior's
        district, open for the whole visit, without an overlapping booking.
        Verified providers first, then higher score, then cheaper. Each provider
        offers its offering that best matches ``details`` (else its cheapest).

        Raises:
            NotRegistered: If the conversation is neither a registered senior's nor a linked relative's.
            InvalidInput: On an unknown service, or a window that is over.
            NoFreeSlot: If nobody is free in the window; ``alternatives`` holds the
                nearest free options within 7 days (empty if there are none).
        """
        kind = normalise_service(service)
        limit = max(1, min(int(limit), MAX_OPTIONS))
        now = self._clock()
        if window.ends_at < now or (not window.exact and window.ends_at == now):
            raise InvalidInput("That time has already passed. When would you like it?", field="time")
        with self._db.session() as session:
            _, profile, _ = acting_for(session, conversation_id, needs="bookings")
            candidates = self._slots.candidates(session, kind, profile.district, details=details)
            if not candidates:
                raise NoFreeSlot(
                    f"Sorry, we have no {HELPER_WORDS[kind]} who comes to {profile.district} yet. "
                    "Shall I ask our team to find someone?"
                )
            options = self._slots.search(session, candidates, window, now, limit)
            if options:
                return options
            alternatives = self._slots.nearest(session, candidates, window, now, limit)
        if alternatives:
            raise NoFreeSlot(
                f"Sorry, no {HELPER_WORDS[kind]} is free then. These are the nearest free times.",
                alternatives=alternatives,
            )
        raise NoFreeSlot(
            f"Sorry, no {HELPER_WORDS[kind]} is free within a week of that time. "
            "Shall I ask our team to find someone?"
        )

    def quote(self, conversation_id: str, offering_id: int, starts_at: datetime) -> ServiceOption:
        """Check a visit is still possible and return its full price, without saving anything.

        Fees: laundry pickup and return ``LAUNDRY_PICKUP_FEE_CENTS``; other services none.

        Raises:
            NotRegistered: As for :meth:`find_options`.
            NotFound: If the offering is not available (any more).
            InvalidInput: If the time has passed or is more than 90 days ahead.
            NoFreeSlot: If it is too soon, outside opening hours, outside the
                provider's districts or already taken, with alternatives.
        """
        starts_at = require_aware(starts_at, "starts_at")
        with self._db.session() as session:
            _, profile, _ = acting_for(session, conversation_id, needs="bookings")
            _, option = self._check_visit(session, profile, offering_id, starts_at, self._clock())
        return option

    # ---- booking ----------------------------------------------------------------

    def book(
        self,
        conversation_id: str,
        offering_id: int,
        starts_at: datetime,
        *,
        details: str = "",
        return_at: Optional[datetime] = None,
    ) -> BookingView:
        """Save a confirmed visit for the senior, holding the provider's slots.

        The booking belongs to the senior and is created by whoever talks (the
        senior or a linked relative); the family is told. For laundry the
        booking's ``ends_at`` is when the washing comes back (``return_at``,
        default 48 hours after the pickup, moved on to the provider's next opening
        time); the slots cover the pickup only.
        ``return_at`` is ignored for other services.

        Raises:
            InvalidInput: If the note is too long, or the return is not after the pickup
                (or more than 14 days later).
            NoFreeSlot: "Sorry, that time was just taken ..." when another booking
                got the slot first (also from a concurrent session), with alternatives.
            CareError: The same checks as :meth:`quote`.
        """
        starts_at = require_aware(starts_at, "starts_at")
        note = _clean_details(details)
        back = require_aware(return_at, "return_at") if return_at is not None else None
        try:
            return self._retrying(lambda: self._book_once(conversation_id, offering_id, starts_at, note, back))
        except _SlotTaken:
            raise NoFreeSlot(
                "Sorry, that time was just taken by someone else. These are the nearest free times.",
                alternatives=self._alternatives_for(conversation_id, offering_id, starts_at),
            ) from None

    def request_unmatched(
        self, conversation_id: str, service: str, window: TimeWindow, details: str = ""
    ) -> EscalationView:
        """Ask coordinators to find a provider when nobody is free (escalation ``unmatched_booking``).

        Raises:
            NotRegistered: As for :meth:`find_options`.
            InvalidInput: On an unknown service or a too long note.
        """
        kind = normalise_service(service)
        note = _clean_details(details)
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            tz = zone(profile.timezone)
            summary = (
                f"No {HELPER_WORDS[kind]} was free for {profile.full_name} in {profile.district} "
                f"{window_words(window, tz)}. Please find one."
            )
            if actor.id != senior.id:
                summary += f" Asked by {actor.display_name or 'a relative'}, a linked relative."
            if note:
                summary += f" Details: {note}"
            escalation = open_escalation(
                session, "unmatched_booking", actor, summary, now,
                conversation_id=conversation_id, actor=audit.person_actor(actor.id),
            )
            view = escalation_view(escalation)
        return view

    # ---- the senior's visits ----------------------------------------------------------

    def upcoming(self, conversation_id: str) -> list[BookingView]:
        """Return the senior's active home-service bookings, soonest first.

        Raises:
            NotRegistered: As for :meth:`find_options`.
        """
        with self._db.session() as session:
            senior, _, _ = acting_for(session, conversation_id, needs="bookings")
            return [to_view(b) for b in list_for_senior(session, senior.id, kinds=SERVICES)]

    def reschedule(self, conversation_id: str, reference: str, new_start: datetime) -> BookingView:
        """Move a visit to ``new_start``: frees its slots and claims new ones in one transaction.

        Raises:
            NotFound: If the senior has no booking with this reference.
            InvalidInput: If it is not a home-service visit, or the time has passed.
            InvalidTransition: If a helper is assigned or the visit is under way or over.
            NoFreeSlot: If the new time is not free (the old time is kept), with alternatives.
        """
        new_start = require_aware(new_start, "new_start")
        try:
            return self._retrying(lambda: self._reschedule_once(conversation_id, reference, new_start))
        except _SlotTaken as taken:
            raise NoFreeSlot(
                "Sorry, that time was just taken by someone else. These are the nearest free times.",
                alternatives=self._alternatives_for(conversation_id, taken.offering_id, new_start),
            ) from None

    def cancel(self, conversation_id: str, reference: str) -> BookingView:
        """Cancel one of the senior's bookings; its slots are freed and the family is told.

        Raises:
            NotFound: If the senior has no booking with this reference.
            InvalidTransition: If it is already cancelled, done or under way.
        """
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            booking = find_for_senior(session, senior.id, reference)
            transition(booking, "cancelled", audit.person_actor(actor.id), now=now)
            when = local_words(booking.starts_at, zone(profile.timezone))
            self._tell_family(
                session, senior, actor, booking, "booking_cancelled", now,
                you=f"Your {visit_words(booking.kind)} with {booking.provider.name} on {when} is cancelled.",
                them=f"{profile.full_name}'s {visit_words(booking.kind)} with {booking.provider.name} "
                f"on {when} is cancelled.",
            )
            view = to_view(booking)
        return view

    def set_status(self, reference: str, new_status: str, actor: str) -> BookingView:
        """Move a booking along its lifecycle (coordinators) and tell the senior.

        On ``done`` the senior is also asked for a review (``EXTERNAL_review_request``).

        Raises:
            NotFound: If there is no such booking.
            InvalidTransition: If the move is not allowed.
        """
        now = self._clock()
        with self._db.session() as session:
            ref = normalise_reference(reference)
            booking = session.scalar(select(Booking).where(Booking.reference == ref))
            if booking is None:
                raise NotFound(f"There is no booking {ref}.")
            transition(booking, new_status, actor, now=now)
            profile = booking.senior.profile
            if profile is not None:
                text = _status_text(booking, zone(profile.timezone))
                enqueue(
                    session, booking.senior_id, "booking_status", "EXTERNAL_booking_update",
                    {"reference": booking.reference, "status": booking.status, "text": text},
                    text=text, at=now,
                )
                if new_status == "done":
                    ask = (
                        f"How was your {visit_words(booking.kind)} with {booking.provider.name}? "
                        "Please give it 1 to 5 stars, where 5 is the best."
                    )
                    enqueue(
                        session, booking.senior_id, "review_request", "EXTERNAL_review_request",
                        {"reference": booking.reference, "provider": booking.provider.name, "text": ask},
                        text=ask, at=now,
                    )
            view = to_view(booking)
        return view

    def coordinator_status(self, reference: str, new_status: object, coordinator: str) -> BookingRecord:
        """A coordinator moves a booking on (as :meth:`set_status`, audited with their name).

        Args:
            reference: The booking's reference.
            new_status: The status asked for (checked here: unknown statuses are refused kindly).
            coordinator: The coordinator's display name.

        Raises:
            InvalidInput: On an unknown status or an empty name.
            NotFound: If there is no such booking.
            InvalidTransition: If the move is not allowed.
        """
        status = clean_status(new_status)
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        ref = normalise_reference(reference)
        if not ref:
            raise NotFound("There is no such booking.")
        self.set_status(ref, status, audit.coordinator_actor(name))
        with self._db.reading() as session:
            booking = session.scalar(select(Booking).where(Booking.reference == ref))
            assert booking is not None
            return booking_record(booking)

    def free_alternatives(self, reference: str) -> list[ServiceOption]:
        """Other providers who could do this visit at its time, best first (for coordinators).

        Raises:
            NotFound: If there is no such home-service booking.
        """
        now = self._clock()
        with self._db.reading() as session:
            booking = self._home_visit(session, reference)
            profile = booking.senior.profile
            if profile is None or booking.status not in REASSIGNABLE:
                return []
            options: list[ServiceOption] = []
            for candidate in self._slots.candidates(session, booking.kind, profile.district):
                if candidate.provider.id == booking.provider_id:
                    continue
                for offering in candidate.offerings:
                    try:
                        _, option = self._check_visit(session, profile, offering.id, booking.starts_at, now)
                    except (NotFound, Unavailable):
                        continue
                    options.append(option)
                    break
            options.sort(key=lambda o: (not o.verified, -o.score, o.total_cents))
            return options

    def reassign(self, reference: str, offering_id: object, coordinator: str) -> BookingRecord:
        """A coordinator gives a visit to another provider at the same time; the senior's family is told.

        The price the senior agreed stays: a dearer provider never means a surprise charge.

        Raises:
            NotFound: If there is no such home-service booking or offering.
            InvalidInput: If the offering is of another service or the same provider.
            InvalidTransition: If the visit is under way, over or cancelled.
            NoFreeSlot: If the provider cannot come then (the booking is unchanged).
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        try:
            new_id = int(str(offering_id).strip())
        except (TypeError, ValueError):
            raise InvalidInput("Please choose a provider from the list.", field="offering_id") from None
        now = self._clock()
        with self._db.session() as session:
            booking = self._home_visit(session, reference)
            if booking.status not in REASSIGNABLE:
                raise InvalidTransition(
                    f"Booking {booking.reference} is {STATUS_WORDS[booking.status]}, so it cannot be given to "
                    "another provider."
                )
            profile = booking.senior.profile
            if profile is None:
                raise NotFound(f"There is no booking {booking.reference}.")
            offering = session.get(Offering, new_id)
            if offering is None or offering.provider.kind != booking.kind:
                raise InvalidInput("That provider does not offer this service.", field="offering_id")
            if offering.provider_id == booking.provider_id:
                raise InvalidInput("That is already the booking's provider.", field="offering_id")
            old_provider = booking.provider.name
            free_slots(session, booking)
            offering, option = self._check_visit(session, profile, offering.id, booking.starts_at, now)
            booking.provider_id = offering.provider_id
            booking.offering_id = offering.id
            booking.updated_at = now
            session.flush()
            if not claim_slots(session, booking, option.starts_at, max(option.ends_at, booking.ends_at)):
                raise NoFreeSlot(f"Sorry, {offering.provider.name} was just booked by someone else at that time.")
            session.expire(booking, ["provider"])
            audit.record(
                session, audit.coordinator_actor(name), "booking.reassigned", "booking", booking.reference,
                at=now, old_provider=old_provider, new_provider_id=offering.provider_id,
            )
            when = local_words(booking.starts_at, zone(profile.timezone))
            text = (f"Your {visit_words(booking.kind)} on {when} will now be done by {offering.provider.name} "
                    f"instead of {old_provider}, at the same price.")
            enqueue(session, booking.senior_id, "booking_status", "EXTERNAL_booking_update",
                    {"reference": booking.reference, "status": booking.status, "text": text}, text=text, at=now)
            return booking_record(booking)

    @staticmethod
    def _home_visit(session: Session, reference: str) -> Booking:
        ref = normalise_reference(reference)
        booking = session.scalar(select(Booking).where(Booking.reference == ref)) if ref else None
        if booking is None or booking.kind not in SERVICES or booking.offering_id is None:
            raise NotFound(f"There is no home visit {ref or reference!r}.")
        return booking

    # ---- reviews and complaints --------------------------------------------------------

    def pending_review(self, conversation_id: str) -> Optional[BookingView]:
        """Return the senior's most recently finished booking that has no review yet.

        Raises:
            NotRegistered: As for :meth:`find_options`.
        """
        with self._db.session() as session:
            senior, _, _ = acting_for(session, conversation_id, needs="bookings")
            booking = _unreviewed(session, senior.id)
            return to_view(booking) if booking is not None else None

    def rate(
        self,
        conversation_id: str,
        rating: str | int,
        *,
        reference: Optional[str] = None,
        comment: str = "",
    ) -> ReviewView:
        """Rate a finished booking 1-5 stars (default: the one awaiting a review) and rescore its provider.

        A provider whose score falls below the threshold is flagged, no longer
        offered, and coordinators get one ``provider_review`` escalation.

        Raises:
            InvalidInput: (field ``rating``) if the rating is not 1-5 stars.
            NotFound: If there is no such booking, or none awaiting a review.
            InvalidTransition: If the booking is not done, or already rated.
        """
        stars = parse_rating(rating)
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, needs="bookings")
            if reference:
                booking = find_for_senior(session, senior.id, reference)
            else:
                booking = _unreviewed(session, senior.id)
                if booking is None:
                    raise NotFound("I could not find a finished visit to rate. Which booking do you mean?")
            review = add_review(session, booking, actor, stars, comment, now=now)
            view = review_view(review, booking)
        return view

    def complain(self, conversation_id: str, text: str, *, reference: Optional[str] = None) -> ComplaintView:
        """Record a complaint and hand it to coordinators (escalation ``complaint``, priority 2).

        Without ``reference`` the complaint is about the senior's most recent
        booking, if any. The provider's complaint count and score are updated.

        Raises:
            InvalidInput: If the text is empty or too long.
            NotFound: If the senior has no booking with this reference.
        """
        if not str(text or "").strip():
            raise InvalidInput("Please tell me in a few words what went wrong.", field="text")
        body = clean_text(text, "complaint", MAX_TEXT, field="text")
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            booking = (
                find_for_senior(session, senior.id, reference) if reference
                else _most_recent(session, senior.id, now)
            )
            when = local_words(booking.starts_at, zone(profile.timezone)) if booking is not None else ""
            complaint, escalation = add_complaint(
                session, senior, actor, booking, body, now=now,
                conversation_id=conversation_id, when_words=when,
            )
            view = complaint_view(complaint, booking, escalation)
        return view

    # ---- internals: transactions ---------------------------------------------------------

    def _retrying(self, action: Callable[[], T]) -> T:
        """Run ``action``, again when SQLite reports that a concurrent writer holds the database."""
        for attempt in range(LOCK_RETRIES):
            try:
                return action()
            except OperationalError as error:
                if not _is_lock_error(error) or attempt == LOCK_RETRIES - 1:
                    raise
                time_module.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def _book_once(
        self, conversation_id: str, offering_id: int, starts_at: datetime, note: str, back: Optional[datetime]
    ) -> BookingView:
        """One attempt at :meth:`book`."""
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            offering, option = self._check_visit(session, profile, offering_id, starts_at, now)
            provider = offering.provider
            ends_at = option.ends_at
            if provider.kind == "laundry":
                ends_at = _laundry_return(option, back)
            booking = Booking(
                kind=provider.kind, status="requested", senior_id=senior.id, created_by_id=actor.id,
                provider_id=provider.id, offering_id=offering.id, quantity=1,
                starts_at=option.starts_at, ends_at=ends_at, details=note,
                price_cents=option.price_cents, fees_cents=option.fees_cents,
                created_at=now, updated_at=now,
            )
            add_with_unique_reference(session, booking, Booking, lambda: new_reference(KIND_PREFIX[booking.kind]))
            audit.record(
                session, audit.person_actor(actor.id), "booking.created", "booking", booking.reference,
                at=now, kind=booking.kind, senior_id=senior.id, provider_id=provider.id,
            )
            transition(booking, "confirmed", audit.ASSISTANT, now=now)
            if not claim_slots(session, booking, option.starts_at, option.ends_at):
                raise _SlotTaken(offering.id)
            tz = zone(profile.timezone)
            when = local_words(booking.starts_at, tz)
            back_words = (
                f" The washing comes back on {local_words(booking.ends_at, tz)}." if booking.kind == "laundry" else ""
            )
            visit = visit_words(booking.kind)
            self._tell_family(
                session, senior, actor, booking, "booking_confirmed", now,
                you=f"{actor.display_name or 'Your relative'} booked a {visit} for you with {provider.name} "
                f"on {when}.{back_words} Your reference is {booking.reference}.",
                them=f"{profile.full_name}'s {visit} with {provider.name} is booked for {when}."
                f"{back_words} Reference {booking.reference}."
                + (f" Booked by {actor.display_name}." if actor.id != senior.id and actor.display_name else ""),
            )
            view = to_view(booking)
        return view

    def _reschedule_once(self, conversation_id: str, reference: str, new_start: datetime) -> BookingView:
        """One attempt at :meth:`reschedule`."""
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, needs="bookings")
            booking = find_for_senior(session, senior.id, reference)
            if booking.kind not in SERVICES or booking.offering_id is None:
                raise InvalidInput(
                    f"Booking {booking.reference} is not a home visit, so I cannot move it here.",
                    field="reference",
                )
            check_changeable(booking)
            if new_start == booking.starts_at:
                return to_view(booking)
            free_slots(session, booking)
            offering, option = self._check_visit(session, profile, booking.offering_id, new_start, now)
            old_start = booking.starts_at
            ends_at = option.ends_at
            if booking.kind == "laundry":
                ends_at = new_start + (booking.ends_at - booking.starts_at)
            booking.starts_at = option.starts_at
            booking.ends_at = max(ends_at, option.ends_at)
            booking.updated_at = now
            if not claim_slots(session, booking, option.starts_at, option.ends_at):
                raise _SlotTaken(offering.id)
            audit.record(
                session, audit.person_actor(actor.id), "booking.rescheduled", "booking", booking.reference,
                at=now, old_start=old_start.isoformat(), new_start=new_start.isoformat(),
            )
            when = local_words(booking.starts_at, zone(profile.timezone))
            self._tell_family(
                session, senior, actor, booking, "booking_rescheduled", now,
                you=f"Your {visit_words(booking.kind)} with {offering.provider.name} is moved to {when}.",
                them=f"{profile.full_name}'s {visit_words(booking.kind)} with {offering.provider.name} "
                f"is moved to {when}.",
            )
            view = to_view(booking)
        return view

    def _tell_family(
        self,
        session: Session,
        senior: Person,
        actor: Person,
        booking: Booking,
        kind: str,
        now: datetime,
        *,
        you: str,
        them: str,
    ) -> None:
        """Tell the senior (when a relative acted) and the other relatives about a change."""
        def entities(text: str) -> dict[str, str]:
            return {"reference": booking.reference, "status": booking.status, "text": text}

        if actor.id != senior.id:
            enqueue(session, senior.id, kind, "EXTERNAL_booking_update", entities(you), text=you, at=now)
        enqueue_for_family(
            session, senior.id, kind, "EXTERNAL_booking_update", entities(them), text=them, at=now,
            skip_person_id=actor.id, share="bookings",
        )

    # ---- internals: checks -----------------------------------------------------------------

    def _check_visit(
        self, session: Session, profile: SeniorProfile, offering_id: int, starts_at: datetime, now: datetime
    ) -> tuple[Offering, ServiceOption]:
        """Run every check of one visit and price it; refusals carry alternatives."""
        senior_tz = zone(profile.timezone)
        offering = session.get(Offering, offering_id)
        if (
            offering is None
            or not offering.active
            or not offering.provider.active
            or offering.provider.kind not in SERVICES
            or offering.provider.flagged_at is not None
        ):
            raise NotFound("Sorry, that is not available any more. Shall I look for someone else?")
        provider = offering.provider
        minutes = duration(offering)
        try:
            check_lead_time(starts_at, now, LEAD_TIME, senior_tz)
        except Unavailable as error:
            raise self._refusal(session, profile, offering, starts_at, now, error.message) from None
        if not serves(provider, profile.district):
            raise self._refusal(
                session, profile, offering, starts_at, now,
                f"Sorry, {provider.name} does not come to {profile.district}.",
            )
        if not fits(opening_spans(provider), starts_at, minutes, self._tz):
            hours = describe_hours(loads_hours(provider.opening_hours))
            raise self._refusal(
                session, profile, offering, starts_at, now,
                f"Sorry, {provider.name} cannot come for the whole {minutes} minutes on "
                f"{local_words(starts_at, senior_tz)}. Their opening hours are: {hours}.",
            )
        wanted = slot_starts(starts_at, starts_at + timedelta(minutes=minutes))
        taken = session.scalar(
            select(BookingSlot.booking_id).where(
                BookingSlot.provider_id == provider.id, BookingSlot.slot_start.in_(wanted)
            ).limit(1)
        )
        if taken is not None:
            raise self._refusal(
                session, profile, offering, starts_at, now,
                f"Sorry, {provider.name} is already booked on {local_words(starts_at, senior_tz)}.",
            )
        return offering, service_option(provider, offering, starts_at, opening_spans(provider), self._tz)

    def _refusal(
        self, session: Session, profile: SeniorProfile, offering: Offering, at: datetime, now: datetime, message: str
    ) -> NoFreeSlot:
        """Return a :class:`NoFreeSlot` with the alternatives nearest to ``at``."""
        alternatives = self._slots.alternatives(session, profile.district, offering, at, now)
        if alternatives:
            message += " These are the nearest free times."
        return NoFreeSlot(message, alternatives=alternatives)

    def _alternatives_for(self, conversation_id: str, offering_id: int, at: datetime) -> list[ServiceOption]:
        """Return alternatives to a visit, in a fresh transaction (after a lost race)."""
        with self._db.session() as session:
            _, profile, _ = acting_for(session, conversation_id, needs="bookings")
            offering = session.get(Offering, offering_id)
            if offering is None:
                return []
            return self._slots.alternatives(session, profile.district, offering, at, self._clock())


# ---- helpers -------------------------------------------------------------------------------


def _is_lock_error(error: OperationalError) -> bool:
    """Return whether SQLite refused a write because another connection is writing."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database is busy" in text


def _clean_details(details: Optional[str]) -> str:
    """Return a note for the provider with its spacing tidied (at most MAX_DETAILS characters)."""
    text = " ".join(str(details or "").split())
    return clean_text(text, "note", MAX_DETAILS, field="details", required=False)


def _laundry_return(option: ServiceOption, back: Optional[datetime]) -> datetime:
    """Return when the washing comes back (default: the option's return, about 48 hours after pickup)."""
    if back is None:
        return option.return_at or option.starts_at + LAUNDRY_RETURN_AFTER
    if back <= option.ends_at:
        raise InvalidInput(
            "The washing can only come back after it is picked up. When should it come back?",
            field="return_at",
        )
    if back > option.starts_at + MAX_LAUNDRY_RETURN:
        raise InvalidInput("Please choose a return within two weeks of the pickup.", field="return_at")
    return back


def _status_text(booking: Booking, tz: ZoneInfo) -> str:
    """Return the sentence telling the senior about the booking's new status."""
    visit, provider, when = visit_words(booking.kind), booking.provider.name, local_words(booking.starts_at, tz)
    texts = {
        "confirmed": f"Your {visit} with {provider} on {when} is confirmed.",
        "assigned": f"A helper from {provider} is now assigned to your {visit} on {when}.",
        "in_progress": f"Your helper from {provider} has started your {visit}.",
        "done": f"Your {visit} with {provider} is done.",
        "cancelled": f"Your {visit} with {provider} on {when} has been cancelled. "
        "A person from our team can help you book again.",
    }
    return texts.get(booking.status, f"Your {visit} with {provider} is now {booking.status}.")


def _unreviewed(session: Session, senior_id: int) -> Optional[Booking]:
    """Return the senior's most recently finished booking without a review."""
    return session.scalar(
        select(Booking)
        .where(
            Booking.senior_id == senior_id,
            Booking.status == "done",
            ~select(Review.id).where(Review.booking_id == Booking.id).exists(),
        )
        .order_by(Booking.updated_at.desc(), Booking.id.desc())
        .limit(1)
    )


def _most_recent(session: Session, senior_id: int, now: datetime) -> Optional[Booking]:
    """Return the booking a complaint is most likely about: the latest that started, else the next one."""
    bookings = list(session.scalars(select(Booking).where(Booking.senior_id == senior_id)))
    if not bookings:
        return None
    started = [b for b in bookings if b.starts_at <= now and b.status != "cancelled"]
    if started:
        return max(started, key=lambda b: (b.starts_at, b.id))
    return max(bookings, key=lambda b: (b.status != "cancelled", b.created_at, b.id))


"""Frozen views returned by the services (never ORM objects), and small helpers for reading ids and days.

The coordinators' read side over several tables is :mod:`assistant.care.coordinators.directory`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final, Optional, Union

from assistant.care.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from zoneinfo import ZoneInfo


CURRENCY: Final = "€"
"""Currency symbol used when showing prices."""


def format_price(cents: int) -> str:
    """Return a price for people, e.g. ``format_price(850) == "€8.50"``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{CURRENCY}{whole:,}.{rest:02d}"


@dataclass(frozen=True)
class ProfileView:
    """What the assistant knows about a senior who gave consent."""

    person_id: int
    conversation_id: Optional[str]
    role: str
    full_name: str
    address: str
    district: str
    dietary_needs: tuple[str, ...]
    language: str
    timezone: str
    voice_replies: bool
    consent_care_data: bool
    phone: Optional[str] = None
    consent_health_data: bool = False


@dataclass(frozen=True)
class MealOption:
    """A dish a senior can order, with its provider."""

    dish_id: int
    dish_name: str
    description: str
    provider_id: int
    provider_name: str
    price_cents: int
    tags: tuple[str, ...]
    meal_type: str
    verified: bool
    rating: float

    @property
    def price_text(self) -> str:
        """The price formatted for people."""
        return format_price(self.price_cents)


@dataclass(frozen=True)
class ProviderView:
    """A provider from the registry."""

    provider_id: int
    name: str
    kind: str
    phone: Optional[str]
    verified: bool
    rating: float
    rating_count: int
    districts: tuple[str, ...]
    opening_hours: str
    active: bool
    score: float = 0.0


@dataclass(frozen=True)
class OfferingView:
    """Something a provider sells (a chef visit, a table, a cleaning visit...)."""

    offering_id: int
    provider_id: int
    provider_name: str
    provider_kind: str
    mode: str
    name: str
    description: str
    price_cents: int
    duration_minutes: Optional[int]
    verified: bool
    rating: float
    score: float = 0.0

    @property
    def price_text(self) -> str:
        """The price formatted for people."""
        return format_price(self.price_cents)


@dataclass(frozen=True)
class OrderQuote:
    """The full price of a meal order, shown before the senior confirms."""

    dish_id: int
    dish_name: str
    provider_name: str
    quantity: int
    unit_price_cents: int
    price_cents: int
    fees_cents: int
    total_cents: int
    starts_at: datetime
    ends_at: datetime

    @property
    def total_text(self) -> str:
        """The total formatted for people."""
        return format_price(self.total_cents)


@dataclass(frozen=True)
class BookingView:
    """A saved booking, as the senior should hear about it."""

    reference: str
    kind: str
    status: str
    provider_name: str
    item_name: str
    quantity: int
    party_size: Optional[int]
    starts_at: datetime
    ends_at: datetime
    recurrence: Optional[str]
    price_cents: int
    fees_cents: int
    total_cents: int
    details: str

    @property
    def total_text(self) -> str:
        """The total formatted for people."""
        return format_price(self.total_cents)


@dataclass(frozen=True)
class EscalationView:
    """A request for a human coordinator."""

    reference: str
    kind: str
    priority: int
    status: str
    summary: str
    created_at: datetime
    conversation_id: Optional[str] = None
    claimed_by: Optional[str] = None
    resolved_at: Optional[datetime] = None
    outcome: Optional[str] = None
    handoff_by: Optional[str] = None
    handoff_at: Optional[datetime] = None


@dataclass(frozen=True)
class ServiceOption:
    """A home-service visit a provider can make: what, who, when and for how much.

    ``starts_at``/``ends_at`` are aware UTC and span the visit itself; for laundry
    ``return_at`` is when the clean washing comes back.
    """

    offering_id: int
    provider_id: int
    provider_name: str
    service: str
    offering_name: str
    description: str
    price_cents: int
    fees_cents: int
    total_cents: int
    score: float
    review_count: int
    verified: bool
    starts_at: datetime
    ends_at: datetime
    return_at: Optional[datetime] = None

    @property
    def price_text(self) -> str:
        """The price without fees, formatted for people."""
        return format_price(self.price_cents)

    @property
    def fees_text(self) -> str:
        """The fees formatted for people."""
        return format_price(self.fees_cents)

    @property
    def total_text(self) -> str:
        """The total formatted for people."""
        return format_price(self.total_cents)


@dataclass(frozen=True)
class ReviewView:
    """A senior's rating of a finished booking, with the provider's new score."""

    booking_reference: str
    provider_name: str
    rating: int
    comment: str
    provider_score: float
    created_at: datetime
    provider_flagged: bool = False


@dataclass(frozen=True)
class ComplaintView:
    """A complaint and the coordinator escalation it opened."""

    reference: str
    text: str
    escalation_reference: str
    created_at: datetime
    booking_reference: Optional[str] = None
    provider_name: Optional[str] = None


# ---- read models for coordinators (the console and its JSON API) -------------------------


@dataclass(frozen=True)
class OfferingRecord:
    """An offering as coordinators see it on the provider's page."""

    offering_id: int
    mode: str
    name: str
    price_cents: int
    duration_minutes: Optional[int]
    active: bool

    @property
    def price_text(self) -> str:
        """The price formatted for people."""
        return format_price(self.price_cents)


@dataclass(frozen=True)
class ProviderRecord:
    """A provider with everything coordinators check: reputation, flag, offerings."""

    provider_id: int
    name: str
    kind: str
    phone: Optional[str]
    verified: bool
    active: bool
    districts: tuple[str, ...]
    opening_hours: str
    score: float
    review_count: int
    complaint_count: int
    rating: float
    rating_count: int
    flagged: bool
    flagged_at: Optional[datetime]
    flag_reason: Optional[str]
    created_at: datetime
    offerings: tuple[OfferingRecord, ...] = ()


@dataclass(frozen=True)
class BookingRecord:
    """A booking as coordinators see it: whose, with whom, and where it may go next."""

    reference: str
    kind: str
    status: str
    senior_id: int
    senior_name: str
    provider_id: int
    provider_name: str
    item_name: str
    quantity: int
    party_size: Optional[int]
    starts_at: datetime
    ends_at: datetime
    recurrence: Optional[str]
    price_cents: int
    fees_cents: int
    total_cents: int
    details: str
    created_at: datetime
    updated_at: datetime
    next_statuses: tuple[str, ...] = ()

    @property
    def total_text(self) -> str:
        """The total formatted for people."""
        return format_price(self.total_cents)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    entry_id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: str


@dataclass(frozen=True)
class PersonSummary:
    """A person in the people search: a senior (with a profile) or a relative."""

    person_id: int
    role: str
    name: str
    district: Optional[str]
    phone: Optional[str]
    channel: str
    created_at: datetime


@dataclass(frozen=True)
class RelativeRecord:
    """Someone linked to a senior (shown from either side of the link)."""

    person_id: int
    name: str
    relationship: str
    channel: str
    linked_at: datetime


@dataclass(frozen=True)
class PersonRecord:
    """A person's page: the profile and consents (seniors), the family links."""

    person_id: int
    role: str
    name: str
    channel: str
    conversation_id: Optional[str]
    created_at: datetime
    has_profile: bool
    address: Optional[str] = None
    district: Optional[str] = None
    phone: Optional[str] = None
    language: Optional[str] = None
    timezone: Optional[str] = None
    dietary_needs: tuple[str, ...] = ()
    voice_replies: bool = False
    consent_care_data: bool = False
    consent_care_data_at: Optional[datetime] = None
    consent_health_data: bool = False
    consent_health_data_at: Optional[datetime] = None
    relatives: tuple[RelativeRecord, ...] = ()
    seniors: tuple[RelativeRecord, ...] = ()


MAX_ID: Final = 2**63 - 1


def record_id(value: Union[int, str, None], message: str) -> int:
    """Return ``value`` as a database id, or raise :class:`NotFound` with ``message``.

    Anything that is not a whole number from 1 to 2**63-1 cannot be an id, so it is
    simply not found (never a database error).
    """
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not text.isascii():
        raise NotFound(message)
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise NotFound(message)
    return number


def clean_day(value: object, label: str, *, field: str) -> Optional[date]:
    """Return a day written ``YYYY-MM-DD`` (or a date), None when empty.

    Raises:
        InvalidInput: If it is not such a day.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        if not isinstance(value, str) or len(value.strip()) != 10:
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"Please give the {label} as a date like 2025-12-01.", field=field) from None


def day_bounds(
    first: Optional[date], last: Optional[date], tz: "ZoneInfo", *, field: str
) -> tuple[Optional[datetime], Optional[datetime]]:
    """Return the aware start of ``first`` and the end (exclusive) of ``last`` in ``tz``.

    Raises:
        InvalidInput: If ``last`` is before ``first``.
    """
    if first is not None and last is not None and last < first:
        raise InvalidInput("The end date is before the start date.", field=field)
    start = datetime.combine(first, time(0), tz) if first is not None else None
    end = datetime.combine(last + timedelta(days=1), time(0), tz) if last is not None else None
    return start, end

"""Frozen views returned by the services (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Optional

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

"""Builders of registry, people and bookings for the console tests (through the care domain)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from assistant.care import CareServices
from assistant.care.registry.hours import parse_hours_text
from assistant.care.core.views import BookingView


def unique(prefix: str) -> str:
    """A name no other test uses (the console's database lives for a whole module)."""
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def home_provider(care: CareServices, name: str, *, kind: str = "cleaning", district: str = "Riverside",
                  price_cents: int = 3400) -> tuple[int, int]:
    """Add an always-open home-service provider with one offering; return (provider id, offering id)."""
    provider = care.registry.add_provider(
        name, kind, [district], verified=True, opening_hours=parse_hours_text("daily 00:00-24:00"),
    )
    offering = care.registry.add_offering(provider.provider_id, kind, f"{kind} visit", price_cents,
                                          duration_minutes=60)
    return provider.provider_id, offering.offering_id


def senior(care: CareServices, name: str, *, district: str = "Riverside") -> tuple[str, int]:
    """Register a senior with consent; return (conversation id, person id)."""
    conversation = f"conv-{uuid.uuid4().hex[:10]}"
    view = care.people.register_senior(conversation, "rest", name, "12 Mill Road", district, [], True)
    return conversation, view.person_id


def visit(care: CareServices, conversation: str, offering_id: int, days_ahead: int = 2, hour: int = 10) -> BookingView:
    """Book a visit ``days_ahead`` days from now at ``hour``:00 UTC."""
    day = datetime.now(timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    return care.home_services.book(conversation, offering_id, day + timedelta(days=days_ahead))

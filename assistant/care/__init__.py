"""The care domain: people, the provider registry, meals, home services, bookings, escalations.

Framework-free (never imports rasa or rasa_sdk). Entry points build one
:class:`CareServices` per process and call its services; every service returns
frozen views and raises :class:`~assistant.care.core.errors.CareError` subclasses
whose ``message`` can be shown to a senior.
"""

from __future__ import annotations

from typing import Any

from assistant.care.bookings.bookings import BookingService
from assistant.care.core.clock import Clock, utcnow
from assistant.care.safety.danger_checks import DangerCheckService
from assistant.care.core.db import Database
from assistant.care.safety.emergencies import EmergencyService
from assistant.care.core.errors import (
    CareError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    NotRegistered,
    Unavailable,
)
from assistant.care.escalations.escalations import EscalationService
from assistant.care.people.chats import ChatSettingsService
from assistant.care.people.family import FamilyService
from assistant.care.coordinators.handoffs import HandoffService
from assistant.care.homeservices.homeservices import HomeServiceService
from assistant.care.people.invites import InviteService
from assistant.care.meals.meals import MealService
from assistant.care.people.people import PeopleService
from assistant.care.privacy.service import PrivacyService
from assistant.care.registry.registry import RegistryService
from assistant.care.reminders.reminders import ReminderService
from assistant.care.coordinators.review_list import ReviewListService
from assistant.care.registry.scheduling import DEFAULT_TIMEZONE

__all__ = [
    "CareServices",
    "CareError",
    "Database",
    "InvalidInput",
    "InvalidTransition",
    "NotAllowed",
    "NotFound",
    "NotRegistered",
    "Unavailable",
]


class CareServices:
    """All care services over one database.

    Args:
        db: The database.
        clock: Returns the current aware time (inject a fixed one in tests).
        timezone: Deployment timezone in which providers' opening hours are written.
    """

    def __init__(self, db: Database, *, clock: Clock = utcnow, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.db: Database = db
        self.people: PeopleService = PeopleService(db, clock=clock)
        self.registry: RegistryService = RegistryService(db, timezone=timezone)
        self.meals: MealService = MealService(db, clock=clock, timezone=timezone)
        self.home_services: HomeServiceService = HomeServiceService(db, clock=clock, timezone=timezone)
        self.bookings: BookingService = BookingService(db, clock=clock)
        self.escalations: EscalationService = EscalationService(db, clock=clock)
        self.reminders: ReminderService = ReminderService(db, clock=clock)
        self.family: FamilyService = FamilyService(db, clock=clock)
        self.invites: InviteService = InviteService(db, clock=clock)
        self.handoffs: HandoffService = HandoffService(db, clock=clock)
        self.emergencies: EmergencyService = EmergencyService(db, clock=clock)
        self.danger_checks: DangerCheckService = DangerCheckService(db, clock=clock)
        self.review_list: ReviewListService = ReviewListService(db, clock=clock)
        self.privacy: PrivacyService = PrivacyService(db, clock=clock)
        self.chats: ChatSettingsService = ChatSettingsService(db, clock=clock)

    @classmethod
    def from_url(cls, url: str, *, clock: Clock = utcnow, timezone: str = DEFAULT_TIMEZONE) -> "CareServices":
        """Build the services for a database URL (the schema must already exist)."""
        return cls(Database(url), clock=clock, timezone=timezone)

    def session_slots(self, conversation_id: str) -> dict[str, Any]:
        """The slots a new session of this conversation starts with: whether the person is
        registered, the first name to greet them by, and the coordinator holding the chat, if any.

        Set by the conversation's ``action_session_start``, and by the care service when a reminder
        starts a new session.
        """
        acting = self.family.acting(conversation_id)
        holder = self.handoffs.holder(conversation_id)
        slots: dict[str, Any] = {"registered": acting is not None}
        if acting is not None:
            name = acting.speaker_name
            slots["user_name"] = name.split()[0] if name.split() else name
        if holder is not None:
            slots["handoff_by"] = holder.handoff_by
        return slots

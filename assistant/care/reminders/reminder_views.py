"""Frozen views of reminders and their deliveries, and the words they are told in.

Services return these instead of database rows; build them inside the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assistant.care.core.models import Person, Reminder, ReminderDelivery
from assistant.care.reminders.schedules import Schedule, day_words
from assistant.care.core.timeparse import When, describe


@dataclass(frozen=True)
class ReminderView:
    """A reminder as the conversation shows it (``reminder_id`` is None in a preview)."""

    reminder_id: Optional[int]
    kind: str
    title: str
    dose: Optional[str]
    location: Optional[str]
    schedule: str
    timezone: str
    next_due_at: Optional[datetime]
    next_due_text: str
    escalate_after_minutes: Optional[int]
    active: bool
    recurring: bool
    saved: bool

    @property
    def read_back(self) -> str:
        """One sentence to read back, e.g. "Blood pressure pill (1 tablet), every day at 08:00."."""
        what = self.title + (f" ({self.dose})" if self.dose else "")
        where = f" at {self.location}" if self.location else ""
        if not self.recurring:
            return f"{what}{where}, {self.next_due_text or self.schedule}."
        first = f" The next one is {self.next_due_text}." if self.next_due_text else ""
        return f"{what}{where}, {self.schedule}.{first}"


@dataclass(frozen=True)
class DeliveryView:
    """One due time of a reminder and what became of it."""

    delivery_id: int
    reminder_id: int
    senior_id: int
    conversation_id: Optional[str]
    kind: str
    title: str
    dose: Optional[str]
    location: Optional[str]
    due_at: datetime
    due_time: str
    status: str
    attempts: int
    sent_at: Optional[datetime]
    acknowledged_at: Optional[datetime]
    snoozed_until: Optional[datetime]
    escalated_at: Optional[datetime]
    answer: Optional[str]
    note: str
    timezone: str = "UTC"
    in_doubt: bool = False
    """A send was started and its outcome never recorded (the care service stopped meanwhile)."""


@dataclass(frozen=True)
class CheckinAnswer:
    """What became of a check-in answer."""

    answer: str
    delivery_id: Optional[int]
    escalation_reference: Optional[str]
    relatives_told: int


def next_due_text(at: Optional[datetime], tz: ZoneInfo, now: datetime) -> str:
    """Return e.g. ``"tomorrow (Tuesday 2 December) at 08:00"``."""
    if at is None:
        return ""
    return describe(When(at.astimezone(tz), None, True, ""), now.astimezone(tz))


def reminder_view(reminder: Reminder, now: datetime) -> ReminderView:
    """Return the frozen view of a saved reminder (call inside the session)."""
    schedule = Schedule.from_json(reminder.schedule_json)
    return ReminderView(
        reminder_id=reminder.id, kind=reminder.kind, title=reminder.title, dose=reminder.dose,
        location=reminder.location, schedule=schedule.describe(now), timezone=reminder.timezone,
        next_due_at=reminder.next_due_at,
        next_due_text=next_due_text(reminder.next_due_at, schedule.tz, now),
        escalate_after_minutes=reminder.escalate_after_minutes, active=reminder.active,
        recurring=schedule.recurring, saved=True,
    )


def delivery_view(delivery: ReminderDelivery) -> DeliveryView:
    """Return the frozen view of a delivery (call inside the session)."""
    reminder = delivery.reminder
    senior = _senior_of(delivery)
    return DeliveryView(
        delivery_id=delivery.id, reminder_id=reminder.id, senior_id=reminder.senior_id,
        conversation_id=senior.conversation_id if senior is not None else None,
        kind=reminder.kind, title=reminder.title, dose=reminder.dose, location=reminder.location,
        due_at=delivery.due_at, due_time=f"{delivery.due_at.astimezone(ZoneInfo(reminder.timezone)):%H:%M}",
        status=delivery.status, attempts=delivery.attempts, sent_at=delivery.sent_at,
        acknowledged_at=delivery.acknowledged_at, snoozed_until=delivery.snoozed_until,
        escalated_at=delivery.escalated_at, answer=delivery.answer, note=delivery.note or "",
        timezone=reminder.timezone,
        in_doubt=delivery.claimed_at is not None and delivery.status in ("pending", "snoozed"),
    )


def _senior_of(delivery: ReminderDelivery) -> Optional[Person]:
    """Return the senior a delivery is for."""
    session = Session.object_session(delivery)
    assert session is not None
    return session.get(Person, delivery.reminder.senior_id)


def senior_name(person: Person) -> str:
    """The name coordinators and relatives know the senior by."""
    if person.profile is not None and person.profile.full_name:
        return person.profile.full_name
    return person.display_name or f"person {person.id}"


def hhmm(at: datetime, tz: ZoneInfo) -> str:
    """Return ``at`` as local ``"HH:MM"``."""
    return f"{at.astimezone(tz):%H:%M}"


def local_time(delivery: ReminderDelivery) -> str:
    """The due time in the senior's timezone, e.g. ``"08:00"``."""
    return hhmm(delivery.due_at, ZoneInfo(delivery.reminder.timezone))


def due_words(delivery: ReminderDelivery) -> str:
    """E.g. ``"at 08:00 on Tuesday 2 December"``."""
    local = delivery.due_at.astimezone(ZoneInfo(delivery.reminder.timezone))
    return f"at {local:%H:%M} on {day_words(local)}"

"""The coordinators' read-only view of people: search, a senior's record, reminders, deliveries, escalations."""

from __future__ import annotations

from typing import Optional, Union

from sqlalchemy import func, or_, select

from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.db import Database
from assistant.care.core.errors import NotFound
from assistant.care.core.models import (
    Escalation,
    Person,
    RelativeLink,
    Reminder,
    ReminderDelivery,
    SeniorProfile,
)
from assistant.care.reminders.reminder_views import (
    DeliveryView,
    ReminderView,
    delivery_view,
    reminder_view,
)
from assistant.care.core.validation import MAX_NAME, clean_text
from assistant.care.core.views import (
    EscalationView,
    PersonRecord,
    PersonSummary,
    RelativeRecord,
    record_id,
)


class PeopleDirectory:
    """Read-only look-ups of people for coordinators: search, a person's page.

    Args:
        db: The database.
        clock: Returns the current aware time (reminder texts say "tomorrow at 08:00").
    """

    def __init__(self, db: "Database", clock: Optional[Clock] = None) -> None:
        self._db = db
        self._clock = clock or utcnow

    def search(self, name: str = "", offset: int = 0, limit: int = 50) -> tuple[list[PersonSummary], int]:
        """Return seniors and relatives whose name contains ``name`` (any case), by name.

        Args:
            name: Part of the name; empty lists everyone.
            offset: How many to skip.
            limit: Page size, 1 to 500.
        """
        text = clean_text(name, "name", MAX_NAME, field="q", required=False)
        shown = func.coalesce(SeniorProfile.full_name, Person.display_name)
        query = (
            select(Person, SeniorProfile)
            .outerjoin(SeniorProfile, SeniorProfile.person_id == Person.id)
            .where(Person.role.in_(("senior", "relative")))
        )
        if text:
            pattern = "%" + _like_escape(text.lower()) + "%"
            query = query.where(or_(
                func.lower(SeniorProfile.full_name).like(pattern, escape="\\"),
                func.lower(Person.display_name).like(pattern, escape="\\"),
            ))
        with self._db.reading() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.execute(
                query.order_by(func.lower(shown), Person.id).offset(max(0, offset)).limit(min(500, max(1, limit)))
            ).all()
            return [
                PersonSummary(
                    person_id=person.id, role=person.role,
                    name=(profile.full_name if profile is not None else person.display_name) or f"person {person.id}",
                    district=profile.district if profile is not None else None,
                    phone=profile.phone if profile is not None else None,
                    channel=person.channel, created_at=person.created_at,
                )
                for person, profile in rows
            ], int(total)

    def record(self, person_id: Union[int, str]) -> PersonRecord:
        """Return a person's profile, consents and family links.

        Raises:
            NotFound: If there is no such person.
        """
        pid = record_id(person_id, "There is no such person.")
        with self._db.reading() as session:
            person = session.get(Person, pid)
            if person is None:
                raise NotFound("There is no such person.")
            profile = person.profile
            relatives = [
                _relative(session.get(Person, link.relative_id), link)
                for link in session.scalars(
                    select(RelativeLink).where(RelativeLink.senior_id == pid).order_by(RelativeLink.id)
                )
            ]
            seniors = [
                _relative(session.get(Person, link.senior_id), link)
                for link in session.scalars(
                    select(RelativeLink).where(RelativeLink.relative_id == pid).order_by(RelativeLink.id)
                )
            ]
            base = dict(
                person_id=person.id, role=person.role, name=_name(person), channel=person.channel,
                conversation_id=person.conversation_id, created_at=person.created_at,
                has_profile=profile is not None, relatives=tuple(relatives), seniors=tuple(seniors),
            )
            if profile is None:
                return PersonRecord(**base)
            return PersonRecord(
                **base, address=profile.address, district=profile.district, phone=profile.phone,
                language=profile.language, timezone=profile.timezone, dietary_needs=profile.dietary_needs,
                voice_replies=profile.voice_replies, consent_care_data=profile.consent_care_data,
                consent_care_data_at=profile.consent_care_data_at,
                consent_health_data=profile.consent_health_data,
                consent_health_data_at=profile.consent_health_data_at,
            )

    def reminders(self, person_id: Union[int, str]) -> list[ReminderView]:
        """Return a senior's active reminders, next due first (empty for anyone else)."""

        pid = record_id(person_id, "There is no such person.")
        now = self._clock()
        with self._db.reading() as session:
            rows = session.scalars(
                select(Reminder)
                .where(Reminder.senior_id == pid, Reminder.active.is_(True))
                .order_by(Reminder.next_due_at, Reminder.id)
            )
            return [reminder_view(r, now) for r in rows]

    def deliveries(self, person_id: Union[int, str], limit: int = 20) -> list[DeliveryView]:
        """Return a senior's most recent reminder deliveries (newest first) with their status."""

        pid = record_id(person_id, "There is no such person.")
        with self._db.reading() as session:
            rows = session.scalars(
                select(ReminderDelivery)
                .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
                .where(Reminder.senior_id == pid)
                .order_by(ReminderDelivery.due_at.desc(), ReminderDelivery.id.desc())
                .limit(min(200, max(1, limit)))
            )
            return [delivery_view(d) for d in rows]

    def open_escalations(self, person_id: Union[int, str]) -> list[EscalationView]:
        """Return the person's unresolved escalations, most urgent first."""
        from assistant.care.escalations.escalations import (  # imports this module
            ACTIVE_STATUSES,
            escalation_view,
        )

        pid = record_id(person_id, "There is no such person.")
        with self._db.reading() as session:
            person = session.get(Person, pid)
            if person is None:
                return []
            about = Escalation.person_id == pid
            if person.conversation_id:
                about = or_(about, Escalation.conversation_id == person.conversation_id)
            rows = session.scalars(
                select(Escalation)
                .where(about, Escalation.status.in_(ACTIVE_STATUSES))
                .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
            )
            return [escalation_view(e) for e in rows]

    def person_of_escalation(self, reference: str) -> Optional[int]:
        """Return the id of the person an escalation is about, if any (for a link)."""
        from assistant.care.bookings.bookings import normalise_reference  # imports this module

        with self._db.reading() as session:
            row = session.execute(
                select(Escalation.person_id, Escalation.conversation_id)
                .where(Escalation.reference == normalise_reference(reference))
            ).first()
            if row is None:
                return None
            if row.person_id is not None:
                return int(row.person_id)
            if row.conversation_id:
                found = session.scalar(select(Person.id).where(Person.conversation_id == row.conversation_id))
                return int(found) if found is not None else None
            return None


def _name(person: Person) -> str:
    """The name coordinators know a person by."""
    if person.profile is not None and person.profile.full_name:
        return person.profile.full_name
    return person.display_name or f"person {person.id}"


def _relative(person: Optional[Person], link: RelativeLink) -> RelativeRecord:
    """Return one side of a family link (the person row always exists: foreign key)."""
    assert person is not None
    return RelativeRecord(
        person_id=person.id, name=_name(person), relationship=link.relationship or "",
        channel=person.channel, linked_at=link.created_at,
    )


def _like_escape(text: str) -> str:
    """Escape LIKE wildcards so a search for ``50%`` finds exactly that."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""Emergencies: a top-priority escalation and an alert to every linked relative, in one transaction.

What was sent to whom and when stays on record: the escalation, one notification row per relative
(delivered by the care service, with its delivery time and attempts) and an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.core.errors import NotAllowed, NotRegistered
from assistant.care.escalations.escalations import open_escalation
from assistant.care.core.models import Escalation, Person
from assistant.care.core.notifications import enqueue, relatives_of
from assistant.care.people.people import acting_for, person_by_conversation

ALERT_INTENT: Final = "EXTERNAL_emergency_alert"
"""Sent to relatives: entities senior_name, text, reference."""
MAX_QUOTE: Final = 300


@dataclass(frozen=True)
class EmergencyRecord:
    """What was done about an emergency message."""

    reference: str
    alerted: tuple[str, ...]
    """First names of the relatives alerted (a coordinator always is)."""
    new: bool = True
    """False when this message had already been recorded (nobody was alerted twice)."""


def _first_name(person: Person) -> str:
    name = person.profile.full_name if person.profile is not None else person.display_name
    return (name or "your relative").split()[0]


def _people_involved(session: Session, conversation_id: str) -> tuple[Optional[Person], Optional[Person]]:
    """(the senior the emergency is about, who wrote), as far as we know them."""
    try:
        senior, _, actor = acting_for(session, conversation_id)
        return senior, actor
    except (NotRegistered, NotAllowed):
        return None, person_by_conversation(session, conversation_id)


class EmergencyService(CareService):
    """Records emergencies and alerts the family.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def raise_alert(
        self, conversation_id: str, text: str, sign: Optional[str] = None, *,
        message_id: Optional[str] = None, written_at: Optional[datetime] = None,
    ) -> EmergencyRecord:
        """Open a priority-1 escalation and alert the senior's linked relatives (not the writer).

        Once per message: a message already recorded returns its escalation and alerts nobody again.

        Args:
            conversation_id: The conversation the emergency was written in.
            text: What the person wrote (quoted to coordinators and relatives, shortened).
            sign: The kind of emergency the safety net saw ("fall", "chest pain"...), if any.
            message_id: The chat message's id (Rasa's), which makes recording it idempotent.
            written_at: When it was written, if it is recorded late (said in the summary).
        """
        with self._db.session() as session:
            return record_emergency(session, self._clock(), conversation_id, text, sign,
                                    message_id=message_id, written_at=written_at)


def record_emergency(
    session: Session, now: datetime, conversation_id: str, text: str, sign: Optional[str] = None, *,
    message_id: Optional[str] = None, written_at: Optional[datetime] = None, note: str = "",
) -> EmergencyRecord:
    """Inside ``session``: the priority-1 escalation and the relatives' alerts (see :meth:`EmergencyService.raise_alert`)."""
    quote = " ".join((text or "").split())[:MAX_QUOTE] or "emergency"
    if message_id:
        known = session.scalar(select(Escalation.reference).where(Escalation.source_message_id == message_id))
        if known is not None:
            return EmergencyRecord(known, (), new=False)
    senior, writer = _people_involved(session, conversation_id)
    about = f" ({sign})" if sign else ""
    late = f" [written {written_at:%H:%M:%S} UTC, recorded late]" if written_at is not None else ""
    late += f" [{note}]" if note else ""
    escalation = open_escalation(
        session, "emergency", senior or writer, f"Emergency{about}: {quote}{late}", now,
        conversation_id=conversation_id, source_message_id=message_id,
    )
    alerted: list[str] = []
    if senior is not None:
        name = senior.profile.full_name if senior.profile is not None else senior.display_name
        for relative in _relatives_to_alert(session, senior, writer):
            enqueue(
                session, relative.id, "emergency", ALERT_INTENT,
                {"senior_name": name, "text": quote, "reference": escalation.reference},
                text=f"Emergency: {name} wrote “{quote}”.", at=now,
            )
            alerted.append(_first_name(relative))
    audit.record(
        session, audit.ASSISTANT, "emergency.alerted", "escalation", escalation.reference,
        at=now, relatives=len(alerted), sign=sign or "", late=written_at is not None,
    )
    return EmergencyRecord(escalation.reference, tuple(alerted))


def _relatives_to_alert(session: Session, senior: Person, writer: Optional[Person]) -> list[Person]:
    """The senior's linked relatives, except the one who wrote (they know already)."""
    return [r for r in relatives_of(session, senior.id) if writer is None or r.id != writer.id]


def who_would_be_alerted(session: Session, conversation_id: str) -> tuple[str, ...]:
    """First names of the relatives an emergency in this conversation would alert (not the writer)."""
    senior, writer = _people_involved(session, conversation_id)
    if senior is None:
        return ()
    return tuple(_first_name(r) for r in _relatives_to_alert(session, senior, writer))

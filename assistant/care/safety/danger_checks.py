"""Messages that may be emergencies: asked about at once, alarmed on "yes" or on silence.

When a message only *may* describe an emergency (the classifier half-sure, or emergency words the
rules do not settle, such as a fall "last week"), the user is given the emergency number and asked
"Are you hurt or in danger right now?". The question is a row here with a deadline: "yes" raises the
full alarm at once; "no" closes it; no answer by the deadline and the care service raises the full
alarm (:meth:`DangerCheckService.raise_overdue`), because someone who cannot answer may be the one
who most needs help. Nothing lives only in memory: a restarted care service still finds the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.safety.emergencies import EmergencyRecord, record_emergency, who_would_be_alerted
from assistant.care.core.models import DangerCheck
from assistant.care.core.notifications import enqueue
from assistant.care.people.people import person_by_conversation

ANSWER_WITHIN: Final = timedelta(minutes=2)
"""How long the user has to answer before the full alarm is raised."""
TIMEOUT_INTENT: Final = "EXTERNAL_danger_timeout"
"""Sent to the user when the alarm was raised because nobody answered: entity ``reference``."""
NOTES: Final = {
    "yes": "answered yes to 'are you hurt or in danger right now?'",
    "timeout": "no answer within 2 minutes to 'are you hurt or in danger right now?'",
}
"""Said in the escalation's summary, so a coordinator knows why a possible emergency became one."""


@dataclass(frozen=True)
class CheckView:
    """An open or answered danger question."""

    id: int
    conversation_id: str
    text: str
    sign: Optional[str]
    deadline: datetime
    answer: Optional[str]
    escalation_reference: Optional[str]
    would_alert: tuple[str, ...] = ()
    """First names of the relatives the alarm would reach (a care coordinator always)."""
    new: bool = False
    """Whether :meth:`DangerCheckService.ask` recorded it just now (False: it was already asked)."""


def _view(check: DangerCheck, would_alert: tuple[str, ...] = (), new: bool = False) -> CheckView:
    return CheckView(check.id, check.conversation_id, check.text, check.sign, check.deadline, check.answer,
                     check.escalation_reference, would_alert, new)


def _open_check(session: Session, conversation_id: str) -> Optional[DangerCheck]:
    return session.scalar(
        select(DangerCheck)
        .where(DangerCheck.conversation_id == conversation_id, DangerCheck.answered_at.is_(None))
        .order_by(DangerCheck.asked_at.desc(), DangerCheck.id.desc())
        .limit(1)
    )


class DangerCheckService(CareService):
    """Asks, answers and times out the "are you hurt or in danger right now?" question."""

    def ask(
        self, conversation_id: str, text: str, sign: Optional[str] = None, *, message_id: Optional[str] = None,
    ) -> CheckView:
        """Record that the question was asked about ``text``; once per message (``message_id``): asked
        again about the same message, it returns the recorded question with ``new`` False."""
        now = self._clock()
        with self._db.session() as session:
            family = who_would_be_alerted(session, conversation_id)
            if message_id:
                known = session.scalar(select(DangerCheck).where(DangerCheck.message_id == message_id))
                if known is not None:
                    return _view(known, family)
            check = DangerCheck(
                conversation_id=conversation_id, text=" ".join((text or "").split())[:1000] or "?", sign=sign,
                message_id=message_id, asked_at=now, deadline=now + ANSWER_WITHIN,
            )
            session.add(check)
            session.flush()
            audit.record(session, audit.ASSISTANT, "danger_check.asked", "danger_check", str(check.id), at=now,
                         sign=sign or "")
            return _view(check, family, new=True)

    def open_for(self, conversation_id: str) -> Optional[CheckView]:
        """The question still waiting for an answer in this conversation, if any."""
        with self._db.session() as session:
            check = _open_check(session, conversation_id)
            return _view(check) if check is not None else None

    def answer(
        self, conversation_id: str, in_danger: bool, *, message_id: Optional[str] = None,
    ) -> tuple[Optional[CheckView], Optional[EmergencyRecord]]:
        """Close the open question; "yes" raises the full alarm about the message that was asked about.

        Args:
            conversation_id: Where the question was asked.
            in_danger: The answer.
            message_id: The answering message's id: the alarm is recorded once per answer.

        Returns the question (None when none was open) and the alarm (None on "no"). A "yes" with no
        open question raises nothing here: the caller raises the alarm about what was just written.
        """
        now = self._clock()
        with self._db.session() as session:
            check = _open_check(session, conversation_id)
            if check is None:
                return None, None
            record = self._close(session, check, "yes" if in_danger else "no", now, message_id)
            return _view(check), record

    def raise_overdue(self) -> int:
        """Raise the full alarm for every question unanswered past its deadline; returns how many."""
        now = self._clock()
        with self._db.session() as session:
            overdue = list(session.scalars(
                select(DangerCheck)
                .where(DangerCheck.answered_at.is_(None), DangerCheck.deadline <= now)
                .order_by(DangerCheck.deadline)
                .with_for_update(skip_locked=True)
            ))
            for check in overdue:
                record = self._close(session, check, "timeout", now, check.message_id)
                writer = person_by_conversation(session, check.conversation_id)
                enqueue(
                    session, writer.id if writer is not None else None, "emergency", TIMEOUT_INTENT,
                    {"reference": record.reference if record else ""},
                    text="No answer to the danger question: a care coordinator was alerted.", at=now,
                    conversation_id=check.conversation_id,
                )
            return len(overdue)

    @staticmethod
    def _close(
        session: Session, check: DangerCheck, answer: str, now: datetime, message_id: Optional[str],
    ) -> Optional[EmergencyRecord]:
        check.answer = answer
        check.answered_at = now
        record = None
        if answer != "no":
            note = NOTES[answer]
            record = record_emergency(session, now, check.conversation_id, check.text, check.sign,
                                      message_id=message_id, note=note)
            check.escalation_reference = record.reference
        audit.record(session, audit.ASSISTANT, f"danger_check.{answer}", "danger_check", str(check.id), at=now)
        return record


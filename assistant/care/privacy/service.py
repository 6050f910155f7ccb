"""What the chat calls: everything we hold about the person in a conversation, to see or to delete."""

from __future__ import annotations

from typing import Optional

from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.db import Database
from assistant.care.people.people import person_by_conversation
from assistant.care.privacy.forget import ForgetReport, forget_senior
from assistant.care.privacy.records import PersonRecords, records_about


class PrivacyService:
    """Show people what we hold about them, and delete it when they ask."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    def export(self, conversation_id: str) -> Optional[PersonRecords]:
        """Every row about the person of this conversation; None when we hold nothing about them."""
        with self._db.reading() as session:
            person = person_by_conversation(session, conversation_id)
            return None if person is None else records_about(session, person.id)

    def forget(self, conversation_id: str) -> Optional[ForgetReport]:
        """Delete everything about the senior of this conversation; None when we hold nothing.

        Raises:
            NotAllowed: If the conversation is not a senior's (see :func:`forget_senior`).
        """
        with self._db.session() as session:
            person = person_by_conversation(session, conversation_id)
            return None if person is None else forget_senior(session, person.id, self._clock())

"""What the chat calls: everything we hold about the person in a conversation, as one document."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from assistant.care.core.db import Database
from assistant.care.core.models import Person
from assistant.care.privacy.records import PersonRecords, records_about


class PrivacyService:
    """Show people what we hold about them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def export(self, conversation_id: str) -> Optional[PersonRecords]:
        """Every row about the person of this conversation; None when we hold nothing about them."""
        with self._db.reading() as session:
            person_id = session.scalar(select(Person.id).where(Person.conversation_id == conversation_id))
            if person_id is None:
                return None
            return records_about(session, person_id)

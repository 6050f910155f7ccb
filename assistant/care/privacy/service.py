"""What the chat calls: everything we hold about the person in a conversation, to see or to delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.db import Database
from assistant.care.core.errors import CareError
from assistant.care.people.family import Family, FamilyService, describe_shares
from assistant.care.privacy.forget import ForgetReport, forget_conversation
from assistant.care.privacy.records import NOBODY, PersonRecords, as_json, records_of_conversation
from assistant.care.privacy.summary import summarise

EXPORT_VERSION = 1
"""Bumped when the export document changes shape."""


@dataclass(frozen=True)
class DataExport:
    """What we hold about a person: in words for the chat, and whole as one JSON document."""

    summary: str
    document: str
    filename: str
    rows: int


class PrivacyService:
    """Show people what we hold about them, and delete it when they ask."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock
        self._family = FamilyService(db, clock=clock)

    def export(self, conversation_id: str) -> Optional[PersonRecords]:
        """Every row about whoever writes in this conversation; None when we hold nothing about them."""
        with self._db.reading() as session:
            records = records_of_conversation(session, conversation_id)
            return records if records.tables else None

    def data_export(self, conversation_id: str, history: Iterable[dict[str, Any]]) -> DataExport:
        """Everything about the person of this conversation, with its history (Rasa's events)."""
        records = self.export(conversation_id)
        now = self._clock()
        known = records is not None and records.person_id != NOBODY
        family = self._family_of(conversation_id) if known else None
        names = [f"{member.name} ({describe_shares(member.shares)})" if family.is_senior else member.name
                 for member in family.members] if family is not None else []
        if records is not None and known:
            summary = summarise(records, names, is_senior=family is None or family.is_senior)
        else:
            summary = "I keep no profile about you: only our conversation here" + (
                ", and this chat's own settings." if records is not None else ".")
        events = list(history)
        document = as_json({
            "export_version": EXPORT_VERSION,
            "exported_at": now,
            "conversation_id": conversation_id,
            "held_about_you": records.tables if records is not None else {},
            "conversation_history": events,
        })
        rows = (records.count() if records is not None else 0) + len(events)
        return DataExport(summary, document, f"my-data-{now:%Y-%m-%d}.json", rows)

    def _family_of(self, conversation_id: str) -> Optional[Family]:
        try:
            return self._family.family(conversation_id)
        except CareError:  # a coordinator, or a senior who withdrew consent: no family to name
            return None

    def forget(self, conversation_id: str) -> ForgetReport:
        """Delete everything about whoever writes in this conversation (a senior, or someone unknown).

        Raises:
            NotAllowed: If the conversation is a relative's or a coordinator's (see :func:`forget_senior`).
        """
        with self._db.session() as session:
            return forget_conversation(session, conversation_id, self._clock())

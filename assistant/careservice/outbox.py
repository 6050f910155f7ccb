"""Reading and marking the notification outbox (rows written by :mod:`assistant.care.core.notifications`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.clock import require_aware
from assistant.care.core.db import CareService
from assistant.care.core.errors import NotFound
from assistant.care.escalations.escalations import open_escalation
from assistant.care.core.models import Notification, Person
from assistant.care.core.notifications import MAX_ATTEMPTS, retry_delay

BATCH: Final = 100
"""Notifications handled per tick at most."""


@dataclass(frozen=True)
class OutboxItem:
    """A notification to send now."""

    notification_id: int
    person_id: Optional[int]
    conversation_id: Optional[str]
    kind: str
    intent: str
    entities: dict[str, Any]
    text: str
    attempts: int


class Outbox(CareService):
    """Pending notifications: which to send, and what became of them.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def due(self, now: datetime) -> list[OutboxItem]:
        """Return pending notifications whose ``deliver_after`` has come, oldest first."""
        now = require_aware(now, "now")
        query = (
            select(Notification, func.coalesce(Person.conversation_id, Notification.conversation_id))
            .outerjoin(Person, Person.id == Notification.person_id)
            .where(Notification.status == "pending", Notification.deliver_after <= now)
            .order_by(Notification.deliver_after, Notification.id)
            .limit(BATCH)
        )
        with self._db.session() as session:
            return [
                OutboxItem(n.id, n.person_id, conversation_id, n.kind, n.intent, n.entities, n.text, n.attempts)
                for n, conversation_id in session.execute(query)
            ]

    def record_sent(self, notification_id: int, at: datetime) -> None:
        """Mark a notification delivered."""
        at = require_aware(at, "at")
        with self._db.session() as session:
            notification = self._get(session, notification_id)
            notification.attempts += 1
            notification.status = "delivered"
            notification.delivered_at = at
            audit.record(session, audit.ASSISTANT, "notification.delivered", "notification",
                         notification.id, at=at, kind=notification.kind)

    def record_failed(self, notification_id: int, error: str, *, final: bool = False) -> str:
        """Record a failed attempt and return the new status.

        The next try waits :func:`~assistant.care.core.notifications.retry_delay`; after
        ``MAX_ATTEMPTS`` (or at once when ``final``) the notification fails and coordinators get
        a "failed_delivery" escalation.
        """
        now = self._clock()
        reason = str(error)[:300]
        with self._db.session() as session:
            notification = self._get(session, notification_id)
            notification.attempts += 1
            notification.last_error = reason
            if notification.attempts < MAX_ATTEMPTS and not final:
                notification.deliver_after = now + retry_delay(notification.attempts)
                audit.record(session, audit.ASSISTANT, "notification.attempt_failed", "notification",
                             notification.id, at=now, attempts=notification.attempts)
                return notification.status
            notification.status = "failed"
            person = session.get(Person, notification.person_id) if notification.person_id is not None else None
            who = (f"{person.display_name or 'person'} (person {person.id})" if person is not None
                   else f"conversation {notification.conversation_id}")
            escalation = open_escalation(
                session, "failed_delivery", person,
                f"Could not deliver a '{notification.kind}' message to {who} after {notification.attempts} "
                f"attempts: {reason}. Message: {notification.text[:500]}", now,
                conversation_id=None if person is not None else notification.conversation_id,
            )
            audit.record(session, audit.ASSISTANT, "notification.failed", "notification", notification.id,
                         at=now, attempts=notification.attempts, escalation=escalation.reference)
            return notification.status

    @staticmethod
    def _get(session: Session, notification_id: int) -> Notification:
        notification = session.get(Notification, notification_id)
        if notification is None:
            raise NotFound(f"There is no notification {notification_id}.")
        return notification

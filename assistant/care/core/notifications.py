"""The outbox: messages owed to people outside a conversation turn.

A service that changes something a person must hear about (a booking assigned, a reminder
missed, a review to give) adds a :class:`~assistant.care.core.models.Notification` in the same
transaction as the change. The care service later delivers pending rows through Rasa's
``trigger_intent`` and marks them; a crash between the two loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.care.core.clock import require_aware, utcnow
from assistant.care.core.models import Notification, Person, RelativeLink

MAX_ATTEMPTS: Final = 6
"""Deliveries tried before a notification is recorded as failed."""

RETRY_BASE: Final = timedelta(seconds=10)
"""First retry delay; doubled on each further attempt."""


def enqueue(
    session: Session,
    person_id: Optional[int],
    kind: str,
    intent: str,
    entities: Optional[dict[str, Any]] = None,
    *,
    text: str = "",
    at: Optional[datetime] = None,
    conversation_id: Optional[str] = None,
) -> Notification:
    """Add a notification for ``person_id`` to ``session`` (sent once the transaction commits).

    Args:
        session: The session holding the change the notification is about.
        person_id: Who is told; None for someone known only by ``conversation_id``.
        kind: What it is about, e.g. ``"booking_status"``.
        intent: The ``EXTERNAL_...`` intent the care service triggers in the person's conversation.
        entities: Entities sent with the intent (JSON-serialisable).
        text: A plain-text version, for logs and channels without Rasa.
        at: Deliver no earlier than this (default: now).
        conversation_id: The conversation to deliver to when there is no person row.
    """
    if person_id is None and not conversation_id:
        raise ValueError("a notification needs a person or a conversation")
    when = require_aware(at, "at") if at is not None else utcnow()
    notification = Notification(
        person_id=person_id, conversation_id=None if person_id is not None else conversation_id, kind=kind, intent=intent, text=text,
        status="pending", created_at=when, deliver_after=when, attempts=0,
    )
    notification.entities = dict(entities or {})
    session.add(notification)
    return notification


def relatives_of(session: Session, senior_id: int, share: Optional[str] = None) -> list[Person]:
    """Return the relatives linked to a senior, oldest link first; with ``share``, only those the
    senior shares it with (one of FAMILY_SHARES)."""
    query = (
        select(Person, RelativeLink)
        .join(RelativeLink, RelativeLink.relative_id == Person.id)
        .where(RelativeLink.senior_id == senior_id)
        .order_by(RelativeLink.id)
    )
    return [person for person, link in session.execute(query) if share is None or share in link.shares]


def enqueue_for_family(
    session: Session,
    senior_id: int,
    kind: str,
    intent: str,
    entities: Optional[dict[str, Any]] = None,
    *,
    text: str = "",
    at: Optional[datetime] = None,
    include_senior: bool = False,
    skip_person_id: Optional[int] = None,
    share: Optional[str] = None,
) -> list[Notification]:
    """Notify a senior's linked relatives (and the senior if asked), except ``skip_person_id``;
    with ``share``, only the relatives the senior shares it with (emergencies pass none)."""
    people: list[int] = [senior_id] if include_senior else []
    people += [relative.id for relative in relatives_of(session, senior_id, share)]
    return [
        enqueue(session, person_id, kind, intent, entities, text=text, at=at)
        for person_id in people
        if person_id != skip_person_id
    ]


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait before the next attempt after ``attempts`` failures."""
    return RETRY_BASE * (2 ** max(attempts - 1, 0))

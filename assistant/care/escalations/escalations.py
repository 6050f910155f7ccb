"""Escalations to human care coordinators: open, queue, claim, resolve.

Domain code that needs a coordinator opens an escalation with :func:`open_escalation`
inside its own transaction; the chat and the console use :class:`EscalationService`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from assistant.care.core import audit
from assistant.care.bookings.bookings import (
    add_with_unique_reference,
    new_reference,
    normalise_reference,
)
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotFound
from assistant.care.core.models import Escalation, Person
from assistant.care.core.notifications import enqueue
from assistant.care.core.validation import MAX_NAME, MAX_TEXT, clean_int, clean_text
from assistant.care.core.views import EscalationView
from assistant.care.core.vocabulary import DEFAULT_ESCALATION_PRIORITY, ESCALATION_KINDS

PREFIX: Final = "E"
ACTIVE_STATUSES: Final = ("open", "claimed")
MERGE_LIMIT: Final = 500
"""Up to this many rows, a queue page is read per status along the index and merged (fastest for
the first pages); beyond, the database skips to the page itself."""


def open_escalation(
    session: Session,
    kind: str,
    person: Optional[Person],
    summary: str,
    now: datetime,
    *,
    conversation_id: Optional[str] = None,
    priority: Optional[int] = None,
    actor: str = audit.ASSISTANT,
    source_message_id: Optional[str] = None,
) -> Escalation:
    """Add an escalation to ``session``, in the same transaction as what caused it.

    Args:
        session: The open session of the change that needs a coordinator.
        kind: One of the escalation kinds; it sets the default priority.
        person: Whom it is about (their conversation is handed over), or None.
        summary: What coordinators read; cut to ``MAX_TEXT`` characters.
        now: When it was opened.
        conversation_id: The conversation to hand over (default: the person's).
        priority: Overrides the kind's default priority.
        actor: Who opened it, for the audit trail (default: the assistant).
        source_message_id: The chat message that raised it (unique: one escalation per message).
    """
    level = DEFAULT_ESCALATION_PRIORITY[kind] if priority is None else priority
    text = summary.strip()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    if conversation_id is None and person is not None:
        conversation_id = person.conversation_id
    escalation = Escalation(
        kind=kind, priority=level, status="open", conversation_id=conversation_id,
        person_id=person.id if person is not None else None, summary=text, created_at=now,
        source_message_id=source_message_id,
    )
    add_with_unique_reference(session, escalation, Escalation, lambda: new_reference(PREFIX))
    audit.record(
        session, actor, "escalation.opened", "escalation", escalation.reference,
        at=now, kind=kind, priority=level,
    )
    return escalation


def escalation_view(escalation: Escalation) -> EscalationView:
    """Return the frozen view of an escalation (call inside the session)."""
    return EscalationView(
        reference=escalation.reference,
        kind=escalation.kind,
        priority=escalation.priority,
        status=escalation.status,
        summary=escalation.summary,
        created_at=escalation.created_at,
        conversation_id=escalation.conversation_id,
        claimed_by=escalation.claimed_by,
        resolved_at=escalation.resolved_at,
        outcome=escalation.outcome,
        handoff_by=escalation.handoff_by,
        handoff_at=escalation.handoff_at,
    )


# Told to the user's conversation during a handoff (assistant.care.coordinators.handoffs).
STARTED_INTENT: Final = "EXTERNAL_handoff_started"
MESSAGE_INTENT: Final = "EXTERNAL_coordinator_message"
ENDED_INTENT: Final = "EXTERNAL_handoff_ended"


def end_handoff(session: Session, escalation: Escalation, name: str, now: datetime) -> None:
    """Hand a held conversation back to the assistant (inside the caller's transaction); the user is told."""
    if escalation.handoff_by is None:
        return
    coordinator = escalation.handoff_by
    escalation.handoff_by = None
    escalation.handoff_at = None
    tell_conversation(session, escalation, "handoff_ended", ENDED_INTENT, {"coordinator": coordinator},
                      f"{coordinator} has left the chat.", now)
    audit.record(session, audit.coordinator_actor(name), "escalation.handoff_ended", "escalation",
                 escalation.reference, at=now)


def tell_conversation(
    session: Session, escalation: Escalation, kind: str, intent: str, entities: dict[str, str], text: str,
    now: datetime,
) -> None:
    """Queue a message for the escalation's conversation (its person, or the bare conversation)."""
    person_id = escalation.person_id or session.scalar(
        select(Person.id).where(Person.conversation_id == escalation.conversation_id)
    )
    enqueue(session, person_id, kind, intent, {**entities, "reference": escalation.reference}, text=text,
            at=now, conversation_id=escalation.conversation_id)


ANSWER_INTENT: Final = "EXTERNAL_consultation_answer"
"""Sent to the person who asked: entities text, consultant, reference."""


class EscalationService(CareService):
    """Hand conversations over to human coordinators.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def open(
        self,
        kind: str,
        conversation_id: Optional[str],
        summary: str,
        priority: Optional[int] = None,
        person_id: Optional[int] = None,
    ) -> EscalationView:
        """Open an escalation; the default priority depends on the kind.

        Priorities: 1 emergency; 2 missed medication, complaint; 3 talk to a
        human, consultation, unmatched booking; 4 service request.

        Raises:
            InvalidInput: On an unknown kind, a priority outside 1-4, or an empty
                or too long summary.
        """
        if kind not in ESCALATION_KINDS:
            raise InvalidInput(f"Unknown escalation kind {kind!r}.", field="kind")
        level = DEFAULT_ESCALATION_PRIORITY[kind] if priority is None else clean_int(
            priority, "priority", 1, 4, field="priority"
        )
        text = clean_text(summary, "message", MAX_TEXT, field="summary")
        now = self._clock()
        with self._db.session() as session:
            if person_id is None and conversation_id:
                person_id = session.scalar(
                    select(Person.id).where(Person.conversation_id == conversation_id)
                )
            escalation = Escalation(
                kind=kind, priority=level, status="open", conversation_id=conversation_id,
                person_id=person_id, summary=text, created_at=now,
            )
            add_with_unique_reference(session, escalation, Escalation, lambda: new_reference(PREFIX))
            actor = audit.person_actor(person_id) if person_id is not None else audit.ASSISTANT
            audit.record(
                session, actor, "escalation.opened", "escalation", escalation.reference,
                at=now, kind=kind, priority=level,
            )
            view = escalation_view(escalation)
        return view

    def list_open(self, include_claimed: bool = True) -> list[EscalationView]:
        """Return unresolved escalations, most urgent first, then oldest first.

        Args:
            include_claimed: Also list those a coordinator is already handling.
        """
        statuses = ACTIVE_STATUSES if include_claimed else ("open",)
        query = (
            select(Escalation)
            .where(Escalation.status.in_(statuses))
            .order_by(Escalation.priority, Escalation.created_at, Escalation.id)
        )
        with self._db.reading() as session:
            return [escalation_view(e) for e in session.scalars(query)]

    def list_page(self, offset: int = 0, limit: int = 50) -> tuple[list[EscalationView], int]:
        """Return one page of the unresolved queue (as :meth:`list_open`) and the total count.

        The order matches the index ``ix_escalations_queue`` (status, priority, created_at),
        queried once per active status and merged, so a page stays fast with many rows.

        Args:
            offset: How many escalations to skip (clamped to 0 and above).
            limit: Page size, 1 to 500.
        """
        start = max(0, int(offset))
        size = min(500, max(1, int(limit)))
        with self._db.reading() as session:
            total = session.scalar(
                select(func.count(Escalation.id)).where(Escalation.status.in_(ACTIVE_STATUSES))
            ) or 0
            order = (Escalation.priority, Escalation.created_at, Escalation.id)
            if start + size > MERGE_LIMIT:
                # Deep pages: one query that skips in the database, rather than loading every row before.
                deep = session.scalars(
                    select(Escalation).where(Escalation.status.in_(ACTIVE_STATUSES))
                    .order_by(*order).offset(start).limit(size)
                )
                return [escalation_view(e) for e in deep], int(total)
            rows: list[Escalation] = []
            for status in ACTIVE_STATUSES:
                rows.extend(session.scalars(
                    select(Escalation).where(Escalation.status == status).order_by(*order).limit(start + size)
                ))
            rows.sort(key=lambda e: (e.priority, e.created_at, e.id))
            return [escalation_view(e) for e in rows[start:start + size]], int(total)

    def opened_since(self, since: datetime, limit: int = 200) -> list[EscalationView]:
        """Unresolved escalations opened at or after ``since``, oldest first (for live updates)."""
        query = (
            select(Escalation)
            .where(Escalation.created_at >= since, Escalation.status.in_(ACTIVE_STATUSES))
            .order_by(Escalation.created_at, Escalation.id)
            .limit(max(1, min(int(limit), 1000)))
        )
        with self._db.reading() as session:
            return [escalation_view(e) for e in session.scalars(query)]

    def active_for_conversation(self, conversation_id: str) -> list[EscalationView]:
        """Return the unresolved escalations of one conversation, oldest first."""
        query = (
            select(Escalation)
            .where(
                Escalation.conversation_id == conversation_id,
                Escalation.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Escalation.created_at, Escalation.id)
        )
        with self._db.reading() as session:
            return [escalation_view(e) for e in session.scalars(query)]

    def get(self, reference: str) -> EscalationView:
        """Return one escalation.

        Raises:
            NotFound: If there is no such escalation.
        """
        with self._db.reading() as session:
            return escalation_view(find_escalation(session, reference))

    def claim(self, reference: str, coordinator: str) -> EscalationView:
        """Let a coordinator take an open escalation (claiming twice is harmless).

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If another coordinator has it or it is resolved.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            claim_in_session(escalation, name, now)
            view = escalation_view(escalation)
        return view

    def resolve(self, reference: str, coordinator: str, outcome: str) -> EscalationView:
        """Close an escalation with a short outcome.

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If it is resolved already or claimed by someone else.
            InvalidInput: If the outcome is empty or too long.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        text = clean_text(outcome, "outcome", MAX_TEXT, field="outcome")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            _resolve(escalation, name, text, now)
            view = escalation_view(escalation)
        return view

    def answer(self, reference: str, consultant: str, text: str) -> EscalationView:
        """Resolve a consultation with the consultant's written answer and send it into the user's chat.

        The answer is delivered by the care service (intent ``EXTERNAL_consultation_answer``) to the
        person who asked, on their channel; it is kept as the escalation's outcome either way.

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If it is resolved already or handled by someone else.
            InvalidInput: If the answer is empty or too long.
        """
        name = clean_text(consultant, "consultant name", MAX_NAME, field="consultant")
        body = clean_text(text, "answer", MAX_TEXT, field="answer")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            _resolve(escalation, name, body, now)
            person_id = escalation.person_id or session.scalar(
                select(Person.id).where(Person.conversation_id == escalation.conversation_id)
            )
            if person_id is not None or escalation.conversation_id:
                enqueue(
                    session, person_id, "consultation_answer", ANSWER_INTENT,
                    {"text": body, "consultant": name, "reference": escalation.reference},
                    text=body, at=now, conversation_id=escalation.conversation_id,
                )
            view = escalation_view(escalation)
        return view



def find_escalation(session: Session, reference: str) -> Escalation:
    """Return the escalation with this reference or raise NotFound."""
    ref = normalise_reference(reference)
    escalation = session.scalar(select(Escalation).where(Escalation.reference == ref))
    if escalation is None:
        raise NotFound(f"There is no escalation {ref or reference!r}.")
    return escalation


def claim_in_session(escalation: Escalation, name: str, now: datetime) -> None:
    """Give an escalation attached to a session to coordinator ``name`` (again is harmless), audited.

    Raises:
        InvalidTransition: If another coordinator has it or it is resolved.
    """
    if escalation.status == "claimed" and escalation.claimed_by == name:
        return
    if escalation.status == "claimed":
        raise InvalidTransition(f"{escalation.reference} is already handled by {escalation.claimed_by}.")
    if escalation.status == "resolved":
        raise InvalidTransition(f"{escalation.reference} is already resolved.")
    escalation.status = "claimed"
    escalation.claimed_by = name
    escalation.claimed_at = now
    session = object_session(escalation)
    assert session is not None
    audit.record(session, audit.coordinator_actor(name), "escalation.claimed", "escalation",
                 escalation.reference, at=now)


def _resolve(escalation: Escalation, name: str, outcome: str, now: datetime) -> None:
    """Close an escalation attached to a session, with the audit entry.

    Raises:
        InvalidTransition: If it is resolved already or handled by someone else.
    """
    if escalation.status == "resolved":
        raise InvalidTransition(f"{escalation.reference} is already resolved.")
    if escalation.status == "claimed" and escalation.claimed_by != name:
        raise InvalidTransition(f"{escalation.reference} is handled by {escalation.claimed_by}.")
    escalation.status = "resolved"
    escalation.claimed_by = escalation.claimed_by or name
    escalation.resolved_at = now
    escalation.outcome = outcome
    session = object_session(escalation)
    assert session is not None
    end_handoff(session, escalation, name, now)
    audit.record(
        session, audit.coordinator_actor(name), "escalation.resolved", "escalation",
        escalation.reference, at=now,
    )

"""Tests for assistant.care.escalations.escalations: priorities, queue, claim, resolve."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.bookings.bookings import REFERENCE_ALPHABET
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotFound
from assistant.care.core.models import AuditLog, Notification

from ..helpers import FakeClock, register


@pytest.mark.parametrize("kind, priority", [
    ("emergency", 1),
    ("missed_medication", 2),
    ("complaint", 2),
    ("talk_to_human", 3),
    ("consultation", 3),
    ("unmatched_booking", 3),
    ("service_request", 4),
])
def test_default_priority_by_kind(care: CareServices, kind: str, priority: int) -> None:
    escalation = care.escalations.open(kind, "conv-1", "help")
    assert escalation.priority == priority
    assert escalation.status == "open"
    assert re.fullmatch(rf"E-[{REFERENCE_ALPHABET}]{{5}}", escalation.reference)


def test_queue_is_most_urgent_first_then_oldest(care: CareServices, clock: FakeClock) -> None:
    old_request = care.escalations.open("service_request", "c1", "gutter")
    clock.advance(minutes=1)
    old_human = care.escalations.open("talk_to_human", "c2", "wants a person")
    clock.advance(minutes=1)
    new_human = care.escalations.open("talk_to_human", "c3", "also wants a person")
    clock.advance(minutes=1)
    emergency = care.escalations.open("emergency", "c4", "I fell")
    clock.advance(minutes=1)
    urgent_complaint = care.escalations.open("complaint", "c5", "no lunch", priority=1)

    queue = [e.reference for e in care.escalations.list_open()]

    assert queue == [
        emergency.reference, urgent_complaint.reference,
        old_human.reference, new_human.reference, old_request.reference,
    ]


def test_claim_and_resolve(care: CareServices, clock: FakeClock) -> None:
    opened = care.escalations.open("complaint", "conv-1", "Lunch was cold")

    claimed = care.escalations.claim(opened.reference.lower(), "alice")
    assert (claimed.status, claimed.claimed_by) == ("claimed", "alice")
    assert care.escalations.claim(opened.reference, "alice") == claimed
    with pytest.raises(InvalidTransition) as caught:
        care.escalations.claim(opened.reference, "bob")
    assert "alice" in caught.value.message
    with pytest.raises(InvalidTransition):
        care.escalations.resolve(opened.reference, "bob", "done")

    clock.advance(minutes=5)
    resolved = care.escalations.resolve(opened.reference, "alice", "Refunded and apologised")

    assert resolved.status == "resolved"
    assert resolved.outcome == "Refunded and apologised"
    assert resolved.resolved_at == clock.now
    assert care.escalations.list_open() == []
    with pytest.raises(InvalidTransition):
        care.escalations.resolve(opened.reference, "alice", "again")
    with care.db.reading() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity_id == opened.reference).order_by(AuditLog.id)
        ).all()
    assert actions == ["escalation.opened", "escalation.claimed", "escalation.resolved"]


def test_unclaimed_queue_and_conversation_view(care: CareServices) -> None:
    a = care.escalations.open("talk_to_human", "conv-1", "a")
    b = care.escalations.open("consultation", "conv-2", "b")
    care.escalations.claim(a.reference, "alice")

    assert [e.reference for e in care.escalations.list_open(include_claimed=False)] == [b.reference]
    assert [e.reference for e in care.escalations.active_for_conversation("conv-1")] == [a.reference]


def test_escalation_is_linked_to_the_known_person(care: CareServices) -> None:
    profile = register(care, "conv-edith")
    opened = care.escalations.open("talk_to_human", "conv-edith", "help")
    with care.db.reading() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.entity_id == opened.reference)).one()
    assert entry.actor == f"person:{profile.person_id}"


def test_bad_escalations_are_refused(care: CareServices) -> None:
    with pytest.raises(InvalidInput):
        care.escalations.open("gossip", "c", "x")
    with pytest.raises(InvalidInput):
        care.escalations.open("complaint", "c", "x", priority=5)
    with pytest.raises(InvalidInput):
        care.escalations.open("complaint", "c", "x" * 2001)
    with pytest.raises(NotFound):
        care.escalations.claim("E-ZZZZZ", "alice")


def test_a_consultants_answer_resolves_the_ticket_and_is_sent_to_the_person(care: CareServices) -> None:
    register(care, "mary-1")
    ticket = care.escalations.open("consultation", "mary-1", "health question: can I fly after a hip operation?")
    care.escalations.claim(ticket.reference, "Dr Patel")
    resolved = care.escalations.answer(ticket.reference, "Dr Patel", "Usually after six weeks; ask your surgeon first.")
    assert resolved.status == "resolved" and resolved.outcome.startswith("Usually after six weeks")
    with care.db.reading() as session:
        [note] = session.scalars(select(Notification)).all()
        assert note.intent == "EXTERNAL_consultation_answer" and note.status == "pending"
        assert note.entities == {
            "consultant": "Dr Patel", "reference": ticket.reference,
            "text": "Usually after six weeks; ask your surgeon first.",
        }


def test_an_answer_is_not_sent_twice_or_by_someone_else(care: CareServices) -> None:
    register(care, "mary-1")
    ticket = care.escalations.open("consultation", "mary-1", "legal question: my landlord")
    care.escalations.claim(ticket.reference, "Sam")
    with pytest.raises(InvalidTransition):
        care.escalations.answer(ticket.reference, "Alex", "Someone else's answer")
    care.escalations.answer(ticket.reference, "Sam", "Your landlord must give notice.")
    with pytest.raises(InvalidTransition):
        care.escalations.answer(ticket.reference, "Sam", "Again")
    with pytest.raises(InvalidInput):
        care.escalations.answer(ticket.reference, "Sam", "   ")
    with care.db.reading() as session:
        assert len(session.scalars(select(Notification)).all()) == 1


def test_an_answer_reaches_someone_who_never_registered_by_their_conversation(care: CareServices) -> None:
    ticket = care.escalations.open("consultation", "guest-7", "legal question: my pension")
    care.escalations.answer(ticket.reference, "Sam", "You can ask the pension service for a forecast.")
    with care.db.reading() as session:
        [note] = session.scalars(select(Notification)).all()
        assert (note.person_id, note.conversation_id, note.intent) == (None, "guest-7", "EXTERNAL_consultation_answer")

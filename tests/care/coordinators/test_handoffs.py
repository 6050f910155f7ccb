"""Tests for the human handoff (assistant.care.coordinators.handoffs): join, reply, hand back, guests, resolve."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotFound
from assistant.care.core.models import AuditLog, EscalationNote, Notification

from ..helpers import register


def _told(care: CareServices) -> list[tuple[str, dict, str | None]]:
    with care.db.reading() as session:
        return [(n.intent, n.entities, n.conversation_id)
                for n in session.scalars(select(Notification).order_by(Notification.id))]


def test_a_coordinator_joins_talks_and_hands_back_and_the_user_hears_each_step(care: CareServices) -> None:
    register(care, "mary-1")
    ticket = care.escalations.open("talk_to_human", "mary-1", "wants a person")

    joined = care.handoffs.join(ticket.reference, "Sam Taylor")
    assert (joined.status, joined.claimed_by, joined.handoff_by) == ("claimed", "Sam Taylor", "Sam Taylor")
    assert care.handoffs.holder("mary-1").reference == ticket.reference
    care.handoffs.reply(ticket.reference, "Sam Taylor", "Hello Mary, I'm here. How can I help?")
    back = care.handoffs.hand_back(ticket.reference, "Sam Taylor")

    assert back.handoff_by is None and back.status == "claimed"
    assert care.handoffs.holder("mary-1") is None
    ref = ticket.reference
    assert _told(care) == [
        ("EXTERNAL_handoff_started", {"coordinator": "Sam Taylor", "reference": ref}, None),
        ("EXTERNAL_coordinator_message",
         {"coordinator": "Sam Taylor", "message": "Hello Mary, I'm here. How can I help?", "reference": ref}, None),
        ("EXTERNAL_handoff_ended", {"coordinator": "Sam Taylor", "reference": ref}, None),
    ]
    with care.db.reading() as session:
        notes = list(session.scalars(select(EscalationNote.text)))
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == ref).order_by(AuditLog.id)))
    assert notes == ["Said in the chat: Hello Mary, I'm here. How can I help?"]
    assert actions == ["escalation.opened", "escalation.claimed", "escalation.handoff_started",
                       "escalation.handoff_message", "escalation.handoff_ended"]


def test_a_guest_who_never_registered_is_reached_by_their_conversation(care: CareServices) -> None:
    ticket = care.escalations.open("talk_to_human", "guest-42", "someone without an account")
    care.handoffs.join(ticket.reference, "Sam")
    assert _told(care)[0][0] == "EXTERNAL_handoff_started" and _told(care)[0][2] == "guest-42"


def test_only_the_coordinator_in_the_chat_may_speak_or_hand_back(care: CareServices) -> None:
    register(care, "mary-1")
    ticket = care.escalations.open("talk_to_human", "mary-1", "wants a person")
    with pytest.raises(InvalidTransition):
        care.handoffs.reply(ticket.reference, "Sam", "not joined yet")
    care.handoffs.join(ticket.reference, "Sam")
    with pytest.raises(InvalidTransition):
        care.handoffs.join(ticket.reference, "Alex")
    with pytest.raises(InvalidTransition):
        care.handoffs.reply(ticket.reference, "Alex", "I'm not in this chat")
    with pytest.raises(InvalidTransition):
        care.handoffs.hand_back(ticket.reference, "Alex")
    with pytest.raises(InvalidInput):
        care.handoffs.reply(ticket.reference, "Sam", "   ")
    with pytest.raises(InvalidInput):
        care.handoffs.reply(ticket.reference, "Sam", "x" * 2001)
    with pytest.raises(NotFound):
        care.handoffs.join("E-NOPE1", "Sam")
    assert len(_told(care)) == 1, "refused steps tell the user nothing"


def test_one_coordinator_per_conversation_even_across_escalations(care: CareServices) -> None:
    register(care, "mary-1")
    first = care.escalations.open("talk_to_human", "mary-1", "wants a person")
    second = care.escalations.open("complaint", "mary-1", "late lunch")
    care.handoffs.join(first.reference, "Sam")
    with pytest.raises(InvalidTransition) as caught:
        care.handoffs.join(second.reference, "Alex")
    assert "Sam is already talking" in caught.value.message


def test_resolving_a_held_escalation_hands_the_chat_back(care: CareServices) -> None:
    register(care, "mary-1")
    ticket = care.escalations.open("talk_to_human", "mary-1", "wants a person")
    care.handoffs.join(ticket.reference, "Sam")
    care.escalations.resolve(ticket.reference, "Sam", "Helped her reorder lunch")
    assert care.handoffs.holder("mary-1") is None
    assert _told(care)[-1][0] == "EXTERNAL_handoff_ended"
    with pytest.raises(InvalidTransition):
        care.handoffs.join(ticket.reference, "Sam")


def test_an_escalation_without_a_conversation_cannot_be_joined(care: CareServices) -> None:
    ticket = care.escalations.open("unmatched_booking", None, "no provider for Sunday")
    with pytest.raises(InvalidInput):
        care.handoffs.join(ticket.reference, "Sam")

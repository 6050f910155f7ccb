"""Human handoff: a coordinator joins the user's own chat, talks, and hands it back.

While a coordinator holds a conversation the assistant stays silent there (the dialogue's
:class:`~assistant.dialogue.handoff_policy.HandoffPolicy` reads the ``handoff_by`` slot set
when the user is told a person has joined); emergencies are still answered at once.

Everything said to the user goes through the outbox, in the same transaction as the change:
``EXTERNAL_handoff_started``, ``EXTERNAL_coordinator_message`` and ``EXTERNAL_handoff_ended``.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, InvalidTransition
from assistant.care.escalations.escalations import (
    MESSAGE_INTENT,
    STARTED_INTENT,
    claim_in_session,
    end_handoff,
    escalation_view,
    find_escalation,
    tell_conversation,
)
from assistant.care.core.models import Escalation, EscalationNote
from assistant.care.core.validation import MAX_NAME, MAX_TEXT, clean_text
from assistant.care.core.views import EscalationView


class HandoffService(CareService):
    """Lets a coordinator talk in a user's chat in place of the assistant.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def join(self, reference: str, coordinator: str) -> EscalationView:
        """The coordinator joins the escalation's conversation (claiming it); the user is told who joined.

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If it is resolved, handled by someone else, or another coordinator
                is already talking in that conversation.
            InvalidInput: If the escalation has no conversation to join.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            claim_in_session(escalation, name, now)  # refuses a resolved one or someone else's
            if not escalation.conversation_id:
                raise InvalidInput("This escalation has no conversation to join.", field="reference")
            if escalation.handoff_by == name:
                return escalation_view(escalation)
            holder = self._holder(session, escalation.conversation_id)
            if holder is not None and holder.id != escalation.id:
                raise InvalidTransition(
                    f"{holder.handoff_by} is already talking in this conversation ({holder.reference})."
                )
            escalation.handoff_by = name
            escalation.handoff_at = now
            tell_conversation(session, escalation, "handoff_started", STARTED_INTENT, {"coordinator": name},
                              f"{name} has joined the chat.", now)
            audit.record(session, audit.coordinator_actor(name), "escalation.handoff_started", "escalation",
                         escalation.reference, at=now)
            return escalation_view(escalation)

    def reply(self, reference: str, coordinator: str, text: str) -> EscalationView:
        """Send the coordinator's message into the user's chat; it is also kept as a note.

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If this coordinator has not joined the conversation.
            InvalidInput: If the message is empty or too long.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        body = clean_text(text, "message", MAX_TEXT, field="message")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            if escalation.handoff_by != name:
                raise InvalidTransition("Please join the conversation before you reply in it.")
            tell_conversation(session, escalation, "coordinator_message", MESSAGE_INTENT,
                              {"coordinator": name, "message": body}, body, now)
            session.add(EscalationNote(escalation_id=escalation.id, coordinator=name,
                                       text=f"Said in the chat: {body}", created_at=now))
            audit.record(session, audit.coordinator_actor(name), "escalation.handoff_message", "escalation",
                         escalation.reference, at=now)
            return escalation_view(escalation)

    def hand_back(self, reference: str, coordinator: str) -> EscalationView:
        """Give the conversation back to the assistant; the user is told the person has left.

        Raises:
            NotFound: If there is no such escalation.
            InvalidTransition: If nobody, or someone else, holds the conversation.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            if escalation.handoff_by is None:
                raise InvalidTransition("The assistant already has this conversation.")
            if escalation.handoff_by != name:
                raise InvalidTransition(f"{escalation.handoff_by} is talking in this conversation.")
            end_handoff(session, escalation, name, now)
            return escalation_view(escalation)

    def holder(self, conversation_id: str) -> Optional[EscalationView]:
        """The escalation whose coordinator holds this conversation, or None."""
        with self._db.reading() as session:
            escalation = self._holder(session, conversation_id)
            return escalation_view(escalation) if escalation is not None else None

    @staticmethod
    def _holder(session: Session, conversation_id: str) -> Optional[Escalation]:
        return session.scalar(
            select(Escalation).where(
                Escalation.conversation_id == conversation_id, Escalation.handoff_by.is_not(None)
            ).limit(1)
        )

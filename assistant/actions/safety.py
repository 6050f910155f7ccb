"""Emergencies: answered at once with the emergency number, and recorded at top priority."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, latest_text
from assistant.settings import load_settings

logger = logging.getLogger(__name__)


class ActionEmergency(Action):
    """Gives the emergency number first; a database fault never holds it back."""

    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = load_settings().emergency_number
        try:
            escalation = care().escalations.open(
                "emergency", tracker.sender_id, summary=latest_text(tracker)[:1000] or "emergency"
            )
        except Exception:
            logger.exception("could not record an emergency for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_emergency_unsaved", number=number)
            return []
        dispatcher.utter_message(response="utter_emergency", number=number, reference=escalation.reference)
        return []

"""Emergencies: answered at once with the emergency number, and recorded at top priority."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, entity_values, latest_text
from assistant.care.safety import emergency_sign
from assistant.settings import load_settings

logger = logging.getLogger(__name__)


class ActionEmergency(Action):
    """Records the emergency and says who was alerted.

    ``utter_emergency_call`` has already given the number (Rasa says it without the action server);
    a database fault here never takes it back. If this action cannot run at all, the care service
    finds the message in the tracker and records it (:mod:`assistant.careservice.emergency_sweep`).
    """

    def name(self) -> str:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = load_settings().emergency_number
        text = latest_text(tracker)
        sign = tracker.latest_message.get("emergency_sign") or emergency_sign(text)
        try:
            record = care().emergencies.raise_alert(
                tracker.sender_id, text, sign, message_id=tracker.latest_message.get("message_id")
            )
        except Exception:
            logger.exception("could not record an emergency for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_emergency_unsaved", number=number)
            return []
        alerted = [*record.alerted, "a care coordinator"]
        who = ", ".join(alerted[:-1]) + " and " + alerted[-1] if len(alerted) > 1 else alerted[0]
        dispatcher.utter_message(response="utter_emergency", number=number, who=who, reference=record.reference)
        return []


class ActionEmergencyAlert(Action):
    """Tells a relative at once that their senior wrote an emergency message."""

    def name(self) -> str:
        return "action_emergency_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        def said(name: str, default: str = "") -> str:
            return next(iter(entity_values(tracker, name)), default)

        dispatcher.utter_message(
            response="utter_emergency_alert",
            senior_name=said("senior_name", "Your relative"),
            quote=said("text", "they need help"),
            reference=said("reference"),
            number=load_settings().emergency_number,
        )
        return []

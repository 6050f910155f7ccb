"""Emergencies: answered at once with the emergency number, and recorded at top priority.

A *possible* emergency (:mod:`assistant.care.safety.alarm_tiers`) is asked about first: Rasa itself gives
the number and asks "are you hurt or in danger right now?" (``utter_danger_check``);
``action_danger_check`` records the question, so that silence raises the alarm after two minutes.
"Yes" is the ``emergency`` intent (the full alarm, about the message that was asked about); "no"
(``not_in_danger``) closes the question and offers to carry on with what was asked.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, first_entity, latest_text
from assistant.actions.clarify import PERSON, did_you_mean_buttons
from assistant.care.safety.safety import emergency_sign
from assistant.settings import load_settings

logger = logging.getLogger(__name__)


def who_is_told(relatives: tuple[str, ...]) -> str:
    """"Anne, Tom and a care coordinator": the relatives named, a coordinator always."""
    told = [*relatives, "a care coordinator"]
    return ", ".join(told[:-1]) + " and " + told[-1] if len(told) > 1 else told[0]


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
        message_id = tracker.latest_message.get("message_id")
        try:
            _, record = care().danger_checks.answer(tracker.sender_id, True, message_id=message_id)
            if record is None:
                if text.startswith("/"):
                    text = "(pressed the button for help)"
                record = care().emergencies.raise_alert(tracker.sender_id, text, sign, message_id=message_id)
        except Exception:
            logger.exception("could not record an emergency for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_emergency_unsaved", number=number)
            return []
        dispatcher.utter_message(response="utter_emergency", number=number, who=who_is_told(record.alerted),
                                 reference=record.reference)
        return []


class ActionEmergencyAlert(Action):
    """Tells a relative at once that their senior wrote an emergency message."""

    def name(self) -> str:
        return "action_emergency_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_emergency_alert",
            senior_name=first_entity(tracker, "senior_name", "Your relative"),
            quote=first_entity(tracker, "text", "they need help"),
            reference=first_entity(tracker, "reference"),
            number=load_settings().emergency_number,
        )
        return []


def _asked_message(tracker: Tracker) -> dict:
    """The parse data of the latest user message that was a possible emergency."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") == \
                "possible_emergency":
            return dict(event.get("parse_data") or {})
    return {}


class ActionDangerCheck(Action):
    """Records the "are you hurt or in danger right now?" question, so silence raises the alarm.

    ``utter_danger_check`` has already given the number and asked (Rasa says it without the action
    server); if the question cannot be recorded, the user is told to call, and nothing is promised.
    """

    def name(self) -> str:
        return "action_danger_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = latest_text(tracker)
        try:
            check = care().danger_checks.ask(tracker.sender_id, text, tracker.latest_message.get("emergency_sign"),
                                             message_id=tracker.latest_message.get("message_id"))
        except Exception:
            logger.exception("could not record a danger check for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_emergency_unsaved", number=load_settings().emergency_number)
            return []
        dispatcher.utter_message(response="utter_danger_check_wait", who=who_is_told(check.would_alert))
        return []


class ActionDangerCleared(Action):
    """"No, I'm safe": closes the question and offers to carry on with what the user asked."""

    def name(self) -> str:
        return "action_danger_cleared"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            check, _ = care().danger_checks.answer(tracker.sender_id, False)
        except Exception:
            logger.exception("could not close a danger check for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_danger_not_closed", number=load_settings().emergency_number)
            return []
        asked = _asked_message(tracker)
        # what was asked besides the emergency (did_you_mean_buttons offers only real intents)
        ranking = [r for r in asked.get("intent_ranking") or [] if r.get("name") != "emergency"]
        buttons = did_you_mean_buttons({**asked, "intent_ranking": ranking})
        if check is None:
            dispatcher.utter_message(response="utter_danger_no_question")
        elif buttons:
            dispatcher.utter_message(response="utter_danger_cleared_carry_on", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_danger_cleared",
                                     buttons=[{"title": PERSON[0], "payload": PERSON[1]}])
        return []


class ActionDangerTimeout(Action):
    """Tells the user the alarm was raised because the danger question went unanswered."""

    def name(self) -> str:
        return "action_danger_timeout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reference = first_entity(tracker, "reference")
        dispatcher.utter_message(response="utter_danger_timeout", reference=reference or "on record",
                                 number=load_settings().emergency_number)
        return []

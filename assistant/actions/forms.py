"""A form validator base that is patient: after repeated failed answers it explains and offers a person."""

from __future__ import annotations

import re

from abc import ABC, abstractmethod
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    INTERRUPTING_INTENTS,
    latest_intent,
    latest_text,
    now_utc,
    user_timezone,
)
from assistant.care.core.timeparse import TimeParseError, parse_when

MAX_FAILED_ANSWERS = 2
"""After this many failed answers in a row the assistant explains and offers a person."""

TALK_TO_PERSON_BUTTON = {"title": "Talk to a person", "payload": "/talk_to_human"}

NEW_TASK_INTENTS = frozenset({
    "order_meal", "book_home_service", "check_bookings", "cancel_booking", "change_booking",
    "consult_legal", "consult_health", "set_reminder", "list_reminders", "cancel_reminder",
    "set_checkin", "stop_checkin", "complain",
})
"""Intents that, said with confidence in the middle of a form, start something else instead of answering."""
NEW_TASK_CONFIDENCE = 0.8
OWN_INTENTS = {
    "meal_order_form": "order_meal",
    "home_service_form": "book_home_service",
    "reminder_form": "set_reminder",
    "cancel_booking_form": "cancel_booking",
    "change_booking_form": "change_booking",
    "complaint_form": "complain",
}
"""A form's own intent: saying it again ("the chicken casserole please" in a meal order) is an answer."""


YES_START = re.compile(r"^(?:yes|yeah|yep|yup|aye|ok|okay|sure|please do|go ahead|that's right|thats right|correct)\b")
NO_START = re.compile(r"^(?:no|nope|nah|don'?t|do not|not now|keep it|leave it)\b")


def plain_yes_no(text: str) -> Optional[bool]:
    """True or False when a message to a yes/no question starts with a plain yes or no ("yes cancel it")."""
    words = " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())
    if YES_START.match(words):
        return True
    if NO_START.match(words):
        return False
    return None


DESCRIPTION_SLOTS = frozenset({"service_details", "complaint_text", "review_comment"})
"""Questions asking the user to describe something: whatever the words sound like ("the tap drips all the
time" sounds like a complaint), the answer is the description; only an emergency, "stop" or asking for a
person interrupts them."""


def starts_new_task(tracker: Tracker) -> bool:
    """Whether the latest message clearly asks for something else (the form then steps aside)."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    if name == OWN_INTENTS.get((tracker.active_loop or {}).get("name") or ""):
        return False
    return name in NEW_TASK_INTENTS and float(intent.get("confidence") or 0) >= NEW_TASK_CONFIDENCE


class PatientFormValidation(FormValidationAction, ABC):
    """Shared validation helpers; subclasses implement ``name()`` (so this is never registered)."""

    @abstractmethod
    def name(self) -> str:
        """The validation action's name, ``validate_<form>``."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Validate as usual; a form that is just starting begins with no failed answers counted."""
        events = await super().run(dispatcher, tracker, domain)
        starting = tracker.get_slot("requested_slot") is None and tracker.get_slot("failed_attempts")
        if starting and not any(e.get("name") == "failed_attempts" for e in events):
            events.insert(0, SlotSet("failed_attempts", 0.0))
        return events

    def requested_answer(self, tracker: Tracker, slot: str) -> Optional[str]:
        """The raw text answering ``slot`` when it is the question being asked, else None."""
        if tracker.get_slot("requested_slot") != slot:
            return None
        if latest_intent(tracker) in INTERRUPTING_INTENTS:
            return None
        if slot not in DESCRIPTION_SLOTS and starts_new_task(tracker):
            return None
        text = latest_text(tracker)
        return text or None

    def time_answer(self, tracker: Tracker, slot: str, need_time: bool = False) -> dict[str, Any]:
        """The text answering a time question, or a time said in the message that opened the form.

        The text is validated (and, if wrong, explained) by the slot's validate method.
        """
        answer = self.requested_answer(tracker, slot)
        if answer:
            return {slot: answer}
        if tracker.get_slot("requested_slot") is None and tracker.get_slot(slot) is None:
            text = latest_text(tracker)
            try:
                found = parse_when(text, now_utc().astimezone(user_timezone(None)))
            except TimeParseError:
                return {slot: text}
            if found is not None and (found.has_time or not need_time):
                return {slot: text}
        return {}

    def reject(
        self,
        slot: str,
        reason: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        **extra: Any,
    ) -> dict[str, Any]:
        """Tell the user why an answer was not accepted; after repeated failures, offer a person."""
        counted = 0 if tracker.get_slot("requested_slot") is None else int(tracker.get_slot("failed_attempts") or 0)
        failures = counted + 1
        dispatcher.utter_message(response="utter_invalid_answer", reason=reason)
        if failures >= MAX_FAILED_ANSWERS:
            dispatcher.utter_message(
                response="utter_explain_and_offer_person", buttons=[TALK_TO_PERSON_BUTTON]
            )
        return {slot: None, "failed_attempts": float(failures), **extra}

    @staticmethod
    def accept(**values: Any) -> dict[str, Any]:
        """Accepted values, with the failure count reset."""
        return {**values, "failed_attempts": 0.0}

"""When the assistant is unsure what a message means: "did you mean …?" with the likeliest meanings.

Instead of "I didn't understand", the user gets the two or three intents the classifier ranked
highest (those a person could mean and we can act on) as buttons, each carrying the entities already
understood (a "cleaner" stays a cleaner), and always a button for a person. Each such message is
kept for coordinators to review (:mod:`assistant.care.coordinators.review_list`).
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, intent_payload, latest_text

logger = logging.getLogger(__name__)

CHOICES: dict[str, str] = {
    "emergency": "I need help now",
    "order_meal": "Order a meal",
    "book_home_service": "Book help at home",
    "check_bookings": "See my bookings",
    "change_booking": "Change a booking",
    "cancel_booking": "Cancel a booking",
    "set_reminder": "Set a reminder",
    "list_reminders": "See my reminders",
    "cancel_reminder": "Stop a reminder",
    "snooze_reminder": "Remind me later",
    "reminder_done": "I've done it",
    "set_checkin": "A daily check-in",
    "stop_checkin": "Stop the daily check-in",
    "consult_health": "A health question",
    "consult_legal": "A legal or money question",
    "complain": "Make a complaint",
    "rate_service": "Rate a visit",
    "update_profile": "Change my details",
    "register": "Register",
    "invite_relative": "Invite a relative",
    "list_family": "My family",
    "remove_relative": "Remove a relative",
    "ask_capabilities": "What can you do?",
}
"""Intents worth offering, with the words on their button. Small talk (greet, thank, yes/no) is left
out: offering "Did you mean: yes?" helps nobody."""

PERSON = ("Talk to a person", "/talk_to_human")
KEPT_ENTITIES = frozenset({"service", "meal_type", "diet", "catering_mode", "district", "relation", "number",
                           "minutes", "rating", "reference"})
"""Entities carried into a chosen button, so the choice continues from what was already said."""
MAX_CHOICES = 3
MIN_CONFIDENCE = 0.03
"""Guesses below this are noise, not a meaning worth a button."""


def likely_meanings(ranking: list[dict[str, Any]], limit: int = MAX_CHOICES) -> list[str]:
    """The offerable intents of a ranking, likeliest first (emergency first whenever it is there)."""
    names = [str(r.get("name")) for r in ranking
             if r.get("name") in CHOICES and float(r.get("confidence") or 0.0) >= MIN_CONFIDENCE]
    if "emergency" in names:
        names.remove("emergency")
        names.insert(0, "emergency")
    return names[:limit]


def payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """``/intent{"entity": "value"}`` with the understood entities worth keeping (first value of each)."""
    kept: dict[str, Any] = {}
    for entity in entities:
        name = entity.get("entity")
        if name in KEPT_ENTITIES and name not in kept and entity.get("value") not in (None, ""):
            kept[str(name)] = entity["value"]
    return intent_payload(intent, kept)


def did_you_mean_buttons(message: dict[str, Any]) -> Optional[list[dict[str, str]]]:
    """Buttons for the likeliest meanings of ``message`` and a person; None when nothing is likely."""
    meanings = likely_meanings(list(message.get("intent_ranking") or []))
    if not meanings:
        return None
    entities = list(message.get("entities") or [])
    buttons = [{"title": CHOICES[m], "payload": payload(m, entities)} for m in meanings]
    buttons.append({"title": PERSON[0], "payload": PERSON[1]})
    return buttons


class ActionDidYouMean(Action):
    """Offers the likeliest meanings of an unclear message as buttons (the general menu if none)."""

    def name(self) -> str:
        return "action_did_you_mean"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        buttons = did_you_mean_buttons(message)
        try:
            guesses = [(str(r.get("name")), float(r.get("confidence") or 0.0))
                       for r in message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"][:5]
            care().review_list.record(tracker.sender_id, latest_text(tracker), guesses,
                                      message_id=message.get("message_id"))
        except Exception:  # the review list must never hold up the answer
            logger.exception("could not keep an unclear message for review")
        if buttons is None:
            dispatcher.utter_message(response="utter_default")
        else:
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []

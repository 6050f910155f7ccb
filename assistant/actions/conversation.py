"""Conversation helpers: say that again, and stop what we were doing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.feedback import REVIEW_FORM_SLOTS
from assistant.actions.home_services import SERVICE_FORM_SLOTS
from assistant.actions.meals import MEAL_FORM_SLOTS
from assistant.actions.onboarding import ONBOARDING_SLOTS
from assistant.actions.orders import CANCEL_FORM_SLOTS, CHANGE_FORM_SLOTS
from assistant.actions.reminders import REMINDER_FORM_SLOTS


def previous_bot_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot messages sent in reply to the user message before the latest one."""
    turn: list[dict[str, Any]] = []
    users_seen = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif kind == "bot" and users_seen == 1:
            turn.append(event)
    return list(reversed(turn))


class ActionRepeatLast(Action):
    """Sends the previous reply again, buttons included."""

    def name(self) -> str:
        return "action_repeat_last"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = previous_bot_turn(tracker.events)
        if not turn:
            dispatcher.utter_message(response="utter_nothing_to_repeat")
            return []
        for event in turn:
            data = event.get("data") or {}
            dispatcher.utter_message(
                text=event.get("text"),
                buttons=data.get("buttons") or [],
                image=data.get("image"),
                json_message=data.get("custom"),
            )
        return []


class ActionStop(Action):
    """Stops the current task and forgets its unsaved answers."""

    def name(self) -> str:
        return "action_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_stopped")
        slots = {
            *ONBOARDING_SLOTS, *MEAL_FORM_SLOTS, *CANCEL_FORM_SLOTS, *CHANGE_FORM_SLOTS,
            *SERVICE_FORM_SLOTS, *REVIEW_FORM_SLOTS, *REMINDER_FORM_SLOTS, "complaint_text", "pending_request",
        }
        return [SlotSet(slot, None) for slot in sorted(slots)]

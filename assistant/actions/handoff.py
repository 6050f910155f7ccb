"""The human handoff as the user sees it: a coordinator joins, speaks, and hands back."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import first_entity
from assistant.settings import load_settings

DEFAULT_NAME = "A care coordinator"


class ActionHandoffStarted(Action):
    """Tells the user who joined; from now on the assistant stays silent (``handoff_by`` is set)."""

    def name(self) -> str:
        return "action_handoff_started"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        coordinator = first_entity(tracker, "coordinator", DEFAULT_NAME)
        dispatcher.utter_message(
            response="utter_handoff_started", coordinator=coordinator, number=load_settings().emergency_number
        )
        # Whatever the assistant was asking is dropped: the person takes it from here.
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("handoff_by", coordinator)]


class ActionCoordinatorMessage(Action):
    """Says the coordinator's message, under their name."""

    def name(self) -> str:
        return "action_coordinator_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = first_entity(tracker, "message")
        if message:
            coordinator = first_entity(tracker, "coordinator", DEFAULT_NAME)
            dispatcher.utter_message(response="utter_coordinator_message", coordinator=coordinator, message=message)
        return []


class ActionHandoffEnded(Action):
    """Tells the user the person has left and the assistant answers again."""

    def name(self) -> str:
        return "action_handoff_ended"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        coordinator = first_entity(tracker, "coordinator") or tracker.get_slot("handoff_by") or DEFAULT_NAME
        dispatcher.utter_message(response="utter_handoff_ended", coordinator=coordinator)
        return [SlotSet("handoff_by", None)]

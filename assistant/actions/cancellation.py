"""Cancelling an order by conversation: pick it, confirm, and only then cancel."""

from __future__ import annotations

import json
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, entity_values, profile_of, user_timezone
from assistant.actions.forms import PatientFormValidation
from assistant.actions.meals import booking_when, match_words
from assistant.care.errors import CareError
from assistant.care.views import BookingView

CANCEL_FORM_SLOTS = ("cancel_reference", "cancel_confirm", "failed_attempts")


def active_orders(tracker: Tracker) -> list[BookingView]:
    """The user's orders that can still be cancelled (empty when not registered)."""
    if profile_of(tracker) is None:
        return []
    return [o for o in care().meals.list_orders(tracker.sender_id) if o.status != "in_progress"]


def pick_order(answer: str, orders: list[BookingView]) -> Optional[BookingView]:
    """The order a reference, a button or a description ("my lunch") points at."""
    wanted = answer.strip().upper()
    for order in orders:
        if order.reference.upper() == wanted or order.reference.upper() in wanted:
            return order
    matches = [o for o in orders if match_words(answer, o.item_name, o.kind.replace("_", " "))]
    if len(matches) == 1:
        return matches[0]
    if len(orders) == 1 and not matches and len(answer.split()) <= 6:
        return orders[0]
    return None


class ValidateCancelBookingForm(PatientFormValidation):
    """Finds which order to cancel; skips the questions when there is nothing to cancel."""

    def name(self) -> str:
        return "validate_cancel_booking_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return domain_slots if active_orders(tracker) else []

    async def extract_cancel_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("cancel_reference"):
            return {}
        references = entity_values(tracker, "reference")
        if references:
            return {"cancel_reference": references[0]}
        answer = self.requested_answer(tracker, "cancel_reference")
        return {"cancel_reference": answer} if answer else {}

    def validate_cancel_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        order = pick_order(str(value or ""), active_orders(tracker))
        if order is None:
            return self.reject(
                "cancel_reference", "I couldn't find that order. Please press one of the buttons.", dispatcher, tracker
            )
        return self.accept(cancel_reference=order.reference)


class ActionAskCancelReference(Action):
    """Lists the user's orders as buttons."""

    def name(self) -> str:
        return "action_ask_cancel_reference"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        tz = user_timezone(profile_of(tracker))
        buttons = [
            {
                "title": f"{o.item_name}, {booking_when(o, tz)} ({o.reference})",
                "payload": "/inform" + json.dumps({"reference": o.reference}),
            }
            for o in active_orders(tracker)
        ]
        dispatcher.utter_message(response="utter_ask_cancel_reference", buttons=buttons)
        return []


class ActionAskCancelConfirm(Action):
    """Reads the order back before cancelling it."""

    def name(self) -> str:
        return "action_ask_cancel_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reference = tracker.get_slot("cancel_reference")
        order = next((o for o in active_orders(tracker) if o.reference == reference), None)
        if order is None:
            dispatcher.utter_message(response="utter_cancel_failed", reason="that order can no longer be changed.")
            return [SlotSet("cancel_reference", None)]
        tz = user_timezone(profile_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_cancel_confirm", reference=order.reference, item=order.item_name, when=booking_when(order, tz)
        )
        return []


class ActionCancelBooking(Action):
    """Cancels the chosen order in the database, then tells the user."""

    def name(self) -> str:
        return "action_cancel_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in CANCEL_FORM_SLOTS]
        reference = tracker.get_slot("cancel_reference")
        if not reference:
            if profile_of(tracker) is None:
                dispatcher.utter_message(response="utter_need_registration")
            else:
                dispatcher.utter_message(response="utter_no_orders")
            return reset
        if not tracker.get_slot("cancel_confirm"):
            dispatcher.utter_message(response="utter_booking_kept")
            return reset
        try:
            booking = care().meals.cancel(tracker.sender_id, reference)
        except CareError as error:
            dispatcher.utter_message(response="utter_cancel_failed", reason=error.message)
            return reset
        dispatcher.utter_message(response="utter_booking_cancelled", reference=booking.reference)
        return reset

"""Changing and cancelling an order by conversation: pick it, read it back, and only then save."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    RegisteredUserAction,
    care,
    entity_values,
    latest_text,
    now_utc,
    profile_of,
    user_timezone,
)
from assistant.actions.forms import PatientFormValidation, plain_yes_no
from assistant.actions.meals import STATUS_WORDS, booking_when, match_words, say_when
from assistant.care.bookings.bookings import KIND_PREFIX
from assistant.care.core.errors import CareError
from assistant.care.core.timeparse import TimeParseError, parse_when
from assistant.care.core.views import BookingView, ProfileView
from assistant.care.core.vocabulary import HOME_SERVICE_KINDS

VISIT_PREFIXES = frozenset(KIND_PREFIX[kind] for kind in HOME_SERVICE_KINDS)
"""Reference prefixes of help-at-home bookings (CL-, LD-, RP-, HD-, BT-)."""
CANCEL_FORM_SLOTS = ("cancel_reference", "cancel_confirm", "failed_attempts")
CHANGE_FORM_SLOTS = ("change_reference", "change_time", "change_confirm", "failed_attempts")
_DAY_WORDS = re.compile(
    r"\b(today|tonight|tomorr?ow|tmrw|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"mon|tue|wed|thu|fri|sat|sun|next|week|\d{1,2}(st|nd|rd|th)|\d{1,2}/\d{1,2}|january|february|march|"
    r"april|may|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)


VISIT_STATUS_WORDS = {
    "requested": "waiting for confirmation",
    "confirmed": "confirmed",
    "assigned": "a helper is assigned",
    "in_progress": "under way",
    "done": "done",
    "cancelled": "cancelled",
}


def all_bookings(conversation_id: str) -> list[BookingView]:
    """Meals and help at home that are still to come, soonest first."""
    meals = care().meals.list_orders(conversation_id)
    visits = care().home_services.upcoming(conversation_id)
    return sorted([*meals, *visits], key=lambda b: (b.starts_at, b.reference))


def is_visit(booking: BookingView) -> bool:
    """Whether a booking is help at home (rather than a meal)."""
    return booking.kind in HOME_SERVICE_KINDS


def status_words(booking: BookingView) -> str:
    """The status as the user would say it."""
    words = VISIT_STATUS_WORDS if is_visit(booking) else STATUS_WORDS
    return words.get(booking.status, booking.status)


def active_orders(tracker: Tracker) -> list[BookingView]:
    """The user's orders that can still be changed (empty when not registered)."""
    if profile_of(tracker) is None:
        return []
    return [o for o in all_bookings(tracker.sender_id) if o.status != "in_progress"]


class ActionListOrders(RegisteredUserAction):
    """Answers "what have I ordered?" and "when is the cleaner coming?" from the database."""

    def name(self) -> str:
        return "action_list_orders"

    async def run_for(
        self, profile: ProfileView, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        orders = all_bookings(tracker.sender_id)
        services = set(entity_values(tracker, "service"))
        asked = [o for o in orders if o.kind in services]
        if not orders:
            dispatcher.utter_message(response="utter_no_orders")
            return []
        tz = user_timezone(profile)
        dispatcher.utter_message(response="utter_orders_header")
        for order in asked or orders:
            dispatcher.utter_message(
                response="utter_order_line",
                reference=order.reference,
                item=order.item_name,
                provider=order.provider_name,
                when=booking_when(order, tz),
                status=status_words(order),
                total=order.total_text,
            )
        return []


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


def find_order(tracker: Tracker, reference: Optional[str]) -> Optional[BookingView]:
    """The user's active order with this reference."""
    return next((o for o in active_orders(tracker) if o.reference == reference), None)


class OrderFormValidation(PatientFormValidation):
    """Shared by the change and cancel forms: which order, and skip everything when there is none."""

    reference_slot = ""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return domain_slots if active_orders(tracker) else []

    def extract_confirm(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """The answer to "Cancel ...?" / "Move ...?" when it starts with a plain yes or no ("yes cancel it")."""
        if tracker.get_slot("requested_slot") != slot or tracker.get_slot(slot) is not None:
            return {}
        answer = plain_yes_no(latest_text(tracker))
        return {slot: answer} if answer is not None else {}

    def extract_reference(self, tracker: Tracker) -> dict[str, Any]:
        """A reference named in any message of the form, or the answer to the question."""
        if tracker.get_slot(self.reference_slot):
            return {}
        references = entity_values(tracker, "reference")
        if references:
            return {self.reference_slot: references[0]}
        if tracker.get_slot("requested_slot") is None:
            orders = active_orders(tracker)
            if len(orders) == 1:  # "cancel my lunch" with one order: no need to ask which
                return {self.reference_slot: orders[0].reference}
        answer = self.requested_answer(tracker, self.reference_slot)
        return {self.reference_slot: answer} if answer else {}

    def validate_reference(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Accept a reference only if it is one of this user's active orders."""
        order = pick_order(str(value or ""), active_orders(tracker))
        if order is None:
            return self.reject(
                self.reference_slot, "I couldn't find that order. Please press one of the buttons.", dispatcher, tracker
            )
        return self.accept(**{self.reference_slot: order.reference})


class ValidateCancelBookingForm(OrderFormValidation):
    """Finds which order to cancel."""

    reference_slot = "cancel_reference"

    def name(self) -> str:
        return "validate_cancel_booking_form"

    async def extract_cancel_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.extract_reference(tracker)

    async def extract_cancel_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.extract_confirm(tracker, "cancel_confirm")

    def validate_cancel_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.validate_reference(value, dispatcher, tracker)


class ValidateChangeBookingForm(OrderFormValidation):
    """Finds which order to move, and to when."""

    reference_slot = "change_reference"

    def name(self) -> str:
        return "validate_change_booking_form"

    async def extract_change_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.extract_reference(tracker)

    async def extract_change_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.extract_confirm(tracker, "change_confirm")

    def validate_change_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.validate_reference(value, dispatcher, tracker)

    async def extract_change_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.time_answer(tracker, "change_time", need_time=True)

    def validate_change_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        try:
            datetime.fromisoformat(text)
            return {}  # already validated
        except ValueError:
            pass
        tz = user_timezone(profile_of(tracker))
        now = now_utc().astimezone(tz)
        try:
            when = parse_when(text, now)
        except TimeParseError as error:
            return self.reject("change_time", error.message, dispatcher, tracker)
        if when is None or not when.has_time:
            return self.reject("change_time", "What new day and time? For example “tomorrow at 1pm”.", dispatcher, tracker)
        start = when.start
        order = find_order(tracker, tracker.get_slot("change_reference"))
        if order is not None and not _DAY_WORDS.search(when.matched or text):
            # "make it 1pm" keeps the order's own day
            day = order.starts_at.astimezone(tz).date()
            start = datetime.combine(day, start.timetz().replace(tzinfo=None), tzinfo=tz)
        if start <= now:
            return self.reject("change_time", "That time has already passed. When would you like it instead?", dispatcher, tracker)
        return self.accept(change_time=start.isoformat())


def order_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """One button per active order."""
    tz = user_timezone(profile_of(tracker))
    return [
        {
            "title": f"{o.item_name}, {booking_when(o, tz)} ({o.reference})",
            "payload": "/inform" + json.dumps({"reference": o.reference}),
        }
        for o in active_orders(tracker)
    ]


class ActionAskCancelReference(Action):
    """Lists the user's orders as buttons."""

    def name(self) -> str:
        return "action_ask_cancel_reference"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_cancel_reference", buttons=order_buttons(tracker))
        return []


class ActionAskChangeReference(Action):
    """Lists the user's orders as buttons."""

    def name(self) -> str:
        return "action_ask_change_reference"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_change_reference", buttons=order_buttons(tracker))
        return []


class ActionAskCancelConfirm(Action):
    """Reads the order back before cancelling it."""

    def name(self) -> str:
        return "action_ask_cancel_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order = find_order(tracker, tracker.get_slot("cancel_reference"))
        if order is None:
            dispatcher.utter_message(response="utter_cancel_failed", reason="that order can no longer be changed.")
            return [SlotSet("cancel_reference", None)]
        tz = user_timezone(profile_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_cancel_confirm", reference=order.reference, item=order.item_name, when=booking_when(order, tz)
        )
        return []


class ActionAskChangeConfirm(Action):
    """Reads the old and the new time back before moving the order."""

    def name(self) -> str:
        return "action_ask_change_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order = find_order(tracker, tracker.get_slot("change_reference"))
        new_time = tracker.get_slot("change_time")
        if order is None or not new_time:
            dispatcher.utter_message(response="utter_change_failed", reason="that order can no longer be changed.")
            return [SlotSet("change_reference", None)]
        tz = user_timezone(profile_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_change_confirm",
            reference=order.reference,
            item=order.item_name,
            old=booking_when(order, tz),
            new=say_when(datetime.fromisoformat(new_time), tz),
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
            no_orders(dispatcher, tracker)
            return reset
        if not tracker.get_slot("cancel_confirm"):
            dispatcher.utter_message(response="utter_booking_kept")
            return reset
        try:
            if reference[:2] in VISIT_PREFIXES:
                booking = care().home_services.cancel(tracker.sender_id, reference)
            else:
                booking = care().meals.cancel(tracker.sender_id, reference)
        except CareError as error:
            dispatcher.utter_message(response="utter_cancel_failed", reason=error.message)
            return reset
        dispatcher.utter_message(response="utter_booking_cancelled", reference=booking.reference)
        return reset


class ActionChangeBooking(Action):
    """Moves the chosen order in the database, then tells the user the new time."""

    def name(self) -> str:
        return "action_change_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in CHANGE_FORM_SLOTS]
        reference = tracker.get_slot("change_reference")
        if not reference:
            no_orders(dispatcher, tracker)
            return reset
        if not tracker.get_slot("change_confirm"):
            dispatcher.utter_message(response="utter_booking_kept")
            return reset
        new_at = datetime.fromisoformat(tracker.get_slot("change_time"))
        try:
            if reference[:2] in VISIT_PREFIXES:
                booking = care().home_services.reschedule(tracker.sender_id, reference, new_at)
            else:
                booking = care().meals.change_time(tracker.sender_id, reference, new_at)
        except CareError as error:
            dispatcher.utter_message(response="utter_change_failed", reason=error.message)
            return reset
        tz = user_timezone(profile_of(tracker))
        dispatcher.utter_message(response="utter_booking_changed", reference=booking.reference, when=booking_when(booking, tz))
        return reset


def no_orders(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Says there is nothing to change, or that we do not know this user yet."""
    if profile_of(tracker) is None:
        dispatcher.utter_message(response="utter_need_registration")
    else:
        dispatcher.utter_message(response="utter_no_orders")

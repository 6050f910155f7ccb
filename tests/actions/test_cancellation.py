"""Cancelling an order by conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.cancellation import (
    ActionAskCancelReference,
    ActionCancelBooking,
    ValidateCancelBookingForm,
)
from assistant.care import CareServices

from .conftest import make_tracker, register, responses, slot_events

LONDON = ZoneInfo("Europe/London")
FORM = "cancel_booking_form"


def order_lunch(care: CareServices, sender: str = "mary-0001") -> str:
    when = datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)
    option = care.registry.meal_options("Riverside", ("diabetic-friendly",), meal_type="lunch", at=when)[0]
    return care.meals.place_order(sender, option.dish_id, 1, when).reference


async def test_nothing_to_cancel_skips_the_questions(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    events = await ValidateCancelBookingForm().run(dispatcher, make_tracker("cancel my order", "cancel_booking"), domain)
    assert slot_events(events) == {"requested_slot": None}  # the form ends at once
    dispatcher = CollectingDispatcher()
    await ActionCancelBooking().run(dispatcher, make_tracker(), domain)
    assert responses(dispatcher) == ["utter_no_orders"]


async def test_reference_in_the_request_is_used_in_any_case(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    tracker = make_tracker(f"cancel {reference.lower()}", "cancel_booking", entities=[("reference", reference.lower())])
    slots = slot_events(await ValidateCancelBookingForm().run(dispatcher, tracker, domain))
    assert slots["cancel_reference"] == reference


async def test_orders_are_offered_as_buttons(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    await ActionAskCancelReference().run(dispatcher, make_tracker(requested_slot="cancel_reference", active_loop=FORM), domain)
    [button] = dispatcher.messages[0]["buttons"]
    assert reference in button["title"] and "tomorrow at 12:00" in button["title"]


async def test_confirmed_cancellation_is_saved_then_told(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    await ActionCancelBooking().run(dispatcher, make_tracker("yes", "affirm", slots={"cancel_reference": reference, "cancel_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_booking_cancelled"]
    assert care.meals.list_orders("mary-0001") == []


async def test_saying_no_keeps_the_order(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    await ActionCancelBooking().run(dispatcher, make_tracker("no", "deny", slots={"cancel_reference": reference, "cancel_confirm": False}), domain)
    assert responses(dispatcher) == ["utter_booking_kept"]
    assert [o.reference for o in care.meals.list_orders("mary-0001")] == [reference]


async def test_someone_else_cannot_cancel_my_order(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    register(care, sender="intruder-01", full_name="Someone Else")
    reference = order_lunch(care)
    tracker = make_tracker(reference, sender="intruder-01", requested_slot="cancel_reference", active_loop=FORM, entities=[("reference", reference)])
    slots = slot_events(await ValidateCancelBookingForm().run(dispatcher, tracker, domain))
    assert slots.get("cancel_reference") is None
    assert [o.reference for o in care.meals.list_orders("mary-0001")] == [reference]

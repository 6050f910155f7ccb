"""Changing and cancelling an order by conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.forms import plain_yes_no

from assistant.actions.orders import (
    ActionAskCancelReference,
    ActionAskChangeConfirm,
    ActionCancelBooking,
    ActionChangeBooking,
    ValidateCancelBookingForm,
    ValidateChangeBookingForm,
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


async def test_one_order_is_picked_without_asking(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    slots = slot_events(await ValidateCancelBookingForm().run(dispatcher, make_tracker("cancel my lunch", "cancel_booking"), domain))
    assert slots["cancel_reference"] == reference


async def test_a_new_time_without_a_day_keeps_the_orders_day(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)  # tomorrow at 12:00
    tracker = make_tracker("can it come at 1pm instead", "change_booking")
    slots = slot_events(await ValidateChangeBookingForm().run(dispatcher, tracker, domain))
    assert slots["change_reference"] == reference
    assert datetime.fromisoformat(slots["change_time"]) == datetime(2026, 11, 27, 13, 0, tzinfo=LONDON)


async def test_moving_an_order_is_read_back_then_saved(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    new_time = datetime(2026, 11, 28, 12, 30, tzinfo=LONDON).isoformat()
    slots = {"change_reference": reference, "change_time": new_time}
    dispatcher = CollectingDispatcher()
    await ActionAskChangeConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="change_confirm", active_loop="change_booking_form"), domain)
    question = dispatcher.messages[0]
    assert (question["old"], question["new"]) == ("tomorrow at 12:00", "Saturday 28 November at 12:30")
    dispatcher = CollectingDispatcher()
    await ActionChangeBooking().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "change_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_booking_changed"]
    [order] = care.meals.list_orders("mary-0001")
    assert order.starts_at == datetime(2026, 11, 28, 12, 30, tzinfo=LONDON)


async def test_a_past_new_time_is_refused(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = order_lunch(care)
    tracker = make_tracker("today at 9", requested_slot="change_time", active_loop="change_booking_form",
                           slots={"change_reference": reference})
    slots = slot_events(await ValidateChangeBookingForm().run(dispatcher, tracker, domain))
    assert slots["change_time"] is None


@pytest.mark.parametrize(("said", "intent", "answer"), [
    ("yes cancel it", "cancel_booking", True),
    ("Yes please, go ahead", "affirm", True),
    ("no, keep it", "deny", False),
    ("nope I still want it", "cancel_booking", False),
])
async def test_a_plain_yes_or_no_answers_the_question_whatever_the_words_after(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], said: str, intent: str, answer: bool
) -> None:
    register(care)
    reference = order_lunch(care)
    tracker = make_tracker(said, intent, requested_slot="cancel_confirm", active_loop="cancel_booking_form",
                           slots={"cancel_reference": reference})
    slots = slot_events(await ValidateCancelBookingForm().run(dispatcher, tracker, domain))
    assert slots["cancel_confirm"] is answer


def test_plain_yes_no_reads_only_the_start() -> None:
    assert plain_yes_no("Yeah, cancel it") is True
    assert plain_yes_no("don't cancel") is False
    assert plain_yes_no("I'm not sure, what is it again?") is None
    assert plain_yes_no("nothing") is None  # "no" must be a whole word

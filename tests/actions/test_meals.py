"""Meal ordering through the form: time, choice, price shown first, saved before confirmed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.meals import (
    ActionAskMealChoice,
    ActionAskMealConfirm,
    ActionPlaceMealOrder,
    ValidateMealOrderForm,
)
from assistant.actions.orders import ActionListOrders
from assistant.care import CareServices

from .conftest import make_tracker, register, responses, slot_events

LONDON = ZoneInfo("Europe/London")
FORM = "meal_order_form"


async def validate(dispatcher: CollectingDispatcher, domain: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("active_loop", FORM)
    return slot_events(await ValidateMealOrderForm().run(dispatcher, make_tracker(*args, **kwargs), domain))


async def offered(care: CareServices, domain: dict[str, Any], slots: dict[str, Any]) -> list[dict[str, str]]:
    dispatcher = CollectingDispatcher()
    await ActionAskMealChoice().run(dispatcher, make_tracker(slots=slots, requested_slot="meal_choice", active_loop=FORM), domain)
    return dispatcher.messages[-1].get("buttons") or []


async def test_time_in_the_first_message_is_understood(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "I'd like lunch tomorrow at noon", "order_meal",
                           entities=[("meal_type", "lunch")], active_loop=None)
    assert slots["meal_mode"] == "delivery" and slots["meal_type"] == "lunch"
    assert datetime.fromisoformat(slots["meal_time"]) == datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)
    assert slots["requested_slot"] == "meal_choice"


async def test_a_time_in_the_past_is_refused(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "today at 9", requested_slot="meal_time", slots={"meal_mode": "delivery"})
    assert slots["meal_time"] is None
    assert "past 09:00" in dispatcher.messages[0]["reason"]


async def test_31_february_is_refused_kindly(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "31 February at noon", requested_slot="meal_time", slots={"meal_mode": "delivery"})
    assert slots["meal_time"] is None
    assert "February" in dispatcher.messages[0]["reason"]


async def test_as_soon_as_possible_means_after_the_kitchen_lead_time(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "as soon as possible", requested_slot="meal_time", slots={"meal_mode": "delivery"})
    assert datetime.fromisoformat(slots["meal_time"]) == datetime(2026, 11, 26, 11, 0, tzinfo=LONDON)


async def test_options_fit_the_district_and_the_diet(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    buttons = await offered(care, domain, {"meal_mode": "delivery", "meal_type": "lunch",
                                           "meal_time": datetime(2026, 11, 27, 12, 0, tzinfo=LONDON).isoformat()})
    assert 2 <= len(buttons) <= 4
    allowed = {o.dish_id for o in care.registry.meal_options("Riverside", ("diabetic-friendly",), meal_type="lunch", limit=50)}
    for button in buttons:
        key = json.loads(button["payload"].removeprefix("/inform"))["choice"]
        assert int(key.removeprefix("d:")) in allowed
        assert "€" in button["title"]


async def test_full_order_is_saved_before_it_is_confirmed(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    when = datetime(2026, 11, 27, 12, 0, tzinfo=LONDON).isoformat()
    slots: dict[str, Any] = {"meal_mode": "delivery", "meal_type": "lunch", "meal_time": when}
    first = (await offered(care, domain, slots))[0]
    choice = json.loads(first["payload"].removeprefix("/inform"))["choice"]

    dispatcher = CollectingDispatcher()
    picked = await validate(dispatcher, domain, first["payload"], entities=[("choice", choice)],
                            requested_slot="meal_choice", slots=slots)
    assert picked["meal_choice"] == choice
    slots["meal_choice"] = choice

    dispatcher = CollectingDispatcher()
    await ActionAskMealConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="meal_confirm", active_loop=FORM), domain)
    summary = dispatcher.messages[0]
    assert summary["response"] == "utter_meal_summary"
    assert summary["fee"] == "€1.50" and summary["total"].startswith("€")
    assert care.meals.list_orders("mary-0001") == []  # nothing saved before "yes"

    dispatcher = CollectingDispatcher()
    events = await ActionPlaceMealOrder().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "meal_confirm": True}), domain)
    orders = care.meals.list_orders("mary-0001")
    assert len(orders) == 1 and orders[0].status == "confirmed"
    confirmation = dispatcher.messages[0]
    assert confirmation["response"] == "utter_meal_order_confirmed"
    assert confirmation["reference"] == orders[0].reference
    assert confirmation["when"] == "tomorrow at 12:00"
    assert slot_events(events)["meal_choice"] is None

    dispatcher = CollectingDispatcher()
    await ActionListOrders().run(dispatcher, make_tracker("what have I ordered?", "check_bookings"), domain)
    assert responses(dispatcher) == ["utter_orders_header", "utter_order_line"]
    assert dispatcher.messages[1]["reference"] == orders[0].reference


async def test_saying_no_orders_nothing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionPlaceMealOrder().run(dispatcher, make_tracker("no", "deny", slots={"meal_confirm": False, "meal_choice": "d:1"}), domain)
    assert responses(dispatcher) == ["utter_meal_order_not_placed"]
    assert care.meals.list_orders("mary-0001") == []


async def test_a_dish_can_be_picked_by_typing_its_name(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    slots = {"meal_mode": "delivery", "meal_type": "lunch", "meal_time": datetime(2026, 11, 27, 12, 0, tzinfo=LONDON).isoformat()}
    first = (await offered(care, domain, slots))[0]
    dish_name = first["title"].split(",")[0]
    dispatcher = CollectingDispatcher()
    picked = await validate(dispatcher, domain, f"the {dish_name.lower()} please", requested_slot="meal_choice", slots=slots)
    assert picked["meal_choice"] == json.loads(first["payload"].removeprefix("/inform"))["choice"]


async def test_an_unknown_dish_is_refused_with_a_way_forward(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = {"meal_mode": "delivery", "meal_type": "lunch", "meal_time": datetime(2026, 11, 27, 12, 0, tzinfo=LONDON).isoformat()}
    picked = await validate(dispatcher, domain, "pizza with pineapple", requested_slot="meal_choice", slots=slots)
    assert picked["meal_choice"] is None
    assert "buttons" in dispatcher.messages[0]["reason"]


async def test_lunch_every_weekday_sets_up_a_meal_plan(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    dispatcher = CollectingDispatcher()
    slots = await validate(dispatcher, domain, "lunch every weekday at noon", "order_meal",
                           entities=[("meal_type", "lunch"), ("catering_mode", "meal_plan")], active_loop=None)
    assert slots["meal_mode"] == "meal_plan"
    assert json.loads(slots["meal_days"])["weekdays"] == [0, 1, 2, 3, 4]
    assert datetime.fromisoformat(slots["meal_time"]) == datetime(2026, 11, 26, 12, 0, tzinfo=LONDON)
    state = {k: slots[k] for k in ("meal_mode", "meal_type", "meal_days", "meal_time")}
    first = (await offered(care, domain, state))[0]
    choice = json.loads(first["payload"].removeprefix("/inform"))["choice"]
    dispatcher = CollectingDispatcher()
    await ActionPlaceMealOrder().run(dispatcher, make_tracker("yes", "affirm", slots={**state, "meal_choice": choice, "meal_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_meal_plan_confirmed"]
    [plan] = care.meals.list_orders("mary-0001")
    assert plan.kind == "meal_plan" and plan.recurrence


async def test_a_table_reservation_asks_how_many_people(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    dispatcher = CollectingDispatcher()
    slots = await validate(dispatcher, domain, "book a table on saturday at 1pm", "order_meal",
                           entities=[("catering_mode", "table_reservation")], active_loop=None)
    assert slots["meal_mode"] == "table_reservation"
    assert slots["requested_slot"] == "party_size"
    dispatcher = CollectingDispatcher()
    sized = await validate(dispatcher, domain, "3", requested_slot="party_size", slots={k: slots[k] for k in ("meal_mode", "meal_time")})
    assert sized["party_size"] == 3.0


async def test_a_chef_for_this_evening_is_never_offered_and_the_earliest_time_is(
    care: CareServices, domain: dict[str, Any]
) -> None:
    register(care)
    this_evening = datetime(2026, 11, 26, 18, 0, tzinfo=LONDON).isoformat()  # NOW is 10:15 that morning
    dispatcher = CollectingDispatcher()
    slots = {"meal_mode": "chef_visit", "meal_time": this_evening, "meal_type": "dinner"}
    await ActionAskMealChoice().run(dispatcher, make_tracker(slots=slots, requested_slot="meal_choice", active_loop=FORM), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_meal_earliest"
    assert "24 hours' notice" in message["reason"] and message["earliest"] == "tomorrow at 10:30"
    earliest, another = message["buttons"]
    assert earliest["title"] == "Yes, tomorrow at 10:30" and another["title"] == "Another time"

    # Pressing it moves the order to that time and asks for the choice again ...
    choice = json.loads(earliest["payload"].removeprefix("/inform"))["choice"]
    moved = await validate(CollectingDispatcher(), domain, earliest["payload"], requested_slot="meal_choice",
                           slots=slots, entities=[("choice", choice)])
    assert moved["meal_choice"] is None
    assert datetime.fromisoformat(moved["meal_time"]) == datetime(2026, 11, 27, 10, 30, tzinfo=LONDON)
    # ... where every chef offered can be booked.
    buttons = await offered(care, domain, {**slots, "meal_time": moved["meal_time"]})
    assert buttons
    for button in buttons:
        key = json.loads(button["payload"].removeprefix("/inform"))["choice"]
        care.meals.book_chef_visit("mary-0001", int(key.removeprefix("o:")), datetime.fromisoformat(moved["meal_time"]))

"""Booking help at home through the form: what, when, who (as buttons), the full price, then the booking."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from assistant.actions.home_services import (
    ActionAskHomeService,
    ActionAskServiceChoice,
    ActionAskServiceConfirm,
    ActionBookHomeService,
    ActionBookingUpdate,
    ValidateHomeServiceForm,
)
from assistant.actions.orders import (
    ActionCancelBooking,
    ActionChangeBooking,
    ActionListOrders,
    ValidateCancelBookingForm,
)
from assistant.care import CareServices
from assistant.care.homeservices.homeservices import TimeWindow
from assistant.care.core.models import Booking, BookingSlot, Escalation

from ..care.helpers import add_home_provider
from .conftest import make_tracker, register, responses, slot_events

LONDON = ZoneInfo("Europe/London")
FORM = "home_service_form"
FRIDAY_MORNING = json.dumps({
    "start": datetime(2026, 11, 27, 8, 0, tzinfo=LONDON).isoformat(),
    "end": datetime(2026, 11, 27, 12, 0, tzinfo=LONDON).isoformat(),
})
"""The window "friday morning" means with the clock at Thursday 26 November 2026, 10:15."""


def add_cleaners(care: CareServices) -> None:
    """Two more cleaners in Riverside (the demo has Sparkle Home Cleaning and Spotless Senior Cleaning there)."""
    add_home_provider(care, "Bright Homes", "cleaning", ["Riverside"], rating=4.9, rating_count=30,
                      offerings=[("home_clean", "Home clean (2 hours)", 3000, 120)])
    add_home_provider(care, "Mop and Bucket", "cleaning", ["Riverside"], verified=False,
                      offerings=[("home_clean", "Quick clean (1 hour)", 1800, 60)])


async def validate(dispatcher: CollectingDispatcher, domain: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("active_loop", FORM)
    return slot_events(await ValidateHomeServiceForm().run(dispatcher, make_tracker(*args, **kwargs), domain))


async def choices(domain: dict[str, Any], slots: dict[str, Any]) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await ActionAskServiceChoice().run(dispatcher, make_tracker(slots=slots, requested_slot="service_choice", active_loop=FORM), domain)
    return dispatcher


def asked_next(domain: dict[str, Any], state: dict[str, Any], slots: dict[str, Any]) -> Any:
    """The question the form asks next: the validator's choice, else (as Rasa does) the first empty domain slot."""
    if "requested_slot" in slots:
        return slots["requested_slot"]
    merged = {**state, **slots}
    return next((s for s in domain["forms"][FORM]["required_slots"] if merged.get(s) is None), None)


def choice_of(button: dict[str, str]) -> str:
    return json.loads(button["payload"].removeprefix("/inform"))["choice"]


def bookings(care: CareServices) -> list[Booking]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Booking).order_by(Booking.id)))
        session.expunge_all()
    return found


def held_slots(care: CareServices, reference: str) -> list[datetime]:
    with care.db.reading() as session:
        return list(session.scalars(
            select(BookingSlot.slot_start).join(Booking, Booking.id == BookingSlot.booking_id)
            .where(Booking.reference == reference).order_by(BookingSlot.slot_start)
        ))


def escalations(care: CareServices, kind: str) -> list[Escalation]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Escalation).where(Escalation.kind == kind)))
        session.expunge_all()
    return found


# ---- what and when ------------------------------------------------------------------------


async def test_the_opening_message_fills_the_service_and_the_window(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "can someone come and clean on friday morning, my knees are bad",
                           "book_home_service", active_loop=None)
    assert slots["home_service"] == "cleaning"
    window = json.loads(slots["service_window"])
    assert datetime.fromisoformat(window["start"]) == datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)
    assert datetime.fromisoformat(window["end"]) == datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)
    assert asked_next(domain, {}, slots) == "service_choice"  # nothing else to ask before the choice
    assert dispatcher.messages == []


async def test_walking_the_dog_is_refused_kindly_naming_what_we_offer(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "walk my dog", requested_slot="home_service")
    assert slots["home_service"] is None
    assert responses(dispatcher) == ["utter_invalid_answer"]
    reason = dispatcher.messages[0]["reason"]
    for offered in ("cleaning", "laundry", "repairs", "hairdressing", "beauty"):
        assert offered in reason


async def test_a_dog_walk_in_the_opening_message_is_not_guessed_as_a_service(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "can someone come and walk my dog", "book_home_service", active_loop=None)
    assert slots.get("home_service") is None
    assert asked_next(domain, {}, slots) == "home_service"
    dispatcher = CollectingDispatcher()
    await ActionAskHomeService().run(dispatcher, make_tracker(requested_slot="home_service", active_loop=FORM), domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Cleaning", "Laundry pickup", "A repair", "Hairdresser", "Nails and feet"]


async def test_a_past_day_is_refused(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "yesterday morning", requested_slot="service_window",
                           slots={"home_service": "cleaning"})
    assert slots["service_window"] is None
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert "already passed" in dispatcher.messages[0]["reason"]


async def test_a_repair_keeps_the_message_as_the_details(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "my kitchen tap is leaking, i need a plumber", "book_home_service",
                           active_loop=None)
    assert slots["home_service"] == "repair"
    assert slots["service_details"] == "my kitchen tap is leaking, i need a plumber"
    assert slots["requested_slot"] == "service_window"  # the details are not asked again


async def test_a_repair_without_details_asks_what_needs_doing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "Friday morning", requested_slot="service_window",
                           slots={"home_service": "repair"})
    assert slots["requested_slot"] == "service_details"
    dispatcher = CollectingDispatcher()
    answered = await validate(dispatcher, domain, "the bathroom door sticks", requested_slot="service_details",
                              slots={"home_service": "repair", "service_window": FRIDAY_MORNING})
    assert answered["service_details"] == "the bathroom door sticks"
    assert answered["requested_slot"] == "service_choice"


async def test_a_description_that_sounds_like_a_complaint_is_still_the_description(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    answered = await validate(dispatcher, domain, "the tap under the sink drips all the time", "complain",
                              requested_slot="service_details",
                              slots={"home_service": "repair", "service_window": FRIDAY_MORNING})
    assert answered["service_details"] == "the tap under the sink drips all the time"
    assert answered["requested_slot"] == "service_choice"


async def test_laundry_asks_when_it_should_come_back(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "Friday morning", requested_slot="service_window",
                           slots={"home_service": "laundry"})
    assert slots["requested_slot"] == "service_return"
    dispatcher = CollectingDispatcher()
    answered = await validate(dispatcher, domain, "Monday at 2pm", requested_slot="service_return",
                              slots={"home_service": "laundry", "service_window": FRIDAY_MORNING})
    assert datetime.fromisoformat(answered["service_return"]) == datetime(2026, 11, 30, 14, 0, tzinfo=LONDON)
    assert answered["requested_slot"] == "service_choice"


async def test_laundry_cannot_stay_away_for_three_weeks(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "Friday 18 December at 2pm", requested_slot="service_return",
                           slots={"home_service": "laundry", "service_window": FRIDAY_MORNING})
    assert slots["service_return"] is None
    assert "two weeks" in dispatcher.messages[0]["reason"]


async def test_laundry_cannot_come_back_the_same_day(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "Friday at 5pm", requested_slot="service_return",
                           slots={"home_service": "laundry", "service_window": FRIDAY_MORNING})
    assert slots["service_return"] is None
    assert "at least a day" in dispatcher.messages[0]["reason"]


# ---- who ------------------------------------------------------------------------------------------


async def test_the_choices_are_providers_with_price_score_and_time(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    dispatcher = await choices(domain, {"home_service": "cleaning", "service_window": FRIDAY_MORNING})
    [message] = dispatcher.messages
    assert message["response"] == "utter_service_options"
    assert message["service"] == "cleaning"
    assert message["when"] == "tomorrow between 08:00 and 12:00"
    *providers, another = message["buttons"]
    assert 2 <= len(providers) <= 3
    assert another == {"title": "Another time", "payload": "another time"}
    names = [b["title"].split(",")[0] for b in providers]
    assert names[0] == "Bright Homes ✓"  # verified and best rated first
    assert len(names) == 3 and all(name.endswith("✓") for name in names)  # the unverified cleaner comes after them
    assert not any("Mop and Bucket" in name for name in names)
    for button in providers:
        assert "tomorrow at" in button["title"]
        assert "€" in button["title"]
        assert "★" in button["title"] or "new" in button["title"]
        assert choice_of(button).startswith("o:")
    assert "€30.00" in providers[0]["title"] and "★" in providers[0]["title"]


async def test_a_button_then_yes_books_it_and_nothing_before(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    slots: dict[str, Any] = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    first = (await choices(domain, slots)).messages[0]["buttons"][0]
    choice = choice_of(first)

    dispatcher = CollectingDispatcher()
    picked = await validate(dispatcher, domain, first["payload"], entities=[("choice", choice)],
                            requested_slot="service_choice", slots=slots)
    assert picked["service_choice"] == choice
    assert asked_next(domain, slots, picked) == "service_confirm"
    slots["service_choice"] = choice

    dispatcher = CollectingDispatcher()
    await ActionAskServiceConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="service_confirm", active_loop=FORM), domain)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_service_summary"
    assert (summary["provider"], summary["item"]) == ("Bright Homes", "Home clean (2 hours)")
    assert summary["when"] == "tomorrow at 08:00"
    assert (summary["price"], summary["fee_text"], summary["total"]) == ("€30.00", "", "€30.00")
    assert bookings(care) == []  # nothing booked before "yes"

    dispatcher = CollectingDispatcher()
    events = await ActionBookHomeService().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "service_confirm": True}), domain)
    [booking] = bookings(care)
    assert (booking.kind, booking.status) == ("cleaning", "confirmed")
    assert booking.reference.startswith("CL-")
    assert responses(dispatcher) == ["utter_service_booked"]
    said = dispatcher.messages[0]
    assert [b["title"] for b in said["buttons"]] == ["My bookings", "Something else"]  # a next step
    assert (said["reference"], said["provider"], said["when"], said["total"]) == (
        booking.reference, "Bright Homes", "tomorrow at 08:00", "€30.00")
    start = datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)
    assert held_slots(care, booking.reference) == [start + timedelta(minutes=30 * i) for i in range(4)]
    cleared = slot_events(events)
    assert all(cleared[slot] is None for slot in ("home_service", "service_window", "service_choice", "service_confirm"))


async def test_saying_no_books_nothing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    slots = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    choice = choice_of((await choices(domain, slots)).messages[0]["buttons"][0])
    events = await ActionBookHomeService().run(
        dispatcher, make_tracker("no", "deny", slots={**slots, "service_choice": choice, "service_confirm": False}), domain)
    assert responses(dispatcher) == ["utter_service_not_booked"]
    assert bookings(care) == []
    assert slot_events(events)["service_choice"] is None


async def test_relatives_are_said_to_be_told_of_a_booking(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne", "daughter")
    slots: dict[str, Any] = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    slots["service_choice"] = choice_of((await choices(domain, slots)).messages[0]["buttons"][0])
    await ActionBookHomeService().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "service_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_service_booked", "utter_service_booked_family"]
    assert dispatcher.messages[1]["family"] == "Anne"
    assert not dispatcher.messages[0].get("buttons")  # the next step comes once, on the last message
    assert [b["title"] for b in dispatcher.messages[1]["buttons"]] == ["My bookings", "Something else"]


async def test_a_provider_can_be_picked_by_typing_its_name(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    slots = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    buttons = (await choices(domain, slots)).messages[0]["buttons"]
    wanted = next(b for b in buttons if b["title"].startswith("Sparkle"))
    picked = await validate(dispatcher, domain, "sparkle please", requested_slot="service_choice", slots=slots)
    assert picked["service_choice"] == choice_of(wanted)


async def test_another_time_asks_for_the_time_again(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    state = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    slots = await validate(dispatcher, domain, "another time", requested_slot="service_choice", slots=state)
    assert slots["service_window"] is None and slots["service_choice"] is None
    assert asked_next(domain, state, slots) == "service_window"


async def test_laundry_summary_shows_the_pickup_fee(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    back = datetime(2026, 11, 30, 14, 0, tzinfo=LONDON).isoformat()
    slots: dict[str, Any] = {"home_service": "laundry", "service_window": FRIDAY_MORNING, "service_return": back}
    buttons = (await choices(domain, slots)).messages[0]["buttons"]
    first = buttons[0]
    assert first["title"].startswith("FreshFold Laundry")
    assert "€17.00" in first["title"]  # €15.00 ironing (the cheapest) + €2.00 pickup
    slots["service_choice"] = choice_of(first)
    dispatcher = CollectingDispatcher()
    await ActionAskServiceConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="service_confirm", active_loop=FORM), domain)
    [summary] = dispatcher.messages
    assert summary["price"] == "€15.00"
    assert summary["fee_text"] == " plus €2.00 pickup and return"
    assert summary["total"] == "€17.00"
    assert summary["details"] == " Brought back Monday 30 November at 14:00."
    assert bookings(care) == []

    dispatcher = CollectingDispatcher()
    await ActionBookHomeService().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "service_confirm": True}), domain)
    [booking] = bookings(care)
    assert booking.reference.startswith("LD-")
    assert (booking.price_cents, booking.fees_cents) == (1500, 200)
    assert booking.ends_at == datetime(2026, 11, 30, 14, 0, tzinfo=LONDON)
    assert dispatcher.messages[0]["total"] == "€17.00"


async def test_repair_details_reach_the_booking(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    details = "my kitchen tap is leaking, i need a plumber"
    slots: dict[str, Any] = {"home_service": "repair", "service_window": FRIDAY_MORNING, "service_details": details}
    slots["service_choice"] = choice_of((await choices(domain, slots)).messages[0]["buttons"][0])
    dispatcher = CollectingDispatcher()
    await ActionAskServiceConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="service_confirm", active_loop=FORM), domain)
    assert dispatcher.messages[0]["details"] == f" For: {details}."
    dispatcher = CollectingDispatcher()
    await ActionBookHomeService().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "service_confirm": True}), domain)
    [booking] = bookings(care)
    assert booking.kind == "repair" and booking.details == details


# ---- nobody free ----------------------------------------------------------------------------------


async def test_nobody_free_offers_the_nearest_times_as_buttons(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    # Sparkle Home Cleaning (the only other cleaner in Riverside is off) is taken all Friday morning.
    for provider in care.registry.providers(kind="cleaning", district="Riverside"):
        if provider.name != "Sparkle Home Cleaning":
            care.registry.set_active(provider.provider_id, False)
    option = care.home_services.find_options("mary-0001", "cleaning", TimeWindow(
        datetime(2026, 11, 27, 8, 0, tzinfo=LONDON), datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)))[0]
    register(care, sender="joan-0001", full_name="Joan Smith")
    for hour in (8, 10):
        care.home_services.book("joan-0001", option.offering_id, datetime(2026, 11, 27, hour, 0, tzinfo=LONDON))
    dispatcher = await choices(domain, {"home_service": "cleaning", "service_window": FRIDAY_MORNING})
    [message] = dispatcher.messages
    assert message["response"] == "utter_service_alternatives"
    assert message["when"] == "tomorrow between 08:00 and 12:00"
    *alternatives, another = message["buttons"]
    assert alternatives and another["title"] == "Another day"
    for button in alternatives:
        assert button["title"].startswith("Sparkle Home Cleaning")
        assert "€" in button["title"]
        start = datetime.fromisoformat(choice_of(button).split("@", 1)[1])
        assert not (datetime(2026, 11, 27, 8, 0, tzinfo=LONDON) <= start < datetime(2026, 11, 27, 12, 0, tzinfo=LONDON))


async def test_nobody_at_all_goes_to_a_coordinator_and_the_form_ends(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    for provider in care.registry.providers(kind="hairdressing", district="Riverside"):
        care.registry.set_active(provider.provider_id, False)
    slots = {"home_service": "hairdressing", "service_window": FRIDAY_MORNING}
    dispatcher = CollectingDispatcher()
    events = await ActionAskServiceChoice().run(
        dispatcher, make_tracker(slots=slots, requested_slot="service_choice", active_loop=FORM), domain)
    assert responses(dispatcher) == ["utter_service_unmatched"]
    [escalation] = escalations(care, "unmatched_booking")
    said = dispatcher.messages[0]
    assert (said["service"], said["district"], said["reference"]) == ("hairdressing", "Riverside", escalation.reference)
    assert escalation.conversation_id == "mary-0001" and "Riverside" in escalation.summary
    assert slot_events(events)["requested_slot"] is None  # the form ends
    dispatcher = CollectingDispatcher()
    await ActionBookHomeService().run(dispatcher, make_tracker(slots={**slots, **slot_events(events)}), domain)
    assert dispatcher.messages == [] and bookings(care) == []  # already explained; nothing booked


async def test_a_window_that_has_passed_meanwhile_is_asked_again(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    this_morning = json.dumps({"start": datetime(2026, 11, 26, 8, 0, tzinfo=LONDON).isoformat(),
                               "end": datetime(2026, 11, 26, 10, 0, tzinfo=LONDON).isoformat()})
    events = await ActionAskServiceChoice().run(dispatcher, make_tracker(
        slots={"home_service": "cleaning", "service_window": this_morning}, requested_slot="service_choice", active_loop=FORM), domain)
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert "already passed" in dispatcher.messages[0]["reason"]
    assert dispatcher.messages[0]["buttons"][0]["title"] == "Tomorrow morning"
    assert slot_events(events) == {"service_window": None, "requested_slot": "service_window"}
    assert bookings(care) == [] and escalations(care, "unmatched_booking") == []


async def test_a_choice_that_cannot_be_looked_for_ends_the_form_honestly(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = {"home_service": "dog walking", "service_window": FRIDAY_MORNING}  # should never get this far
    events = await ActionAskServiceChoice().run(dispatcher, make_tracker(slots=slots, requested_slot="service_choice", active_loop=FORM), domain)
    assert responses(dispatcher) == ["utter_service_failed"]
    assert "cleaning" in dispatcher.messages[0]["reason"]
    assert slot_events(events) == {"service_choice": "unmatched", "service_confirm": False, "requested_slot": None}
    dispatcher = CollectingDispatcher()
    await ActionBookHomeService().run(dispatcher, make_tracker(slots={**slots, **slot_events(events)}), domain)
    assert dispatcher.messages == [] and bookings(care) == []


async def test_a_choice_taken_before_the_summary_offers_the_nearest_times(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    slots: dict[str, Any] = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    slots["service_choice"] = choice_of((await choices(domain, slots)).messages[0]["buttons"][0])
    offering_id, start = slots["service_choice"].removeprefix("o:").split("@", 1)
    register(care, sender="joan-0001", full_name="Joan Smith")
    care.home_services.book("joan-0001", int(offering_id), datetime.fromisoformat(start))

    dispatcher = CollectingDispatcher()
    events = await ActionAskServiceConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="service_confirm", active_loop=FORM), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_invalid_answer"
    assert "Bright Homes is already booked" in message["reason"]
    *alternatives, another = message["buttons"]
    assert alternatives and another["title"] == "Another time"
    assert slots["service_choice"] not in [choice_of(b) for b in alternatives]
    assert slot_events(events) == {"service_choice": None, "requested_slot": "service_choice"}
    assert len(bookings(care)) == 1  # only Joan's


async def test_a_slot_taken_before_the_yes_brings_the_choices_back(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    add_cleaners(care)
    slots: dict[str, Any] = {"home_service": "cleaning", "service_window": FRIDAY_MORNING}
    first = (await choices(domain, slots)).messages[0]["buttons"][0]
    slots["service_choice"] = choice_of(first)
    offering_id, start = slots["service_choice"].removeprefix("o:").split("@", 1)
    register(care, sender="joan-0001", full_name="Joan Smith")
    taken = care.home_services.book("joan-0001", int(offering_id), datetime.fromisoformat(start))

    dispatcher = CollectingDispatcher()
    events = await ActionBookHomeService().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "service_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert "just taken" in dispatcher.messages[0]["reason"] or "already booked" in dispatcher.messages[0]["reason"]
    assert [b.reference for b in bookings(care)] == [taken.reference]  # only Joan's
    assert slot_events(events) == {"service_choice": None, "service_confirm": None}
    assert events[-1] == {"event": "followup", "name": FORM, "timestamp": None}


# ---- after booking ------------------------------------------------------------------------------


def book_cleaning(care: CareServices) -> str:
    option = care.home_services.find_options("mary-0001", "cleaning", TimeWindow(
        datetime(2026, 11, 27, 8, 0, tzinfo=LONDON), datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)))[0]
    return care.home_services.book("mary-0001", option.offering_id, option.starts_at).reference


async def test_a_booking_update_says_the_text_it_came_with(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    text = "A helper from Sparkle Home Cleaning is now assigned to your cleaning visit on Friday 27 November at 08:00."
    tracker = make_tracker(intent="EXTERNAL_booking_update",
                           entities=[("reference", "CL-ABC12"), ("status", "assigned"), ("text", text)])
    assert await ActionBookingUpdate().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages[0]["response"] == "utter_booking_update"
    assert dispatcher.messages[0]["text"] is None  # the response is used, filled with the update
    assert dispatcher.messages[0]["update"] == text
    assert domain["responses"]["utter_booking_update"][0]["text"] == "{update}"


async def test_a_booking_update_without_text_says_nothing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionBookingUpdate().run(dispatcher, make_tracker(intent="EXTERNAL_booking_update"), domain)
    assert dispatcher.messages == []


async def test_my_bookings_list_a_visit_with_its_status_in_words(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = book_cleaning(care)
    care.home_services.set_status(reference, "assigned", "coordinator:sam")
    await ActionListOrders().run(dispatcher, make_tracker("when is the cleaner coming?", "check_bookings"), domain)
    assert responses(dispatcher) == ["utter_orders_header", "utter_order_line"]
    line = dispatcher.messages[1]
    assert line["reference"] == reference
    assert line["provider"] == "Sparkle Home Cleaning"
    assert line["when"] == "tomorrow at 08:00"
    assert line["status"] == "a helper is assigned"
    assert line["total"] == "€36.00"


async def test_a_cleaning_visit_is_cancelled_and_its_time_freed(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = book_cleaning(care)
    assert held_slots(care, reference)
    dispatcher = CollectingDispatcher()
    slots = slot_events(await ValidateCancelBookingForm().run(
        dispatcher, make_tracker("cancel the cleaner", "cancel_booking"), domain))
    assert slots["cancel_reference"] == reference

    dispatcher = CollectingDispatcher()
    await ActionCancelBooking().run(dispatcher, make_tracker("yes", "affirm", slots={"cancel_reference": reference, "cancel_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_booking_cancelled"]
    assert dispatcher.messages[0]["reference"] == reference
    [booking] = bookings(care)
    assert booking.status == "cancelled"
    assert held_slots(care, reference) == []  # the cleaner's time is free again
    assert care.home_services.find_options("mary-0001", "cleaning", TimeWindow.at(booking.starts_at))


async def test_a_visit_can_be_moved_and_its_time_moves_too(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = book_cleaning(care)
    new_time = datetime(2026, 11, 30, 14, 0, tzinfo=LONDON)
    dispatcher = CollectingDispatcher()
    await ActionChangeBooking().run(dispatcher, make_tracker("yes", "affirm", slots={
        "change_reference": reference, "change_time": new_time.isoformat(), "change_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_booking_changed"]
    assert dispatcher.messages[0]["when"] == "Monday 30 November at 14:00"
    assert held_slots(care, reference)[0] == new_time

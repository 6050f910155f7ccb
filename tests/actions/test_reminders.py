"""Reminders by conversation: read back before saving, list, stop, and answering them when they come."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Optional
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from assistant.actions import base
from assistant.actions.reminders import (
    ActionAskReminderConfirm,
    ActionCancelReminder,
    ActionCheckinAlert,
    ActionCheckinAnswer,
    ActionDeliverReminder,
    ActionListReminders,
    ActionMissedReminder,
    ActionReminderAcknowledged,
    ActionReminderDone,
    ActionSaveReminder,
    ActionSetCheckin,
    ActionSnoozeReminder,
    ActionStopCheckin,
    ValidateReminderForm,
    checkin_answer,
    split_request,
)
from assistant.care import CareServices
from assistant.care.core.models import Escalation, ReminderDelivery
from assistant.care.reminders.reminders import DeliveryView

from .conftest import make_tracker, register, responses, slot_events

LONDON = ZoneInfo("Europe/London")
FORM = "reminder_form"
PILLS = "remind me to take my blood pressure pills every day at 8 and 20"


async def validate(dispatcher: CollectingDispatcher, domain: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("active_loop", FORM)
    return slot_events(await ValidateReminderForm().run(dispatcher, make_tracker(*args, **kwargs), domain))


def deliveries(care: CareServices) -> list[ReminderDelivery]:
    with care.db.reading() as session:
        found = list(session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))
        session.expunge_all()
    return found


def escalations(care: CareServices, kind: str) -> list[Escalation]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Escalation).where(Escalation.kind == kind)))
        session.expunge_all()
    return found


def clock_at(moment: datetime) -> None:
    """Move the pinned clock (the fixture puts it back after the test)."""
    base.set_clock(lambda: moment)


def sent(care: CareServices, at: datetime) -> DeliveryView:
    """The care service's part: the reminder falls due at ``at`` and is sent."""
    clock_at(at)
    [due] = care.reminders.due_deliveries(at)
    return care.reminders.record_sent(due.delivery_id, at)


def external(view: DeliveryView) -> list[dict[str, Any]]:
    """The entities of ``EXTERNAL_reminder`` as a care service sent them before reminders were appended."""
    values = {"delivery_id": view.delivery_id, "title": view.title, "dose": view.dose, "kind": view.kind,
              "due_note": view.note, "location": view.location, "due_time": view.due_time}
    return [{"entity": k, "value": v} for k, v in values.items()]


# ---- setting ------------------------------------------------------------------------------------


async def test_the_request_fills_what_and_when(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, PILLS, "set_reminder", active_loop=None)
    assert slots["reminder_title"] == "Take my blood pressure pills"
    assert slots["reminder_when"] == "every day at 8 and 20"
    assert dispatcher.messages == []


@pytest.mark.parametrize("said, what, when", [
    ("remind me about the dentist on Monday at 10", "the dentist", "on Monday at 10"),
    ("Remind me at 9 tomorrow to phone the bank", "phone the bank", "at 9 tomorrow"),
    ("remind me in 2 hours to take the cake out", "take the cake out", "in 2 hours"),
    ("remind me to water the plants", "water the plants", ""),
    ("remind me to take my morning pills every day at 8", "take my morning pills", "every day at 8"),
    ("remind me to look at the garden tomorrow at 4", "look at the garden", "tomorrow at 4"),
    ("remind me in 20 minutes to check the oven", "check the oven", "in 20 minutes"),
])
def test_what_and_when_are_told_apart(said: str, what: str, when: str) -> None:
    assert split_request(said) == (what, when)


async def test_the_reminder_is_read_back_and_not_saved_before_yes(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    slots = {"reminder_title": "Take my blood pressure pills", "reminder_when": "every day at 8 and 20"}
    dispatcher = CollectingDispatcher()
    await ActionAskReminderConfirm().run(dispatcher, make_tracker(slots=slots, requested_slot="reminder_confirm", active_loop=FORM), domain)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_reminder_summary"
    assert "Take my blood pressure pills" in summary["read_back"]
    assert "08:00 and 20:00" in summary["read_back"]
    assert "30 minutes" in summary["escalation"]  # medication: the family hears if it is not confirmed
    assert care.reminders.list_for("mary-0001") == []

    dispatcher = CollectingDispatcher()
    events = await ActionSaveReminder().run(dispatcher, make_tracker("yes", "affirm", slots={**slots, "reminder_confirm": True}), domain)
    assert responses(dispatcher) == ["utter_reminder_saved"]
    [saved] = care.reminders.list_for("mary-0001")
    assert (saved.kind, saved.title) == ("medication", "Take my blood pressure pills")
    assert saved.next_due_at == datetime(2026, 11, 26, 20, 0, tzinfo=LONDON)
    assert dispatcher.messages[0]["read_back"] == saved.read_back
    assert all(value is None for value in slot_events(events).values())


async def test_no_sets_nothing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = {"reminder_title": "Take my pills", "reminder_when": "every day at 8", "reminder_confirm": False}
    await ActionSaveReminder().run(dispatcher, make_tracker("no", "deny", slots=slots), domain)
    assert responses(dispatcher) == ["utter_reminder_not_saved"]
    assert care.reminders.list_for("mary-0001") == []


async def test_yesterday_is_refused(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "remind me yesterday", "set_reminder", active_loop=None)
    assert slots.get("reminder_title") is None
    assert slots["reminder_when"] is None
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert "Yesterday has already passed" in dispatcher.messages[0]["reason"]


async def test_yesterday_as_the_answer_is_refused(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "yesterday at 9", requested_slot="reminder_when",
                           slots={"reminder_title": "Call Anne"})
    assert slots["reminder_when"] is None
    assert "already passed" in dispatcher.messages[0]["reason"]
    assert care.reminders.list_for("mary-0001") == []


async def test_a_2000_character_title_is_refused_kindly(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "x" * 2000, requested_slot="reminder_title")
    assert slots["reminder_title"] is None
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert "a bit long" in dispatcher.messages[0]["reason"]


# ---- list and stop --------------------------------------------------------------------------------


def two_reminders(care: CareServices) -> tuple[int, int]:
    pills = care.reminders.create("mary-0001", "medication", "Blood pressure pills", "every day at 8 and 20")
    dentist = care.reminders.create("mary-0001", "appointment", "Dentist", "Monday at 10")
    assert pills.reminder_id is not None and dentist.reminder_id is not None
    return pills.reminder_id, dentist.reminder_id


async def test_reminders_are_listed_the_next_first(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    two_reminders(care)
    await ActionListReminders().run(dispatcher, make_tracker("what reminders do I have", "list_reminders"), domain)
    assert responses(dispatcher) == ["utter_reminders_header", "utter_reminder_line", "utter_reminder_line"]
    assert dispatcher.messages[1]["read_back"].startswith("Blood pressure pills, every day at 08:00 and 20:00.")
    assert dispatcher.messages[2]["read_back"].startswith("Dentist, ")


async def test_no_reminders_says_how_to_set_one(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionListReminders().run(dispatcher, make_tracker("my reminders", "list_reminders"), domain)
    assert responses(dispatcher) == ["utter_no_reminders"]


async def test_a_reminder_is_stopped_by_its_name(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    _, dentist = two_reminders(care)
    await ActionCancelReminder().run(dispatcher, make_tracker("stop the blood pressure reminder", "cancel_reminder"), domain)
    assert responses(dispatcher) == ["utter_reminder_cancelled"]
    assert dispatcher.messages[0]["title"] == "Blood pressure pills"
    assert [r.reminder_id for r in care.reminders.list_for("mary-0001")] == [dentist]


async def test_an_unclear_stop_offers_buttons_then_the_button_stops_it(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    pills, dentist = two_reminders(care)
    dispatcher = CollectingDispatcher()
    await ActionCancelReminder().run(dispatcher, make_tracker("cancel a reminder", "cancel_reminder"), domain)
    assert responses(dispatcher) == ["utter_which_reminder_to_cancel"]
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["title"] for b in buttons] == ["Stop: Blood pressure pills", "Stop: Dentist"]
    assert len(care.reminders.list_for("mary-0001")) == 2  # nothing stopped yet

    payload = buttons[1]["payload"]
    pressed = json.loads(payload.removeprefix("/cancel_reminder"))["reminder"]
    dispatcher = CollectingDispatcher()
    await ActionCancelReminder().run(dispatcher, make_tracker(payload, "cancel_reminder", entities=[("reminder", pressed)]), domain)
    assert dispatcher.messages[0]["title"] == "Dentist"
    assert [r.reminder_id for r in care.reminders.list_for("mary-0001")] == [pills]


# ---- when it comes ---------------------------------------------------------------------------------


async def pills_delivered(care: CareServices, domain: dict[str, Any]) -> tuple[DeliveryView, list[dict[str, Any]], CollectingDispatcher]:
    """The pills reminder set for 20:00 today, sent at 20:00 and said in the chat."""
    care.reminders.create("mary-0001", "medication", "Blood pressure pills", "every day at 8 and 20", dose="1 tablet")
    view = sent(care, datetime(2026, 11, 26, 20, 0, tzinfo=LONDON))
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverReminder().run(
        dispatcher, make_tracker("EXTERNAL: EXTERNAL_reminder", "EXTERNAL_reminder", entities=external(view)), domain)
    return view, events, dispatcher


async def test_a_reminder_comes_with_done_and_snooze_buttons(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    view, events, dispatcher = await pills_delivered(care, domain)
    [message] = dispatcher.messages
    assert message["text"] == "It's 20:00. Reminder: Blood pressure pills (1 tablet). Please press “Done” when you have."
    assert [b["title"] for b in message["buttons"]] == ["Done", "Remind me in 10 minutes"]
    assert message["buttons"][0]["payload"] == "/reminder_done"
    assert slot_events(events) == {"last_delivery_id": str(view.delivery_id), "last_delivery_kind": "medication"}


async def test_done_is_recorded(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    view, events, _ = await pills_delivered(care, domain)
    clock_at(datetime(2026, 11, 26, 20, 5, tzinfo=LONDON))
    dispatcher = CollectingDispatcher()
    after = await ActionReminderDone().run(dispatcher, make_tracker("done", "reminder_done", slots=slot_events(events)), domain)
    assert responses(dispatcher) == ["utter_reminder_acknowledged"]
    [delivery] = deliveries(care)
    assert delivery.id == view.delivery_id
    assert delivery.status == "acknowledged"
    assert delivery.acknowledged_at == datetime(2026, 11, 26, 20, 5, tzinfo=LONDON)
    assert slot_events(after) == {"last_delivery_id": None, "last_delivery_kind": None}


async def test_done_with_nothing_waiting_says_so(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionReminderDone().run(dispatcher, make_tracker("done", "reminder_done"), domain)
    assert responses(dispatcher) == ["utter_nothing_to_acknowledge"]


@pytest.mark.parametrize("said, entities, minutes", [
    ('/snooze_reminder{"minutes": "10"}', [("minutes", "10")], 10),
    ("remind me again in half an hour", [], 30),
    ("in 2 hours please", [("number", "2")], 120),
])
async def test_snooze_puts_the_reminder_off(said: str, entities: list[tuple[str, str]], minutes: int, care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    _, events, _ = await pills_delivered(care, domain)
    dispatcher = CollectingDispatcher()
    await ActionSnoozeReminder().run(dispatcher, make_tracker(said, "snooze_reminder", entities=entities, slots=slot_events(events)), domain)
    until = datetime(2026, 11, 26, 20, 0, tzinfo=LONDON) + timedelta(minutes=minutes)
    assert responses(dispatcher) == ["utter_reminder_snoozed"]
    assert dispatcher.messages[0]["until"] == f"{until:%H:%M}"
    [delivery] = deliveries(care)
    assert (delivery.status, delivery.snoozed_until) == ("snoozed", until)


async def test_snoozing_too_long_is_refused_with_a_done_button(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    _, events, _ = await pills_delivered(care, domain)
    dispatcher = CollectingDispatcher()
    await ActionSnoozeReminder().run(dispatcher, make_tracker("in 5 hours", "snooze_reminder", slots=slot_events(events)), domain)
    assert responses(dispatcher) == ["utter_snooze_failed"]
    [delivery] = deliveries(care)
    assert delivery.snoozed_until is None


# ---- the daily check-in ------------------------------------------------------------------------------


async def checkin_delivered(care: CareServices, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    care.reminders.set_checkin("mary-0001", "every day at 11")
    view = sent(care, datetime(2026, 11, 26, 11, 0, tzinfo=LONDON))
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverReminder().run(
        dispatcher, make_tracker("EXTERNAL: EXTERNAL_reminder", "EXTERNAL_reminder", entities=external(view)), domain)
    return events, dispatcher


async def test_the_checkin_asks_how_i_am_with_buttons(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    events, dispatcher = await checkin_delivered(care, domain)
    [message] = dispatcher.messages
    assert message["text"] == "Good morning! It's time for our daily check-in. How are you today?"
    assert [b["title"] for b in message["buttons"]] == ["I'm fine", "Not so good", "Please call me"]
    assert slot_events(events)["last_delivery_kind"] == "checkin"


async def test_not_so_good_reaches_a_person(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne", "daughter")
    events, _ = await checkin_delivered(care, domain)
    dispatcher = CollectingDispatcher()
    after = await ActionCheckinAnswer().run(dispatcher, make_tracker("not so good today", slots=slot_events(events)), domain)
    assert responses(dispatcher) == ["utter_checkin_not_good"]
    assert dispatcher.messages[0]["who"] == "your family and a care coordinator"
    assert dispatcher.messages[0]["number"] == "112"
    [escalation] = escalations(care, "wellbeing")
    assert escalation.conversation_id == "mary-0001"
    [delivery] = deliveries(care)
    assert (delivery.answer, delivery.status) == ("not_good", "acknowledged")
    assert slot_events(after) == {"last_delivery_id": None, "last_delivery_kind": None}


async def test_im_fine_is_recorded_without_alarming_anyone(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    events, _ = await checkin_delivered(care, domain)
    dispatcher = CollectingDispatcher()
    await ActionCheckinAnswer().run(dispatcher, make_tracker('/inform{"checkin": "fine"}', entities=[("checkin", "fine")],
                                                             slots=slot_events(events)), domain)
    assert responses(dispatcher) == ["utter_checkin_fine"]
    assert escalations(care, "wellbeing") == [] and escalations(care, "talk_to_human") == []
    assert deliveries(care)[0].answer == "fine"


# ---- relatives are told ---------------------------------------------------------------------------------


def said_to_relative(entities: dict[str, Optional[str]]) -> list[dict[str, Any]]:
    return [{"entity": k, "value": v} for k, v in entities.items()]


async def test_a_relative_hears_about_a_missed_reminder(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="EXTERNAL_missed_reminder", sender="anne-0001", entities=said_to_relative({
        "senior_name": "Mary Jones", "title": "Blood pressure pills", "kind": "medication", "due_time": "08:00",
        "reason": "She did not press Done."}))
    await ActionMissedReminder().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_missed_reminder"
    assert (message["senior_name"], message["what"], message["due_time"]) == ("Mary Jones", "Blood pressure pills", "08:00")
    assert message["reason"] == " She did not press Done."


async def test_a_relative_hears_it_was_confirmed_after_all(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="EXTERNAL_reminder_acknowledged", sender="anne-0001", entities=said_to_relative({
        "senior_name": "Mary Jones", "title": "Blood pressure pills", "due_time": "08:00"}))
    await ActionReminderAcknowledged().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_reminder_acknowledged_late"
    assert (message["senior_name"], message["title"], message["due_time"]) == ("Mary Jones", "Blood pressure pills", "08:00")


async def test_a_relative_hears_about_a_worrying_checkin(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="EXTERNAL_checkin_alert", sender="anne-0001", entities=said_to_relative({
        "senior_name": "Mary Jones", "answer": "call_me", "reference": "E-7K3Q9"}))
    await ActionCheckinAlert().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_checkin_alert"
    assert (message["senior_name"], message["answer_words"], message["reference"]) == (
        "Mary Jones", "would like someone to call them", "E-7K3Q9")



@pytest.mark.parametrize("said, answer", [
    ("not so good today", "not_good"),
    ("I feel dizzy", "not_good"),
    ("not bad thanks", "fine"),
    ("I'm fine, just back from painting in Spain", "fine"),
    ("fine, but please call me", "call_me"),
])
def test_checkin_answers_in_words_are_understood(said: str, answer: str) -> None:
    assert checkin_answer(make_tracker(said)) == answer


async def test_the_daily_checkin_can_be_set_and_stopped(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    dispatcher = CollectingDispatcher()
    await ActionSetCheckin().run(dispatcher, make_tracker("check on me every morning at 10", "set_checkin"), domain)
    assert responses(dispatcher) == ["utter_checkin_set"]
    assert "10:00" in dispatcher.messages[0]["schedule"]
    [checkin] = [r for r in care.reminders.list_for("mary-0001") if r.kind == "checkin"]
    assert checkin.next_due_at == datetime(2026, 11, 27, 10, 0, tzinfo=LONDON)

    dispatcher = CollectingDispatcher()
    await ActionStopCheckin().run(dispatcher, make_tracker("stop checking on me", "stop_checkin"), domain)
    assert responses(dispatcher) == ["utter_checkin_stopped"]
    assert [r for r in care.reminders.list_for("mary-0001") if r.kind == "checkin"] == []

    dispatcher = CollectingDispatcher()
    await ActionStopCheckin().run(dispatcher, make_tracker("stop checking on me", "stop_checkin"), domain)
    assert responses(dispatcher) == ["utter_no_checkin"]


async def test_a_title_answer_with_a_time_answers_both_questions(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    slots = await validate(dispatcher, domain, "my heart tablet at 8 every morning", requested_slot="reminder_title")
    assert slots["reminder_title"] == "My heart tablet"
    assert slots["reminder_when"] == "at 8 every morning"
    assert dispatcher.messages == []

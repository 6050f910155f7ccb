"""A form steps aside when the user clearly asks for something else, and only then."""

from __future__ import annotations

from assistant.actions.forms import starts_new_task
from assistant.actions.reminders import ValidateReminderForm

from .conftest import make_tracker


def tracker_with(text: str, intent: str, confidence: float, form: str, slot: str):
    tracker = make_tracker(text, intent, requested_slot=slot, active_loop=form)
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


def test_a_confident_complaint_during_a_reminder_is_not_taken_as_its_time() -> None:
    tracker = tracker_with("the cleaner broke my vase yesterday", "complain", 0.86, "reminder_form", "reminder_when")
    assert starts_new_task(tracker)
    assert ValidateReminderForm().requested_answer(tracker, "reminder_when") is None


def test_an_unsure_guess_is_still_an_answer() -> None:
    tracker = tracker_with("after my breakfast", "complain", 0.4, "reminder_form", "reminder_when")
    assert not starts_new_task(tracker)
    assert ValidateReminderForm().requested_answer(tracker, "reminder_when") == "after my breakfast"


def test_naming_the_forms_own_task_again_is_an_answer() -> None:
    tracker = tracker_with("the chicken casserole please", "order_meal", 0.97, "meal_order_form", "meal_choice")
    assert not starts_new_task(tracker)


async def test_a_new_form_does_not_inherit_the_failures_of_the_last_one(domain) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    tracker = make_tracker("", "set_reminder", slots={"failed_attempts": 1.0})
    events = await ValidateReminderForm().run(CollectingDispatcher(), tracker, domain)
    assert {"event": "slot", "name": "failed_attempts", "value": 0.0, "timestamp": None} in events

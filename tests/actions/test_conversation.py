"""Say that again, and stop."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.conversation import ActionRepeatLast, ActionStop

from .conftest import make_tracker, responses, slot_events


async def test_repeat_sends_the_previous_reply_with_its_buttons(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    history = [
        {"event": "user", "text": "hi"},
        {"event": "bot", "text": "Hello again."},
        {"event": "user", "text": "what can you do"},
        {"event": "bot", "text": "I can order meals.", "data": {"buttons": [{"title": "Order a meal", "payload": "/order_meal"}]}},
    ]
    await ActionRepeatLast().run(dispatcher, make_tracker("say that again", "repeat", events=history), domain)
    assert [m["text"] for m in dispatcher.messages] == ["I can order meals."]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/order_meal"


async def test_repeat_with_nothing_said_yet(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionRepeatLast().run(dispatcher, make_tracker("again", "repeat"), domain)
    assert responses(dispatcher) == ["utter_nothing_to_repeat"]


async def test_stop_forgets_the_unsaved_answers(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    events = await ActionStop().run(dispatcher, make_tracker("never mind", "stop", slots={"meal_choice": "d:3", "full_name": "Mary"}), domain)
    slots = slot_events(events)
    assert slots["meal_choice"] is None and slots["full_name"] is None and slots["pending_request"] is None
    assert responses(dispatcher) == ["utter_stopped"]

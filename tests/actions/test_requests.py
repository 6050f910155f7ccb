"""Asking for a person is recorded for a coordinator, and nothing is promised that was not saved."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.requests import ActionRecordRequest
from assistant.care import CareServices

from .conftest import make_tracker, responses


async def test_asking_for_a_person_is_recorded(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionRecordRequest().run(dispatcher, make_tracker("I want a real person", "talk_to_human"), domain)
    [escalation] = care.escalations.list_open()
    assert escalation.kind == "talk_to_human" and escalation.conversation_id == "mary-0001"
    assert "I want a real person" in escalation.summary
    assert responses(dispatcher) == ["utter_human_recorded"]
    assert dispatcher.messages[0]["reference"] == escalation.reference


async def test_nothing_is_promised_when_the_request_cannot_be_saved(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(care.escalations, "open", broken)
    await ActionRecordRequest().run(dispatcher, make_tracker("can I speak to someone", "talk_to_human"), domain)
    assert responses(dispatcher) == ["utter_request_not_recorded"]

"""Requests that have not landed yet are recorded for a coordinator, honestly."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.requests import ActionRecordRequest
from assistant.care import CareServices

from .conftest import make_tracker, responses


@pytest.mark.parametrize(
    ("intent", "kind"),
    [
        ("book_home_service", "service_request"),
        ("consult_legal", "consultation"),
        ("consult_health", "consultation"),
        ("set_reminder", "service_request"),
        ("complain", "complaint"),
        ("rate_service", "service_request"),
    ],
)
async def test_request_is_recorded_and_the_user_told(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], intent: str, kind: str
) -> None:
    await ActionRecordRequest().run(dispatcher, make_tracker("<b>please</b> help", intent), domain)
    [escalation] = care.escalations.list_open()
    assert escalation.kind == kind and escalation.conversation_id == "mary-0001"
    assert "<b>please</b> help" in escalation.summary
    assert responses(dispatcher) == ["utter_request_recorded"]
    assert dispatcher.messages[0]["reference"] == escalation.reference
    assert "yet" in dispatcher.messages[0]["what"] or kind in ("complaint", "service_request")


async def test_asking_for_a_person_is_recorded(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionRecordRequest().run(dispatcher, make_tracker("I want a real person", "talk_to_human"), domain)
    [escalation] = care.escalations.list_open()
    assert escalation.kind == "talk_to_human"
    assert responses(dispatcher) == ["utter_human_recorded"]


async def test_nothing_is_promised_when_the_request_cannot_be_saved(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(care.escalations, "open", broken)
    await ActionRecordRequest().run(dispatcher, make_tracker("clean my flat", "book_home_service"), domain)
    assert responses(dispatcher) == ["utter_request_not_recorded"]

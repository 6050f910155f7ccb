"""Emergencies get the number at once and a top-priority escalation."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions import base
from assistant.actions.safety import ActionEmergency
from assistant.care import CareServices

from .conftest import make_tracker, responses


async def test_emergency_gives_the_number_and_alerts_coordinators(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionEmergency().run(dispatcher, make_tracker("I've fallen and can't get up", "emergency"), domain)
    assert responses(dispatcher) == ["utter_emergency"]
    assert dispatcher.messages[0]["number"] == "112"
    [escalation] = care.escalations.list_open()
    assert escalation.kind == "emergency" and escalation.priority == 1
    assert escalation.reference == dispatcher.messages[0]["reference"]
    assert "fallen" in escalation.summary


async def test_emergency_number_is_given_even_when_the_database_fails(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(base.care().escalations, "open", broken)
    await ActionEmergency().run(dispatcher, make_tracker("chest pain", "emergency"), domain)
    assert responses(dispatcher) == ["utter_emergency_unsaved"]
    assert dispatcher.messages[0]["number"] == "112"

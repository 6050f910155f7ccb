"""Rasa starts a session by itself when the action server is down, so the emergency rule still matches."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from assistant import rasa_resilience
from assistant.stack import free_port

DOMAIN = Domain.from_yaml("""
version: "3.1"
slots:
  user_name:
    type: text
    mappings: [{type: custom}]
actions: [action_session_start, action_emergency]
""")


@pytest.fixture
def patched() -> Iterator[None]:
    rasa_resilience.apply()
    yield
    rasa_resilience.remove()


def run(action_name: str) -> list:
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")  # nobody listens there
    tracker = DialogueStateTracker.from_events("mary", [SlotSet("user_name", "Mary")], slots=DOMAIN.slots)
    action = RemoteAction(action_name, endpoint)
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN))


def test_without_the_action_server_a_session_starts_with_rasas_default_and_keeps_the_slots(patched: None) -> None:
    events = run("action_session_start")

    assert isinstance(events[0], SessionStarted)
    assert SlotSet("user_name", "Mary") in events
    assert events[-1] == ActionExecuted("action_listen")


def test_other_actions_still_fail_so_rasa_logs_them(patched: None) -> None:
    with pytest.raises(RasaException):
        run("action_emergency")


def test_unpatched_rasa_fails_the_session_start() -> None:
    with pytest.raises(RasaException):
        run("action_session_start")

"""The cached action-response validator (assistant.rasa_speedups) and the Rasa launcher."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any, Dict, Iterator, List

import jsonschema
import pytest
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from assistant import rasa_server, rasa_speedups
from assistant.settings import PROJECT_ROOT

# What our action server answers for action_session_start and a reminder (shape of rasa_sdk's answer).
VALID_ANSWERS: List[Dict[str, Any]] = [
    {
        "events": [
            {"event": "session_started", "timestamp": None},
            {"event": "slot", "timestamp": None, "name": "user_name", "value": "Ada"},
            {"event": "action", "timestamp": None, "name": "action_listen", "policy": None,
             "confidence": None, "action_text": None, "hide_rule_turn": False},
        ],
        "responses": [],
    },
    {
        "events": [{"event": "slot", "timestamp": None, "name": "last_reminder_id", "value": "42"}],
        "responses": [
            {"text": "Time to take your blood pressure pills.", "buttons": [
                {"title": "Done", "payload": "/reminder_done"},
                {"title": "Remind me in 10 minutes", "payload": "/snooze_reminder"},
            ], "elements": [], "custom": {}, "template": None, "response": None, "image": None,
             "attachment": None},
        ],
    },
    {},
]

INVALID_ANSWERS: List[Dict[str, Any]] = [
    {"events": {"event": "slot", "name": "user_name", "value": "Ada"}, "responses": []},  # not a list
    {"events": [{"name": "user_name", "value": "Ada"}], "responses": []},  # an event without "event"
    {"events": [{"event": "slot", "name": "x"}], "responses": ["not an object"]},
]


@pytest.fixture
def action() -> RemoteAction:
    """A real Rasa remote action (no server behind it)."""
    return RemoteAction("action_deliver_reminder", EndpointConfig("http://127.0.0.1:9/webhook"))


@pytest.fixture
def patched() -> Iterator[None]:
    """The speed-ups applied for one test, removed afterwards."""
    rasa_speedups.remove()
    assert rasa_speedups.apply()
    yield
    rasa_speedups.remove()


def _plain_error(action: RemoteAction, answer: Dict[str, Any]) -> jsonschema.ValidationError:
    """The error Rasa's own, unpatched method raises."""
    assert not rasa_speedups.applied()
    with pytest.raises(jsonschema.ValidationError) as caught:
        action._validate_action_result(answer)
    return caught.value


@pytest.mark.parametrize("answer", VALID_ANSWERS)
def test_valid_answers_pass(action: RemoteAction, patched: None, answer: Dict[str, Any]) -> None:
    assert rasa_speedups.applied()
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", INVALID_ANSWERS)
def test_invalid_answers_raise_the_error_rasa_raises(action: RemoteAction, answer: Dict[str, Any]) -> None:
    rasa_speedups.remove()
    expected = _plain_error(action, answer)
    rasa_speedups.apply()
    try:
        with pytest.raises(jsonschema.ValidationError) as caught:
            action._validate_action_result(answer)
    finally:
        rasa_speedups.remove()
    error = caught.value
    assert type(error) is type(expected)
    assert error.message == expected.message
    assert "Failed to validate Action server response from API" in error.message
    assert list(error.absolute_path) == list(expected.absolute_path)
    assert error.validator == expected.validator


def test_an_invalid_answer_is_rejected_by_run(action: RemoteAction, patched: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Through RemoteAction.run, as the Rasa server calls it: a malformed answer is not used."""
    answers = iter([VALID_ANSWERS[1], INVALID_ANSWERS[1]])

    async def request(**kwargs: Any) -> Dict[str, Any]:
        return next(answers)

    assert action.action_endpoint is not None
    monkeypatch.setattr(action.action_endpoint, "request", request)
    tracker = DialogueStateTracker.from_events("senior-1", [SessionStarted()])
    domain = Domain.empty()
    run = action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain)
    events = asyncio.run(run)
    assert SlotSet("last_reminder_id", "42") in events
    assert events[0].text == "Time to take your blood pressure pills."

    run = action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        asyncio.run(run)


def test_the_validator_is_compiled_once(action: RemoteAction, patched: None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cls = validator_for(action.action_response_format_spec())
    calls = {"check_schema": 0}
    plain_check = cls.check_schema

    def counting_check(schema: Any, *args: Any, **kwargs: Any) -> None:
        calls["check_schema"] += 1
        plain_check(schema, *args, **kwargs)

    monkeypatch.setattr(cls, "check_schema", counting_check)
    for _ in range(100):
        for answer in VALID_ANSWERS:
            assert action._validate_action_result(answer) is True
    assert calls["check_schema"] == 1
    assert rasa_speedups.validators.compiled == 1


def test_the_same_validator_class_as_jsonschema_validate(action: RemoteAction, patched: None) -> None:
    schema = action.action_response_format_spec()
    validator = rasa_speedups.validators.get(schema)
    assert type(validator) is validator_for(schema)


def test_a_broken_schema_falls_back_to_jsonschema(patched: None) -> None:
    assert rasa_speedups.validators.get({"type": 12}) is None
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validate({}, {"type": 12})


def test_apply_is_idempotent_and_removable(patched: None) -> None:
    assert rasa_speedups.apply() is False
    rasa_speedups.remove()
    assert not rasa_speedups.applied()


@pytest.mark.parametrize(("value", "on"), [("", True), ("1", True), ("0", False), ("off", False),
                                           ("False", False), ("no", False)])
def test_the_switch(value: str, on: bool) -> None:
    assert rasa_speedups.enabled({rasa_speedups.ENV_VAR: value}) is on
    assert rasa_speedups.enabled({}) is True


@pytest.mark.parametrize(("value", "on"), [("1", True), ("0", False)])
def test_the_launcher_applies_them_before_rasa_runs(monkeypatch: pytest.MonkeyPatch, value: str,
                                                    on: bool) -> None:
    import rasa.__main__

    seen: Dict[str, Any] = {}

    def fake_rasa_main() -> None:
        seen["argv"] = list(sys.argv)
        seen["applied"] = rasa_speedups.applied()

    rasa_speedups.remove()
    monkeypatch.setenv(rasa_speedups.ENV_VAR, value)
    monkeypatch.setattr(sys, "argv", ["x"])
    monkeypatch.setattr(rasa.__main__, "main", fake_rasa_main)
    try:
        rasa_server.main(["run", "--enable-api", "--port", "5005"])
    finally:
        rasa_speedups.remove()
    assert seen == {"argv": ["rasa", "run", "--enable-api", "--port", "5005"], "applied": on}


def test_the_launcher_runs_rasas_cli() -> None:
    """`python -m assistant.rasa_server --version` is Rasa's own command line, speed-ups on."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.rasa_server", "--version"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Rasa Version" in done.stdout and "3.6.21" in done.stdout
    assert "speed-ups: cached action-response validator" in done.stderr


def test_the_stack_starts_rasa_through_the_launcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from assistant.settings import Settings
    from assistant.stack import Stack

    spawned: Dict[str, str] = {}

    def fake_spawn(self: Stack, name: str, args: List[str], module: str = "rasa") -> None:
        spawned[name] = module
        if name == "rasa":
            raise SystemExit  # stop before waiting for servers

    monkeypatch.setattr(Stack, "_spawn", fake_spawn)
    monkeypatch.setattr("assistant.stack.model_path", lambda root: tmp_path / "model.tar.gz")
    (tmp_path / "model.tar.gz").write_bytes(b"")
    monkeypatch.setattr("assistant.stack.credentials_for_rasa", lambda *a: tmp_path / "credentials.yml")
    with pytest.raises(SystemExit):
        Stack(Settings(), log_dir=tmp_path / "logs").start()
    assert spawned == {"actions": "rasa", "rasa": "assistant.rasa_server"}

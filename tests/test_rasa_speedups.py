"""The Rasa speed-ups (assistant.rasa_speedups: the action-response validator, the SQLite tracker store)
and the Rasa launcher."""

from __future__ import annotations

import asyncio
import copy
import logging
import random
import sqlite3
import subprocess
import sys
from collections import Counter
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

from assistant import rasa_resilience, rasa_server, rasa_speedups
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
        rasa_server.main(["run", "--enable-api", "--interface", "127.0.0.1", "--port", "5005"])
    finally:
        rasa_speedups.remove()
        rasa_resilience.remove()
    assert seen == {"argv": ["rasa", "run", "--enable-api", "--interface", "127.0.0.1", "--port", "5005"], "applied": on}


def test_the_launcher_runs_rasas_cli() -> None:
    """`python -m assistant.rasa_server --version` is Rasa's own command line, speed-ups on."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.rasa_server", "--version"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Rasa Version" in done.stdout and "3.6.21" in done.stdout
    assert "speed-ups: cached action-response validator" in done.stderr


def test_the_stack_starts_rasa_through_the_launcher_and_the_locked_action_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from dataclasses import replace

    from assistant.settings import Settings
    from assistant.stack import Stack

    monkeypatch.setattr("assistant.stack.credentials_for_rasa", lambda *a: tmp_path / "credentials.yml")
    stack = Stack(replace(Settings(), rasa_token="s3cret"), log_dir=tmp_path / "logs")

    module, args = stack.command("rasa")
    assert module == "assistant.rasa_server"
    assert args[args.index("--interface") + 1] == "127.0.0.1" and args[args.index("--auth-token") + 1] == "s3cret"
    assert stack.command("actions")[0] == "assistant.action_server"
    environment = stack.environment()
    assert len(environment["ASSISTANT_ACTION_TOKEN"]) == 64, "a generated 256-bit secret"
    assert (tmp_path / "action-token").read_text().strip() == environment["ASSISTANT_ACTION_TOKEN"]
    assert oct((tmp_path / "action-token").stat().st_mode & 0o777) == "0o600"


# ---- events checked by name (EventDispatchCheck) ----------------------------------------------

EVENT_NAMES = ["user", "action", "slot", "entities", "user_featurization", "cancel_reminder", "reminder",
               "action_execution_rejected", "form_validation", "loop_interrupted", "form", "active_loop",
               "reset_slots", "resume", "pause", "followup", "export", "restart", "undo", "rewind", "bot",
               "session_started", "agent"]
ODD_VALUES: List[Any] = [None, True, 0, 1, 1.5, -3, "", "x", "action_listen", [], ["a"], {}, {"a": 1}]
FIELDS = ["timestamp", "metadata", "name", "value", "policy", "confidence", "hide_rule_turn", "action_text",
          "text", "input_channel", "message_id", "parse_data", "entities", "extra"]


def _random_entity(rng: random.Random) -> Any:
    entity: Dict[str, Any] = {"entity": "district", "value": "Riverside", "start": 0, "end": 9,
                              "confidence": 0.9, "extractor": None, "role": None, "group": None}
    for key in rng.sample(sorted(entity), rng.randint(0, 2)):
        if rng.random() < 0.5:
            del entity[key]
        else:
            entity[key] = rng.choice(ODD_VALUES)
    return entity if rng.random() < 0.95 else rng.choice(ODD_VALUES)


def _random_parse_data(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        return rng.choice(ODD_VALUES)
    data: Dict[str, Any] = {"text": "hello", "intent": {"name": "greet", "confidence": 0.9},
                            "intent_ranking": [{"name": "greet", "confidence": 0.9}],
                            "entities": [_random_entity(rng) for _ in range(rng.randint(0, 2))]}
    if rng.random() < 0.3:
        data["response_selector"] = rng.choice([
            {"all_retrieval_intents": ["consult_legal"]},
            {"consult_legal": {"response": {"responses": [{"text": "x"}], "confidence": 0.5},
                               "ranking": [{"id": 1, "confidence": 0.5}]}},
            {"all_retrieval_intents": ["consult_legal"], "default": {"response": {}}},
            {}, {"all_retrieval_intents": "no"}, {"consult_legal": {"response": {"confidence": "high"}}},
            rng.choice(ODD_VALUES),
        ])
    for key in rng.sample(sorted(data), rng.randint(0, 2)):
        data[key] = rng.choice(ODD_VALUES + [{"name": 3}, [{"name": 1}]])
    return data


def _random_event(rng: random.Random) -> Any:
    if rng.random() < 0.03:
        return rng.choice(ODD_VALUES)
    event: Dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.85:
        event["event"] = rng.choice(EVENT_NAMES)
    elif roll < 0.93:
        event["event"] = rng.choice(["unknown", "Slot", "slot ", "", "bot_uttered"])
    elif roll < 0.97:
        event["event"] = rng.choice(ODD_VALUES)
    for field in rng.sample(FIELDS, rng.randint(0, 5)):
        if field == "parse_data":
            event[field] = _random_parse_data(rng)
        elif field == "entities":
            event[field] = ([_random_entity(rng) for _ in range(rng.randint(0, 2))]
                            if rng.random() < 0.8 else rng.choice(ODD_VALUES))
        elif field == "timestamp" and rng.random() < 0.6:
            event[field] = rng.choice([None, 1795682722.25, 1795682722])
        else:
            event[field] = rng.choice(ODD_VALUES)
    if event.get("event") == "slot" and rng.random() < 0.7:
        event.setdefault("name", "user_name")
        event.setdefault("value", "Ada")
    return event


def _random_answer(rng: random.Random) -> Any:
    if rng.random() < 0.02:
        return rng.choice(ODD_VALUES)
    answer: Dict[str, Any] = {}
    if rng.random() < 0.9:
        answer["events"] = ([_random_event(rng) for _ in range(rng.randint(0, 4))]
                            if rng.random() < 0.95 else rng.choice(ODD_VALUES))
    if rng.random() < 0.8:
        answer["responses"] = ([{"text": "hi"} if rng.random() < 0.9 else rng.choice(ODD_VALUES)
                                for _ in range(rng.randint(0, 2))]
                               if rng.random() < 0.95 else rng.choice(ODD_VALUES))
    if rng.random() < 0.1:
        answer["extra"] = rng.choice(ODD_VALUES)
    return answer


def _jsonschema_says(answer: Any, schema: Dict[str, Any]) -> bool:
    try:
        jsonschema.validate(answer, schema)
    except jsonschema.ValidationError:
        return False
    return True


def test_events_are_checked_by_name_for_rasas_schema(action: RemoteAction, patched: None) -> None:
    schema = action.action_response_format_spec()
    check = rasa_speedups.validators.check(schema)
    assert check is not None
    assert getattr(check, "__self__", None).__class__ is rasa_speedups.EventDispatchCheck
    assert rasa_speedups.validators.dispatching == 1
    dispatch = check.__self__  # type: ignore[attr-defined]
    assert sorted(dispatch.branches) == sorted(EVENT_NAMES)


def test_checking_events_by_name_agrees_with_jsonschema(action: RemoteAction) -> None:
    """Thousands of well-formed and malformed answers: the same verdict as jsonschema.validate."""
    schema = action.action_response_format_spec()
    cls = validator_for(schema)
    dispatch = rasa_speedups.EventDispatchCheck.build(schema, cls)
    assert dispatch is not None
    reference = cls(schema)  # what jsonschema.validate builds each time, built once here
    rng = random.Random(20261126)
    answers = VALID_ANSWERS + INVALID_ANSWERS + [_random_answer(rng) for _ in range(4000)]
    for answer in answers[:40]:
        assert reference.is_valid(answer) is _jsonschema_says(answer, schema)
    verdicts: Counter = Counter()
    for answer in answers:
        expected = reference.is_valid(answer)
        assert dispatch.is_valid(answer) is expected, answer
        verdicts[expected] += 1
    assert verdicts[True] > 600 and verdicts[False] > 600, verdicts  # both kinds well represented


def test_every_event_type_rasa_writes_passes(action: RemoteAction, patched: None) -> None:
    """Every event Rasa itself can serialise is accepted, as by jsonschema."""
    from rasa.shared.core import events as rasa_events

    samples = [
        rasa_events.UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "a", "value": "b"}]),
        rasa_events.BotUttered("hello", {"buttons": [{"title": "Done", "payload": "/reminder_done"}]}),
        rasa_events.SlotSet("registered", True), rasa_events.SlotSet("user_name", None),
        rasa_events.ActionExecuted("action_listen"), rasa_events.SessionStarted(), rasa_events.Restarted(),
        rasa_events.AllSlotsReset(), rasa_events.ActiveLoop("onboarding_form"), rasa_events.ActiveLoop(None),
        rasa_events.FollowupAction("action_greet"), rasa_events.ConversationPaused(),
        rasa_events.ConversationResumed(), rasa_events.UserUtteranceReverted(), rasa_events.ActionReverted(),
        rasa_events.LoopInterrupted(True), rasa_events.ActionExecutionRejected("action_greet"),
        rasa_events.EntitiesAdded([{"entity": "district", "value": "Riverside"}]),
        rasa_events.AgentUttered("x"), rasa_events.StoryExported(),
    ]
    schema = action.action_response_format_spec()
    for sample in samples:
        answer = {"events": [sample.as_dict()], "responses": []}
        assert _jsonschema_says(answer, schema), answer
        assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("change", ["ref", "no_const", "same_const", "extra_keyword", "events_not_array_items",
                                    "top_level_keyword", "event_not_required"])
def test_other_schema_shapes_are_not_checked_by_name(action: RemoteAction, change: str) -> None:
    schema = copy.deepcopy(action.action_response_format_spec())
    event = schema["properties"]["events"]["items"]
    if change == "ref":
        schema["$defs"] = {"slot": event["oneOf"][2]}
        event["oneOf"][2] = {"$ref": "#/$defs/slot"}
    elif change == "no_const":
        event["oneOf"][5] = {"properties": {"event": {"type": "string"}}}
    elif change == "same_const":
        event["oneOf"][5] = {"properties": {"event": {"const": "slot"}}}
    elif change == "extra_keyword":
        event["unevaluatedProperties"] = False
    elif change == "events_not_array_items":
        schema["properties"]["events"]["minItems"] = 1
    elif change == "top_level_keyword":
        schema["required"] = ["events"]
    elif change == "event_not_required":
        event["required"] = []
    cls = validator_for(schema)
    cls.check_schema(schema)
    assert rasa_speedups.EventDispatchCheck.build(schema, cls) is None
    cache = rasa_speedups.ValidatorCache()
    check = cache.check(schema)
    validator = cache.get(schema)
    assert check is not None and validator is not None
    assert check == validator.is_valid and cache.dispatching == 0


def test_the_validator_part_alone_checks_every_branch(action: RemoteAction) -> None:
    rasa_speedups.remove()
    try:
        assert rasa_speedups.apply(["validator"])
        assert rasa_speedups.applied_parts() == {"validator"}
        schema = action.action_response_format_spec()
        check = rasa_speedups.validators.check(schema)
        assert check == rasa_speedups.validators.get(schema).is_valid  # type: ignore[union-attr]
        for answer in VALID_ANSWERS:
            assert action._validate_action_result(answer) is True
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(INVALID_ANSWERS[1])
    finally:
        rasa_speedups.remove()


@pytest.mark.parametrize(("value", "parts"), [
    ("", {"validator", "events", "tracker_store"}), ("all", {"validator", "events", "tracker_store"}),
    ("0", set()), ("validator", {"validator"}), ("validator, events", {"validator", "events"}),
    ("tracker_store", {"tracker_store"}),
])
def test_the_parts_switch(value: str, parts: set) -> None:
    assert rasa_speedups.enabled_parts({rasa_speedups.ENV_VAR: value}) == parts


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown part"):
        rasa_speedups.enabled_parts({rasa_speedups.ENV_VAR: "validatr"})
    with pytest.raises(ValueError, match="needs the 'validator' part"):
        rasa_speedups.apply(["events"])


def test_the_launcher_applies_only_the_parts_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.__main__

    seen: Dict[str, Any] = {}
    rasa_speedups.remove()
    monkeypatch.setenv(rasa_speedups.ENV_VAR, "validator")
    monkeypatch.setattr(sys, "argv", ["x"])
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.update(parts=rasa_speedups.applied_parts()))
    try:
        rasa_server.main(["run"])
    finally:
        rasa_speedups.remove()
        rasa_resilience.remove()
    assert seen == {"parts": {"validator"}}


# ---- the SQLite tracker store -------------------------------------------------------------------


def _conversation() -> List[Any]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    return [
        ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
        SlotSet("registered", True, timestamp=1.0), SlotSet("user_name", "Ada", timestamp=1.0),
        ActionExecuted("action_listen", timestamp=1.0),
        UserUttered("EXTERNAL: EXTERNAL_reminder", {"name": "EXTERNAL_reminder", "confidence": 1.0},
                    [{"entity": "title", "value": "Pills"}], timestamp=2.0),
        ActionExecuted("action_deliver_reminder", timestamp=2.0),
        BotUttered("Time for your pills.", {"buttons": [{"title": "Done", "payload": "/reminder_done"}]},
                   timestamp=2.0),
        SlotSet("last_delivery_id", 7, timestamp=2.0), ActionExecuted("action_listen", timestamp=2.0),
    ]


def _store(path: Any, **kwargs: Any) -> Any:
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path), **kwargs)


async def _save_in_two_steps(store: Any, sender_id: str) -> List[Dict[str, Any]]:
    """Save a new conversation, then the rest of it (as trigger_intent does); return it read back."""
    events = _conversation()
    tracker = DialogueStateTracker.from_events(sender_id, events[:5])
    await store.save(tracker)
    tracker = await store.retrieve(sender_id)
    for event in events[5:]:
        tracker.update(event)
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing written twice
    again = await store.retrieve(sender_id)
    return [event.as_dict() for event in again.events]


def _rows(path: Any) -> List[Any]:
    with sqlite3.connect(str(path)) as connection:
        return connection.execute(
            "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
        ).fetchall()


def test_the_sqlite_tracker_store_is_pooled_in_wal_mode(tmp_path: Any, patched: None) -> None:
    from sqlalchemy.pool import QueuePool

    store = _store(tmp_path / "trackers.db")
    assert isinstance(store.engine.pool, QueuePool)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    with sqlite3.connect(str(tmp_path / "plain.db")) as plain:
        assert synchronous == plain.execute("PRAGMA synchronous").fetchone()[0]  # as durable as before
    store.engine.dispose()


def test_the_pooled_tracker_store_stores_exactly_what_rasas_stores(tmp_path: Any) -> None:
    rasa_speedups.remove()
    plain = _store(tmp_path / "plain.db")
    assert type(plain.engine.pool).__name__ == "NullPool"
    expected = asyncio.run(_save_in_two_steps(plain, "senior-1"))
    rasa_speedups.apply()
    try:
        pooled = _store(tmp_path / "pooled.db")
        assert type(pooled.engine.pool).__name__ == "QueuePool"
        got = asyncio.run(_save_in_two_steps(pooled, "senior-1"))
        assert asyncio.run(pooled.exists("senior-1")) and not asyncio.run(pooled.exists("senior-2"))
        pooled.engine.dispose()
    finally:
        rasa_speedups.remove()
    assert got == expected
    assert len(expected) == len(_conversation())
    assert _rows(tmp_path / "pooled.db") == _rows(tmp_path / "plain.db")


def test_a_reader_does_not_block_the_tracker_store(tmp_path: Any, patched: None) -> None:
    """In WAL mode another process reading the trackers (a benchmark, a backup) does not stop a save."""
    store = _store(tmp_path / "trackers.db", query={"timeout": "0.2"})
    asyncio.run(_save_in_two_steps(store, "senior-1"))
    reader = sqlite3.connect(str(tmp_path / "trackers.db"))
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == len(_conversation())
        tracker = asyncio.run(store.retrieve("senior-1"))
        tracker.update(SlotSet("user_name", "Bea"))
        asyncio.run(store.save(tracker))
    finally:
        reader.close()
    assert len(_rows(tmp_path / "trackers.db")) == len(_conversation()) + 1
    store.engine.dispose()


def test_other_tracker_databases_are_left_alone(patched: None) -> None:
    from sqlalchemy import create_engine

    for url in ["postgresql+psycopg2://user@127.0.0.1:1/rasa", "sqlite://", "sqlite:///:memory:"]:
        engine = create_engine(url)
        store = type("Store", (), {"engine": engine, "sessionmaker": None})()
        assert rasa_speedups.pool_sqlite_tracker_store(store) is False
        assert store.engine is engine and store.sessionmaker is None
    in_memory = _store(":memory:")
    assert type(in_memory.engine.pool).__name__ != "QueuePool"


def test_wal_mode_is_skipped_when_the_file_is_busy(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = str(tmp_path / "trackers.db")
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    connection = sqlite3.connect(path, timeout=0.1)
    try:
        with caplog.at_level(logging.WARNING, logger="assistant.rasa_speedups"):
            rasa_speedups._wal_on_connect(connection, None)
        assert "could not switch SQLite to WAL mode" in caplog.text
    finally:
        holder.rollback()
        holder.close()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()


def test_remove_restores_rasas_tracker_store(tmp_path: Any) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    plain_init = SQLTrackerStore.__init__
    rasa_speedups.remove()
    rasa_speedups.apply()
    assert SQLTrackerStore.__init__ is not plain_init or rasa_speedups.applied()
    rasa_speedups.remove()
    assert rasa_speedups.applied_parts() == frozenset()
    assert type(_store(tmp_path / "t.db").engine.pool).__name__ == "NullPool"


# ---- appended events (the care service's reminders) ----------------------------------------------


def test_appended_events_are_checked_by_name_and_agree_with_jsonschema() -> None:
    """Rasa's EVENTS_SCHEMA (a bare array of events): checked by name, the same verdicts as jsonschema."""
    from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

    cls = validator_for(EVENTS_SCHEMA)
    dispatch = rasa_speedups.EventDispatchCheck.build(EVENTS_SCHEMA, cls)
    assert dispatch is not None and dispatch.array
    reference = cls(EVENTS_SCHEMA)
    rng = random.Random(20261207)
    bodies = [answer["events"] for answer in VALID_ANSWERS + INVALID_ANSWERS if isinstance(answer.get("events"), list)]
    bodies += [[_random_event(rng) for _ in range(rng.randint(0, 5))] for _ in range(3000)]
    bodies += [rng.choice(ODD_VALUES) for _ in range(50)]
    verdicts: Counter = Counter()
    for body in bodies:
        expected = reference.is_valid(body)
        assert dispatch.is_valid(body) is expected, body
        verdicts[expected] += 1
    assert verdicts[True] > 300 and verdicts[False] > 300, verdicts


def test_the_append_endpoint_uses_the_compiled_validator_and_refuses_bad_events_as_rasa_does(patched: None) -> None:
    from types import SimpleNamespace

    import rasa.server
    from rasa.server import ErrorResponse

    reminder = [{"event": "action", "name": "action_deliver_reminder", "policy": "care_service", "confidence": 1.0},
                {"event": "bot", "text": "It's 08:00. Reminder: pills.", "data": {"buttons": []},
                 "metadata": {"delivery_id": 7}},
                {"event": "slot", "name": "last_delivery_id", "value": "7"}]
    rasa_speedups.validators.clear()
    rasa.server.validate_events_in_request_body(SimpleNamespace(json=reminder))
    rasa.server.validate_events_in_request_body(SimpleNamespace(json=reminder[1]))  # one event, not a list
    assert rasa_speedups.validators.compiled == 1 and rasa_speedups.validators.dispatching == 1

    with pytest.raises(ErrorResponse) as refused:
        rasa.server.validate_events_in_request_body(SimpleNamespace(json=[{"event": "slot", "value": "7"}]))
    assert refused.value.status == 400 and "Failed to validate the events format" in str(refused.value.error_info)

"""The care service's batches of reminders (assistant.channels.care_push) on Rasa's real tracker store."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Text

import pytest
from rasa.core.channels.channel import OutputChannel
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from assistant.channels.care_push import BadBatch, Reminder, append_reminder, parse_batch, session_due
from assistant.tracker_store import PrivateSQLTrackerStore

DOMAIN = Domain.from_dict({
    "intents": ["greet", "affirm"],
    "slots": {name: {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
              for name in ("last_delivery_id", "last_delivery_kind", "user_name", "registered")},
    "actions": ["action_deliver_reminder"],
    "session_config": {"session_expiration_time": 240, "carry_over_slots_to_new_session": False},
})
SESSION_START = [
    {"event": "action", "name": "action_session_start", "policy": "care_service", "confidence": 1.0},
    {"event": "session_started"},
    {"event": "slot", "name": "registered", "value": True},
    {"event": "slot", "name": "user_name", "value": "Mary"},
    {"event": "action", "name": "action_listen"},
]
REMINDER = [
    {"event": "action", "name": "action_deliver_reminder", "policy": "care_service", "confidence": 1.0},
    {"event": "bot", "text": "It's 08:00. Reminder: Heart pill.",
     "data": {"buttons": [{"title": "Done", "payload": "/reminder_done"}]}, "metadata": {"delivery_id": 7}},
    {"event": "slot", "name": "last_delivery_id", "value": "7"},
    {"event": "slot", "name": "last_delivery_kind", "value": "medication"},
    {"event": "action", "name": "action_listen"},
]


class Recording(OutputChannel):
    """An output channel that records what it sends, or fails when told to."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: List[tuple[str, str, list]] = []
        self.fail = fail

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        if self.fail:
            raise RuntimeError("the chat page is gone")
        self.sent.append((recipient_id, text, buttons))


class WebChat:
    """Stands in for the chat page's input channel."""

    def __init__(self, output: Recording) -> None:
        self.output = output

    @staticmethod
    def name() -> Text:
        return "webchat"

    def get_output_channel(self) -> Recording:
        return self.output


@pytest.fixture
def store(tmp_path: Path) -> PrivateSQLTrackerStore:
    return PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "trackers.db"))


def app_with(store: PrivateSQLTrackerStore, output: Recording) -> Any:
    agent = SimpleNamespace(tracker_store=store, lock_store=InMemoryLockStore(), domain=DOMAIN, processor=None)
    return SimpleNamespace(ctx=SimpleNamespace(agent=agent, input_channels=[WebChat(output)]))


async def said_hello(store: PrivateSQLTrackerStore, sender: str, hours_ago: float = 0.0) -> None:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    at = time.time() - hours_ago * 3600
    for event in (ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
                  ActionExecuted("action_listen", timestamp=at),
                  UserUttered("hello", {"name": "greet", "confidence": 1.0}, input_channel="webchat", timestamp=at),
                  BotUttered("Hello!", timestamp=at), ActionExecuted("action_listen", timestamp=at)):
        tracker.update(event, DOMAIN)
    await store.save(tracker)


def reminder(raw: List[Dict[str, Any]] = REMINDER, start: List[Dict[str, Any]] = SESSION_START,
             to: str = "mary") -> Reminder:
    return parse_batch({"reminders": [{"conversation_id": to, "events": raw, "session_start": start}]})[0]


async def test_a_reminder_goes_out_on_the_latest_channel_and_is_stored_after_the_conversation(
    store: PrivateSQLTrackerStore,
) -> None:
    await said_hello(store, "mary")
    output = Recording()

    await append_reminder(app_with(store, output), reminder())

    assert output.sent == [("mary", "It's 08:00. Reminder: Heart pill.", [{"title": "Done", "payload": "/reminder_done"}])]
    tracker = await store.retrieve("mary")
    assert tracker is not None
    assert tracker.get_slot("last_delivery_id") == "7" and tracker.get_slot("last_delivery_kind") == "medication"
    assert tracker.latest_action_name == "action_listen"
    assert [e.text for e in tracker.events if isinstance(e, BotUttered)] == ["Hello!", "It's 08:00. Reminder: Heart pill."]


async def test_rasa_saves_the_next_turn_after_an_appended_reminder_without_loss_or_repeat(
    store: PrivateSQLTrackerStore,
) -> None:
    await said_hello(store, "mary")
    await append_reminder(app_with(store, Recording()), reminder())

    tracker = await store.retrieve("mary")
    assert tracker is not None
    tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}, input_channel="webchat"), DOMAIN)
    await store.save(tracker)

    stored = await store.retrieve_full_tracker("mary")
    assert stored is not None
    kinds = [e.type_name for e in stored.events]
    assert kinds == ["action", "session_started", "action", "user", "bot", "action",
                     "action", "bot", "slot", "slot", "action", "user"]


async def test_a_reminder_that_could_not_be_sent_is_not_stored(store: PrivateSQLTrackerStore) -> None:
    await said_hello(store, "mary")

    with pytest.raises(RuntimeError, match="gone"):
        await append_reminder(app_with(store, Recording(fail=True)), reminder())

    tracker = await store.retrieve("mary")
    assert tracker is not None and tracker.get_slot("last_delivery_id") is None
    assert store.stored_conversation("mary").channel == "webchat"  # type: ignore[union-attr]
    assert store.stored_conversation("nobody") is None


async def test_a_reminder_after_the_session_expired_starts_a_new_one_so_yes_answers_it(
    store: PrivateSQLTrackerStore,
) -> None:
    await said_hello(store, "mary", hours_ago=10)  # last night
    assert session_due(DOMAIN, store.stored_conversation("mary"), time.time())
    output = Recording()

    await append_reminder(app_with(store, output), reminder())

    assert len(output.sent) == 1
    tracker = await store.retrieve("mary")  # the current session, as Rasa loads it for the next turn
    assert tracker is not None
    assert [e.type_name for e in tracker.events][:5] == ["action", "session_started", "slot", "slot", "action"]
    assert "hello" not in [getattr(e, "text", None) for e in tracker.events], "last night's session is behind it"
    assert (tracker.get_slot("user_name"), tracker.get_slot("registered")) == ("Mary", True)
    assert tracker.get_slot("last_delivery_id") == "7"
    assert not session_due(DOMAIN, store.stored_conversation("mary"), time.time()), \
        "the person's answer now continues this session instead of starting another"


async def test_a_session_still_running_gets_no_new_beginning(store: PrivateSQLTrackerStore) -> None:
    await said_hello(store, "mary", hours_ago=1)

    await append_reminder(app_with(store, Recording()), reminder())

    stored = await store.retrieve_full_tracker("mary")
    assert stored is not None
    assert sum(1 for e in stored.events if isinstance(e, SessionStarted)) == 1


async def test_a_conversation_with_nothing_stored_begins_with_a_session(store: PrivateSQLTrackerStore) -> None:
    await append_reminder(app_with(store, Recording()), reminder(to="new-person"))

    tracker = await store.retrieve("new-person")
    assert tracker is not None
    assert tracker.get_slot("user_name") == "Mary" and tracker.get_slot("last_delivery_id") == "7"


@pytest.mark.parametrize("body, reason", [
    (None, "1 to 500 reminders"),
    ({"reminders": []}, "1 to 500 reminders"),
    ({"reminders": [{"conversation_id": "x", "events": []}] * 501}, "1 to 500 reminders"),
    ({"reminders": [{"conversation_id": "", "events": REMINDER}]}, "conversation_id"),
    ({"reminders": [{"conversation_id": "x", "events": "hello"}]}, "events must be a list"),
    ({"reminders": [{"conversation_id": "x", "events": [{"event": "no-such-thing"}]}]}, "malformed"),
    ({"reminders": [{"conversation_id": "x", "events": [42]}]}, "malformed"),
    ({"reminders": [{"conversation_id": "x", "events": REMINDER, "session_start": "yes"}]}, "session_start"),
])
def test_a_bad_batch_is_refused_with_a_reason(body: Any, reason: str) -> None:
    with pytest.raises(BadBatch, match=reason):
        parse_batch(body)


def test_the_care_channel_needs_the_assistants_token() -> None:
    from assistant.channels.care_push import CarePushInput

    guarded = CarePushInput(token="s3cret-token")
    assert guarded._allowed(SimpleNamespace(args={"token": "s3cret-token"}))
    for given in ({}, {"token": ""}, {"token": "s3cret"}, {"token": "s3cret-token-and-more"}):
        assert not guarded._allowed(SimpleNamespace(args=given))
    assert CarePushInput(token="")._allowed(SimpleNamespace(args={}))  # no token set: loopback only


async def test_a_request_without_the_token_sends_and_stores_nothing(store: PrivateSQLTrackerStore) -> None:
    import json

    from assistant.channels.care_push import CarePushInput

    await said_hello(store, "mary")
    output = Recording()
    app = app_with(store, output)
    batch = {"reminders": [{"conversation_id": "mary", "events": REMINDER}]}
    channel = CarePushInput(token="s3cret-token")

    refused = await channel._reminders(SimpleNamespace(args={"token": "guess"}, json=batch, app=app))
    bad = await channel._reminders(SimpleNamespace(args={"token": "s3cret-token"}, json={"hello": 1}, app=app))
    assert (refused.status, bad.status) == (401, 400)
    assert output.sent == [] and store.stored_conversation("mary").channel == "webchat"  # type: ignore[union-attr]
    assert (await store.retrieve("mary")).get_slot("last_delivery_id") is None  # type: ignore[union-attr]

    done = await channel._reminders(SimpleNamespace(args={"token": "s3cret-token"}, json=batch, app=app))
    assert done.status == 200
    assert json.loads(done.body) == {"results": [{"conversation_id": "mary", "ok": True, "error": None}]}
    assert len(output.sent) == 1


async def test_two_reminders_for_one_person_in_a_batch_both_arrive_and_start_one_session(
    store: PrivateSQLTrackerStore,
) -> None:
    import json

    from assistant.channels.care_push import CarePushInput

    await said_hello(store, "mary", hours_ago=10)
    output = Recording()
    second = [dict(e) for e in REMINDER]
    second[1] = {**second[1], "text": "It's 08:00. Reminder: Water tablet.", "metadata": {"delivery_id": 8}}
    batch = {"reminders": [{"conversation_id": "mary", "events": events, "session_start": SESSION_START}
                           for events in (REMINDER, second)]}

    done = await CarePushInput(token="")._reminders(SimpleNamespace(args={}, json=batch, app=app_with(store, output)))

    assert [r["ok"] for r in json.loads(done.body)["results"]] == [True, True]
    assert sorted(text for _, text, _ in output.sent) == ["It's 08:00. Reminder: Heart pill.",
                                                          "It's 08:00. Reminder: Water tablet."]
    stored = await store.retrieve_full_tracker("mary")
    assert stored is not None
    assert sum(1 for e in stored.events if isinstance(e, SessionStarted)) == 2  # last night's and this morning's

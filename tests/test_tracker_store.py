"""Rasa's tracker store with our privacy rules: a forgotten conversation goes, data exports are not kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from assistant.settings import PROJECT_ROOT
from assistant.tracker_store import FORGOTTEN_SLOT, NOT_KEPT, PrivateSQLTrackerStore

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain"))


def _store(path: Path) -> PrivateSQLTrackerStore:
    return PrivateSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))


def _stored(path: Path) -> list[tuple[str, dict[str, Any]]]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).all()
    engine.dispose()
    return [(sender, json.loads(data)) for sender, data in rows]


async def _turn(store: PrivateSQLTrackerStore, sender: str, text: str, *events: Any) -> DialogueStateTracker:
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(UserUttered(text, intent={"name": "inform", "confidence": 1.0}))
    for event in events:
        tracker.update(event)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


async def test_a_forgotten_conversation_is_deleted_with_the_turn_that_asked(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    store = _store(path)
    await _turn(store, "mary-1", "I live at 12 Mill Lane", BotUttered("Thank you"))
    await _turn(store, "walter-2", "I live at 3 Elm Road", BotUttered("Thank you"))
    await _turn(store, "mary-1", "what do you keep about me", BotUttered("Your address: 12 Mill Lane"))
    others_before = [row for row in _stored(path) if row[0] != "mary-1"]

    await _turn(store, "mary-1", "yes delete everything", ActionExecuted("action_forget_me"),
                BotUttered("Done: I have deleted everything"), SlotSet(FORGOTTEN_SLOT, True))

    assert [row for row in _stored(path) if row[0] == "mary-1"] == []
    assert _stored(path) == others_before
    assert await store.retrieve("mary-1") is None
    later = await _turn(store, "mary-1", "hello", BotUttered("Hello! Who am I talking to?"))
    assert [data.get("text") for sender, data in _stored(path) if sender == "mary-1" and data["event"] == "user"] == ["hello"]
    assert later.get_slot(FORGOTTEN_SLOT) is None


async def test_an_export_reaches_the_chat_whole_but_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "trackers.db"
    store = _store(path)
    content = json.dumps({"senior_profiles": [{"address": "12 Mill Lane"}]})
    sent = BotUttered("Here is all of it", data={"custom": {"download": {"filename": "my-data.json", "content": content}}})
    message = sent.message()  # what the channel was handed before the turn was saved
    await _turn(store, "mary-1", "/mydata", sent)

    stored = [data for _, data in _stored(path) if data["event"] == "bot"]
    assert stored[0]["data"]["custom"]["download"] == {"filename": "my-data.json", "content": NOT_KEPT}
    assert "12 Mill Lane" not in json.dumps(_stored(path))
    assert message["custom"]["download"]["content"] == content


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.stack.yml"])
def test_both_endpoint_files_name_this_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endpoints: str) -> None:
    monkeypatch.setenv("ASSISTANT_TRACKER_DB", str(tmp_path / "state" / "trackers.db"))
    monkeypatch.setenv("ASSISTANT_ACTION_PORT", "5055")
    monkeypatch.setenv("ASSISTANT_ACTION_TOKEN", "x")
    monkeypatch.chdir(tmp_path)  # the local default, .state/trackers.db, lands here
    config = read_endpoint_config(str(PROJECT_ROOT / endpoints), "tracker_store")
    store = create_tracker_store(config, DOMAIN)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, PrivateSQLTrackerStore)
    folder = tmp_path / (".state" if endpoints == "endpoints.yml" else "state")
    assert (folder / "trackers.db").exists()  # the missing folder was made, owner-only
    assert folder.stat().st_mode & 0o777 == 0o700

"""/mydata and /forget by conversation: the summary, the file, the one question, the deletion."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions import privacy
from assistant.actions.privacy import ActionAskForget, ActionForgetMe, ActionShowMyData
from assistant.care import CareServices
from assistant.tracker_store import FORGOTTEN_SLOT
from tests.careservice.test_emergency_sweep import save_turn

from .conftest import NOW, make_tracker, register, slot_events


@pytest.fixture
def trackers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Rasa's tracker store file the actions read the conversation history from."""
    path = tmp_path / "trackers.db"
    monkeypatch.setenv("ASSISTANT_TRACKER_DB", str(path))
    privacy._history.cache_clear()
    return path


def _download(dispatcher: CollectingDispatcher) -> dict[str, Any]:
    files = [m["custom"]["download"] for m in dispatcher.messages if (m.get("custom") or {}).get("download")]
    assert len(files) == 1
    return files[0]


async def test_my_data_says_what_we_keep_and_sends_all_of_it_as_one_file(
    care: CareServices, trackers: Path, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.update_profile("mary-0001", phone="+44 20 7946 0001")
    care.reminders.create("mary-0001", "medication", "heart pills", "every day at 08:00")
    await save_turn(trackers, "mary-0001", "my hip hurts when I walk", "m-1", time.time() - 3600, intent="consult_health")
    await save_turn(trackers, "someone-else", "I live at 3 Elm Road", "m-2", time.time() - 3600, intent="inform")
    said = CollectingDispatcher()
    await ActionShowMyData().run(said, make_tracker("what do you know about me", "my_data"), domain)

    summary = said.messages[0]["text"]
    for kept in ("Mary Jones", "12 Mill Lane", "Riverside", "7946 0001", "diabetic-friendly", "heart pills"):
        assert kept in summary
    download = _download(said)
    assert download["filename"] == f"my-data-{NOW:%Y-%m-%d}.json"
    document = json.loads(download["content"])
    assert document["held_about_you"]["senior_profiles"][0]["full_name"] == "Mary Jones"
    assert [r["title"] for r in document["held_about_you"]["reminders"]] == ["heart pills"]
    said_texts = [e.get("text") for e in document["conversation_history"] if e.get("event") == "user"]
    assert said_texts == ["my hip hurts when I walk", "what do you know about me"]
    assert "3 Elm Road" not in download["content"]


async def test_someone_we_hold_nothing_about_gets_only_the_conversation(
    care: CareServices, trackers: Path, domain: dict[str, Any]
) -> None:
    said = CollectingDispatcher()
    await ActionShowMyData().run(said, make_tracker("/mydata", "my_data", sender="stranger-1"), domain)
    assert "no profile" in said.messages[0]["text"]
    document = json.loads(_download(said)["content"])
    assert document["held_about_you"] == {} and len(document["conversation_history"]) == 1


async def test_forget_asks_once_saying_what_would_go_and_deletes_only_on_yes(
    care: CareServices, trackers: Path, domain: dict[str, Any]
) -> None:
    register(care)
    care.reminders.create("mary-0001", "medication", "heart pills", "every day at 08:00")
    asked = CollectingDispatcher()
    assert await ActionAskForget().run(asked, make_tracker("please delete everything you know about me", "forget_me"), domain) == []
    question = asked.messages[0]
    assert "1 reminder, which will stop" in question["text"] and "cannot be undone" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/confirm_forget", "/deny"]
    assert care.people.find_by_conversation("mary-0001") is not None

    done = CollectingDispatcher()
    events = await ActionForgetMe().run(done, make_tracker("/confirm_forget", "confirm_forget"), domain)
    assert care.people.find_by_conversation("mary-0001") is None
    assert care.privacy.export("mary-0001") is None
    assert "Done: I have deleted" in done.messages[0]["text"] and "your profile, reminders (1)" in done.messages[0]["text"]
    assert slot_events(events) == {FORGOTTEN_SLOT: True}


async def test_withdrawing_consent_says_what_it_means_before_the_same_question(
    care: CareServices, trackers: Path, domain: dict[str, Any]
) -> None:
    register(care)
    asked = CollectingDispatcher()
    await ActionAskForget().run(asked, make_tracker("I withdraw my consent", "withdraw_consent"), domain)
    text = asked.messages[0]["text"]
    assert text.startswith("Without your consent I may not keep your details") and "can't arrange meals" in text


async def test_a_relative_deletes_her_own_details_and_the_senior_stays(care: CareServices, trackers: Path, domain: dict[str, Any]) -> None:
    register(care)
    invite = care.invites.create("mary-0001", "daughter")
    request = care.invites.claim("anne-0001", invite.code, "Anne")
    care.invites.decide("mary-0001", request.request_id, True)
    asked = CollectingDispatcher()
    await ActionAskForget().run(asked, make_tracker("delete my data", "forget_me", sender="anne-0001"), domain)
    assert "ends your link with Mary Jones" in asked.messages[0]["text"]
    said = CollectingDispatcher()
    events = await ActionForgetMe().run(said, make_tracker("/confirm_forget", "confirm_forget", sender="anne-0001"), domain)
    assert slot_events(events) == {FORGOTTEN_SLOT: True} and "Done: I have deleted" in said.messages[0]["text"]
    assert care.privacy.export("anne-0001") is None
    assert care.people.find_by_conversation("mary-0001") is not None and care.family.family("mary-0001").members == []


async def test_someone_unknown_deletes_their_chat_settings_and_conversation(
    care: CareServices, trackers: Path, domain: dict[str, Any]
) -> None:
    care.chats.set_voice_replies("stranger-1", True)
    care.chats.set_voice_replies("stranger-2", True)
    asked = CollectingDispatcher()
    await ActionAskForget().run(asked, make_tracker("forget me", "forget_me", sender="stranger-1"), domain)
    assert asked.messages[0]["text"] == "I keep no details about you, only our conversation. Shall I delete it?"
    done = CollectingDispatcher()
    events = await ActionForgetMe().run(done, make_tracker("yes", "affirm", sender="stranger-1"), domain)
    assert slot_events(events) == {FORGOTTEN_SLOT: True}
    assert not care.chats.voice_replies("stranger-1") and care.chats.voice_replies("stranger-2")
    assert "this chat's settings" in done.messages[0]["text"]


def test_the_action_and_the_tracker_store_agree_on_the_slot(domain: dict[str, Any]) -> None:
    assert privacy.FORGOTTEN_SLOT == FORGOTTEN_SLOT and FORGOTTEN_SLOT in domain["slots"]

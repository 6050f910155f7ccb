"""End to end through the Telegram channel (webhook mode) on the real stack.

The shared session stack runs with ``TELEGRAM_BOT_TOKEN`` set (see ``conftest.py``): Rasa
serves our channel at ``/webhooks/telegram/webhook`` and python-telegram-bot's real HTTP
client talks to the fake Bot API server on 127.0.0.1. Real Telegram update JSON is
posted to the webhook with the secret header; the assertions are on what the fake
server received. A reminder comes the proactive way: the care service calls Rasa's
``trigger_intent`` with ``output_channel=latest``, which is this channel.
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from assistant.care import CareServices
from assistant.care.core.models import Reminder
from assistant.stack import answers
from tests.channels.fake_telegram import Call, FakeTelegramThread, callback_update, message_update
from tests.hearing.clips import Voice, speak

from .conftest import TELEGRAM_SECRET, RunningStack, log_tail
from .test_care_flows import weekday_ahead

UNCLEAR = "regarding the business from before"
"""Unclear on purpose: the model's best guesses (a greeting? a change of booking?) stay well under the fallback."""

pytestmark = pytest.mark.stack


@pytest.fixture
def chat_id() -> int:
    """A new private chat (and user) id."""
    return random.randint(700_000_000, 799_999_999)


@pytest.fixture
def fake(running_stack: RunningStack) -> FakeTelegramThread:
    """The fake Bot API server the stack's Telegram channel talks to."""
    assert running_stack.telegram is not None
    return running_stack.telegram


def keyboard(call: Call) -> list[dict[str, Any]]:
    """The inline buttons of a sendMessage call, in order."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def send(stack: RunningStack, chat_id: int, text: str) -> list[Call]:
    """One message from the user; returns the sendMessage calls it caused (sent before the webhook answers)."""
    fake = stack.telegram
    assert fake is not None
    before = len(fake.calls_to(chat_id, "sendMessage"))
    status = stack.post_update(message_update(text, chat_id=chat_id))
    assert status == 200, status
    return fake.calls_to(chat_id, "sendMessage")[before:]


def said(calls: list[Call]) -> str:
    """The texts of sendMessage calls, joined."""
    return "\n".join(str(call.params.get("text")) for call in calls)


def press(stack: RunningStack, chat_id: int, call: Call, title_part: str) -> list[Call]:
    """Presses the inline button whose label contains ``title_part`` on the message ``call`` sent."""
    fake = stack.telegram
    assert fake is not None
    [button] = [b for b in keyboard(call) if title_part in b["text"]]
    message = {
        "message_id": 4242,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Mary"},
        "from": {"id": 123456, "is_bot": True, "first_name": "Helper", "username": "helper_test_bot"},
        "text": call.params["text"],
    }
    pressed = callback_update(button["callback_data"], message=message, chat_id=chat_id)
    pressed["callback_query"]["from"] = {**pressed["callback_query"]["from"], "id": chat_id}
    before_answers = len(fake.server.called("answerCallbackQuery"))
    before = len(fake.calls_to(chat_id, "sendMessage"))
    assert stack.post_update(pressed) == 200
    answers = fake.server.called("answerCallbackQuery")[before_answers:]
    assert [a.params.get("callback_query_id") for a in answers] == [pressed["callback_query"]["id"]]
    return fake.calls_to(chat_id, "sendMessage")[before:]


def register_on_telegram(stack: RunningStack, chat_id: int) -> None:
    """Answers the registration questions over Telegram, pressing the district button."""
    assert "What is your name?" in said(send(stack, chat_id, "/start")), log_tail(stack, "rasa")
    assert "address" in said(send(stack, chat_id, "Mary Jones"))
    calls = send(stack, chat_id, "12 Mill Lane")
    [with_buttons] = [c for c in calls if keyboard(c)]
    calls = press(stack, chat_id, with_buttons, "Riverside")
    assert "diet" in said(calls), said(calls)
    assert "Is that all right?" in said(send(stack, chat_id, "diabetic"))
    assert "I've saved your details" in said(send(stack, chat_id, "yes"))


def test_the_webhook_is_registered_with_the_secret(running_stack: RunningStack, fake: FakeTelegramThread) -> None:
    registered = fake.server.called("setWebhook")
    assert registered, log_tail(running_stack, "rasa")
    params = registered[-1].params
    assert params["url"] == f"{running_stack.rasa_url}/webhooks/telegram/webhook"
    assert params["secret_token"] == TELEGRAM_SECRET
    assert set(params["allowed_updates"]) >= {"message", "callback_query"}


def test_start_greets_and_asks_the_first_registration_question(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    calls = send(running_stack, chat_id, "/start")
    assert calls, log_tail(running_stack, "rasa")
    assert all(int(call.params["chat_id"]) == chat_id for call in calls)
    assert "What is your name?" in said(calls), said(calls)

    assert "address" in said(send(running_stack, chat_id, "Mary Jones"))
    calls = send(running_stack, chat_id, "12 Mill Lane")
    buttons = [b for call in calls for b in keyboard(call)]
    assert "Riverside" in [b["text"] for b in buttons], calls
    assert all(b["callback_data"].startswith("b:") and len(b["callback_data"].encode()) <= 64 for b in buttons)


def test_a_wrong_or_missing_secret_is_refused(running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int) -> None:
    assert running_stack.post_update(message_update("hello", chat_id=chat_id), secret="not-the-secret") == 403
    assert running_stack.post_update(message_update("hello", chat_id=chat_id), secret=None) == 403
    time.sleep(0.5)
    assert fake.calls_to(chat_id) == []


def test_a_repeated_update_is_answered_once(running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int) -> None:
    hello = message_update("hello", chat_id=chat_id)
    assert running_stack.post_update(hello) == 200
    first = fake.calls_to(chat_id, "sendMessage")
    assert "What is your name?" in said(first), said(first)
    assert running_stack.post_update(hello) == 200  # Telegram retrying the same update
    time.sleep(0.5)
    assert fake.calls_to(chat_id, "sendMessage") == first
    user_turns = [
        e for e in running_stack.get_json(f"/conversations/{chat_id}/tracker")["events"] if e.get("event") == "user"
    ]
    assert len(user_turns) == 1, user_turns


def test_a_button_press_is_answered_and_the_next_question_sent(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    send(running_stack, chat_id, "/start")
    send(running_stack, chat_id, "Mary Jones")
    calls = send(running_stack, chat_id, "12 Mill Lane")
    [question] = [c for c in calls if keyboard(c)]

    calls = press(running_stack, chat_id, question, "Riverside")
    assert "diet" in said(calls), said(calls)
    edits = [c for c in fake.calls_to(chat_id, "editMessageText") if "Riverside" in str(c.params.get("text"))]
    assert edits, "the chosen answer is shown under the question and its buttons removed"


def test_a_reminder_arrives_on_telegram_with_done_and_snooze_buttons(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    register_on_telegram(running_stack, chat_id)
    care = CareServices.from_url(running_stack.database_url)
    reminder = care.reminders.create(str(chat_id), "medication", "Take my heart pills", "every day at 8am")
    before = len(fake.calls_to(chat_id, "sendMessage"))
    with care.db.reading() as session:
        session.execute(
            update(Reminder).where(Reminder.id == reminder.reminder_id).values(next_due_at=datetime.now(timezone.utc))
        )

    call = fake.wait_for_text(chat_id, "Take my heart pills", timeout=20, after=before)
    labels = [b["text"] for b in keyboard(call)]
    assert "Done" in labels and any("10 min" in label for label in labels), labels + [log_tail(running_stack, "care")]

    calls = press(running_stack, chat_id, call, "Done")
    assert "thank you" in said(calls).lower(), said(calls)


def test_a_fall_gets_the_emergency_number_at_once(running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int) -> None:
    calls = send(running_stack, chat_id, "I've fallen and can't get up")
    number = running_stack.stack.settings.emergency_number
    assert f"call {number}" in said(calls), said(calls)


def say_aloud(stack: RunningStack, chat_id: int, text: str, folder: Path, voice: Voice = Voice()) -> list[Call]:
    """A voice note of ``text`` (spoken by espeak-ng); returns the sendMessage calls it caused."""
    fake = stack.telegram
    assert fake is not None
    data = speak(text, folder, voice, "ogg").read_bytes()
    file_id = f"voice-{chat_id}-{len(fake.server.stored_files)}"
    fake.server.add_file(file_id, data)
    note = {"file_id": file_id, "file_unique_id": "u" + file_id, "duration": 4, "mime_type": "audio/ogg",
            "file_size": len(data)}
    before = len(fake.calls_to(chat_id, "sendMessage"))
    assert stack.post_update(message_update(voice=note, chat_id=chat_id)) == 200
    return fake.calls_to(chat_id, "sendMessage")[before:]


def test_a_fall_said_in_a_voice_note_gets_the_emergency_number(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int, clip_dir: Path
) -> None:
    calls = say_aloud(running_stack, chat_id, "I have fallen and I cannot get up", clip_dir)
    number = running_stack.stack.settings.emergency_number
    assert said(calls).startswith("I heard: “I have fallen and I cannot get up.”"), said(calls)
    assert f"call {number}" in said(calls), said(calls) + log_tail(running_stack, "rasa")


def test_a_cleaner_booked_by_voice_after_the_usual_questions(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int, clip_dir: Path
) -> None:
    register_on_telegram(running_stack, chat_id)
    day = weekday_ahead()
    calls = say_aloud(running_stack, chat_id, f"can someone come and clean on {day} morning", clip_dir)
    assert said(calls).startswith(f"I heard: “Can someone come and clean on {day} morning"), said(calls)
    [offer] = [c for c in calls if len(keyboard(c)) >= 2]
    calls = press(running_stack, chat_id, offer, keyboard(offer)[0]["text"])
    assert "Shall I book it?" in said(calls), said(calls)
    care = CareServices.from_url(running_stack.database_url)
    assert care.home_services.upcoming(str(chat_id)) == []
    calls = say_aloud(running_stack, chat_id, "yes please", clip_dir, Voice("en-us", 140, 45))
    assert "It's booked" in said(calls), said(calls) + log_tail(running_stack, "actions")
    [booking] = care.home_services.upcoming(str(chat_id))
    assert booking.kind == "cleaning" and booking.status == "confirmed"


def test_a_daughter_links_on_telegram_with_the_code_after_mum_presses_yes(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    daughter = link_a_daughter(running_stack, fake, chat_id)
    anne = {"id": daughter, "is_bot": False, "first_name": "Anne", "last_name": "Jones", "language_code": "en"}
    before = len(fake.calls_to(daughter, "sendMessage"))
    running_stack.post_update(message_update("/family", chat_id=daughter, **{"from": anne}))
    assert "You help Mary Jones" in said(fake.calls_to(daughter, "sendMessage")[before:])


def link_a_daughter(running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int) -> int:
    """Mary registers, sends /invite, her daughter Anne sends the code and Mary allows it; returns Anne's chat."""
    import re

    register_on_telegram(running_stack, chat_id)
    invite = said(send(running_stack, chat_id, "/invite"))
    match = re.search(r"family code: ([A-Z0-9]{3}-[A-Z0-9]{3})", invite)
    assert match and "/link" in invite, invite

    daughter = chat_id + 1
    anne = {"id": daughter, "is_bot": False, "first_name": "Anne", "last_name": "Jones", "language_code": "en"}
    before = len(fake.calls_to(chat_id, "sendMessage"))
    status = running_stack.post_update(message_update(f"/link {match.group(1)}", chat_id=daughter, **{"from": anne}))
    assert status == 200
    assert "I've asked Mary to confirm" in said(fake.calls_to(daughter, "sendMessage")), log_tail(running_stack, "actions")

    asked = fake.wait_for_text(chat_id, "Anne Jones has used your family code", timeout=20, after=before)
    calls = press(running_stack, chat_id, asked, "Yes, allow Anne")
    assert "Anne Jones can now help you" in said(calls), said(calls)
    fake.wait_for_text(daughter, "Mary has allowed you to help", timeout=20)
    return daughter


def test_a_possible_emergency_asks_on_telegram_and_no_carries_on(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    calls = send(running_stack, chat_id, "my dad doesn't know who I am today")
    number = running_stack.stack.settings.emergency_number
    assert f"call {number} now" in said(calls) and "Are you hurt or in danger right now?" in said(calls), said(calls)
    [question] = [c for c in calls if keyboard(c)]
    assert [b["text"] for b in keyboard(question)] == ["Yes, I need help", "No, I'm safe"]

    calls = press(running_stack, chat_id, question, "No, I'm safe")
    assert "glad you're safe" in said(calls), said(calls) + log_tail(running_stack, "actions")
    care = CareServices.from_url(running_stack.database_url)
    assert care.danger_checks.open_for(str(chat_id)) is None
    assert [e for e in care.escalations.list_open() if e.conversation_id == str(chat_id)] == []


def test_an_unclear_message_gets_did_you_mean_buttons_on_telegram_and_is_kept_for_review(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int
) -> None:
    calls = send(running_stack, chat_id, UNCLEAR)
    assert "Did you mean" in said(calls), said(calls)
    [question] = [c for c in calls if keyboard(c)]
    labels = [b["text"] for b in keyboard(question)]
    assert labels[-1] == "Talk to a person" and len(labels) >= 2, labels
    care = CareServices.from_url(running_stack.database_url)
    kept = [r for r in care.review_list.search("new", limit=200)[0] if r.conversation_id == str(chat_id)]
    assert [r.text for r in kept] == [UNCLEAR]


def test_a_killed_speech_server_gets_a_kind_answer_and_is_back_within_seconds(
    running_stack: RunningStack, fake: FakeTelegramThread, chat_id: int, clip_dir: Path
) -> None:
    stack = running_stack.stack
    before = stack.processes["speech"].pid
    os.kill(before, signal.SIGKILL)
    stack.processes["speech"].wait(timeout=10)
    calls = say_aloud(running_stack, chat_id, "can someone come and clean on friday morning", clip_dir)
    assert said(calls).startswith("I'm sorry, I can't listen to recordings right now."), said(calls)
    assert [b["text"] for b in keyboard(calls[0])] == ["Talk to a person"]
    deadline = time.monotonic() + 30
    while not answers(f"{stack.speech_url}/health"):
        assert time.monotonic() < deadline, log_tail(running_stack, "speech")
        time.sleep(0.3)
    assert stack.processes["speech"].pid != before
    calls = say_aloud(running_stack, chat_id, "can someone come and clean on friday morning", clip_dir)
    assert said(calls).startswith("I heard: “Can someone come and clean on Friday morning"), said(calls)

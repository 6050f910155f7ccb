"""See it, take it, delete it: /mydata and /forget on the chat page and on Telegram, on the real stack."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from assistant.care import CareServices
from tests.browser import chromium_page
from tests.channels.fake_telegram import message_update

from .conftest import RunningStack
from .test_chat_page import click_choice, send
from .test_telegram_stack import keyboard, link_a_daughter, press, register_on_telegram, said
from .test_telegram_stack import send as send_telegram

pytestmark = pytest.mark.stack


@pytest.fixture
def page() -> Iterator[Any]:
    """A fresh headless Chromium page."""
    with chromium_page(900, 1400, 30000) as fresh:
        yield fresh


def stored_events(stack: RunningStack, sender: str) -> int:
    """How many events of one conversation Rasa's tracker store holds."""
    engine = sa.create_engine(f"sqlite:///{stack.stack.tracker_db}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar())
    finally:
        engine.dispose()


def test_in_the_browser_a_senior_downloads_her_data_then_deletes_it(running_stack: RunningStack, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    sender = "privacy-page-0001"
    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender={sender}")
    log = page.locator("#log")
    send(page, "hello")
    send(page, "Edna Quill")
    send(page, "9 Lark Rise")
    click_choice(page, "Riverside")
    click_choice(page, "Diabetic friendly")
    click_choice(page, "Yes, that's fine")
    expect(log.locator(".msg.bot").last).to_contain_text("I've saved your details")

    send(page, "/mydata")
    expect(log.locator(".msg.bot", has_text="This is what I keep about you")).to_contain_text("9 Lark Rise")
    link = log.locator("a.download").last
    expect(link).to_contain_text("Download my data")
    with page.expect_download() as downloading:
        link.click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(str(saved))
    document = json.loads(saved.read_text())
    assert saved.name.startswith("my-data-") and saved.suffix == ".json"
    assert document["held_about_you"]["senior_profiles"][0]["full_name"] == "Edna Quill"
    said_by_her = [e["text"] for e in document["conversation_history"] if e.get("event") == "user"]
    assert said_by_her[:3] == ["hello", "Edna Quill", "9 Lark Rise"]

    send(page, "please delete everything you know about me")
    expect(log.locator(".msg.bot").last).to_contain_text("Shall I delete everything?")
    assert CareServices.from_url(running_stack.database_url).people.find_by_conversation(sender) is not None
    click_choice(page, "Yes, delete everything")
    expect(log.locator(".msg.bot").last).to_contain_text("Done: I have deleted")
    assert CareServices.from_url(running_stack.database_url).privacy.export(sender) is None
    assert stored_events(running_stack, sender) == 0

    send(page, "hello")  # a new start: asked who she is, as anyone new
    expect(log.locator(".msg.bot").last).to_contain_text("What is your name?")


def test_on_telegram_mydata_sends_the_file_and_forget_deletes_after_yes(running_stack: RunningStack) -> None:
    fake = running_stack.telegram
    assert fake is not None
    chat_id = random.randint(700_000_000, 799_999_999)
    register_on_telegram(running_stack, chat_id)
    send_telegram(running_stack, chat_id, "/voice on")
    care = CareServices.from_url(running_stack.database_url)
    assert care.chats.voice_replies(str(chat_id))  # the choice is in the database, not in a file

    text = said(send_telegram(running_stack, chat_id, "/mydata"))
    assert "This is what I keep about you" in text and "12 Mill Lane" in text
    assert "Spoken replies in this chat: on." in text
    [document] = fake.calls_to(chat_id, "sendDocument")
    assert document.params["caption"].startswith("Download my data")
    content = json.loads(next(iter(document.files.values())).decode())
    assert content["held_about_you"]["senior_profiles"][0]["full_name"] == "Mary Jones"
    assert stored_events(running_stack, str(chat_id)) > 0

    calls = send_telegram(running_stack, chat_id, "/forget")
    [question] = [c for c in calls if keyboard(c)]
    assert "Shall I delete everything?" in question.params["text"]
    assert "Done: I have deleted" in said(press(running_stack, chat_id, question, "Yes, delete everything"))
    assert care.privacy.export(str(chat_id)) is None and not care.chats.voice_replies(str(chat_id))
    assert stored_events(running_stack, str(chat_id)) == 0
    assert "What is your name?" in said(send_telegram(running_stack, chat_id, "/start"))


def test_on_telegram_mum_stops_sharing_reminders_and_her_daughter_is_refused_them(running_stack: RunningStack) -> None:
    fake = running_stack.telegram
    assert fake is not None
    chat_id = random.randint(700_000_000, 799_999_999)
    daughter = link_a_daughter(running_stack, fake, chat_id)

    [family] = [c for c in send_telegram(running_stack, chat_id, "/family") if keyboard(c)]
    assert "Anne Jones: meals and help at home, reminders and pills" in family.params["text"]
    changed = said(press(running_stack, chat_id, family, "Anne: stop sharing reminders"))
    assert "Anne will no longer see or arrange your reminders and pills" in changed

    anne = {"id": daughter, "is_bot": False, "first_name": "Anne", "last_name": "Jones", "language_code": "en"}
    before = len(fake.calls_to(daughter, "sendMessage"))
    running_stack.post_update(message_update("remind mum to take her heart pills every day at 8am", chat_id=daughter,
                                             **{"from": anne}))
    refused = said(fake.calls_to(daughter, "sendMessage")[before:])
    assert "has not chosen to share their reminders and pills with you" in refused, refused
    assert CareServices.from_url(running_stack.database_url).reminders.list_for(str(chat_id)) == []

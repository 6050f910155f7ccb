"""The human handoff on the real stack, driven from the console in headless Chromium.

A senior writes an emergency; the coordinator sees it arrive live, joins the senior's chat, replies;
the reply reaches the senior's conversation; while the coordinator is there the assistant is silent
except for another emergency; after the hand-back the assistant answers again.
"""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any, Iterator

import pytest

from assistant.care.coordinators.coordinators import CoordinatorService
from assistant.care.core.db import Database
from assistant.settings import PROJECT_ROOT
from tests.browser import ARTIFACTS, chromium_page

from .conftest import COORDINATOR_CHAT, RunningStack, log_tail, texts
from .test_rest_conversation import register

pytestmark = pytest.mark.stack
PASSWORD = "a long and lovely password 42"


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium_page(1200, 900, 15_000) as fresh:
        yield fresh


def test_a_coordinator_takes_over_the_chat_from_the_console_and_hands_it_back(
    running_stack: RunningStack, sender: str, page: Any
) -> None:
    from playwright.sync_api import expect

    username = "sam" + uuid.uuid4().hex[:6]
    db = Database(running_stack.database_url)
    CoordinatorService(db).create(username, "Sam Taylor", PASSWORD)
    db.dispose()
    console = running_stack.stack.console_url
    register(running_stack, sender)

    page.goto(f"{console}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(f"{console}/")
    page.wait_for_timeout(700)  # the live queue's event stream is open

    replies = running_stack.say(sender, "I've fallen in the kitchen and can't get up")
    assert "112" in texts(replies), texts(replies)
    reference = texts(replies).split("reference ")[1][:7]
    alert = page.locator("#alerts .alert")
    expect(alert).to_be_visible(timeout=10_000)  # live, without a reload (speed: bench_console)
    assert running_stack.telegram is not None
    posted = running_stack.telegram.wait_for_text(COORDINATOR_CHAT, f"Emergency {reference}", timeout=10)
    assert "fallen in the kitchen" in posted.params["text"]

    alert.locator("a").click()
    expect(page.locator("#transcript")).to_contain_text("fallen in the kitchen")
    page.click("#claim")
    expect(page.locator("#claimed-by")).to_have_text("Sam Taylor")
    page.click("#join")
    expect(page.locator("#handoff-state")).to_contain_text("You are in the chat")
    running_stack.wait_for_bot_text(sender, "Sam Taylor, a care coordinator, has joined", timeout=15)

    page.fill("#reply-text", "Help is on the way, Mary. Are you hurt anywhere?")
    page.click("#reply")
    said = running_stack.wait_for_bot_text(sender, "Help is on the way, Mary", timeout=15)
    assert said.startswith("Sam Taylor (care coordinator):"), said
    expect(page.locator("#transcript .line.coordinator")).to_contain_text("Help is on the way", timeout=10_000)

    assert running_stack.say(sender, "my hip hurts a bit but I'm all right") == [], "the assistant must stay silent"
    assert running_stack.say(sender, "I'd like lunch tomorrow") == [], "no form may start while Sam is talking"
    expect(page.locator("#transcript")).to_contain_text("my hip hurts a bit", timeout=10_000)
    replies = running_stack.say(sender, "now I have chest pain")
    assert "112" in texts(replies), "an emergency is still answered at once: " + texts(replies)

    page.wait_for_timeout(2_200)  # the transcript has refreshed
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "console-handoff.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("ASSISTANT_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shot, PROJECT_ROOT / "docs" / "console-handoff.png")

    page.click("#handback")
    expect(page.locator("#join")).to_be_visible()
    running_stack.wait_for_bot_text(sender, "has left the chat, and I'm back", timeout=15)
    replies = running_stack.say(sender, "I'd like lunch tomorrow")
    assert texts(replies), "the assistant answers again after the hand-back" + log_tail(running_stack, "rasa")

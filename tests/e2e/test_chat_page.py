"""The local chat page in headless Chromium against the real stack, as a new user would use it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from assistant.care import CareServices
from tests.browser import ARTIFACTS, chromium_page
from tests.channels.test_webchat_voice import microphone_file

from .conftest import RunningStack

pytestmark = pytest.mark.stack



@pytest.fixture
def page() -> Iterator[Any]:
    """A fresh headless Chromium page."""
    with chromium_page(900, 1400, 30000) as fresh:
        yield fresh


def send(page, text: str) -> None:
    """Type a message and press Send, then wait for the assistant to answer."""
    bots_before = page.locator("#log .msg.bot").count()
    page.fill("#text", text)
    page.click("#send")
    page.wait_for_function(
        "n => document.querySelectorAll('#log .msg.bot').length > n", arg=bots_before
    )


def click_choice(page, title: str) -> None:
    """Press the last offered button whose label contains ``title``."""
    bots_before = page.locator("#log .msg.bot").count()
    page.locator("#log .choices:not(.used) button", has_text=title).last.click()
    page.wait_for_function(
        "n => document.querySelectorAll('#log .msg.bot').length > n", arg=bots_before
    )


def last_bot_text(page) -> str:
    return page.locator("#log .msg.bot").last.inner_text()


def test_new_user_registers_orders_and_cancels_in_the_browser(running_stack: RunningStack, page) -> None:
    from playwright.sync_api import expect

    sender = "page-user-0001"
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(running_stack.rasa_url) else outside.append(r.url))
    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender={sender}")
    log = page.locator("#log")

    send(page, "hello")
    expect(log.locator(".msg.bot").last).to_contain_text("What is your name?")
    send(page, "<b>Rose</b> Miller")
    send(page, "3 Quay Street")
    click_choice(page, "Riverside")
    click_choice(page, "Diabetic friendly")
    expect(log.locator(".msg.bot").last).to_contain_text("Is that all right?")
    click_choice(page, "Yes, that's fine")
    expect(log.locator(".msg.bot").last).to_contain_text("I've saved your details")
    # A first-time user is told what to do next, with buttons.
    expect(log.locator(".msg.bot").last.locator(".choices button")).to_have_text(
        ["Order a meal", "Help at home", "Set a reminder"])
    assert log.locator("b").count() == 0  # the name was shown as text, not markup

    send(page, "I'd like a diabetic-friendly lunch tomorrow at noon")
    expect(log.locator(".msg.bot").last).to_contain_text("tomorrow at 12:00")
    options = log.locator(".msg.bot").last.locator(".choices button")
    assert options.count() >= 2
    options.first.click()
    expect(log.locator(".msg.bot").last).to_contain_text("Shall I order it?")
    click_choice(page, "Yes, order it")
    confirmation = last_bot_text(page)
    match = re.search(r"reference is ([A-Z]{2}-[A-Z0-9]{5})", confirmation)
    assert match, confirmation
    reference = match.group(1)

    send(page, "what have I ordered?")
    expect(log.locator(".msg.bot").last).to_contain_text(reference)

    # A message the assistant sends on its own reaches the open page without a reload.
    running_stack.post(
        f"/conversations/{sender}/trigger_intent?output_channel=webchat",
        {"name": "ask_capabilities", "entities": {}},
    )
    expect(log.locator(".msg.bot.proactive").last).to_contain_text("I can order meals")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-page.png"), full_page=False)

    send(page, "please cancel my lunch")
    expect(log.locator(".msg.bot").last).to_contain_text(f"Cancel {reference}")
    click_choice(page, "Yes, cancel it")
    expect(log.locator(".msg.bot").last).to_contain_text(f"{reference} is cancelled")

    care = CareServices.from_url(running_stack.database_url)
    profile = care.people.find_by_conversation(sender)
    assert profile is not None and profile.full_name == "<b>Rose</b> Miller"
    assert care.meals.list_orders(sender) == []
    assert outside == []


def test_markup_typed_by_the_user_is_shown_as_text(running_stack: RunningStack, page) -> None:
    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender=page-user-0002")
    page.evaluate("window.__xss = undefined")
    send(page, "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>")
    assert page.locator("#log img, #log script").count() == 0
    assert page.evaluate("window.__xss === undefined")
    assert "<script>" in page.locator("#log .msg.user").last.inner_text()


def test_a_reminder_set_for_one_minute_ahead_arrives_in_the_open_page(running_stack: RunningStack, page) -> None:
    from playwright.sync_api import expect

    from .test_rest_conversation import register

    sender = "page-user-reminder"
    register(running_stack, sender)  # the same conversation, registered over the page's own API
    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender={sender}")
    log = page.locator("#log")

    send(page, "remind me to water the plants in 1 minute")
    expect(log.locator(".msg.bot").last).to_contain_text("Shall I set it?")
    click_choice(page, "Yes, set it")
    expect(log.locator(".msg.bot").last).to_contain_text("it's set")

    # Nobody touches the page: the care service sends the reminder through Rasa to this open page.
    reminder = log.locator(".msg.bot.proactive", has_text="Water the plants")
    expect(reminder.last).to_be_visible(timeout=120_000)
    click_choice(page, "Done")
    expect(log.locator(".msg.bot").last).to_contain_text("thank you")

    care = CareServices.from_url(running_stack.database_url)
    with care.db.reading() as session:
        from sqlalchemy import select

        from assistant.care.core.models import ReminderDelivery

        statuses = list(session.scalars(select(ReminderDelivery.status)))
    assert "acknowledged" in statuses


def test_a_new_page_gets_a_random_128_bit_conversation_id_it_keeps(running_stack: RunningStack, page) -> None:
    import re

    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/")
    first = page.locator("html").get_attribute("data-sender") or ""
    page.reload()
    kept = page.locator("html").get_attribute("data-sender")
    page.evaluate("window.localStorage.clear()")
    page.reload()
    other = page.locator("html").get_attribute("data-sender")

    assert re.fullmatch(r"[0-9a-f]{32}", first), first
    assert kept == first, "the same browser keeps its conversation"
    assert other != first and re.fullmatch(r"[0-9a-f]{32}", other or "")


def test_an_unclear_message_offers_its_likeliest_meanings_and_a_person(running_stack: RunningStack, page) -> None:
    from playwright.sync_api import expect

    from .test_telegram_stack import UNCLEAR

    sender = "page-user-unclear"
    page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender={sender}")
    send(page, UNCLEAR)
    assert "Did you mean" in last_bot_text(page), last_bot_text(page)
    choices = page.locator("#log .choices:not(.used) button")
    labels = choices.all_inner_texts()
    assert labels[-1] == "Talk to a person" and len(labels) >= 2, labels
    assert all("didn't understand" not in t for t in page.locator("#log .msg.bot").all_inner_texts())

    click_choice(page, labels[0])
    expect(page.locator("#log .msg.bot").last).not_to_contain_text("Did you mean")
    care = CareServices.from_url(running_stack.database_url)
    kept = [r for r in care.review_list.search("new", limit=200)[0] if r.conversation_id == sender]
    assert [r.text for r in kept] == [UNCLEAR]


def test_a_fall_said_into_the_page_gets_the_emergency_response(running_stack: RunningStack, clip_dir: Path) -> None:
    from playwright.sync_api import expect

    microphone = microphone_file(clip_dir, "I have fallen and I cannot get up")
    with chromium_page(390, 844, 30000, microphone=microphone) as page:
        page.goto(f"{running_stack.rasa_url}/webhooks/webchat/?sender=page-voice-0001")
        page.click("#mic")
        expect(page.locator("#recording")).to_be_visible()
        page.wait_for_timeout(4000)  # the sentence takes about 2 s to say
        page.click("#rec-send")
        log = page.locator("#log")
        expect(log.locator(".msg.user").last).to_have_text("🎤 Voice message")
        heard = log.locator(".msg.bot").nth(1)
        expect(heard).to_contain_text("I heard: “I have")
        expect(heard).to_contain_text("I cannot get up.”")  # the rest as the tiny model heard it through Opus
        number = running_stack.stack.settings.emergency_number
        expect(log.locator(".msg.bot").nth(2)).to_contain_text(f"call {number}")

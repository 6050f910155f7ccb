"""Emergencies posted to the coordinators' Telegram chat, against the fake Bot API server."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from assistant.care import CareServices
from assistant.careservice.coordinator_chat import CoordinatorChat
from tests.channels.fake_telegram import TOKEN, FakeTelegramThread

from ..care.helpers import FakeClock

CHAT = "-100123456"


@pytest.fixture
def telegram() -> Iterator[FakeTelegramThread]:
    fake = FakeTelegramThread().start()
    yield fake
    fake.stop()


def _chat(care: CareServices, telegram: FakeTelegramThread) -> CoordinatorChat:
    return CoordinatorChat(care.db, TOKEN, CHAT, "http://127.0.0.1:5080", base_url=telegram.base_url, timeout=2)


def test_each_new_emergency_is_posted_once_with_a_link(care: CareServices, clock: FakeClock, telegram: FakeTelegramThread) -> None:
    emergency = care.escalations.open("emergency", "mary-1", "Emergency (fall): I've fallen and can't get up")
    care.escalations.open("complaint", "mary-1", "cold lunch")
    chat = _chat(care, telegram)

    assert chat.post_pending(clock.now) == 1
    assert chat.post_pending(clock.now) == 0

    [call] = telegram.calls_to(int(CHAT), "sendMessage")
    text = call.params["text"]
    assert text.startswith(f"🚨 Emergency {emergency.reference}")
    assert "I've fallen and can't get up" in text
    assert f"http://127.0.0.1:5080/escalations/{emergency.reference}" in text


def test_a_failed_post_is_kept_and_tried_again_after_a_pause(care: CareServices, clock: FakeClock, telegram: FakeTelegramThread) -> None:
    care.escalations.open("emergency", "mary-1", "Emergency (chest pain)")
    telegram.server.fail("sendMessage", 502)
    chat = _chat(care, telegram)

    assert chat.post_pending(clock.now) == 0
    assert chat.post_pending(clock.now) == 0, "paused after a failure: not retried at once"
    time.sleep(1.1)
    assert chat.post_pending(clock.now) == 1
    assert len(telegram.calls_to(int(CHAT), "sendMessage")) == 2


def test_resolved_emergencies_are_not_posted(care: CareServices, clock: FakeClock, telegram: FakeTelegramThread) -> None:
    handled = care.escalations.open("emergency", "mary-1", "Emergency (fire)")
    care.escalations.resolve(handled.reference, "Sam", "Fire brigade called")
    assert _chat(care, telegram).post_pending(clock.now) == 0
    assert telegram.calls_to(int(CHAT)) == []


def test_telegram_out_of_reach_loses_nothing(care: CareServices, clock: FakeClock) -> None:
    care.escalations.open("emergency", "mary-1", "Emergency (gas)")
    dead = CoordinatorChat(care.db, TOKEN, CHAT, "http://127.0.0.1:5080", base_url="http://127.0.0.1:9/bot", timeout=1)
    assert dead.post_pending(clock.now) == 0
    assert [a.summary for a in dead.pending()] == ["Emergency (gas)"]

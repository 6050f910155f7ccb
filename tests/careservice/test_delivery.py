"""Tests for assistant.careservice.delivery against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from assistant.care import CareServices
from assistant.careservice.delivery import (
    REMINDER_INTENT,
    DeliveryError,
    RasaDelivery,
    reminder_entities,
)
from tests.care.helpers import at

from .conftest import FakeRasa


def test_trigger_posts_the_intent_to_the_conversation(rasa: FakeRasa) -> None:
    RasaDelivery(rasa.url).trigger("tg:42/x y", "EXTERNAL_missed_reminder", {"title": "Pill"})

    assert len(rasa.calls) == 1
    call = rasa.calls[0]
    assert call.conversation_id == "tg:42/x y"
    assert call.query == {"output_channel": ["latest"], "include_events": ["NONE"]}
    assert call.body == {"name": "EXTERNAL_missed_reminder", "entities": {"title": "Pill"}}


def test_the_token_is_sent_when_set(rasa: FakeRasa) -> None:
    RasaDelivery(rasa.url + "/", token="s3cret").trigger("conv", "EXTERNAL_reminder", {})

    assert rasa.calls[0].query == {"output_channel": ["latest"], "include_events": ["NONE"], "token": ["s3cret"]}


def test_a_reminder_is_sent_with_its_entities(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Blood pressure pill", "every day at 8 and 20",
                          dose="1 tablet")
    delivery = care.reminders.due_deliveries(at(1, 20, 5))[0]

    RasaDelivery(rasa.url).send_reminder(delivery)

    assert rasa.calls[0].conversation_id == "conv-edith"
    assert rasa.calls[0].body == {
        "name": REMINDER_INTENT,
        "entities": {
            "delivery_id": delivery.delivery_id, "title": "Blood pressure pill", "dose": "1 tablet",
            "kind": "medication", "due_note": "this was due at 20:00", "location": None, "due_time": "20:00",
        },
    }
    assert reminder_entities(delivery)["due_note"] == "this was due at 20:00"


def test_an_error_answer_raises(rasa: FakeRasa) -> None:
    rasa.status = 500

    with pytest.raises(DeliveryError, match="500"):
        RasaDelivery(rasa.url).trigger("conv", "EXTERNAL_reminder", {})


def test_connection_refused_raises(dead_rasa_url: str) -> None:
    with pytest.raises(DeliveryError, match="not reachable"):
        RasaDelivery(dead_rasa_url).trigger("conv", "EXTERNAL_reminder", {})


def test_a_slow_rasa_times_out(rasa: FakeRasa) -> None:
    rasa.delay = 3.0
    started = time.monotonic()

    with pytest.raises(DeliveryError, match="did not answer within 0.1 s"):
        RasaDelivery(rasa.url, timeout=0.1).trigger("conv", "EXTERNAL_reminder", {})

    assert time.monotonic() - started < 2.0, "it gave up instead of waiting for the slow answer"


def test_already_delivered_reads_the_conversation_tracker(rasa: FakeRasa) -> None:
    delivery = RasaDelivery(rasa.url)
    delivery.trigger("conv", REMINDER_INTENT, {"delivery_id": 7, "title": "Pill"})

    assert delivery.already_delivered("conv", REMINDER_INTENT, 7)
    assert not delivery.already_delivered("conv", REMINDER_INTENT, 8)
    assert not delivery.already_delivered("conv", "EXTERNAL_missed_reminder", 7)
    assert not delivery.already_delivered("someone-else", REMINDER_INTENT, 7)


def test_a_trigger_rasa_refused_is_not_in_the_tracker(rasa: FakeRasa) -> None:
    delivery = RasaDelivery(rasa.url)
    rasa.status = 500
    with pytest.raises(DeliveryError):
        delivery.trigger("conv", REMINDER_INTENT, {"delivery_id": 7})

    assert not delivery.already_delivered("conv", REMINDER_INTENT, 7)


def test_already_delivered_raises_when_rasa_is_down(dead_rasa_url: str) -> None:
    with pytest.raises(DeliveryError, match="not reachable"):
        RasaDelivery(dead_rasa_url).already_delivered("conv", REMINDER_INTENT, 7)

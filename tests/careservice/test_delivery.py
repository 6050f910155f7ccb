"""Tests for assistant.careservice.delivery against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from assistant.care import CareServices
from assistant.careservice.delivery import (
    REMINDER_ACTION,
    REMINDER_INTENT,
    DeliveryError,
    RasaDelivery,
    holds_reminder,
)
from tests.care.helpers import at, register

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


def test_a_reminder_is_appended_to_the_conversation_without_a_dialogue_turn(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Blood pressure pill", "every day at 8 and 20",
                          dose="1 tablet")
    delivery = care.reminders.due_deliveries(at(1, 20, 5))[0]

    RasaDelivery(rasa.url).send_reminder(delivery, at(1, 20, 5))

    [call] = rasa.calls
    assert rasa.batches == 1, "through the care channel, in a batch"
    assert call.conversation_id == "conv-edith"
    action, bot, *slots, listen = call.body
    assert action == {"event": "action", "name": REMINDER_ACTION, "policy": "care_service", "confidence": 1.0}
    assert bot["text"] == ("It's 20:00. Reminder: Blood pressure pill (1 tablet). (this was due at 20:00) "
                           "Please press “Done” when you have.")
    assert [b["title"] for b in bot["data"]["buttons"]] == ["Done", "Remind me in 10 minutes"]
    assert bot["metadata"] == {"delivery_id": delivery.delivery_id, "reminder_kind": "medication"}
    assert {e["name"]: e["value"] for e in slots} == {"last_delivery_id": str(delivery.delivery_id),
                                                      "last_delivery_kind": "medication"}
    assert listen == {"event": "action", "name": "action_listen"}


def test_the_checkin_greets_by_the_seniors_own_time_of_day(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.set_checkin("conv-edith", "every day at 17")
    delivery = care.reminders.due_deliveries(at(1, 17, 0))[0]

    RasaDelivery(rasa.url).send_reminder(delivery, at(1, 17, 0))

    [bot] = rasa.reminders("conv-edith")
    assert bot["text"] == "Good afternoon! It's time for our daily check-in. How are you today?"
    assert [b["title"] for b in bot["data"]["buttons"]] == ["I'm fine", "Not so good", "Please call me"]


def test_several_reminders_go_in_one_request_and_each_failure_is_reported(rasa: FakeRasa, care: CareServices) -> None:
    register(care, "conv-bob", name="Bob Brown")
    care.reminders.create("conv-edith", "medication", "Pill", "every day at 8")
    care.reminders.create("conv-bob", "medication", "Pill", "every day at 8")
    edith, bob = care.reminders.due_deliveries(at(2, 8, 0))
    rasa.unreachable = {"conv-bob"}

    failed = RasaDelivery(rasa.url).send_reminders([edith, bob])

    assert rasa.batches == 1 and len(rasa.calls) == 2
    assert list(failed) == [bob.delivery_id] and "blocked" in str(failed[bob.delivery_id])
    assert len(rasa.reminders("conv-edith")) == 1 and rasa.reminders("conv-bob") == []


def test_a_rasa_without_the_care_channel_gets_them_one_by_one(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Pill", "every day at 8")
    [edith] = care.reminders.due_deliveries(at(2, 8, 0))
    rasa.missing = {"/webhooks/care/reminders"}

    assert RasaDelivery(rasa.url).send_reminders([edith]) == {}

    [call] = rasa.calls
    assert call.query == {"output_channel": ["latest"], "execute_side_effects": ["true"], "include_events": ["NONE"]}
    assert rasa.batches == 0 and len(rasa.reminders("conv-edith")) == 1


def test_a_reminder_for_a_senior_without_a_conversation_is_refused(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "other", "Bins out", "every day at 8")
    delivery = care.reminders.due_deliveries(at(2, 8, 0))[0]

    with pytest.raises(DeliveryError, match="no conversation"):
        RasaDelivery(rasa.url).send_reminder(replace(delivery, conversation_id=None))
    assert rasa.calls == []


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


def test_an_appended_reminder_is_found_in_the_tracker(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Pill", "every day at 8")
    delivery = care.reminders.due_deliveries(at(2, 8, 0))[0]
    sender = RasaDelivery(rasa.url)
    assert not sender.reminder_already_delivered(delivery)

    sender.send_reminder(delivery)

    assert sender.reminder_already_delivered(delivery)
    assert not sender.reminder_already_delivered(replace(delivery, delivery_id=delivery.delivery_id + 1))
    assert not sender.reminder_already_delivered(replace(delivery, conversation_id="someone-else"))


def test_a_reminder_sent_the_older_way_is_found_too() -> None:
    older = {"event": "user", "parse_data": {"intent": {"name": REMINDER_INTENT},
                                            "entities": [{"entity": "delivery_id", "value": 7}]}}
    other = {"event": "user", "parse_data": {"intent": {"name": "EXTERNAL_missed_reminder"},
                                             "entities": [{"entity": "delivery_id", "value": 8}]}}

    assert holds_reminder([older], 7)
    assert not holds_reminder([older, other], 8)


def test_a_reminder_rasa_refused_is_not_in_the_tracker(rasa: FakeRasa, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Pill", "every day at 8")
    delivery = care.reminders.due_deliveries(at(2, 8, 0))[0]
    sender = RasaDelivery(rasa.url)
    rasa.status = 500
    with pytest.raises(DeliveryError, match="500"):
        sender.send_reminder(delivery)

    rasa.status = 200
    assert not sender.reminder_already_delivered(delivery)


def test_asking_the_tracker_raises_when_rasa_is_down(dead_rasa_url: str, care: CareServices) -> None:
    care.reminders.create("conv-edith", "medication", "Pill", "every day at 8")
    delivery = care.reminders.due_deliveries(at(2, 8, 0))[0]
    with pytest.raises(DeliveryError, match="not reachable"):
        RasaDelivery(dead_rasa_url).reminder_already_delivered(delivery)

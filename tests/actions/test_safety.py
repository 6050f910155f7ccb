"""Emergencies get the number at once and a top-priority escalation."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from assistant.actions import base
from assistant.actions.safety import (
    ActionDangerCheck,
    ActionDangerCleared,
    ActionDangerTimeout,
    ActionEmergency,
    ActionEmergencyAlert,
)
from assistant.care import CareServices
from assistant.care.core.models import Notification, Person

from .conftest import make_tracker, register, responses


async def test_emergency_gives_the_number_and_alerts_coordinators(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionEmergency().run(dispatcher, make_tracker("I've fallen and can't get up", "emergency"), domain)
    assert responses(dispatcher) == ["utter_emergency"]
    assert dispatcher.messages[0]["number"] == "112"
    [escalation] = care.escalations.list_open()
    assert escalation.kind == "emergency" and escalation.priority == 1
    assert escalation.reference == dispatcher.messages[0]["reference"]
    assert "fallen" in escalation.summary
    assert dispatcher.messages[0]["who"] == "a care coordinator"


async def test_an_emergency_alerts_the_linked_family_and_says_who_was_told(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne Jones", "daughter")
    care.people.link_relative("mary-0001", "tom-0001", "Tom Jones", "son")
    await ActionEmergency().run(dispatcher, make_tracker("help I've fallen in the bathroom", "emergency"), domain)
    message = dispatcher.messages[0]
    assert message["who"] == "Anne, Tom and a care coordinator"
    with care.db.reading() as session:
        rows = session.execute(
            select(Notification, Person.conversation_id)
            .join(Person, Person.id == Notification.person_id)
            .where(Notification.kind == "emergency")
        ).all()
        alerts = [row[0] for row in rows]
        assert sorted(row[1] for row in rows) == ["anne-0001", "tom-0001"]
        assert all(a.intent == "EXTERNAL_emergency_alert" and a.entities["reference"] == message["reference"] for a in alerts)
        assert all("fallen in the bathroom" in a.entities["text"] for a in alerts)


async def test_a_relative_reporting_an_emergency_is_not_alerted_about_it_themselves(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne Jones", "daughter")
    care.people.link_relative("mary-0001", "tom-0001", "Tom Jones", "son")
    await ActionEmergency().run(dispatcher, make_tracker("mum has collapsed", "emergency", sender="anne-0001"), domain)
    assert dispatcher.messages[0]["who"] == "Tom and a care coordinator"
    [escalation] = care.escalations.list_open()
    assert escalation.priority == 1 and escalation.conversation_id == "anne-0001"


async def test_relatives_hear_the_alert_with_the_number(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "", "EXTERNAL_emergency_alert",
        entities=[("senior_name", "Mary Jones"), ("text", "I've fallen"), ("reference", "ES-23456")],
    )
    await ActionEmergencyAlert().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_emergency_alert"
    assert message["senior_name"] == "Mary Jones" and message["reference"] == "ES-23456" and message["number"] == "112"
    assert message["text"] is None, "a text would replace the urgent alert"
    template = domain["responses"]["utter_emergency_alert"][0]["text"]
    shown = template.format(**{k: v for k, v in message.items() if k not in ("response", "buttons", "text")})
    assert shown.startswith("URGENT: Mary Jones wrote to me: “I've fallen”")


async def test_emergency_number_is_given_even_when_the_database_fails(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(base.care().emergencies, "raise_alert", broken)
    await ActionEmergency().run(dispatcher, make_tracker("chest pain", "emergency"), domain)
    assert responses(dispatcher) == ["utter_emergency_unsaved"]
    assert dispatcher.messages[0]["number"] == "112"


def _possible(text: str, ranking: list[dict[str, Any]], message_id: str = "m1") -> Any:
    """A tracker whose latest message the safety net judged a possible emergency."""
    tracker = make_tracker(text, "possible_emergency")
    tracker.latest_message["intent_ranking"] = [{"name": "possible_emergency", "confidence": 1.0}, *ranking]
    tracker.latest_message["message_id"] = message_id
    tracker.latest_message["entities"] = [{"entity": "service", "value": "cleaning"}]
    tracker.events[-1]["parse_data"] = tracker.latest_message
    return tracker


async def test_a_possible_emergency_is_recorded_and_the_user_told_what_silence_will_do(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    tracker = _possible("I had a fall on Sunday, can someone clean", [{"name": "book_home_service", "confidence": 0.6}])
    await ActionDangerCheck().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_danger_check_wait"]
    assert "2 minutes" in domain["responses"]["utter_danger_check_wait"][0]["text"]
    assert dispatcher.messages[0]["who"] == "a care coordinator", "nobody else is linked"
    check = care.danger_checks.open_for("mary-0001")
    assert check is not None and "fall on Sunday" in check.text
    assert care.escalations.list_open() == [], "no alarm yet"


async def test_yes_raises_the_alarm_about_what_was_first_written(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne Jones", "daughter")
    await ActionDangerCheck().run(CollectingDispatcher(), _possible("I feel very odd and shaky", []), domain)
    await ActionEmergency().run(dispatcher, make_tracker("/emergency", "emergency"), domain)
    assert responses(dispatcher) == ["utter_emergency"]
    assert dispatcher.messages[0]["who"] == "Anne and a care coordinator"
    [escalation] = care.escalations.list_open()
    assert "very odd and shaky" in escalation.summary and "/emergency" not in escalation.summary
    assert care.danger_checks.open_for("mary-0001") is None


async def test_no_offers_to_carry_on_with_what_was_asked(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    asked = _possible("I had a fall on Sunday, can someone clean", [
        {"name": "book_home_service", "confidence": 0.6}, {"name": "emergency", "confidence": 0.3},
    ])
    await ActionDangerCheck().run(CollectingDispatcher(), asked, domain)
    tracker = make_tracker("/not_in_danger", "not_in_danger", events=list(asked.events))
    await ActionDangerCleared().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_danger_cleared_carry_on"
    assert [b["payload"] for b in message["buttons"]] == ['/book_home_service{"service": "cleaning"}', "/talk_to_human"]
    assert care.danger_checks.open_for("mary-0001") is None
    assert care.escalations.list_open() == []


async def test_the_number_is_still_given_when_the_question_cannot_be_recorded(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(base.care().danger_checks, "ask", broken)
    await ActionDangerCheck().run(dispatcher, _possible("i feel strange", []), domain)
    assert responses(dispatcher) == ["utter_emergency_unsaved"], "no promise of an alarm that was not saved"
    assert dispatcher.messages[0]["number"] == "112"


async def test_the_user_hears_that_silence_raised_the_alarm(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionDangerTimeout().run(
        dispatcher, make_tracker("", "EXTERNAL_danger_timeout", entities=[("reference", "ES-77777")]), domain
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_danger_timeout" and message["reference"] == "ES-77777"
    assert message["number"] == "112"


async def test_the_question_names_who_silence_would_alert(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-0001", "Anne Jones", "daughter")
    await ActionDangerCheck().run(dispatcher, _possible("I feel very odd", []), domain)
    assert dispatcher.messages[0]["who"] == "Anne and a care coordinator"

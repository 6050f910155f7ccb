""""Did you mean …?": an unclear message gets its likeliest meanings as buttons, and a person."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.clarify import ActionDidYouMean, did_you_mean_buttons, likely_meanings

from .conftest import make_tracker, responses

pytestmark = pytest.mark.usefixtures("care")
"""Every test gets a fresh database: the action keeps each unclear message for review."""


def _ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


async def _ask(text: str, ranking: list[dict[str, Any]], domain: dict[str, Any],
               entities: list[tuple[str, str]] | None = None) -> CollectingDispatcher:
    tracker = make_tracker(text, "nlu_fallback", entities=entities)
    tracker.latest_message["intent_ranking"] = ranking
    said = CollectingDispatcher()
    await ActionDidYouMean().run(said, tracker, domain)
    return said


async def test_the_likeliest_meanings_are_offered_with_a_person(domain: dict[str, Any]) -> None:
    said = await _ask("the cleaning lady thing on friday", _ranking(
        ("nlu_fallback", 0.3), ("book_home_service", 0.28), ("change_booking", 0.25), ("greet", 0.1),
        ("cancel_booking", 0.09), ("order_meal", 0.05)), domain, entities=[("service", "cleaning")])
    assert responses(said) == ["utter_did_you_mean"]
    buttons = said.messages[0]["buttons"]
    assert [b["title"] for b in buttons] == ["Book help at home", "Change a booking", "Cancel a booking", "Talk to a person"]
    intent, _, entities = buttons[0]["payload"].partition("{")
    assert intent == "/book_home_service" and json.loads("{" + entities) == {"service": "cleaning"}
    assert buttons[-1]["payload"] == "/talk_to_human"
    [text] = [r["text"] for r in domain["responses"]["utter_did_you_mean"]]
    assert "Did you mean" in text and "didn't understand" not in text


async def test_an_emergency_among_the_guesses_comes_first(domain: dict[str, Any]) -> None:
    said = await _ask("mum is not right at all", _ranking(
        ("consult_health", 0.3), ("talk_to_human", 0.2), ("emergency", 0.12), ("order_meal", 0.1)), domain)
    titles = [b["title"] for b in said.messages[0]["buttons"]]
    assert titles[0] == "I need help now" and titles[-1] == "Talk to a person"
    assert said.messages[0]["buttons"][0]["payload"] == "/emergency"


async def test_without_a_likely_meaning_the_general_menu_is_offered(domain: dict[str, Any]) -> None:
    said = await _ask("hmm", _ranking(("nlu_fallback", 0.4), ("greet", 0.3), ("thank", 0.2), ("affirm", 0.1)), domain)
    assert responses(said) == ["utter_default"]
    [menu] = domain["responses"]["utter_default"]
    assert menu["buttons"] and "didn't understand" not in menu["text"]


def test_small_talk_and_noise_are_never_offered() -> None:
    assert likely_meanings(_ranking(("affirm", 0.5), ("order_meal", 0.02), ("set_reminder", 0.2))) == ["set_reminder"]
    assert did_you_mean_buttons({"intent_ranking": _ranking(("deny", 0.9))}) is None


async def test_each_unclear_message_is_kept_for_the_coordinators_review(care: Any, domain: dict[str, Any]) -> None:
    await _ask("the lady thing on friday", _ranking(("nlu_fallback", 0.3), ("book_home_service", 0.28),
                                                    ("change_booking", 0.25)), domain)
    [kept], total = care.review_list.search("new")
    assert total == 1 and kept.text == "the lady thing on friday" and kept.conversation_id == "mary-0001"
    assert kept.guesses == (("book_home_service", 0.28), ("change_booking", 0.25))


async def test_the_answer_comes_even_when_the_review_list_cannot_be_written(
    care: Any, domain: dict[str, Any], monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(care.review_list, "record", broken)
    said = await _ask("the lady thing", _ranking(("nlu_fallback", 0.3), ("book_home_service", 0.28)), domain)
    assert responses(said) == ["utter_did_you_mean"]

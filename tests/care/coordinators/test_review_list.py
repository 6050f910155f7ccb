"""Unclear messages are kept for review; accepted ones export as Rasa training data."""

from __future__ import annotations

import pytest
import yaml

from assistant.care import CareServices
from assistant.care.core.errors import InvalidInput, NotFound

INTENTS = ("order_meal", "book_home_service", "out_of_scope")


def test_kept_once_with_its_guesses_and_listed_newest_first(care: CareServices, clock) -> None:
    first = care.review_list.record("c1", "can u sort my tea out", [("order_meal", 0.3), ("book_home_service", 0.2)],
                                    message_id="m1")
    again = care.review_list.record("c1", "can u sort my tea out", [], message_id="m1")
    clock.advance(minutes=1)
    care.review_list.record("c2", "the thing with the van", [("check_bookings", 0.25)], message_id="m2")
    assert first is not None and again is not None and first.id == again.id
    rows, total = care.review_list.search("new")
    assert total == 2 and [r.text for r in rows] == ["the thing with the van", "can u sort my tea out"]
    assert rows[1].guesses == (("order_meal", 0.3), ("book_home_service", 0.2))


def test_button_payloads_and_empty_text_are_not_kept(care: CareServices) -> None:
    assert care.review_list.record("c1", "/order_meal", []) is None
    assert care.review_list.record("c1", "   ", []) is None
    assert care.review_list.search("new")[1] == 0


def test_reviewed_messages_export_as_rasa_training_data(care: CareServices) -> None:
    a = care.review_list.record("c1", "can u sort my tea out", [("order_meal", 0.3)])
    b = care.review_list.record("c2", "need someone for the   windows", [("book_home_service", 0.3)])
    c = care.review_list.record("c3", "asdf", [])
    assert a and b and c
    care.review_list.review(a.id, "order_meal", "Sam", INTENTS)
    care.review_list.review(b.id, "book_home_service", "Sam", INTENTS)
    dismissed = care.review_list.review(c.id, None, "Sam", INTENTS)
    assert dismissed.status == "dismissed"
    exported = yaml.safe_load(care.review_list.export_yaml())
    assert exported["version"] == "3.1"
    examples = {item["intent"]: item["examples"] for item in exported["nlu"]}
    assert examples == {"book_home_service": "- need someone for the windows\n", "order_meal": "- can u sort my tea out\n"}
    assert care.review_list.search("new")[1] == 0 and care.review_list.search("accepted")[1] == 2


def test_an_unknown_intent_or_message_is_refused(care: CareServices) -> None:
    row = care.review_list.record("c1", "hmm", [])
    assert row is not None
    with pytest.raises(InvalidInput):
        care.review_list.review(row.id, "launch_rocket", "Sam", INTENTS)
    with pytest.raises(NotFound):
        care.review_list.review(9999, "order_meal", "Sam", INTENTS)
    with pytest.raises(InvalidInput):
        care.review_list.search("everything")


def test_nothing_accepted_exports_an_empty_but_valid_file(care: CareServices) -> None:
    assert yaml.safe_load(care.review_list.export_yaml()) == {"version": "3.1", "nlu": []}

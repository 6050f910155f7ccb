"""The trained model gives every emergency we wrote for it the emergency number, and reads stories,
figures of speech and questions that use emergency words as what they are.

data/nlu/emergencies_in_context.yml holds emergencies the rules alone do not settle (inside another
request, misspelled, written by a relative, kinds that never say "emergency"): the classifier and
the rules together must give each of them the number (the full alarm or the danger question).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from assistant.settings import PROJECT_ROOT
from benchmarks.nlu_scoring import read_nlu_yaml

pytestmark = pytest.mark.rasa
DATA = PROJECT_ROOT / "data" / "nlu"
NUMBER = {"emergency", "possible_emergency"}


def test_every_emergency_written_for_the_classifier_gets_the_number(parse: Callable[..., list[str]]) -> None:
    texts = [e.text for e in read_nlu_yaml(DATA / "emergencies_in_context.yml") if e.intent == "emergency"]
    assert len(texts) >= 100
    missed = [t for t, intent in zip(texts, parse(texts)) if intent not in NUMBER]
    assert missed == []


def test_look_alikes_seldom_raise_the_full_alarm(parse: Callable[..., list[str]]) -> None:
    """At most 2% (the issue's limit): a story named only by its programme ("Coronation Street had
    someone collapse") still reads as happening now."""
    examples = read_nlu_yaml(DATA / "look_alikes.yml")
    assert len(examples) >= 70
    alarmed = [e.text for e, intent in zip(examples, parse(e.text for e in examples)) if intent == "emergency"]
    assert len(alarmed) <= 0.02 * len(examples), alarmed


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("the kitchin is on fire and i cant get out", "fire"),
        ("i can smel gass in the hall", "gas"),
        ("my husband is bleedin alot from his head", "bleeding"),
        ("she has colapsed in the bathroom", "unresponsive"),
    ],
)
def test_misspelled_emergencies_raise_the_alarm_with_their_kind(
    parse_all: Callable[..., list[dict[str, Any]]], text: str, sign: str
) -> None:
    [parsed] = parse_all([text])
    assert parsed["intent"]["name"] == "emergency"
    assert parsed.get("emergency_sign") == sign

"""The emergency safety net: emergencies are caught in any wording; everyday requests are not."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from assistant.care.safety import emergency_sign
from assistant.nlu.safety_net import EmergencySafetyNet
from assistant.settings import PROJECT_ROOT

EMERGENCIES = [
    ("I've fallen and can't get up", "fall"),
    ("help me i've fallen over in the bathroom", "fall"),
    ("ive falln", "fall"),
    ("my mum has had a fall and is on the floor", "fall"),
    ("i was ordering lunch but i fell in the kitchen", "fall"),
    ("I can't get up off the floor", "fall"),
    ("I have chest pain, what should I take?", "chest pain"),
    ("chest pian", "chest pain"),
    ("i think dad is having a heart attack", "chest pain"),
    ("i cant breath", "breathing"),
    ("she's choking", "breathing"),
    ("her face is drooping and her words are slurred", "stroke"),
    ("I think he's having a stroke", "stroke"),
    ("it won't stop bleeding", "bleeding"),
    ("there is blood everywhere, i cut my hand badly", "bleeding"),
    ("my husband collapsed", "unresponsive"),
    ("she won't wake up", "unresponsive"),
    ("I want to end my life", "self-harm"),
    ("i dont want to live anymore", "self-harm"),
    ("someone is trying to get in my house", "intruder"),
    ("there's a burglar downstairs", "intruder"),
    ("the kitchen is on fire", "fire"),
    ("I can smell gas", "gas"),
    ("please call an ambulance", "call for help"),
]
EVERYDAY = [
    "how can I prevent falls at home",
    "I'd like a diabetic-friendly lunch tomorrow at noon",
    "my pension fell this year, is that right",
    "I fell asleep and missed my lunch",
    "what is a healthy blood pressure",
    "remind me to take my heart tablets at 8",
    "can someone fix my gas cooker",
    "stroke the cat",
    "the soup was cold",
    "I want to talk to a person",
    "book a table for two",
    "get up at 8 tomorrow",
]


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES)
def test_emergencies_are_caught(text: str, kind: str) -> None:
    assert emergency_sign(text) == kind


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_requests_are_not_emergencies(text: str) -> None:
    assert emergency_sign(text) is None


def test_held_out_non_emergencies_raise_no_alarm() -> None:
    held = yaml.safe_load((PROJECT_ROOT / "tests" / "nlu" / "heldout.yml").read_text())
    alarms = [t for intent, texts in held.items() if intent != "emergency" for t in texts if emergency_sign(t)]
    assert alarms == []
    assert all(emergency_sign(t) for t in held["emergency"])


def test_component_overrides_the_classifier_and_keeps_the_ranking() -> None:
    message = Message(data={"text": "help me I've fallen"})
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.45}, add_to_output=True)
    message.set("intent_ranking", [{"name": "greet", "confidence": 0.3}], add_to_output=True)
    [out] = EmergencySafetyNet().process([message])
    assert out.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in out.get("intent_ranking")] == ["emergency", "greet"]
    assert out.get("emergency_sign") == "fall"


def test_component_leaves_other_messages_alone() -> None:
    message = Message(data={"text": "lunch tomorrow please"})
    message.set("intent", {"name": "order_meal", "confidence": 0.9}, add_to_output=True)
    [out] = EmergencySafetyNet().process([message])
    assert out.get("intent")["name"] == "order_meal"


def test_very_long_text_is_handled() -> None:
    assert emergency_sign("soup " * 5000) is None

"""The emergency safety net: emergencies are caught in any wording; everyday requests are not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from assistant.care.safety.safety import SIGNS, emergency_sign, emergency_signs, normalise
from assistant.nlu.safety_net import EmergencySafetyNet
from assistant.settings import PROJECT_ROOT

HERE = Path(__file__).parent
KINDS = {kind for kind, _ in SIGNS}
_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")

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
    ("she's choking", "choking"),
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


def _examples(path: Path) -> dict[str, list[str]]:
    """Training examples of one Rasa NLU file by intent, entity markup removed."""
    found: dict[str, list[str]] = {}
    for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
        if "intent" not in item:
            continue
        lines = (line.strip() for line in item["examples"].splitlines())
        texts = [_ENTITY.sub(r"\1", line[2:]) for line in lines if line.startswith("- ")]
        found.setdefault(item["intent"], []).extend(texts)
    return found


def _training_examples() -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for intent, texts in _examples(path).items():
            merged.setdefault(intent, []).extend(texts)
    return merged


def _emergency_phrases() -> dict[str, list[str]]:
    return yaml.safe_load((HERE / "emergency_phrases.yml").read_text())


def _everyday_messages() -> dict[str, list[str]]:
    """Every non-emergency message we have, by where it comes from."""
    heldout = yaml.safe_load((HERE / "heldout.yml").read_text())
    knowledge = [
        q
        for path in sorted((PROJECT_ROOT / "data" / "knowledge").glob("*.yml"))
        for topic in yaml.safe_load(path.read_text())["topics"]
        for q in topic["questions"]
    ]
    knowledge_heldout: list[str] = []
    heldout_file = PROJECT_ROOT / "tests" / "care" / "consultation" / "knowledge_heldout.yml"
    for batch in yaml.safe_load(heldout_file.read_text())["batches"]:
        knowledge_heldout += [q for qs in batch["covered"].values() for q in qs] + batch["uncovered"]
    return {
        "tricky phrases (tests/nlu/non_emergency_phrases.yml)": yaml.safe_load(
            (HERE / "non_emergency_phrases.yml").read_text()
        )["phrases"],
        "training examples (data/nlu, not emergency)": [
            t for intent, texts in _training_examples().items() if intent != "emergency" for t in texts
        ],
        "held-out paraphrases (tests/nlu/heldout.yml)": [
            t for intent, texts in heldout.items() if intent != "emergency" for t in texts
        ],
        "knowledge base questions": knowledge,
        "knowledge base held-out questions": knowledge_heldout,
    }


# --- recall -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES)
def test_emergencies_are_caught(text: str, kind: str) -> None:
    assert emergency_sign(text) == kind


def test_every_emergency_phrase_is_caught() -> None:
    phrases = _emergency_phrases()
    total = sum(len(texts) for texts in phrases.values())
    missed = [text for texts in phrases.values() for text in texts if emergency_sign(text) is None]
    print(f"\nemergency recall: {total - len(missed)}/{total} phrasings of {len(phrases)} kinds")
    assert total >= 100
    assert missed == []


def test_each_phrase_is_caught_as_its_kind() -> None:
    phrases = _emergency_phrases()
    assert set(phrases) <= KINDS
    wrong = {text: emergency_signs(text) for kind, texts in phrases.items() for text in texts
             if kind not in emergency_signs(text)}
    assert wrong == {}


def test_training_and_heldout_emergencies_are_caught() -> None:
    """The rules alone catch the emergencies of data/nlu/safety.yml (those of emergencies_in_context.yml,
    written for the classifier, are checked on the trained model in test_model_emergencies.py)."""
    heldout = yaml.safe_load((HERE / "heldout.yml").read_text())
    texts = _examples(PROJECT_ROOT / "data" / "nlu" / "safety.yml")["emergency"] + heldout["emergency"]
    assert len(texts) >= 50
    assert [t for t in texts if emergency_sign(t) is None] == []


@pytest.mark.parametrize(
    "text",
    [
        "I’ve fallen and can’t get up",  # curly apostrophes
        "ive fallen and cant get up",  # no apostrophes
        "I'VE FALLEN AND CAN'T GET UP!!!",  # shouting
        "i've...fallen,,, and - can't get up ???",  # punctuation
        "ive fallllen and caaaant get uuup",  # stretched letters
        "I ' ve fallen and can ' t get up",  # spaced apostrophes
        "Ｉ’ve fallen 😭😭 and can’t get up 🙏",  # full-width letters and emoji
        "  i've   fallen\nand\tcan't get up  ",  # odd spacing
    ],
)
def test_writing_style_does_not_hide_an_emergency(text: str) -> None:
    assert emergency_sign(text) == "fall"


def test_signs_found_anywhere_in_a_long_message() -> None:
    chatter = "I would like to tell you about my week. " * 40
    assert emergency_sign(chatter + "Also I have terrible chest pain.") == "chest pain"
    assert emergency_signs("my husband fell and now he is bleeding heavily") == ("bleeding", "fall")


# --- false alarms -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_requests_are_not_emergencies(text: str) -> None:
    assert emergency_sign(text) is None


def test_false_alarm_rate_is_under_two_percent() -> None:
    sources = _everyday_messages()
    total = sum(len(texts) for texts in sources.values())
    alarms = {name: [(t, emergency_sign(t)) for t in texts if emergency_sign(t)] for name, texts in sources.items()}
    raised = sum(len(found) for found in alarms.values())
    print(f"\nfalse alarms: {raised}/{total} = {raised / total:.2%} of everyday messages")
    for name, texts in sources.items():
        print(f"  {name}: {len(alarms[name])}/{len(texts)} {alarms[name] or ''}")
    assert total >= 400
    assert len(sources["tricky phrases (tests/nlu/non_emergency_phrases.yml)"]) >= 100
    assert raised / total < 0.02


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("since his stroke last year i deal with all the post", "a stroke long past"),
        ("my friend had a nasty fall three years ago, what can she claim", "a fall long past"),
        ("I slipped on the ice but I'm fine now", "a fall that is over"),
        ("the lady next door has fallen in love with my dog", "an innocent phrase"),
    ],
)
def test_history_and_idioms_are_not_emergencies(text: str, why: str) -> None:
    assert emergency_sign(text) is None, why


def test_recovery_only_cancels_a_fall() -> None:
    assert emergency_sign("I have chest pain but I'm fine") == "chest pain"
    assert emergency_sign("I slipped but I'm fine, I just can't get up") == "fall"


# --- behaviour --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "😀", "soup " * 5000, "a" * 100_000])
def test_odd_input_is_handled(text: str) -> None:
    assert emergency_sign(text) is None
    assert emergency_signs(text) == ()


def test_normalise() -> None:
    assert normalise("I’ve FALLLLEN!!  Can’t  get up…") == "ive fallen cant get up"
    assert normalise("Can ' t  breathe") == "cant breathe"


def test_every_kind_returned_is_a_known_kind() -> None:
    phrases = _emergency_phrases()
    found = {emergency_sign(t) for texts in phrases.values() for t in texts}
    assert found <= KINDS


# --- the Rasa component -----------------------------------------------------------------------------


def test_held_out_non_emergencies_raise_no_alarm() -> None:
    held: dict[str, Any] = yaml.safe_load((HERE / "heldout.yml").read_text())
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


def test_a_demoted_guess_falls_back_at_the_pipelines_own_threshold() -> None:
    """The safety net's fallback threshold is the FallbackClassifier's in config.yml: one number."""
    from assistant.nlu.safety_net import FALLBACK_THRESHOLD

    pipeline = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())["pipeline"]
    [fallback] = [c for c in pipeline if c["name"] == "FallbackClassifier"]
    assert fallback["threshold"] == FALLBACK_THRESHOLD

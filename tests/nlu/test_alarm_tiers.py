"""Two tiers of emergency: the rules and a sure classifier alarm at once, a half-sure one asks first."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.care.safety.alarm_tiers import DEFINITE, NONE, POSSIBLE, alarm_tier
from assistant.care.safety.safety import describes_not_now
from assistant.nlu.safety_net import EmergencySafetyNet
from rasa.shared.nlu.training_data.message import Message


def ranking(**chances: float) -> list[dict[str, Any]]:
    return [{"name": k, "confidence": v} for k, v in sorted(chances.items(), key=lambda kv: -kv[1])]


def test_a_rule_sign_happening_now_is_definite_whatever_the_classifier_says() -> None:
    tier = alarm_tier("help I've fallen and can't get up", ranking(order_meal=0.9, emergency=0.01))
    assert tier.level == DEFINITE and tier.sign == "fall"


def test_a_sure_classifier_is_definite() -> None:
    assert alarm_tier("the old fella's gone a funny colour and won't talk", ranking(emergency=0.8)).level == DEFINITE


def test_a_half_sure_classifier_asks() -> None:
    assert alarm_tier("things feel very wrong in my head today", ranking(consult_health=0.5, emergency=0.3)).level == POSSIBLE


def test_emergency_far_down_the_ranking_is_not_alarming() -> None:
    assert alarm_tier("book a cleaner", ranking(book_home_service=0.9, emergency=0.05)).level == NONE
    chances = ranking(a=0.3, b=0.25, c=0.2, emergency=0.16)
    assert alarm_tier("something", chances).level == NONE, "fourth place is not among the likeliest meanings"


@pytest.mark.parametrize("text", [
    "I had a bad fall three years ago and now I'd like a cleaner",
    "what are the warning signs of a stroke",
    "what should I do if my husband has a heart attack",
    "the boiler is due its yearly service",
    "I'd like to buy one of those alarm pendants",
    "there was a fire on the news last night",
    "I'm worried I might fall in the shower",
    # ages and seasons long past, people described by their history, deaths recounted
    "my brother broke his hip three summers ago",
    "when I was twelve I fell through the ice on the pond",
    "she had fits in her twenties but none now",
    "we need a carer who understands someone that has had a stroke",
    "my uncle died of a heart attack on his birthday",
    # stories told, questions about the right thing to do
    "I watched a drama where the old man collapses in the street",
    "the paper says a woman was attacked near the park",
    "did you hear about the fire at the school",
    "what's the best way to stop a nosebleed",
    "what number should I ring if the gas board is closed",
])
def test_past_hypothetical_informational_and_purchase_mentions_are_not_now(text: str) -> None:
    assert describes_not_now(text)


@pytest.mark.parametrize("text", [
    "I've fallen and can't get up",
    "my chest is really tight and I feel sick",
    "there's a man in my garden trying the back door",
    "I took all my tablets at once",
    "never mind the laundry, I've just fallen down the stairs",
    "my husband has collapsed while we were watching the telly",
])
def test_emergencies_happening_now_are_not_mistaken_for_history(text: str) -> None:
    assert not describes_not_now(text)


def test_not_now_never_raises_the_full_alarm_but_a_strong_signal_still_asks() -> None:
    text = "what are the warning signs of a stroke"
    assert alarm_tier(text, ranking(consult_health=0.9, emergency=0.05)).level == NONE
    assert alarm_tier(text, ranking(emergency=0.9)).level == POSSIBLE
    assert alarm_tier("I had a fall years ago", ranking(emergency=0.55, consult_health=0.3)).level == POSSIBLE
    assert alarm_tier("I had a fall years ago", ranking(emergency=0.3, consult_health=0.6)).level == NONE


def _parsed(text: str, chances: list[dict[str, Any]], fallback: bool = False) -> Message:
    message = Message(data={"text": text})
    top = {"name": "nlu_fallback", "confidence": 0.35} if fallback else chances[0]
    message.set("intent", top)
    message.set("intent_ranking", ([top] if fallback else []) + chances)
    return EmergencySafetyNet("999").process([message])[0]


def test_the_pipeline_asks_about_a_possible_emergency_with_the_number() -> None:
    message = _parsed("my tummy is awful and i feel faint-ish", ranking(consult_health=0.55, emergency=0.3))
    assert message.get("intent")["name"] == "possible_emergency"
    assert [r["name"] for r in message.get("intent_ranking")][:3] == ["possible_emergency", "consult_health", "emergency"]
    assert {"entity": "emergency_number", "value": "999"}.items() <= message.get("entities")[0].items()


def test_a_classifier_emergency_that_is_only_history_gives_way_to_the_next_guess() -> None:
    message = _parsed("my mum had a stroke years ago, what help can she get", ranking(emergency=0.4, consult_health=0.45))
    assert message.get("intent")["name"] == "consult_health"
    message = _parsed("i saw a house fire on the telly", ranking(emergency=0.45, out_of_scope=0.2))
    assert message.get("intent")["name"] == "nlu_fallback", "an unsure next guess is an honest 'did you mean'"
    assert not message.get("entities")


@pytest.mark.parametrize("text, kind", [
    ("I'm diabetic and all of a sudden I'm shaky and sweaty", "hypo"),
    ("dad is suddenly confused and not making sense", "confusion"),
    ("my wife doesn't recognise me this evening", "confusion"),
    ("mum popped out for milk at two and hasn't come back", "confusion"),
    ("everyone in the house has a headache since the new gas fire went in", "carbon monoxide"),
    ("I won't be around much longer, I've made my peace", "self-harm"),
    ("I'm frightened of my grandson, he pushes me when I say no", "abuse"),
])
def test_weak_signs_always_ask_and_never_raise_the_full_alarm(text: str, kind: str) -> None:
    tier = alarm_tier(text, ranking(consult_health=0.9, emergency=0.01))
    assert (tier.level, tier.sign) == (POSSIBLE, kind)


@pytest.mark.parametrize("text", [
    "I'm lost with all these buttons",
    "do not wake me up before nine on Sundays",
    "I take two sugars in my tea",
])
def test_everyday_words_near_weak_signs_do_not_ask(text: str) -> None:
    assert alarm_tier(text, ranking(out_of_scope=0.9, emergency=0.01)).level == NONE

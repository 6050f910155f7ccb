"""What the channels do with a transcript: act, ask back, or ask again (no model needed)."""

from __future__ import annotations

import pytest

from assistant.hearing.verdict import (
    HEARD,
    NOT_AUDIO_REPLY,
    NOTHING,
    NOTHING_REPLY,
    REFUSED,
    TOO_LONG_REPLY,
    UNAVAILABLE,
    UNAVAILABLE_REPLY,
    UNSURE,
    judge,
)


def transcript(text: str, logprob: float = -0.2, no_speech: float = 0.05) -> dict:
    return {"text": text, "avg_logprob": logprob, "no_speech_prob": no_speech, "seconds": 2.5, "elapsed": 0.4}


def test_a_confident_transcript_is_echoed_and_acted_on() -> None:
    hearing = judge(transcript(" Can someone come and clean on Friday? "))
    assert hearing.kind == HEARD and hearing.acts
    assert hearing.text == "Can someone come and clean on Friday?"
    assert hearing.reply == "I heard: “Can someone come and clean on Friday?”"
    assert not hearing.urgent


def test_an_unsure_transcript_is_asked_back() -> None:
    hearing = judge(transcript("Blop, fimble, sock, waggle.", logprob=-0.92))
    assert hearing.kind == UNSURE and not hearing.acts
    assert hearing.reply == "I'm not sure I heard you right. Did you say: “Blop, fimble, sock, waggle.”?"


@pytest.mark.parametrize("said", ["I've fallen and can't get up", "help me I can't breathe", "my chest hurts"])
def test_an_emergency_is_never_held_back_by_a_question(said: str) -> None:
    hearing = judge(transcript(said, logprob=-1.4, no_speech=0.7))
    assert hearing.kind == HEARD and hearing.acts and hearing.urgent


@pytest.mark.parametrize(
    "result",
    [
        transcript("", -10.0, 1.0),
        transcript("Thank you.", -1.2, 0.3),  # what Whisper says to noise
        transcript("Mm, mm, mm.", -1.1, 0.8),
    ],
)
def test_no_words_means_try_again(result: dict) -> None:
    hearing = judge(result)
    assert (hearing.kind, hearing.reply, hearing.text) == (NOTHING, NOTHING_REPLY, "")


def test_a_confident_short_thank_you_is_still_words() -> None:
    assert judge(transcript("Thank you.", -0.1, 0.1)).kind == HEARD


@pytest.mark.parametrize(
    ("result", "kind", "reply"),
    [
        ({"error": "too_long"}, REFUSED, TOO_LONG_REPLY),
        ({"error": "too_big"}, REFUSED, TOO_LONG_REPLY),
        ({"error": "not_audio"}, REFUSED, NOT_AUDIO_REPLY),
        ({"error": "empty"}, NOTHING, NOTHING_REPLY),
        ({"error": "unavailable"}, UNAVAILABLE, UNAVAILABLE_REPLY),
        ({"error": "failed"}, UNAVAILABLE, UNAVAILABLE_REPLY),
        ({"text": None}, UNAVAILABLE, UNAVAILABLE_REPLY),
    ],
)
def test_every_failure_has_a_kind_answer(result: dict, kind: str, reply: str) -> None:
    hearing = judge(result)
    assert (hearing.kind, hearing.reply) == (kind, reply)
    assert not hearing.acts

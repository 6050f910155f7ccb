"""What to do with what the speech server heard: act on it, ask "Did you say ...?", or ask again.

Shared by the Telegram channel and the chat page, so a voice message gets the same answers on both.
An emergency is never held back by a question: when the words show a sign of one (the same safety
net typed text meets), they go straight on, however unsure the model was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from assistant.care.safety.safety import emergency_sign, possible_sign
from assistant.hearing.limits import EMPTY, MAX_SECONDS, NOT_AUDIO, TOO_BIG, TOO_LONG

HEARD = "heard"
"""Sure enough: echo the words and handle them as typed text."""
UNSURE = "unsure"
"""Ask "Did you say ...?" with Yes and No."""
NOTHING = "nothing"
"""No words: ask to try again."""
REFUSED = "refused"
"""Not a recording we can use (too long, too big, not audio): say why."""
UNAVAILABLE = "unavailable"
"""The speech server is not running or failed: ask for text, offer a person."""

UNSURE_BELOW = -0.75
"""Average token log-probability under which the words are checked with the user (see docs/benchmarks.md)."""
NO_SPEECH_ABOVE = 0.6
"""With a low log-probability too, the model's no-speech probability above this means silence."""
SILENCE_WORDS = frozenset({"", "you", "thank you", "thanks for watching", "bye", "okay", "uh", "um", "hmm"})
"""What Whisper says to a silent or noisy clip; only taken as words when the model was confident."""

HEARD_REPLY = "I heard: “{text}”"
ASK_REPLY = "I'm not sure I heard you right. Did you say: “{text}”?"
YES_TITLE = "Yes, that's right"
NO_TITLE = "No, I'll say it again"
SAY_AGAIN_REPLY = "Sorry about that. Please say it again, a little closer to the microphone, or type it."
NOTHING_REPLY = (
    "I couldn't hear any words in that recording. Please try again, close to the microphone, "
    "or type your message."
)
TOO_LONG_REPLY = (
    f"That recording is longer than {int(MAX_SECONDS)} seconds, so I didn't listen to it. "
    "Please send a shorter one, or say it in parts."
)
NOT_AUDIO_REPLY = "I couldn't play that recording. Please record it again, or type your message."
UNAVAILABLE_REPLY = (
    "I'm sorry, I can't listen to recordings right now. Please type a few words instead, "
    "or ask to talk to a person."
)
REFUSAL_REPLIES = {TOO_LONG: TOO_LONG_REPLY, TOO_BIG: TOO_LONG_REPLY, NOT_AUDIO: NOT_AUDIO_REPLY, EMPTY: NOTHING_REPLY}


@dataclass(frozen=True)
class Hearing:
    """The verdict on one recording.

    Attributes:
        kind: :data:`HEARD`, :data:`UNSURE`, :data:`NOTHING`, :data:`REFUSED` or :data:`UNAVAILABLE`.
        text: The words heard ("" unless heard or unsure).
        reply: What to tell the user first (the echo, the question, or why not).
        urgent: The words show a sign of an emergency.
        confidence: The model's average token log-probability (0 is certain).
        seconds: Length of the recording.
    """

    kind: str
    text: str = ""
    reply: str = ""
    urgent: bool = False
    confidence: float = 0.0
    seconds: float = 0.0

    @property
    def acts(self) -> bool:
        """Whether the words go on to the assistant now."""
        return self.kind == HEARD

    @property
    def typed(self) -> str:
        """The words as a message Rasa reads as typed text (never as a ``/intent`` payload)."""
        return self.text.lstrip("/ ") or self.text

    def metadata(self) -> dict[str, Any]:
        """What the message's metadata tells the assistant about the recording."""
        return {"voice": {"confidence": self.confidence, "seconds": self.seconds}}


def judge(result: Mapping[str, Any]) -> Hearing:
    """The verdict on the speech server's answer (a transcript, or ``{"error": reason}``)."""
    error = result.get("error")
    if error == EMPTY:
        return Hearing(NOTHING, reply=NOTHING_REPLY)
    if error in REFUSAL_REPLIES:
        return Hearing(REFUSED, reply=REFUSAL_REPLIES[error])
    if error is not None or not isinstance(result.get("text"), str):
        return Hearing(UNAVAILABLE, reply=UNAVAILABLE_REPLY)
    text = " ".join(result["text"].split())
    confidence = float(result.get("avg_logprob", -10.0))
    no_speech = float(result.get("no_speech_prob", 1.0))
    seconds = float(result.get("seconds", 0.0))
    urgent = bool(text) and (emergency_sign(text) is not None or possible_sign(text) is not None)
    silence = confidence < UNSURE_BELOW and (no_speech > NO_SPEECH_ABOVE or _bare(text) in SILENCE_WORDS)
    if not text or (silence and not urgent):
        return Hearing(NOTHING, reply=NOTHING_REPLY, confidence=confidence, seconds=seconds)
    if confidence < UNSURE_BELOW and not urgent:
        return Hearing(UNSURE, text, ASK_REPLY.format(text=text), False, confidence, seconds)
    return Hearing(HEARD, text, HEARD_REPLY.format(text=text), urgent, confidence, seconds)


def _bare(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha() or ch == " ").strip()

"""Two tiers of emergency: *definite* raises the full alarm at once, *possible* first asks.

A message is a **definite** emergency when the safety net's rules (:mod:`assistant.care.safety.safety`) see
one happening now, or when the classifier is sure of ``emergency`` and nothing says "not now". It is a
**possible** emergency when the classifier gives ``emergency`` a real chance among its top guesses,
or when the message places its emergency words in the past, in a question of information, a
possibility or a purchase (:func:`~assistant.care.safety.safety.describes_not_now`), or uses them in an
ordinary phrase ("fell asleep"), but the classifier still leans strongly towards an emergency; and
whenever the rules see a weak sign (:data:`~assistant.care.safety.safety.WEAK_SIGNS`: "diabetic and shaky",
"mum hasn't come home") and nothing says "not now": then the user gets the emergency number and is asked
"Are you hurt or in danger right now?" (:mod:`assistant.care.safety.danger_checks`).

Thresholds were chosen on our own phrase sets and the NLU-Evaluation-Data, never on the blind set;
``benchmarks/nlu.py`` reports what each tier does on the blind emergencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Iterable, Mapping, Optional

from assistant.care.safety.safety import describes_not_now, emergency_sign, possible_sign, uses_innocent_phrase

DEFINITE: Final = "definite"
POSSIBLE: Final = "possible"
NONE: Final = "none"

EMERGENCY: Final = "emergency"
SURE: Final = 0.7
"""The classifier's emergency probability from which, as its top guess, the alarm goes at once."""
POSSIBLE_CHANCE: Final = 0.3
"""An emergency probability from which (among the top three guesses) the user is asked."""
POSSIBLE_CHANCE_NOT_NOW: Final = 0.5
"""The same, for a message that places the emergency in the past, a question or a purchase."""
TOP: Final = 3


@dataclass(frozen=True)
class Tier:
    """How alarming a message is, and why."""

    level: str
    sign: Optional[str] = None
    """The kind of emergency the rules saw ("fall", "chest pain"...), if any."""
    chance: float = 0.0
    """The classifier's probability of ``emergency``."""


def emergency_chance(ranking: Iterable[Mapping[str, Any]]) -> tuple[float, Optional[int]]:
    """The classifier's probability of ``emergency`` and its place among the real intents (0 = top)."""
    place = 0
    for entry in ranking:
        name = entry.get("name")
        if name == "nlu_fallback":
            continue
        if name == EMERGENCY:
            return float(entry.get("confidence") or 0.0), place
        place += 1
    return 0.0, None


def alarm_tier(text: str, ranking: Iterable[Mapping[str, Any]]) -> Tier:
    """Decide the tier of one message from its text and the classifier's ranking of intents."""
    sign = emergency_sign(text)
    chance, place = emergency_chance(ranking)
    # the rules settle it as not happening now: a time gone by, a question, a purchase, or (with no
    # sign of an emergency left once ordinary phrases are set aside) "fell asleep", "chest freezer"
    told_not_now = describes_not_now(text)
    not_now = told_not_now or (sign is None and uses_innocent_phrase(text))
    if not not_now and sign is not None:
        return Tier(DEFINITE, sign, chance)
    if not not_now and place == 0 and chance >= SURE:
        return Tier(DEFINITE, None, chance)
    weak = possible_sign(text) if sign is None and not told_not_now else None
    if weak is not None:
        return Tier(POSSIBLE, weak, chance)
    if place is not None and place < TOP:
        needed = POSSIBLE_CHANCE_NOT_NOW if not_now else POSSIBLE_CHANCE
        if chance >= needed:
            return Tier(POSSIBLE, sign, chance)
    return Tier(NONE, None, chance)

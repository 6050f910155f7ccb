"""The emergency safety net: phrases that mean someone needs help now, whatever the classifier thinks.

It runs on every message (as a Rasa NLU component, see ``assistant.nlu.safety_net``) so a fall or
chest pain is never lost inside a meal order or a health question. Patterns are deliberately broad:
a false alarm costs a coordinator a minute; a missed emergency can cost a life.
"""

from __future__ import annotations

import re
from typing import Final, Optional

_PEOPLE = (
    r"(?:mum|mom|mother|dad|father|husband|wife|partner|son|daughter|friend|neighbour|neighbor|gran|grandma|"
    r"granny|grandad|grandpa|nan|nana|aunt|uncle|brother|sister|carer)"
)
_SUBJECT = rf"(?:i|i'?ve|i have|i'?m|she|he|she'?s|he'?s|{_PEOPLE}|my {_PEOPLE}|has|have|just)"

SIGNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("fall", re.compile(
        rf"\b{_SUBJECT}\s+(?:just\s+|had\s+)?(?:had a (?:bad |nasty )?fall|fall[ea]?n|falln|fell(?! asleep| out with| behind))"
        r"|\b(?:can'?t|cannot|cant|unable to|not able to) get (?:up|off the floor)"
        r"|\bon the floor and can'?t\b|\blying on the floor\b"
    )),
    ("chest pain", re.compile(
        r"\bchest (?:pain|pian|pains|hurts?|is hurting|tight|tightness|pressure)|\bpains? in (?:my|his|her) chest"
        r"|\bheart attack\b"
    )),
    ("breathing", re.compile(
        r"\b(?:can'?t|cannot|cant|can not) (?:breathe?|breath)\b|\bstruggling to breathe?|\bshort of breath\b"
        r"|\bnot breathing\b|\bchoking\b|\bgasping\b"
    )),
    ("stroke", re.compile(
        r"\bstroke\b(?! my| the cat| the dog)|\bface (?:is )?(?:drooping|droops|droopy|fallen)|\bslurr(?:ed|ing)\b"
        r"|\bcan'?t (?:lift|move|feel) (?:my|his|her) (?:arm|leg|face)"
    )),
    ("bleeding", re.compile(
        r"\bbleeding (?:heavily|a lot|badly|everywhere)|\b(?:won'?t|will not|doesn'?t|does not) stop bleeding"
        r"|\bblood everywhere\b|\blots of blood\b|\blosing (?:a lot of )?blood\b|\bbleeding heavy\b"
    )),
    ("unresponsive", re.compile(
        r"\bunconscious\b|\bcollapsed\b|\b(?:won'?t|will not|can'?t) wake (?:him |her )?up\b|\bnot responding\b"
        r"|\bpassed out\b|\bfainted\b"
    )),
    ("self-harm", re.compile(
        r"\bkill (?:myself|my self)\b|\bend (?:my life|it all)\b|\bsuicid|\bdon'?t want to (?:live|be alive)\b"
        r"|\bwant to die\b|\bself[- ]harm|\bhurt myself\b|\btake my (?:own )?life\b"
    )),
    ("intruder", re.compile(
        r"\b(?:burglar|intruder|broken into|broke in|breaking in)\b"
        r"|\b(?:someone|somebody|a man|a woman|a stranger|strangers?|people)\b.{0,30}\b(?:trying to get in|getting in|in my (?:house|home|flat)|at my window|forcing the door)"
    )),
    ("fire", re.compile(
        r"\bon fire\b|\bthere'?s a fire\b|\bthere is a fire\b|\b(?:house|kitchen|flat|room) fire\b|\bfire in (?:the|my)\b"
        r"|\bsmoke everywhere\b|\bfull of smoke\b"
    )),
    ("gas", re.compile(r"\bsmell(?:s|ing)? (?:of )?gas\b|\bgas leak|\bleaking gas\b")),
    ("call for help", re.compile(
        r"\b(?:call|get|send) (?:an )?ambulance\b|\bcall (?:999|112|911)\b|\bit'?s an emergency\b|\bthis is an emergency\b"
    )),
)
"""Each kind of emergency and how people write it (lower-case, apostrophes optional)."""

MAX_CHARS: Final = 2000


def emergency_sign(text: str) -> Optional[str]:
    """The kind of emergency the text describes ("fall", "chest pain", ...), or None."""
    normalised = " ".join(text[:MAX_CHARS].lower().replace("’", "'").split())
    for kind, pattern in SIGNS:
        if pattern.search(normalised):
            return kind
    return None

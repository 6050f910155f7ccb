"""Home-service words: which service people mean, and when they want the visit.

:func:`normalise_service` turns "hoovering" into ``"cleaning"`` and "a leaking tap"
into ``"repair"``; :func:`parse_window` turns "Friday morning" into a :class:`TimeWindow`.
Nothing here touches the database.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final, Optional
from zoneinfo import ZoneInfo

from assistant.care.bookings.bookings import ITEM_WORDS
from assistant.care.core.clock import require_aware
from assistant.care.core.errors import InvalidInput
from assistant.care.registry.scheduling import MAX_ADVANCE, local_words
from assistant.care.core.timeparse import TimeParseError, When, parse_when
from assistant.care.core.vocabulary import HOME_SERVICE_KINDS

SERVICES: Final = HOME_SERVICE_KINDS
"""The home services we book: ``("cleaning", "laundry", "repair", "hairdressing", "beauty")``."""
DAY_START: Final = time(8)
DAY_END: Final = time(18)
"""A whole day ("on Friday") means DAY_START-DAY_END local time."""

SERVICE_WORDS: Final = {
    "cleaning": "cleaning visit",
    "laundry": "laundry pickup",
    "repair": "repair visit",
    "hairdressing": "hairdressing visit",
    "beauty": "beauty visit",
}
HELPER_WORDS: Final = {
    "cleaning": "cleaner",
    "laundry": "laundry service",
    "repair": "repair person",
    "hairdressing": "hairdresser",
    "beauty": "beauty therapist",
}

UNKNOWN_SERVICE_MESSAGE: Final = (
    "Sorry, I cannot book that. I can book cleaning, laundry pickup, repairs, "
    "hairdressing and beauty visits such as nail or foot care. Which would you like?"
)

# (pattern, weight): the service with the highest total weight wins; ties go to SERVICES order.
_SERVICE_PATTERNS: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    "cleaning": (
        (r"clean(?:s|ing|er|ers)?|cleanup", 2),
        (r"house ?work|house ?keeping|hoover(?:s|ing|ed)?|vacuum(?:ing)?", 3),
        (r"tid(?:y|ying|ied)(?: up)?|dust(?:ing)?|mop(?:ping)?|scrub(?:bing)?", 2),
        (r"windows?", 1),
    ),
    "laundry": (
        (r"laundry|laundries|launderette|laundrette", 3),
        (r"washing|wash(?:es)?|iron(?:ing)?|bedding", 2),
        (r"dry[ -]?clean(?:ing|er|ers)?", 4),
    ),
    "repair": (
        (r"repairs?|repairing|repairman|plumb(?:er|ers|ing)", 3),
        (r"leak(?:s|ing|y)?|drip(?:s|ping|py)?|taps?|boiler|heater|heating|radiators?", 3),
        (r"handy ?m[ae]n|odd jobs?|electric(?:ian|ians|al|ity|s)?|fuses?|sockets?|light ?bulbs?|wiring", 3),
        (r"(?:grab|hand) ?rails?", 3),
        (r"washing machine|dishwasher|fridge|freezer|oven|cooker", 3),
        (r"toilet|sink|door|lock|shelf|shelves", 2),
        (r"broken|broke|fix(?:ed|ing)?|not working|(?:doesn'?t|won'?t) work|stuck|sticking", 1),
    ),
    "hairdressing": (
        (r"hair\w*|barbers?", 3),
        (r"trim|perm|blow[ -]?dry|colou?r", 1),
    ),
    "beauty": (
        (r"nails?|toenails?|manicures?|pedicures?|mani|pedi", 3),
        (r"foot ?care|feet|chiropod(?:y|ist)|podiatr(?:y|ist)", 3),
        (r"facials?|make[ -]?up|beauty|beautician|massage|skin ?care|waxing|eyebrows?", 3),
    ),
}
_COMPILED: Final = {
    service: tuple((re.compile(rf"\b(?:{pattern})\b"), weight) for pattern, weight in patterns)
    for service, patterns in _SERVICE_PATTERNS.items()
}
# Single words for typo tolerance ("cleanin", "hairdreser", "laundary").
_TYPO_WORDS: Final = {
    "cleaning": "cleaning", "cleaner": "cleaning", "housework": "cleaning", "hoovering": "cleaning",
    "laundry": "laundry", "washing": "laundry", "ironing": "laundry",
    "repair": "repair", "plumber": "repair", "electrician": "repair", "handyman": "repair",
    "boiler": "repair", "heater": "repair",
    "haircut": "hairdressing", "hairdresser": "hairdressing", "barber": "hairdressing",
    "manicure": "beauty", "pedicure": "beauty", "facial": "beauty", "beauty": "beauty",
}


def normalise_service(text: str) -> str:
    """Return the service meant by ``text``: ``"hoovering"`` -> ``"cleaning"``, ``"leak"`` -> ``"repair"``.

    Raises:
        InvalidInput: (field ``service``) if it is none of the services, naming those we offer.
    """
    words = " ".join(re.sub(r"[^\w'\s-]", " ", str(text or "").lower()).split())
    if words in SERVICES:
        return words
    scores = {
        service: sum(weight for pattern, weight in patterns if pattern.search(words))
        for service, patterns in _COMPILED.items()
    }
    best = max(SERVICES, key=lambda service: scores[service])
    if scores[best] > 0:
        return best
    for word in words.split():
        if len(word) >= 4:
            close = difflib.get_close_matches(word, list(_TYPO_WORDS), n=1, cutoff=0.8)
            if close:
                return _TYPO_WORDS[close[0]]
    raise InvalidInput(UNKNOWN_SERVICE_MESSAGE, field="service")


@dataclass(frozen=True)
class TimeWindow:
    """When a visit may start: ``[starts_at, ends_at)``, or exactly ``starts_at`` when they are equal.

    Both are aware and stored in UTC.
    """

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        start = require_aware(self.starts_at, "starts_at")
        end = require_aware(self.ends_at, "ends_at")
        if end < start:
            raise ValueError("a time window cannot end before it starts")
        object.__setattr__(self, "starts_at", start)
        object.__setattr__(self, "ends_at", end)

    @classmethod
    def at(cls, moment: datetime) -> "TimeWindow":
        """Return the window of one exact start time."""
        return cls(moment, moment)

    @property
    def exact(self) -> bool:
        """Whether the window is one exact start time."""
        return self.starts_at == self.ends_at


def window_for(when: When, tz: ZoneInfo, now: Optional[datetime] = None) -> TimeWindow:
    """Turn a :func:`~assistant.care.core.timeparse.parse_when` result into a window.

    "Friday morning" keeps its part of the day (08:00-12:00), "next Monday at 3" is
    the exact start 15:00, and a whole day ("on Friday") is DAY_START-DAY_END local time.
    With ``now``, a window already under way starts at ``now``.

    Raises:
        InvalidInput: If the window is already over at ``now``.
    """
    start = when.start.astimezone(tz)
    if when.end is not None:
        window = TimeWindow(start, when.end)
    elif not when.has_time:
        day = start.date()
        window = TimeWindow(
            datetime.combine(day, DAY_START, tzinfo=tz), datetime.combine(day, DAY_END, tzinfo=tz)
        )
    else:
        window = TimeWindow.at(start)
    if now is None:
        return window
    now = require_aware(now, "now")
    if window.exact:
        if window.starts_at < now:
            raise InvalidInput("That time has already passed. When would you like it?", field="time")
        return window
    if window.ends_at <= now:
        raise InvalidInput(
            "That day is already over. Would another day suit you?", field="time"
        )
    return TimeWindow(max(window.starts_at, now), window.ends_at)


def parse_window(text: str, now: datetime, tz: ZoneInfo) -> TimeWindow:
    """Understand when a visit should be, e.g. "friday morning", "tomorrow after lunch".

    Args:
        text: What the person wrote.
        now: The current aware time.
        tz: The person's timezone (days and hours are meant in it).

    Raises:
        InvalidInput: (field ``time``) with a kind message for past times, dates that do
            not exist ("31 February"), more than 90 days ahead, or text without a time.
    """
    now = require_aware(now, "now")
    try:
        when = parse_when(text, now.astimezone(tz), default_time=DAY_START, max_days_ahead=MAX_ADVANCE.days)
    except TimeParseError as error:
        raise InvalidInput(error.message, field="time") from None
    if when is None:
        raise InvalidInput(
            "Sorry, I did not understand when. You could say, for example, "
            "\"Friday morning\" or \"tomorrow at 10\".",
            field="time",
        )
    return window_for(when, tz, now=now)


def window_words(window: TimeWindow, tz: ZoneInfo) -> str:
    """Return a window as people say it, e.g. ``"on Friday 5 December between 08:00 and 12:00"``."""
    if window.exact:
        return f"on {local_words(window.starts_at, tz)}"
    start, end = window.starts_at.astimezone(tz), window.ends_at.astimezone(tz)
    if start.date() == end.date():
        return f"on {start:%A} {start.day} {start:%B} between {start:%H:%M} and {end:%H:%M}"
    return f"between {local_words(window.starts_at, tz)} and {local_words(window.ends_at, tz)}"


def visit_words(kind: str) -> str:
    """Return what people call a booking of this kind, e.g. ``"cleaning visit"``."""
    return SERVICE_WORDS.get(kind) or ITEM_WORDS.get(kind) or kind.replace("_", " ")

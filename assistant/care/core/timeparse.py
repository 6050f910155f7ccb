"""Understand the dates and times older people type, typos and all.

Only the standard library is used (``datetime``, ``zoneinfo`` via the ``tzinfo``
of ``now``, ``re``, ``calendar``).  Three public functions:

* :func:`parse_when` turns "tomorow at 12", "friday morning", "in half an hour",
  "3/12 at 12" (day/month) ... into a :class:`When`.
* :func:`parse_recurrence` turns "lunch every weekday", "mon wed fri",
  "every day at 8 and 8pm" ... into a :class:`Recurrence`.
* :func:`describe` renders a :class:`When` back as friendly text.

Rules worth knowing:

* A bare hour from 1 to 7 ("at 3", "half past six") means the afternoon or
  evening unless "am" or a morning context is given; 8-12 are taken as written.
  A leading zero ("07:30") or an hour from 13 up is read as a 24-hour time.
* Windows: morning 08:00-12:00, afternoon 13:00-17:00, evening (and
  "tonight"/"night") 17:00-20:00, "after lunch" 13:00-17:00.
* A time without a day means its next occurrence (today if still ahead,
  otherwise tomorrow).  A window that is under way today starts at ``now``.
* Dates are read day first ("3/12" is 3 December).  A day and month without a
  year that fell in the last 92 days is reported as past; an older one is taken
  to mean next year.
* "midnight" with a day means the end of that day ("tonight at midnight" is
  00:00 tomorrow).  "now"/"asap" give ``now`` itself; "now" is ignored when
  another day or time is present or in phrases like "not now".
* Two different days or times ("mon wed fri", "at 8 and 8pm") raise an
  "ambiguous" error; use :func:`parse_recurrence` first for repeating plans.
* Local times are built with ``datetime.combine(..., tzinfo=now.tzinfo)`` and
  normalised through UTC, so times that do not exist on a daylight-saving day
  move forward by the gap.  Durations ("in 2 hours") are added in UTC.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

__all__ = [
    "TimeParseError",
    "When",
    "Recurrence",
    "parse_when",
    "parse_recurrence",
    "describe",
]

#: Longer input is cut to this many characters before parsing.
MAX_INPUT_CHARS = 2000

# --------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------


class TimeParseError(ValueError):
    """A time expression was recognised but cannot be used.

    Attributes:
        kind: One of ``"past"``, ``"invalid_date"``, ``"ambiguous"``, ``"too_far"``.
        message: A short, kind sentence that can be shown to the person as is.
    """

    kind: str
    message: str

    KINDS = ("past", "invalid_date", "ambiguous", "too_far")

    def __init__(self, kind: str, message: str) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown TimeParseError kind: {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class When:
    """A point in time or a time window understood from text.

    Attributes:
        start: Aware datetime in the time zone of the ``now`` passed in.
        end: End of a window ("friday morning" -> 08:00-12:00), else ``None``.
        has_time: ``False`` when only a day was given ("on friday").
        matched: The part of the text that was understood.
    """

    start: datetime
    end: datetime | None
    has_time: bool
    matched: str


@dataclass(frozen=True)
class Recurrence:
    """A repeating schedule such as "every Monday and Thursday at 10".

    Attributes:
        weekdays: Days of the week, 0=Monday .. 6=Sunday, sorted.
        times: Times of day, sorted; empty when no time was said.
        description: Friendly text, e.g. "every weekday at 12:00".
    """

    weekdays: tuple[int, ...]
    times: tuple[time, ...]
    description: str


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_WEEKDAY_INDEX = {name.lower(): i for i, name in enumerate(_WEEKDAY_NAMES)}
_MONTH_INDEX = {name.lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)}

# token text -> (canonical word, plural)
_CANON: dict[str, tuple[str, bool]] = {}


def _alias(canon: str, *words: str, plural: bool = False) -> None:
    for word in (canon, *words) if not plural else words:
        _CANON[word] = (canon, plural)


for _name in _WEEKDAY_INDEX:
    _alias(_name)
    _alias(_name, _name + "s", plural=True)
_alias("monday", "mon")
_alias("tuesday", "tue", "tues")
_alias("wednesday", "wed", "weds")
_alias("thursday", "thu", "thur", "thurs")
_alias("friday", "fri")
_alias("saturday", "sat")
_alias("sunday", "sun")
for _name in _MONTH_INDEX:
    _alias(_name)
_alias("january", "jan")
_alias("february", "feb")
_alias("march", "mar")
_alias("april", "apr")
_alias("june", "jun")
_alias("july", "jul")
_alias("august", "aug")
_alias("september", "sep", "sept")
_alias("october", "oct")
_alias("november", "nov")
_alias("december", "dec")
_alias("today", "tday", "todays", "2day")
_alias("tomorrow", "tmrw", "tmr", "tmw", "tmrow", "tomoz", "tomorrows")
_alias("tonight", "tonite", "tonights", "2nite", "2night")
_alias("yesterday", "yday")
_alias("morning", "morn")
_alias("morning", "mornings", plural=True)
_alias("afternoon", "arvo")
_alias("afternoon", "afternoons", plural=True)
_alias("evening")
_alias("evening", "evenings", plural=True)
_alias("night", "nite")
_alias("night", "nights", plural=True)
_alias("noon")
_alias("midday")
_alias("midnight", "midnite")
_alias("lunchtime")
_alias("breakfasttime")
_alias("dinnertime", "suppertime")
_alias("weekday", "workday")
_alias("weekday", "weekdays", "workdays", plural=True)
_alias("weekend")
_alias("weekend", "weekends", plural=True)
_alias("oclock")
_alias("asap")
_alias("am")
_alias("pm")
_alias("minute", "minutes", "min", "mins", "mn", "minuts", "minites", "mintues")
_alias("hour", "hours", "hr", "hrs", "h")
_alias("day", "days")
_alias("week", "weeks", "wk", "wks")
_alias("fortnight", "fortnights")
_alias("at", "@")
_alias("until", "till", "til", "untill")

_KEYWORDS = {
    "on", "in", "the", "next", "this", "coming", "last", "every", "each", "and", "to", "past",
    "half", "quarter", "a", "an", "of", "from", "between", "by", "around", "about", "approx",
    "approximately", "roughly", "after", "before", "now", "right", "away", "straight",
    "immediately", "straightaway", "as", "soon", "possible", "ago", "later", "within",
    "good", "daily", "everyday", "weekly", "except", "excluding", "but", "not", "apart",
    "other", "alternate", "lunch", "breakfast", "dinner", "supper", "couple", "earlier", "or",
    "time", "overmorrow", "working", "work", "once", "thru", "through", "o", "clock", "am",
    "christmas", "xmas", "eve", "boxing", "new", "year", "years",
}

_UNIT_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_ORDINAL_SUFFIXES = {"st", "nd", "rd", "th"}

_VOCAB = set(_CANON) | _KEYWORDS | set(_UNIT_WORDS) | set(_TENS_WORDS) | set(_ORDINAL_WORDS)

# Words that are joined when typed apart ("satur day", "to morrow", "o clock").
_JOIN_TARGETS = set(_WEEKDAY_INDEX) | {
    "today", "tomorrow", "tonight", "yesterday", "afternoon", "midday", "midnight",
    "lunchtime", "breakfasttime", "dinnertime", "suppertime", "weekday", "weekdays",
    "weekend", "weekends", "oclock",
}

# Typo-tolerant targets: canonical word -> largest accepted edit distance.
_FUZZY_TARGETS: dict[str, int] = {}
for _word in (
    *_WEEKDAY_INDEX, "today", "tomorrow", "tonight", "yesterday", "morning", "afternoon",
    "evening", "midnight", "midday", "lunchtime", "weekend", "weekday", "quarter", "oclock",
):
    _FUZZY_TARGETS[_word] = 1 if len(_word) <= 7 else 2
for _word in ("january", "february", "august", "september", "october", "november", "december"):
    _FUZZY_TARGETS[_word] = 1
# Real words that sit one typo away from a day word.
_FUZZY_STOPLIST = {"sundae", "sundaes", "frida", "midway", "quartet", "clock", "tody", "toddy"}

_WINDOWS: dict[str, tuple[time, time]] = {
    "morning": (time(8), time(12)),
    "afternoon": (time(13), time(17)),
    "evening": (time(17), time(20)),
    "night": (time(17), time(20)),
}
_WINDOW_WORDS = set(_WINDOWS)
# "after lunch" and friends: (start, end, context for bare hours)
_MEAL_WINDOWS: dict[tuple[str, str], tuple[time, time, str]] = {
    ("after", "breakfast"): (time(9), time(12), "morning"),
    ("before", "lunch"): (time(10), time(12), "morning"),
    ("after", "lunch"): (time(13), time(17), "afternoon"),
    ("before", "dinner"): (time(15), time(18), "afternoon"),
    ("after", "dinner"): (time(19), time(21), "evening"),
}
_MEAL_TIMES = {"breakfast": time(8), "lunch": time(12), "dinner": time(18), "supper": time(18)}
_MEAL_SYNONYMS = {"supper": "dinner", "lunchtime": "lunch", "tea": "dinner"}

_CUES = {"at", "around", "about", "approx", "approximately", "roughly", "by", "before",
         "after", "until", "from"}
_DOM_FOLLOWERS = _CUES | _WINDOW_WORDS | {"in", "for", "please", "noon", "midday", "lunchtime", "then",
                                         "tonight", "is", "would", "works", "suits", "if", "or", "and"}
_NOT_NOW_BEFORE = {"not", "no", "for", "until", "by", "from", "than", "fine", "ok", "okay", "better", "well",
                   "know", "just", "even"}
_NOT_NOW_AFTER = {"that", "then", "i", "im", "we", "on", "what", "lets", "is", "you", "thanks",
                  "thank", "if"}
_NOW_WORDS = {"now", "asap", "immediately", "straightaway"}
_DAYISH_BEFORE_NIGHT = {"tomorrow", "today", "at", "on", "this", "every", "each", "last", "the",
                        "one", "tonight"}
_SAT_SUN_OK_BEFORE = {"on", "next", "this", "coming", "every", "each", "by", "until", "from",
                      "last", "and", "or", "to"}

_TOKEN_RE = re.compile(
    r"(?P<iso>(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d))"
    r"|(?P<dmy>(?<!\d)\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\d/])"
    r"|(?<!\d)\d{1,2}[.-]\d{1,2}[.-]\d{2,4}(?![\d.-]))"
    r"|(?P<clock>(?<!\d)\d{1,2}:\d{2}(?!\d))"
    r"|(?P<dclock>(?<![\d.])\d{1,2}\.\d{2}(?![\d.]))"
    r"|(?P<dec>\d+\.\d+)"
    r"|(?P<ampm>(?<![^\W\d_])[ap]\.\s?m\b\.?)"
    r"|(?P<asap>(?<![^\W\d_])a\.s\.a\.p\b\.?)"
    r"|(?P<slang>(?<![^\W\d_])2(?:mor+o+w*|nite|night|day)(?![^\W\d_]))"
    r"|(?P<num>\d+)"
    r"|(?P<at>@)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)"
)


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


class _Tok:
    """One token of the input: a word, a number, a clock time or a date."""

    __slots__ = ("kind", "text", "canon", "plural", "start", "end", "value", "lead0")

    def __init__(self, kind: str, text: str, start: int, end: int, value: Any = None) -> None:
        self.kind = kind  # "w", "n", "clock", "dclock", "dec", "dmy", "iso"
        self.text = text
        self.canon = text
        self.plural = False
        self.start = start
        self.end = end
        self.value = value
        self.lead0 = False

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"_Tok({self.kind}, {self.canon!r})"


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance, returning ``limit + 1`` when larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@functools.lru_cache(maxsize=4096)
def _fuzzy(word: str) -> str | None:
    """Return the day word ``word`` is a likely typo of, or ``None``."""
    if len(word) < 4 or len(word) > 14 or word in _FUZZY_STOPLIST or not word.isalpha():
        return None
    best: list[tuple[int, str]] = []
    for target, limit in _FUZZY_TARGETS.items():
        dist = _osa_distance(word, target, limit)
        if dist <= limit:
            best.append((dist, target))
    if not best:
        return None
    low = min(d for d, _ in best)
    cands = [t for d, t in best if d == low]
    if len(cands) > 1:
        cands = [t for t in cands if t[0] == word[0]]
    return cands[0] if len(cands) == 1 else None


def _canonicalise(tok: _Tok) -> None:
    word = tok.text
    if word in _CANON:
        tok.canon, tok.plural = _CANON[word]
    elif word in _VOCAB:
        tok.canon = word
    else:
        fixed = _fuzzy(word)
        if fixed is None and word.endswith("s"):
            fixed = _fuzzy(word[:-1])
            if fixed is not None:
                tok.plural = True
        if fixed is not None:
            tok.canon = fixed


def _is_known(word: str) -> bool:
    return word in _VOCAB or _fuzzy(word) is not None


def _tokenize(text: str) -> list[_Tok]:
    """Split ``text`` into tokens, fixing common typos and split words."""
    raw: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "word"
        s = m.group(0)
        if kind in ("word", "asap", "ampm", "slang", "at"):
            norm = s.lower().replace("'", "").replace("\u2019", "")
            if kind == "asap":
                norm = "asap"
            elif kind == "ampm":
                norm = "am" if norm.startswith("a") else "pm"
            elif kind == "slang":
                norm = "tonight" if "ni" in norm else ("today" if "day" in norm else "tomorrow")
            raw.append(_Tok("w", norm, m.start(), m.end()))
        elif kind == "num":
            tok = _Tok("n", s, m.start(), m.end(), int(s))
            tok.lead0 = len(s) > 1 and s.startswith("0")
            raw.append(tok)
        elif kind in ("clock", "dclock"):
            h, mi = re.split(r"[:.]", s)
            tok = _Tok(kind, s, m.start(), m.end(), (int(h), int(mi)))
            tok.lead0 = len(h) == 2 and h.startswith("0")
            raw.append(tok)
        elif kind == "dec":
            raw.append(_Tok("dec", s, m.start(), m.end(), float(s)))
        else:  # iso, dmy
            raw.append(_Tok(kind, s, m.start(), m.end(), tuple(int(p) for p in re.split(r"[/.-]", s))))

    toks: list[_Tok] = []
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok.kind == "w" and i + 1 < len(raw) and raw[i + 1].kind == "w":
            nxt = raw[i + 1]
            gap = text[tok.end:nxt.start]
            joined = tok.text + nxt.text
            if gap.strip(" -") == "" and len(gap) <= 2 and (
                joined in _JOIN_TARGETS
                or (not _is_known(tok.text) and _fuzzy(joined) in _WEEKDAY_INDEX)
            ):
                toks.append(_Tok("w", joined, tok.start, nxt.end))
                i += 2
                continue
        toks.append(tok)
        i += 1
    for tok in toks:
        if tok.kind == "w":
            _canonicalise(tok)
    return toks


# --------------------------------------------------------------------------
# Scanner: finds components (days, times, windows, ...) in the tokens
# --------------------------------------------------------------------------


class _TC:
    """A time of day as written, resolved to a ``time`` later (needs context)."""

    __slots__ = ("h", "m", "ampm", "is24", "raw", "offset", "named", "midnight")

    def __init__(self, h: int = 0, m: int = 0, ampm: str | None = None, is24: bool = False,
                 raw: str = "", offset: int = 0, named: time | None = None) -> None:
        self.h, self.m, self.ampm, self.is24 = h, m, ampm, is24
        self.raw, self.offset, self.named = raw, offset, named
        self.midnight = named == time(0) and offset == 0 and named is not None


def _invalid_time(raw: str, minutes: bool) -> TimeParseError:
    if minutes:
        msg = f"{raw} isn't a real time \u2013 minutes only go up to 59. What time did you mean?"
    else:
        msg = f"{raw} isn't a real time \u2013 the clock only goes up to 23:59. What time did you mean?"
    return TimeParseError("invalid_date", msg)


def _resolve_tc(tc: _TC, ctx: str | None) -> time:
    """Turn a written time into a ``time``; ``ctx`` is a window name or ``None``."""
    if tc.named is not None:
        h, m = tc.named.hour, tc.named.minute
    else:
        h, m = tc.h, tc.m
        raw = tc.raw or f"{h}:{m:02d}"
        if not 0 <= m <= 59:
            raise _invalid_time(raw, minutes=True)
        if tc.ampm:
            if not 1 <= h <= 12:
                raise TimeParseError(
                    "invalid_date", f"{raw} isn't a real time. What time did you mean, for example 1pm?"
                )
            h = h % 12 + (12 if tc.ampm == "pm" else 0)
        elif h > 23:
            raise _invalid_time(raw, minutes=False)
        elif not tc.is24 and 1 <= h <= 11:
            if ctx == "morning":
                pass
            elif ctx in ("afternoon", "evening", "night") or h <= 7:
                h += 12
    total = (h * 60 + m + tc.offset) % 1440
    return time(total // 60, total % 60)


class _C:
    """A component found in the text, e.g. a day, a time or a window."""

    def __init__(self, kind: str, **data: Any) -> None:
        self.kind = kind
        self.start = 0
        self.end = 0
        self.__dict__.update(data)

    def __getattr__(self, name: str) -> Any:  # missing optional attributes read as None
        if name.startswith("__"):
            raise AttributeError(name)
        return None


_Match = tuple[int, list[_C]]


class _Scanner:
    """Walks the tokens left to right, trying each pattern at each position."""

    def __init__(self, toks: list[_Tok], text: str) -> None:
        self.toks = toks
        self.text = text
        self.n = len(toks)

    # ---- small helpers -------------------------------------------------

    def canon(self, i: int) -> str:
        return self.toks[i].canon if 0 <= i < self.n and self.toks[i].kind == "w" else ""

    def kind(self, i: int) -> str:
        return self.toks[i].kind if 0 <= i < self.n else ""

    def weekday_at(self, i: int) -> int | None:
        c = self.canon(i)
        if c not in _WEEKDAY_INDEX:
            return None
        if self.toks[i].text in ("sat", "sun") and not self._sat_sun_ok(i):
            return None
        return _WEEKDAY_INDEX[c]

    def _sat_sun_ok(self, i: int) -> bool:
        """"sat"/"sun" are real words; accept them only next to other date words."""
        before, after = self.canon(i - 1), self.canon(i + 1)
        if before in _SAT_SUN_OK_BEFORE or before in _WEEKDAY_INDEX or after in _WEEKDAY_INDEX:
            return True
        if after in ("at", "and", "or") or after in _WINDOW_WORDS or after in ("noon", "midday"):
            return True
        return self.kind(i + 1) in ("n", "clock")

    def month_at(self, i: int) -> int | None:
        return _MONTH_INDEX.get(self.canon(i))

    def text_of(self, i: int, j: int) -> str:
        return self.text[self.toks[i].start:self.toks[j - 1].end]

    def number_words(self, i: int, lo: int = 0, hi: int = 99) -> tuple[int, int] | None:
        """Read a number written in words ("twenty five") at ``i``: (value, next index)."""
        c = self.canon(i)
        if c in _TENS_WORDS:
            v = _TENS_WORDS[c]
            if self.canon(i + 1) in _UNIT_WORDS and 1 <= _UNIT_WORDS[self.canon(i + 1)] <= 9:
                v, i = v + _UNIT_WORDS[self.canon(i + 1)], i + 1
            return (v, i + 1) if lo <= v <= hi else None
        if c in _UNIT_WORDS and lo <= _UNIT_WORDS[c] <= hi:
            return _UNIT_WORDS[c], i + 1
        return None

    def hour_at(self, i: int) -> tuple[_TC, int] | None:
        """An hour 1-12 (digits or words) or noon/midnight, as used in "half past six"."""
        tok = self.toks[i] if i < self.n else None
        if tok is None:
            return None
        if tok.kind == "n" and 1 <= tok.value <= 12 and len(tok.text) <= 2:
            return _TC(tok.value, 0, raw=tok.text), i + 1
        c = self.canon(i)
        if c in ("noon", "midday"):
            return _TC(12, 0, is24=True, raw=c), i + 1
        if c == "midnight":
            return _TC(0, 0, is24=True, raw=c), i + 1
        got = self.number_words(i, 1, 12)
        if got:
            return _TC(got[0], 0, raw=self.text_of(i, got[1])), got[1]
        return None

    def ampm_at(self, i: int) -> tuple[str | None, int]:
        c = self.canon(i)
        if c in ("am", "pm"):
            return c, i + 1
        return None, i

    def window_follows(self, i: int) -> bool:
        """True if a part of the day follows ("7 tonight", "10 in the morning")."""
        c = self.canon(i)
        if c in ("tonight",) or c in _WINDOW_WORDS:
            return True
        if c == "in" and self.canon(i + 1) == "the" and self.canon(i + 2) in _WINDOW_WORDS:
            return True
        if c in ("this", "tomorrow", "today", "at") and self.canon(i + 1) in _WINDOW_WORDS:
            return True
        return False

    # ---- matchers ------------------------------------------------------

    def match_now(self, i: int) -> _Match | None:
        c = self.canon(i)
        if c == "right" and self.canon(i + 1) in ("now", "away"):
            return i + 2, [_C("now")]
        if c == "straight" and self.canon(i + 1) == "away":
            return i + 2, [_C("now")]
        if c == "now" and (self.canon(i - 1) in _NOT_NOW_BEFORE or self.canon(i + 1) in _NOT_NOW_AFTER):
            return None  # "not now", "I'm fine now", "now I want soup"
        if c in _NOW_WORDS:
            return i + 1, [_C("now")]
        if c == "as" and self.canon(i + 1) == "soon" and self.canon(i + 2) == "as":
            if self.canon(i + 3) in ("possible", "poss"):
                return i + 4, [_C("now")]
            if self.canon(i + 3) == "you" and self.canon(i + 4) in ("can", "could"):
                return i + 5, [_C("now")]
        if c == "at" and self.canon(i + 1) == "once":
            return i + 2, [_C("now")]
        return None

    def quantity(self, i: int) -> tuple[float, int] | None:
        """Read an amount: 2, 1.5, "two", "a", "an", "a couple of", "half an"."""
        tok = self.toks[i] if i < self.n else None
        if tok is None:
            return None
        c = self.canon(i)
        if tok.kind == "n":
            v: float = tok.value
            j = i + 1
        elif tok.kind == "dec":
            v, j = tok.value, i + 1
        elif tok.kind == "dclock":
            v, j = float(tok.text), i + 1
        elif c in ("a", "an"):
            if self.canon(i + 1) == "couple" and self.canon(i + 2) == "of":
                return 2.0, i + 3
            if self.canon(i + 1) == "quarter":
                return None
            v, j = 1.0, i + 1
        elif c == "half" and self.canon(i + 1) in ("a", "an"):
            return 0.5, i + 2
        elif c == "couple" and self.canon(i + 1) == "of":
            return 2.0, i + 2
        else:
            got = self.number_words(i, 1, 99)
            if not got:
                return None
            v, j = float(got[0]), got[1]
        if self.canon(j) == "and" and self.canon(j + 1) == "a" and self.canon(j + 2) == "half":
            v, j = v + 0.5, j + 3
        return float(v), j

    _UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080, "fortnight": 20160}

    def duration(self, i: int) -> tuple[float, int, bool] | None:
        """Read "2 hours", "half an hour", "an hour and a half".

        Returns:
            (minutes, next index, whether only days/weeks were used).
        """
        if self.canon(i) == "quarter" or (self.canon(i) == "a" and self.canon(i + 1) == "quarter"):
            j = i + (2 if self.canon(i) == "a" else 1)
            if self.canon(j) == "of" and self.canon(j + 1) in ("a", "an") and self.canon(j + 2) == "hour":
                return 15.0, j + 3, False
            if self.canon(j) == "hour":
                return 15.0, j + 1, False
            return None
        q = self.quantity(i)
        if not q:
            return None
        v, j = q
        unit = self.canon(j)
        if unit not in self._UNIT_MINUTES:
            return None
        minutes = v * self._UNIT_MINUTES[unit]
        day_based = unit in ("day", "week", "fortnight")
        j += 1
        if self.canon(j) == "and" and self.canon(j + 1) == "a" and self.canon(j + 2) == "half":
            minutes += 0.5 * self._UNIT_MINUTES[unit]
            j += 3
        elif self.canon(j) == "and":
            more = self.duration(j + 1) if unit != "minute" else None
            if more:
                minutes += more[0]
                j = more[1]
                day_based = day_based and more[2]
        if self.canon(j) == "time":  # "in two days' time"
            j += 1
        return minutes, j, day_based

    def match_relative(self, i: int) -> _Match | None:
        c = self.canon(i)
        j = i + 1 if c in ("in", "within") else i
        got = self.duration(j)
        if not got:
            return None
        minutes, k, day_based = got
        if self.canon(k) == "ago":
            return k + 1, [_C("past", msg="That time has already passed. When would you like it instead?")]
        if self.canon(k) == "from" and self.canon(k + 1) == "now":
            k += 2
        elif self.canon(k) == "later":
            k += 1
        elif j == i:
            return None
        if minutes > 10 ** 7:
            raise TimeParseError(
                "too_far", "That's too far ahead for me to book. Could you choose a sooner date?"
            )
        if day_based and minutes % 1440 == 0:
            return k, [_C("day", sub="plus", n=int(minutes // 1440))]
        return k, [_C("delta", delta=timedelta(minutes=minutes))]

    def match_past(self, i: int) -> _Match | None:
        msg = "Yesterday has already passed. Which day would you like instead?"
        c = self.canon(i)
        j = i + 1 if c == "the" else i
        if self.canon(j) == "day" and self.canon(j + 1) == "before" and self.canon(j + 2) == "yesterday":
            return j + 3, [_C("past", msg=msg)]
        if c == "yesterday":
            return i + 1, [_C("past", msg=msg)]
        if c == "last" and (self.weekday_at(i + 1) is not None
                            or self.canon(i + 1) in ("night", "week", "weekend", "tonight")):
            return i + 2, [_C("past", msg="That has already passed. Which day would you like instead?")]
        if c == "earlier" and self.canon(i + 1) in ("today",):
            return i + 2, [_C("past", msg="That has already passed. When would you like it instead?")]
        return None

    def match_day_after(self, i: int) -> _Match | None:
        c = self.canon(i)
        if c == "overmorrow":
            return i + 1, [_C("day", sub="plus", n=2)]
        j = i + 1 if c == "the" else i
        if self.canon(j) == "day" and self.canon(j + 1) == "after" and self.canon(j + 2) == "tomorrow":
            return j + 3, [_C("day", sub="plus", n=2)]
        return None

    def match_meal_window(self, i: int) -> _Match | None:
        c = self.canon(i)
        meal = _MEAL_SYNONYMS.get(self.canon(i + 1), self.canon(i + 1))
        if (c, meal) in _MEAL_WINDOWS:
            t1, t2, ctx = _MEAL_WINDOWS[(c, meal)]
            return i + 2, [_C("window", name=ctx, t1=t1, t2=t2, label=f"{c} {meal}")]
        return None

    def match_range(self, i: int) -> _Match | None:
        c = self.canon(i)
        if c not in ("between", "from"):
            return None
        a = self.match_time(i + 1, cued=True, no_to=True)
        if not a:
            return None
        j = a[0]
        sep_ok = self.canon(j) in (("and",) if c == "between" else ()) + ("to", "until")
        dash = j < self.n and self.text[self.toks[j - 1].end:self.toks[j].start].strip() in ("-", "\u2013")
        if not sep_ok and self.kind(j) in ("n", "clock") and dash:
            j -= 1  # "from 2-4"
        elif not sep_ok:
            return None
        b = self.match_time(j + 1, cued=True)
        if not b:
            return None
        return b[0], [_C("window", name=None, tc1=a[1][0].tc, tc2=b[1][0].tc)]

    def match_time(self, i: int, cued: bool = False, no_to: bool = False) -> _Match | None:
        """A time of day: "at 3", "7pm", "12:30", "half past six", "noon"..."""
        j = i
        first_cue = ""
        while j < self.n and self.canon(j) in _CUES:
            first_cue = first_cue or self.canon(j)
            j += 1
            cued = True
        if j >= self.n:
            return None
        tok = self.toks[j]
        c = self.canon(j)

        def done(k: int, tc: _TC) -> _Match:
            tc.raw = tc.raw or self.text_of(j, k)
            return k, [_C("time", tc=tc)]

        if c in ("noon", "midday", "lunchtime"):
            return done(j + 1, _TC(named=time(12), raw=c))
        if c == "midnight":
            return done(j + 1, _TC(named=time(0), raw=c))
        if c == "breakfasttime":
            return done(j + 1, _TC(named=time(8), raw=c))
        if c == "dinnertime":
            return done(j + 1, _TC(named=time(18), raw=c))
        if c in ("lunch", "breakfast", "dinner", "supper") and first_cue in ("at", "around", "about", "by"):
            k = j + 2 if self.canon(j + 1) == "time" else j + 1
            return done(k, _TC(named=_MEAL_TIMES[c], raw=c))
        if tok.kind == "n" and tok.value == 12 and self.canon(j + 1) in ("noon", "midday", "midnight"):
            return done(j + 2, _TC(named=time(0) if self.canon(j + 1) == "midnight" else time(12)))

        got = self.match_past_to(j, cued, no_to)
        if got:
            return done(*got)

        if tok.kind in ("clock", "dclock"):
            ampm, k = self.ampm_at(j + 1)
            if tok.kind == "dclock" and not cued and not ampm:
                return None
            h, m = tok.value
            if ampm is None and self.canon(k) == "hour":  # "14:30 hrs"
                k += 1
            return done(k, _TC(h, m, ampm, is24=tok.lead0 or h >= 13 or h == 0, raw=self.text_of(j, k)))

        if tok.kind == "n":
            v = tok.value
            ampm, k = self.ampm_at(j + 1)
            digits = len(tok.text)
            if ampm:
                if digits <= 2:
                    return done(k, _TC(v, 0, ampm, raw=self.text_of(j, k)))
                if digits in (3, 4):
                    return done(k, _TC(v // 100, v % 100, ampm, raw=self.text_of(j, k)))
                return None
            if self.canon(j + 1) == "oclock" and digits <= 2:
                return done(j + 2, _TC(v, 0, None, is24=tok.lead0 or v >= 13 or v == 0))
            if cued:
                if digits <= 2 and v <= 23:
                    return done(j + 1, _TC(v, 0, None, is24=tok.lead0 or v >= 13 or v == 0))
                if digits in (3, 4) and (tok.lead0 or v >= 100):
                    hh, mm = divmod(v, 100)
                    if hh <= 23 and mm <= 59:
                        k = j + 2 if self.canon(j + 1) == "hour" else j + 1
                        return done(k, _TC(hh, mm, None, is24=True))
                return None
            if digits <= 2 and 1 <= v <= 12 and self.window_follows(j + 1):
                return done(j + 1, _TC(v, 0, None))
            return None

        hw = self.number_words(j, 1, 12)
        if hw:
            v, k = hw
            minutes = 0
            digit = _UNIT_WORDS.get(self.canon(k + 1), 0)
            if self.canon(k) in ("oh", "o") and 1 <= digit <= 9:
                minutes, k = digit, k + 2
            else:
                mw = self.number_words(k, 10, 59)
                if mw:
                    minutes, k = mw
            ampm, k2 = self.ampm_at(k)
            oclock = self.canon(k2) == "oclock" and not minutes
            if oclock:
                k2 += 1
            if cued or ampm or oclock or self.window_follows(k2):
                return done(k2, _TC(v, minutes, ampm))
        return None

    def match_past_to(self, j: int, cued: bool, no_to: bool = False) -> tuple[int, _TC] | None:
        """ "half past six", "half six", "quarter to one", "ten past three".

        With ``no_to`` "10 to 4" is not read as 3:50 (used for "from 10 to 4").
        """
        c = self.canon(j)
        if c == "half":
            if self.canon(j + 1) in ("past", "after"):
                h = self.hour_at(j + 2)
                if h:
                    tc, k = h
                    tc.m = 30
                    ampm, k = self.ampm_at(k)
                    tc.ampm = ampm
                    return k, tc
            elif cued:
                h = self.hour_at(j + 1)
                if h:
                    tc, k = h
                    tc.m = 30
                    tc.ampm, k = self.ampm_at(k)
                    return k, tc
            return None
        k = j
        if c == "a" and self.canon(j + 1) == "quarter":
            k = j + 1
        if self.canon(k) == "quarter":
            minutes, k = 15, k + 1
        else:
            tok = self.toks[j] if j < self.n else None
            if tok is not None and tok.kind == "n" and 1 <= tok.value <= 59 and len(tok.text) <= 2:
                minutes, k = tok.value, j + 1
            else:
                got = self.number_words(j, 1, 59)
                if not got:
                    return None
                minutes, k = got
            if self.canon(k) == "minute":
                k += 1
            elif minutes % 5:
                return None
        direction = self.canon(k)
        if direction in ("past", "after"):
            sign = 1
        elif direction in ("to", "before", "of") and not (no_to and self.canon(j) != "quarter"
                                                           and self.canon(j + 1) != "quarter"):
            sign = -1
        else:
            return None
        h = self.hour_at(k + 1)
        if not h:
            return None
        tc, k = h
        if sign > 0:
            tc.m = minutes
        else:
            tc.offset = -minutes
        tc.ampm, k = self.ampm_at(k)
        return k, tc

    def day_number(self, i: int) -> tuple[int, int, bool] | None:
        """A day of the month: "25", "25th", "third", "twenty first": (day, next, ordinal)."""
        tok = self.toks[i] if i < self.n else None
        if tok is None:
            return None
        if tok.kind == "n" and len(tok.text) <= 2:
            if self.canon(i + 1) in _ORDINAL_SUFFIXES:
                return tok.value, i + 2, True
            return tok.value, i + 1, False
        c = self.canon(i)
        if c in _ORDINAL_WORDS:
            return _ORDINAL_WORDS[c], i + 1, True
        unit = _ORDINAL_WORDS.get(self.canon(i + 1), 99)
        if c in _TENS_WORDS and unit <= 9:
            return _TENS_WORDS[c] + unit, i + 2, True
        return None

    def year_at(self, i: int) -> tuple[int | None, int]:
        tok = self.toks[i] if i < self.n else None
        if tok is not None and tok.kind == "n" and len(tok.text) == 4 and 1900 <= tok.value <= 2999:
            return tok.value, i + 1
        return None, i

    def holiday_at(self, i: int) -> tuple[tuple[int, int], int] | None:
        """Fixed-date holidays: Christmas (Eve/Day), Boxing Day, New Year's Eve/Day."""
        c, c2 = self.canon(i), self.canon(i + 1)
        if c in ("christmas", "xmas"):
            if c2 == "eve":
                return (12, 24), i + 2
            return (12, 25), i + 2 if c2 == "day" else i + 1
        if c == "boxing" and c2 == "day":
            return (12, 26), i + 2
        if c == "new" and c2 in ("year", "years"):
            c3 = self.canon(i + 2)
            if c3 == "eve":
                return (12, 31), i + 3
            if c3 == "day":
                return (1, 1), i + 3
        return None

    def match_date(self, i: int) -> _Match | None:
        j = i
        had_on = self.canon(j) == "on"
        if had_on:
            j += 1
        had_the = self.canon(j) == "the"
        if had_the:
            j += 1
        tok = self.toks[j] if j < self.n else None
        if tok is None:
            return None
        if tok.kind == "iso":
            y, m, d = tok.value
            return j + 1, [_C("day", sub="date", y=y, m=m, d=d, raw=tok.text)]
        if tok.kind == "dmy":
            parts = tok.value
            y = parts[2] if len(parts) == 3 else None
            if y is not None and y < 100:
                y += 2000
            d, m = parts[0], parts[1]
            if m > 12:
                if 1 <= d <= 12 and m <= 31:
                    raise TimeParseError(
                        "ambiguous",
                        f"I read dates as day/month, so {tok.text} doesn't work. "
                        f"Did you mean {m} {_MONTH_NAMES[d - 1]}?",
                    )
                raise TimeParseError(
                    "invalid_date",
                    f"I read dates as day/month, like 25/12, so {tok.text} doesn't work. "
                    "Which day did you mean?",
                )
            if m < 1:
                raise TimeParseError(
                    "invalid_date",
                    f"I read dates as day/month, like 25/12, so {tok.text} doesn't work. "
                    "Which day did you mean?",
                )
            return j + 1, [_C("day", sub="date", y=y, m=m, d=d, raw=tok.text)]
        holiday = self.holiday_at(j)
        if holiday:
            (m, d), k = holiday
            y, k = self.year_at(k)
            return k, [_C("day", sub="date", y=y, m=m, d=d, raw=self.text_of(j, k))]
        month = self.month_at(j)
        if month is not None:
            k = j + 1
            if self.canon(k) == "the":
                k += 1
            dn = self.day_number(k)
            if dn and self.canon(dn[1]) not in ("am", "pm", "oclock", "minute", "hour"):
                d, k, _ = dn
                y, k = self.year_at(k)
                return k, [_C("day", sub="date", y=y, m=month, d=d, raw=self.text_of(j, k))]
            return None
        dn = self.day_number(j)
        if dn:
            d, k, ordinal = dn
            k2 = k + 1 if self.canon(k) == "of" else k
            month = self.month_at(k2)
            if month is not None and (k2 > k or ordinal or self.kind(j) == "n"):
                y, k3 = self.year_at(k2 + 1)
                return k3, [_C("day", sub="date", y=y, m=month, d=d, raw=self.text_of(j, k3))]
            # "on the 3rd", "the 3rd at noon"; not "the 2nd one" (a menu choice)
            followed_ok = k >= self.n or self.kind(k) == "clock" or self.canon(k) in _DOM_FOLLOWERS
            if ordinal and (had_on or (had_the and followed_ok)):
                return k, [_C("day", sub="dom", d=d)]
        return None

    def match_day(self, i: int) -> _Match | None:
        j = i + 1 if self.canon(i) == "on" else i
        c = self.canon(j)
        if c == "today":
            return j + 1, [_C("day", sub="today")]
        if c == "tonight":
            return j + 1, [_C("day", sub="today"), _C("window", name="night")]
        if c == "tomorrow":
            return j + 1, [_C("day", sub="plus", n=1)]
        if c in ("this", "next", "coming", "following"):
            c2 = self.canon(j + 1)
            if c2 == "week":
                return j + 2, [_C("marker", sub="thisweek" if c == "this" else "nextweek")]
            if c2 == "weekend":
                return j + 2, [_C("ambig", what="weekend")]
            if c2 in _WINDOW_WORDS and c == "this":
                return j + 2, [_C("day", sub="today"), _C("window", name=c2)]
            wd = self.weekday_at(j + 1)
            if wd is not None:
                mod = {"following": "next", "coming": None}.get(c, c)
                return j + 2, [_C("day", sub="weekday", idx=wd, mod=mod)]
            if c2 in _MONTH_INDEX and c2 != "may":
                return j + 2, [_C("ambig", what="month", month=_MONTH_INDEX[c2])]
            return None
        wd = self.weekday_at(j)
        if wd is not None:
            return j + 1, [_C("day", sub="weekday", idx=wd, mod=None, plural=self.toks[j].plural)]
        return None

    def match_window(self, i: int) -> _Match | None:
        j = i
        if self.canon(j) == "in" and self.canon(j + 1) == "the" and self.canon(j + 2) in _WINDOW_WORDS:
            j += 2
        elif self.canon(j) == "at" and self.canon(j + 1) == "night":
            j += 1
        c = self.canon(j)
        if c not in _WINDOW_WORDS:
            return None
        if j == i:
            before = self.canon(i - 1)
            if before == "good":
                return None
            if c == "night" and not (before in _DAYISH_BEFORE_NIGHT or before in _WEEKDAY_INDEX):
                return None
        return j + 1, [_C("window", name=c, plural=self.toks[j].plural)]

    def match_misc(self, i: int) -> _Match | None:
        c = self.canon(i)
        if c == "weekend" and not self.toks[i].plural and self.canon(i - 1) not in ("every", "each"):
            j = i - 1 if self.canon(i - 1) in ("the", "at") else i
            return i + 1, [_C("ambig", what="weekend", at=j)]
        if c in _MONTH_INDEX and c != "may" and self.canon(i - 1) in ("in", "during"):
            return i + 1, [_C("ambig", what="month", month=_MONTH_INDEX[c])]
        return None

    def scan(self) -> list[_C]:
        """Find every component in the text, left to right."""
        matchers: tuple[Callable[[int], _Match | None], ...] = (
            self.match_now, self.match_relative, self.match_past, self.match_day_after,
            self.match_meal_window, self.match_range, self.match_time, self.match_date,
            self.match_day, self.match_window, self.match_misc,
        )
        comps: list[_C] = []
        i = 0
        while i < self.n:
            for matcher in matchers:
                got = matcher(i)
                if got:
                    j, found = got
                    for comp in found:
                        comp.start, comp.end = self.toks[i].start, self.toks[j - 1].end
                    comps.extend(found)
                    i = j
                    break
            else:
                i += 1
        return comps


# --------------------------------------------------------------------------
# Building a When
# --------------------------------------------------------------------------


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _local(d: date, t: time, tz: Any) -> datetime:
    """Local wall time on day ``d``; times inside a DST gap move forward by the gap."""
    dt = datetime.combine(d, t, tzinfo=tz)
    return dt.astimezone(timezone.utc).astimezone(tz)


def _shift(now: datetime, delta: timedelta) -> datetime:
    """``now + delta`` in real elapsed time (correct across DST changes)."""
    return (now.astimezone(timezone.utc) + delta).astimezone(now.tzinfo)


def _fmt_time(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _day_month(d: date) -> str:
    return f"{d.day} {_MONTH_NAMES[d.month - 1]}"


def _join_words(words: list[str], last: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _month_len(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def _check_day_in_month(d: int, m: int) -> None:
    if not 1 <= m <= 12:
        raise TimeParseError("invalid_date", "That isn't a date I recognise. Which day did you mean?")
    if not 1 <= d <= (29 if m == 2 else _month_len(2001, m)):
        raise TimeParseError(
            "invalid_date", f"{d} {_MONTH_NAMES[m - 1]} doesn't exist. Which day did you mean?"
        )


def _make_date(y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        if m == 2 and d == 29:
            raise TimeParseError(
                "invalid_date", f"There's no 29 February in {y}. Which day did you mean?"
            ) from None
        raise TimeParseError(
            "invalid_date", "That isn't a date I recognise. Which day did you mean?"
        ) from None


_PAST_DATE = "{} has already passed. Which day would you like instead?"


def _resolve_fixed_day(c: _C, today: date) -> date:
    """Dates that do not depend on the time of day."""
    if c.sub == "today":
        return today
    if c.sub == "plus":
        return today + timedelta(days=c.n)
    if c.sub == "date":
        _check_day_in_month(c.d, c.m)
        if c.y is not None:
            if not 1 <= c.y <= 9999:
                raise TimeParseError("invalid_date", "That isn't a date I recognise. Which day did you mean?")
            cand = _make_date(c.y, c.m, c.d)
            if cand < today:
                raise TimeParseError("past", _PAST_DATE.format(f"{_day_month(cand)} {cand.year}"))
            return cand
        y = today.year
        if (c.m, c.d) < (today.month, today.day):
            ago = (today - date(y, c.m, min(c.d, _month_len(y, c.m)))).days
            if ago <= 92:
                raise TimeParseError("past", _PAST_DATE.format(f"{c.d} {_MONTH_NAMES[c.m - 1]}"))
            y += 1
        return _make_date(y, c.m, c.d)
    if c.sub == "dom":
        if not 1 <= c.d <= 31:
            raise TimeParseError("invalid_date", f"There's no day {c.d} in a month. Which day did you mean?")
        y, m = today.year, today.month
        for _ in range(13):
            if c.d <= _month_len(y, m):
                cand = date(y, m, c.d)
                if cand >= today:
                    return cand
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    raise AssertionError(f"unexpected day component {c.sub}")  # pragma: no cover


def _resolve_weekday(c: _C, today: date, ahead: Callable[[date], bool], week: str | None) -> date:
    wd = today.weekday()
    if week == "nextweek":
        return today + timedelta(days=7 - wd + c.idx)
    if week == "thisweek":
        cand = today + timedelta(days=c.idx - wd)
        if cand < today:
            raise TimeParseError("past", f"{_WEEKDAY_NAMES[c.idx]} this week has already passed. "
                                         "Which day would you like instead?")
        return cand
    if c.mod == "next":
        return today + timedelta(days=(c.idx - wd - 1) % 7 + 1)
    cand = today + timedelta(days=(c.idx - wd) % 7)
    if cand == today and c.mod != "this" and not ahead(cand):
        cand += timedelta(days=7)
    return cand


def _ambiguous(msg: str) -> TimeParseError:
    return TimeParseError("ambiguous", msg)


def _build_when(comps: list[_C], text: str, now: datetime, default_time: time | None,
                meal_type: str | None, max_days_ahead: int) -> When | None:
    tz = now.tzinfo
    today = now.date()
    now_floor = now.replace(second=0, microsecond=0)

    def of(kind: str) -> list[_C]:
        return [c for c in comps if c.kind == kind]

    for c in comps:
        if c.kind == "past":
            raise TimeParseError("past", c.msg)
    days, times, windows = of("day"), of("time"), of("window")
    deltas, nows, markers, ambigs = of("delta"), of("now"), of("marker"), of("ambig")
    matched = text[min(c.start for c in comps):max(c.end for c in comps)].strip()

    def too_far_check(d: date) -> None:
        if (d - today).days > max_days_ahead:
            raise TimeParseError(
                "too_far",
                f"I can only book up to {max_days_ahead} days ahead. Could you choose an earlier date?",
            )

    if deltas:
        if len(deltas) > 1 or times or windows or any(d.sub != "today" for d in days):
            raise _ambiguous("I'm not sure which time you meant. Could you say it once more, "
                             "for example 'in 2 hours' or 'tomorrow at 12'?")
        start = _shift(now, deltas[0].delta)
        too_far_check(start.date())
        return When(start, None, True, matched)
    only_today = all(d.sub == "today" for d in days)
    if nows and only_today and not (times or windows or markers or ambigs):
        return When(now, None, True, matched)

    weekday_days = [d for d in days if d.sub == "weekday"]
    fixed_days = [d for d in days if d.sub != "weekday"]
    for a in ambigs:
        if a.what == "weekend" and not any(d.idx in (5, 6) for d in weekday_days):
            raise _ambiguous("Which day at the weekend would suit you \u2013 Saturday or Sunday?")
        if a.what == "month" and not any(d.sub == "date" for d in fixed_days):
            raise _ambiguous(f"Which day in {_MONTH_NAMES[a.month - 1]} would suit you?")
    week = markers[0].sub if markers else None
    if week and not weekday_days:
        which = "next week" if week == "nextweek" else "this week"
        raise _ambiguous(f"Which day {which} would suit you?")
    if not (days or times or windows):
        return None

    # ---- time of day ----
    names = {"evening" if w.name == "night" else w.name for w in windows if w.tc1 is None}
    ctx = next((w.name for w in windows if w.name), None)
    resolved = sorted({_resolve_tc(t.tc, ctx) for t in times})
    if len(resolved) > 1:
        raise _ambiguous(f"Did you mean {_join_words([_fmt_time(t) for t in resolved], 'or')}?")
    if len(names) > 1:
        raise _ambiguous(f"Did you mean the {_join_words(sorted(names), 'or the')}?")
    midnight = False
    window: tuple[time, time] | None = None
    point: time | None = None
    has_time = True
    if resolved:
        point = resolved[0]
        midnight = any(t.tc.midnight for t in times)
    elif windows:
        w = next((x for x in windows if x.tc1 is not None), windows[0])
        if w.tc1 is not None:
            window = _resolve_range(w.tc1, w.tc2, ctx)
        elif w.t1 is not None:
            window = (w.t1, w.t2)
        else:
            window = _WINDOWS[w.name]
    else:
        meal = _MEAL_SYNONYMS.get((meal_type or "").strip().lower(), (meal_type or "").strip().lower())
        if meal in _MEAL_TIMES:
            point = _MEAL_TIMES[meal]
        else:
            point = default_time or time(0)
            has_time = False

    def ahead(d: date) -> bool:
        if window is not None:
            return _local(d, window[1], tz) > now
        return _local(d, point, tz) >= now_floor  # type: ignore[arg-type]

    # ---- the day ----
    if not days:
        d = today if ahead(today) else today + timedelta(days=1)
    else:
        dates = {_resolve_fixed_day(c, today) for c in fixed_days}
        if len(dates) > 1:
            raise _ambiguous(f"Did you mean {_join_words([_day_month(x) for x in sorted(dates)], 'or')}?")
        idxs = sorted({c.idx for c in weekday_days})
        if dates:
            d = dates.pop()
            explicit_date = any(c.sub == "date" for c in fixed_days)
            for idx in idxs:
                if d.weekday() == idx:
                    continue
                if explicit_date:
                    raise _ambiguous(
                        f"{_day_month(d)} is a {_WEEKDAY_NAMES[d.weekday()]}, not a {_WEEKDAY_NAMES[idx]}. "
                        "Which day did you mean?"
                    )
                raise _ambiguous(
                    f"Did you mean {_WEEKDAY_NAMES[d.weekday()]} {_day_month(d)} or {_WEEKDAY_NAMES[idx]}?"
                )
        else:
            if len(idxs) > 1:
                raise _ambiguous(
                    f"Which day did you mean: {_join_words([_WEEKDAY_NAMES[x] for x in idxs], 'or')}?"
                )
            d = _resolve_weekday(weekday_days[0], today, ahead, week)
        if midnight:
            d += timedelta(days=1)

    # ---- build and check ----
    end: datetime | None = None
    if window is not None:
        start = _local(d, window[0], tz)
        end = _local(d, window[1], tz)
        if end <= now:
            raise TimeParseError("past", _past_message(d, today, "window"))
        if start < now:
            start = now
    else:
        start = _local(d, point, tz)  # type: ignore[arg-type]
        if has_time and start < now_floor:
            raise TimeParseError("past", _past_message(d, today, _fmt_time(point)))  # type: ignore[arg-type]
        if d < today:
            raise TimeParseError("past", _PAST_DATE.format("That day"))
    too_far_check(d)
    return When(start, end, has_time, matched)


def _past_message(d: date, today: date, what: str) -> str:
    if d == today:
        if what == "window":
            return "That part of today is already over. Would later today or another day suit you?"
        return f"It's already past {what} today. Would a later time or another day suit you?"
    return "That time has already passed. When would you like it instead?"


def _resolve_range(tc1: _TC, tc2: _TC, ctx: str | None) -> tuple[time, time]:
    """Resolve "between 2 and 4" / "from 8 to 10pm" into a window."""
    if tc1.ampm is None and not tc1.is24 and tc1.named is None and tc2.ampm is not None:
        if tc1.h % 12 < tc2.h % 12:
            tc1.ampm = tc2.ampm
    t1 = _resolve_tc(tc1, ctx)
    t2 = _resolve_tc(tc2, ctx)
    if t2 <= t1 and tc2.ampm is None and not tc2.is24 and t2.hour < 12:
        t2 = t2.replace(hour=t2.hour + 12)
    if t2 <= t1:
        raise _ambiguous(f"From {_fmt_time(t1)} to {_fmt_time(t2)} doesn't look right. "
                         "Which times did you mean?")
    return t1, t2


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def parse_when(
    text: str,
    now: datetime,
    *,
    default_time: time | None = None,
    meal_type: str | None = None,
    max_days_ahead: int = 366,
) -> When | None:
    """Understand a single date/time in free text.

    Args:
        text: What the person wrote, e.g. "tomorow at 12" or "friday morning".
        now: The current time; must be timezone-aware (ideally a ``ZoneInfo``).
        default_time: Start time to use when only a day is given (``has_time`` stays False).
        meal_type: "breakfast", "lunch", "dinner" or "supper"; gives 08:00, 12:00 or 18:00
            when no time is given (``has_time`` True).  Takes precedence over ``default_time``.
        max_days_ahead: Furthest day accepted, counted from today.

    Returns:
        A :class:`When`, or ``None`` if the text has no time expression.

    Raises:
        TimeParseError: If a time was recognised but cannot be used (past, 31 February,
            25:00, more than ``max_days_ahead`` away, or two different days/times).
        ValueError: If ``now`` is naive.
    """
    _check_now(now)
    if not isinstance(text, str):
        return None
    text = text[:MAX_INPUT_CHARS]
    toks = _tokenize(text)
    if not toks:
        return None
    comps = _Scanner(toks, text).scan()
    if not comps:
        return None
    return _build_when(comps, text, now, default_time, meal_type, max_days_ahead)


def _describe_recurrence(days: tuple[int, ...], times: tuple[time, ...]) -> str:
    if days == tuple(range(7)):
        out = "every day"
    elif days == (0, 1, 2, 3, 4):
        out = "every weekday"
    elif len(days) == 6:
        missing = next(d for d in range(7) if d not in days)
        out = f"every day except {_WEEKDAY_NAMES[missing]}"
    else:
        out = "every " + _join_words([_WEEKDAY_NAMES[d] for d in days])
    if times:
        out += " at " + _join_words([_fmt_time(t) for t in times])
    return out


def parse_recurrence(text: str) -> Recurrence | None:
    """Understand a repeating schedule in free text.

    Examples: "every weekday", "lunch every weekday" (12:00), "every day at 8",
    "every Monday and Thursday at 10", "mon wed fri", "weekends",
    "every day at 8 and 8pm", "every day except sunday", "monday to friday".
    Meal words give times when no time is said (breakfast 08:00, lunch 12:00,
    dinner/supper 18:00).

    Args:
        text: What the person wrote.

    Returns:
        A :class:`Recurrence`, or ``None`` if the text does not describe a
        weekly pattern (including "every other day" or "every 2 weeks", which
        cannot be expressed as weekdays).

    Raises:
        TimeParseError: If a time in the text is impossible, such as 25:00.
    """
    if not isinstance(text, str):
        return None
    text = text[:MAX_INPUT_CHARS]
    toks = _tokenize(text)
    if not toks:
        return None
    sc = _Scanner(toks, text)
    days: set[int] = set()
    removed: set[int] = set()
    named_days: set[int] = set()
    tcs: list[_TC] = []
    meals: set[time] = set()
    ctx: str | None = None
    trigger = False
    excluding = False
    i = 0

    def add(idxs: set[int]) -> None:
        (removed if excluding else days).update(idxs)

    while i < sc.n:
        c = sc.canon(i)
        prev = sc.canon(i - 1)
        every_before = prev in ("every", "each")
        if c in ("every", "each"):
            nxt = sc.canon(i + 1)
            if nxt in ("other", "alternate", "second", "third", "fourth") or sc.kind(i + 1) in ("n", "dec") \
                    or (nxt in _UNIT_WORDS and nxt not in ("one",)) or nxt in _TENS_WORDS:
                return None
            trigger = True
        elif c in ("daily", "everyday"):
            trigger = True
            add(set(range(7)))
        elif c == "weekly":
            trigger = True
        elif c == "day" and (every_before or prev == "a"):
            add(set(range(7)))
        elif c in ("except", "excluding") or (c == "but" and sc.canon(i + 1) == "not") or \
                (c == "apart" and sc.canon(i + 1) == "from") or (c == "not" and sc.canon(i + 1) == "on"):
            excluding = True
        elif sc.weekday_at(i) is not None:
            wd = sc.weekday_at(i)
            assert wd is not None
            trigger = trigger or sc.toks[i].plural or every_before
            j = i + 1
            gap = sc.text[sc.toks[i].end:sc.toks[j].start].strip() if j < sc.n else ""
            if sc.canon(j) in ("to", "through", "thru", "until") and sc.weekday_at(j + 1) is not None:
                end_wd, j = sc.weekday_at(j + 1), j + 2
            elif gap in ("-", "\u2013") and sc.weekday_at(j) is not None:
                end_wd, j = sc.weekday_at(j), j + 1
            else:
                end_wd = None
            if end_wd is not None:
                span = {(wd + k) % 7 for k in range((end_wd - wd) % 7 + 1)}
                add(span)
                if not excluding:
                    named_days.update(span)
                    trigger = True
                i = j
                continue
            add({wd})
            if not excluding:
                named_days.add(wd)
        elif c == "weekday" or (c in ("working", "work") and sc.canon(i + 1) == "day"):
            trigger = trigger or sc.toks[i].plural or every_before or sc.canon(i + 1) == "day"
            add({0, 1, 2, 3, 4})
        elif c == "weekend":
            trigger = trigger or sc.toks[i].plural or every_before
            add({5, 6})
        elif c in _WINDOW_WORDS or c == "tonight":
            if every_before or sc.toks[i].plural:
                trigger = True
                add(set(range(7)))
            ctx = ctx or ("night" if c == "tonight" else c)
        elif c in _MEAL_TIMES and prev not in ("after", "before"):
            meals.add(_MEAL_TIMES[c])
        else:
            got = sc.match_time(i)
            if got:
                j, found = got
                tcs.append(found[0].tc)
                # "at 8 and 8pm", "at 8, 12 and 6"
                while True:
                    k = j + 1 if sc.canon(j) in ("and", "or") else j
                    more = sc.match_time(k, cued=True) if k < sc.n and (
                        sc.kind(k) in ("n", "clock", "dclock") or sc.canon(k) in _UNIT_WORDS
                        or sc.canon(k) in ("noon", "midday", "midnight", "half", "quarter")) else None
                    if not more:
                        break
                    j = more[0]
                    tcs.append(more[1][0].tc)
                i = j
                continue
        i += 1

    if len(named_days) >= 2:
        trigger = True
    weekdays = tuple(sorted(days - removed))
    if not trigger or not weekdays:
        return None
    times = tuple(sorted({_resolve_tc(tc, ctx) for tc in tcs} or meals))
    return Recurrence(weekdays, times, _describe_recurrence(weekdays, times))


def describe(when: When, now: datetime) -> str:
    """Friendly text for a :class:`When`.

    Examples: "today at 12:00", "tomorrow (Friday 27 November) at 12:00",
    "Friday 4 December, 08:00\u201312:00", "Tuesday 5 January 2027".

    Args:
        when: The parsed time.
        now: The current time (aware); decides "today"/"tomorrow" and whether a year is shown.

    Raises:
        ValueError: If ``now`` is naive.
    """
    _check_now(now)
    start = when.start.astimezone(now.tzinfo)
    today = now.date()
    d = start.date()
    full = f"{_WEEKDAY_NAMES[d.weekday()]} {_day_month(d)}"
    if d.year != today.year:
        full += f" {d.year}"
    if d == today:
        label = "today"
    elif d == today + timedelta(days=1):
        label = f"tomorrow ({full})"
    elif d == today - timedelta(days=1):
        label = f"yesterday ({full})"
    else:
        label = full
    if not when.has_time:
        return label
    if when.end is not None:
        end = when.end.astimezone(now.tzinfo)
        return f"{label}, {_fmt_time(start.time())}\u2013{_fmt_time(end.time())}"
    return f"{label} at {_fmt_time(start.time())}"

"""The search engine of home-service visits: who is free when, ranked, and the nearest alternatives.

Opening hours are minute spans by weekday, read in the deployment timezone. A
provider is free at a start when the whole visit lies inside one opening interval,
at least ``LEAD_TIME`` ahead and at most ``MAX_ADVANCE``, and none of its 30-minute
:class:`~assistant.care.core.models.BookingSlot` rows is held. Options are ranked
verified first, then higher score, then cheaper, then sooner.

A search sends the same few statements whatever the size of the registry: the district's
spellings, the candidates with their offerings (filtered in SQL), and the held slots of all
candidates in the searched span (one more for the nearest alternatives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import Callable, Final, Iterable, Iterator, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from assistant.care.bookings.bookings import SLOT_MINUTES, ceil_slot, floor_slot, slot_starts
from assistant.care.core.clock import require_aware
from assistant.care.registry.hours import loads_hours
from assistant.care.core.models import BookingSlot, Offering, Provider, ProviderDistrict
from assistant.care.registry.scheduling import MAX_ADVANCE
from assistant.care.homeservices.service_words import TimeWindow
from assistant.care.core.views import ServiceOption

LEAD_TIME: Final = timedelta(hours=2)
"""Minimum notice for a visit."""
ALTERNATIVE_SPAN: Final = timedelta(days=7)
"""How far before and after a wanted time we look for other free times."""
DEFAULT_DURATION_MINUTES: Final = 60
"""Length of a visit whose offering has no duration."""

LAUNDRY_PICKUP_FEE_CENTS: Final = 200
"""Pickup and return fee of a laundry booking (EUR 2.00), charged once per booking."""
FEES_CENTS: Final = {"laundry": LAUNDRY_PICKUP_FEE_CENTS}
"""Fees by service; services not listed have none."""
LAUNDRY_RETURN_AFTER: Final = timedelta(hours=48)
"""Default time from a laundry pickup to its return."""

_STOPWORDS: Final = frozenset(
    "the and for with please can you some need want would like have this that could".split()
)


@dataclass
class Candidate:
    """A provider that may do the visit, its offerings in order of preference, its hours."""

    provider: Provider
    offerings: list[Offering]
    spans: dict[int, list[tuple[int, int]]]


def _minutes(text: str) -> int:
    """Return minutes since midnight of ``"HH:MM"`` (``"24:00"`` is 1440)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def opening_spans(provider: Provider) -> dict[int, list[tuple[int, int]]]:
    """Return the provider's opening hours as minute spans by weekday (0 = Monday)."""
    return {day: list(spans) for day, spans in enumerate(_spans_of(provider.opening_hours))}


@lru_cache(maxsize=4096)
def _spans_of(opening_hours: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Return stored opening hours as minute spans, Monday first (parsed once per distinct text)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours = loads_hours(opening_hours)
    return tuple(tuple((_minutes(s), _minutes(e)) for s, e in hours.get(day, [])) for day in days)


def duration(offering: Offering) -> int:
    """Return the length of a visit in minutes."""
    return offering.duration_minutes or DEFAULT_DURATION_MINUTES


def fits(spans: dict[int, list[tuple[int, int]]], start: datetime, minutes: int, tz: ZoneInfo) -> bool:
    """Return whether the whole visit lies inside one opening interval."""
    # A search asks about the same few UTC starts for every candidate: remember their local times.
    # Only UTC starts are cache keys: aware times in other zones compare equal across a DST fold.
    span = _cached_local_span if start.tzinfo is timezone.utc else _local_span
    local = span(start, minutes, tz)
    if local is None:
        return False
    weekday, first, last = local
    return any(open_ <= first and last <= close for open_, close in spans.get(weekday, []))


def _local_span(start: datetime, minutes: int, tz: ZoneInfo) -> Optional[tuple[int, int, int]]:
    """Return (weekday, first minute, last minute) of a visit in ``tz``; None if it runs past midnight."""
    local = start.astimezone(tz)
    end = (start + timedelta(minutes=minutes)).astimezone(tz)
    first = local.hour * 60 + local.minute
    if end.date() == local.date():
        last = end.hour * 60 + end.minute
    elif end.date() == local.date() + timedelta(days=1) and (end.hour, end.minute) == (0, 0):
        last = 24 * 60
    else:
        return None
    return local.weekday(), first, last


_cached_local_span = lru_cache(maxsize=16384)(_local_span)


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    """Return rough word stems for matching a note against offerings."""
    words = re.findall(r"[a-z]+", (text or "").lower().replace("_", " "))
    return frozenset(w[:5] for w in words if len(w) >= 3 and w not in _STOPWORDS)


def _offering_order(offerings: Iterable[Offering], details: str, prefer: Optional[int]) -> list[Offering]:
    """Order offerings: the preferred one, then the best match of ``details``, then the cheapest."""
    wanted = _stems(details)

    def key(offering: Offering) -> tuple[bool, int, int, int]:
        words = _stems(f"{offering.name} {offering.description} {offering.mode}")
        return (offering.id != prefer, -len(wanted & words), offering.price_cents, offering.id)

    return sorted(offerings, key=key)


def _rank(option: ServiceOption) -> tuple[bool, float, int, datetime, str, int]:
    """Sort key: verified first, then higher score, then cheaper, then sooner."""
    return (
        not option.verified, -option.score, option.total_cents,
        option.starts_at, option.provider_name, option.offering_id,
    )


def _default_return(spans: dict[int, list[tuple[int, int]]], pickup: datetime, tz: ZoneInfo) -> datetime:
    """Return LAUNDRY_RETURN_AFTER after ``pickup``, moved on to the provider's next opening time."""
    first = pickup + LAUNDRY_RETURN_AFTER
    step = timedelta(minutes=SLOT_MINUTES)
    for moment in _steps(first, first + timedelta(days=7), step):
        if fits(spans, moment, SLOT_MINUTES, tz):
            return moment
    return first


def service_option(
    provider: Provider,
    offering: Offering,
    start: datetime,
    spans: dict[int, list[tuple[int, int]]],
    tz: ZoneInfo,
) -> ServiceOption:
    """Return the priced option of ``offering`` starting at ``start``."""
    fees = FEES_CENTS.get(provider.kind, 0)
    end = start + timedelta(minutes=duration(offering))
    return ServiceOption(
        offering_id=offering.id,
        provider_id=provider.id,
        provider_name=provider.name,
        service=provider.kind,
        offering_name=offering.name,
        description=offering.description,
        price_cents=offering.price_cents,
        fees_cents=fees,
        total_cents=offering.price_cents + fees,
        score=provider.score,
        review_count=provider.review_count,
        verified=provider.verified,
        starts_at=start,
        ends_at=end,
        return_at=_default_return(spans, start, tz) if provider.kind == "laundry" else None,
    )


def _district_spellings() -> Select:
    """Return a query of every distinct district name of the registry, one index probe per name.

    A "loose index scan" written as a recursive CTE: each step asks the index on
    ``provider_districts.district`` for the next larger name, so the cost grows with the
    number of districts, not with the number of providers serving them (as DISTINCT would).
    """
    table = ProviderDistrict.__table__
    later = table.alias("later")
    names = select(func.min(table.c.district).label("district")).cte("district_names", recursive=True)
    following = select(func.min(later.c.district)).where(later.c.district > names.c.district).scalar_subquery()
    names = names.union_all(select(following).where(names.c.district.is_not(None)))
    return select(names.c.district).where(names.c.district.is_not(None))


_DISTRICT_SPELLINGS: Final = _district_spellings()


def _steps(first: datetime, last: datetime, step: timedelta) -> Iterator[datetime]:
    """Yield ``first``, ``first + step``... while not past ``last`` (``step`` may be negative)."""
    moment = first
    while (moment <= last) if step > timedelta(0) else (moment >= last):
        yield moment
        moment += step


class _FittingStarts:
    """The starts, in order, at which a visit of one length fits one provider's hours; checked lazily, once.

    Iterating again replays the starts found so far and only then checks further ones, so
    candidates with the same opening hours and visit length share the work.
    """

    def __init__(self, starts: Sequence[datetime], fit: Callable[[datetime], bool]) -> None:
        self._unchecked = iter(starts)
        self._fit = fit
        self._found: list[datetime] = []

    def __iter__(self) -> Iterator[datetime]:
        index = 0
        while index < len(self._found) or self._check_more():
            yield self._found[index]
            index += 1

    def _check_more(self) -> bool:
        """Find the next start that fits; return False when there is none."""
        for start in self._unchecked:
            if self._fit(start):
                self._found.append(start)
                return True
        return False


class SlotSearch:
    """Find free starts of home-service providers.

    Args:
        tz: Deployment timezone in which providers' opening hours are written.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    def alternatives(
        self, session: Session, district: str, offering: Offering, at: datetime, now: datetime, limit: int = 3
    ) -> list[ServiceOption]:
        """Return other providers free at ``at``, then the nearest free times of everyone in ``district``."""
        kind = offering.provider.kind
        candidates = self.candidates(session, kind, district, details=offering.name, prefer=offering.id)
        window = TimeWindow.at(at)
        same_time = self.search(session, candidates, window, now, limit)
        nearby = self.nearest(session, candidates, window, now, limit)
        chosen: list[ServiceOption] = []
        for option in [*same_time, *nearby]:
            if all((o.provider_id, o.starts_at) != (option.provider_id, option.starts_at) for o in chosen):
                chosen.append(option)
        return chosen[:limit]

    def candidates(
        self, session: Session, kind: str, district: str, *, details: str = "", prefer: Optional[int] = None
    ) -> list[Candidate]:
        """Return active, unflagged providers of ``kind`` serving ``district``, with offerings to try.

        Two statements whatever the size of the registry: the registry's spellings of the
        district (compared in any letter case, as :func:`~assistant.care.registry.scheduling.serves`
        does), then the providers with their active offerings, filtered in SQL.
        """
        wanted = district.casefold()
        spellings = [name for name in session.scalars(_DISTRICT_SPELLINGS) if name.casefold() == wanted]
        if not spellings:
            return []
        serving = select(ProviderDistrict.provider_id).where(ProviderDistrict.district.in_(spellings))
        rows = session.execute(
            select(Provider, Offering)
            .join(Offering, Offering.provider_id == Provider.id)
            .where(
                Provider.kind == kind,
                Provider.active.is_(True),
                Provider.flagged_at.is_(None),
                Provider.id.in_(serving),
                Offering.active.is_(True),
            )
            .order_by(Provider.id, Offering.id)
        )
        offerings: dict[int, list[Offering]] = {}
        providers: dict[int, Provider] = {}
        for provider, offering in rows:
            providers.setdefault(provider.id, provider)
            offerings.setdefault(provider.id, []).append(offering)
        return [
            Candidate(provider, _offering_order(offerings[provider_id], details, prefer), opening_spans(provider))
            for provider_id, provider in providers.items()
        ]

    def _busy(
        self, session: Session, candidates: Sequence[Candidate], first: datetime, last: datetime
    ) -> dict[int, set[datetime]]:
        """Return the held slot starts of each candidate between ``first`` and ``last``."""
        busy: dict[int, set[datetime]] = {c.provider.id: set() for c in candidates}
        rows = session.execute(
            select(BookingSlot.provider_id, BookingSlot.slot_start).where(
                BookingSlot.provider_id.in_(list(busy)),
                BookingSlot.slot_start >= floor_slot(first),
                BookingSlot.slot_start <= last,
            )
        )
        for provider_id, slot_start in rows:
            busy[provider_id].add(require_aware(slot_start, "slot_start"))
        return busy

    def _fits(self, spans: dict[int, list[tuple[int, int]]], minutes: int, now: datetime, start: datetime) -> bool:
        """Return whether a visit of ``minutes`` may start at ``start``: notice, advance and opening hours."""
        return now + LEAD_TIME <= start <= now + MAX_ADVANCE and fits(spans, start, minutes, self._tz)

    def search(
        self, session: Session, candidates: Sequence[Candidate], window: TimeWindow, now: datetime, limit: int
    ) -> list[ServiceOption]:
        """Return one option per candidate free in ``window`` (earliest start), best first."""
        if not candidates:
            return []
        step = timedelta(minutes=SLOT_MINUTES)
        if window.exact:
            starts = [window.starts_at]
        else:
            first = ceil_slot(max(window.starts_at, now + LEAD_TIME))
            starts = [s for s in _steps(first, window.ends_at, step) if s < window.ends_at]
        if not starts:
            return []
        longest = max(duration(o) for c in candidates for o in c.offerings)
        busy = self._busy(session, candidates, starts[0], starts[-1] + timedelta(minutes=longest))
        options = []
        fitting: dict[tuple[object, int], _FittingStarts] = {}
        for candidate in candidates:
            found = self._first_free(candidate, starts, busy, now, fitting)
            if found is not None:
                options.append(found)
        return sorted(options, key=_rank)[:limit]

    def _first_free(
        self,
        candidate: Candidate,
        starts: Sequence[datetime],
        busy: dict[int, set[datetime]],
        now: datetime,
        fitting: dict[tuple[object, int], _FittingStarts],
    ) -> Optional[ServiceOption]:
        """Return the candidate's first free start among ``starts``, trying offerings in order.

        ``fitting`` holds, per opening hours and visit length, the starts that fit; all
        candidates of one search share it, so each start is checked once, not once per provider.
        """
        hours = tuple(sorted((day, tuple(spans)) for day, spans in candidate.spans.items()))
        held = busy[candidate.provider.id]
        for offering in candidate.offerings:
            minutes = duration(offering)
            key = (hours, minutes)
            if key not in fitting:
                fitting[key] = _FittingStarts(starts, partial(self._fits, candidate.spans, minutes, now))
            for start in fitting[key]:
                if not held or held.isdisjoint(slot_starts(start, start + timedelta(minutes=minutes))):
                    return service_option(candidate.provider, offering, start, candidate.spans, self._tz)
        return None

    def nearest(
        self, session: Session, candidates: Sequence[Candidate], window: TimeWindow, now: datetime, limit: int
    ) -> list[ServiceOption]:
        """Return the free starts nearest to ``window`` within ALTERNATIVE_SPAN, before and after it."""
        if not candidates:
            return []
        step = timedelta(minutes=SLOT_MINUTES)
        earliest = now + LEAD_TIME
        after_first = ceil_slot(max(window.ends_at + timedelta(microseconds=1), earliest))
        after_last = min(window.ends_at + ALTERNATIVE_SPAN, now + MAX_ADVANCE)
        before_first = floor_slot(window.starts_at - timedelta(microseconds=1))
        before_last = max(window.starts_at - ALTERNATIVE_SPAN, earliest)
        after = list(_steps(after_first, after_last, step))
        before = list(_steps(before_first, before_last, -step))
        longest = max(duration(o) for c in candidates for o in c.offerings)
        busy = self._busy(
            session, candidates, min([after_first, *before]), after_last + timedelta(minutes=longest)
        )
        found: list[tuple[timedelta, ServiceOption]] = []
        fitting_after: dict[tuple[object, int], _FittingStarts] = {}
        fitting_before: dict[tuple[object, int], _FittingStarts] = {}
        for candidate in candidates:
            later = self._first_free(candidate, after, busy, now, fitting_after)
            if later is not None:
                found.append((later.starts_at - window.ends_at, later))
            earlier = self._first_free(candidate, before, busy, now, fitting_before)
            if earlier is not None:
                found.append((window.starts_at - earlier.starts_at, earlier))
        found.sort(key=lambda pair: (pair[0], _rank(pair[1])))
        return [option for _, option in found[:limit]]


# ---- helpers -------------------------------------------------------------------------------

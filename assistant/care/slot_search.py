"""The search engine of home-service visits: who is free when, ranked, and the nearest alternatives.

Opening hours are minute spans by weekday, read in the deployment timezone. A
provider is free at a start when the whole visit lies inside one opening interval,
at least ``LEAD_TIME`` ahead and at most ``MAX_ADVANCE``, and none of its 30-minute
:class:`~assistant.care.models.BookingSlot` rows is held. Options are ranked
verified first, then higher score, then cheaper, then sooner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Iterable, Iterator, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from assistant.care.bookings import SLOT_MINUTES, ceil_slot, floor_slot, slot_starts
from assistant.care.clock import require_aware
from assistant.care.hours import loads_hours
from assistant.care.models import BookingSlot, Offering, Provider
from assistant.care.scheduling import MAX_ADVANCE, serves
from assistant.care.service_words import TimeWindow
from assistant.care.views import ServiceOption

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
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours = loads_hours(provider.opening_hours)
    return {i: [(_minutes(s), _minutes(e)) for s, e in hours.get(day, [])] for i, day in enumerate(days)}


def duration(offering: Offering) -> int:
    """Return the length of a visit in minutes."""
    return offering.duration_minutes or DEFAULT_DURATION_MINUTES


def fits(spans: dict[int, list[tuple[int, int]]], start: datetime, minutes: int, tz: ZoneInfo) -> bool:
    """Return whether the whole visit lies inside one opening interval."""
    local = start.astimezone(tz)
    end = (start + timedelta(minutes=minutes)).astimezone(tz)
    first = local.hour * 60 + local.minute
    if end.date() == local.date():
        last = end.hour * 60 + end.minute
    elif end.date() == local.date() + timedelta(days=1) and (end.hour, end.minute) == (0, 0):
        last = 24 * 60
    else:
        return False
    return any(open_ <= first and last <= close for open_, close in spans.get(local.weekday(), []))


def _stems(text: str) -> set[str]:
    """Return rough word stems for matching a note against offerings."""
    words = re.findall(r"[a-z]+", (text or "").lower().replace("_", " "))
    return {w[:5] for w in words if len(w) >= 3 and w not in _STOPWORDS}


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


def _steps(first: datetime, last: datetime, step: timedelta) -> Iterator[datetime]:
    """Yield ``first``, ``first + step``... while not past ``last`` (``step`` may be negative)."""
    moment = first
    while (moment <= last) if step > timedelta(0) else (moment >= last):
        yield moment
        moment += step

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
        """Return active, unflagged providers of ``kind`` serving ``district``, with offerings to try."""
        providers = session.scalars(
            select(Provider)
            .where(Provider.kind == kind, Provider.active.is_(True), Provider.flagged_at.is_(None))
            .options(selectinload(Provider.districts), selectinload(Provider.offerings))
            .order_by(Provider.id)
        )
        candidates = []
        for provider in providers:
            offerings = [o for o in provider.offerings if o.active]
            if offerings and serves(provider, district):
                ordered = _offering_order(offerings, details, prefer)
                candidates.append(Candidate(provider, ordered, opening_spans(provider)))
        return candidates

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

    def _free(
        self, candidate: Candidate, offering: Offering, start: datetime, busy: dict[int, set[datetime]], now: datetime
    ) -> bool:
        """Return whether the visit can start at ``start``."""
        if start < now + LEAD_TIME or start > now + MAX_ADVANCE:
            return False
        minutes = duration(offering)
        if not fits(candidate.spans, start, minutes, self._tz):
            return False
        held = busy[candidate.provider.id]
        return not any(s in held for s in slot_starts(start, start + timedelta(minutes=minutes)))

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
        for candidate in candidates:
            found = self._first_free(candidate, starts, busy, now)
            if found is not None:
                options.append(found)
        return sorted(options, key=_rank)[:limit]

    def _first_free(
        self, candidate: Candidate, starts: Iterable[datetime], busy: dict[int, set[datetime]], now: datetime
    ) -> Optional[ServiceOption]:
        """Return the candidate's first free start among ``starts``, trying offerings in order."""
        ordered = list(starts)
        for offering in candidate.offerings:
            for start in ordered:
                if self._free(candidate, offering, start, busy, now):
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
        for candidate in candidates:
            later = self._first_free(candidate, after, busy, now)
            if later is not None:
                found.append((later.starts_at - window.ends_at, later))
            earlier = self._first_free(candidate, before, busy, now)
            if earlier is not None:
                found.append((window.starts_at - earlier.starts_at, earlier))
        found.sort(key=lambda pair: (pair[0], _rank(pair[1])))
        return [option for _, option in found[:limit]]


# ---- helpers -------------------------------------------------------------------------------

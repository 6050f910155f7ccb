"""Benchmark: matching home-service providers at scale (issue 3), before and after, side by side.

Run with ``.venv/bin/python -m benchmarks.matching`` (``--providers 10000 --bookings 1000000
--queries 200``; ``--database-url postgresql+psycopg2://postgres@127.0.0.1:5432/test`` adds PostgreSQL).

It builds a registry of home-service providers over 40 districts and the 5 services (offerings,
opening hours), registered seniors, past bookings over the last two years (done ones keep their
30-minute slots, cancelled ones freed them) and future bookings holding their slots. The SQLite
dataset is built once and kept under ``.state/bench/``; on PostgreSQL it goes into a throwaway
database ``bench_matching_<random>`` (and a copy of it), dropped afterwards.

Then it times :meth:`~assistant.care.homeservices.homeservices.HomeServiceService.find_options` (warm) for random
seniors, services and time windows, alternating two variants call by call so both see the same
machine load:

- ``before``: the matching code of ``BASELINE_COMMIT`` (read with ``git show``) on the schema of
  ``BASELINE_REVISION``;
- ``after``: the current code on the schema migrated to head.

Both must give the same answer to every query (the run fails otherwise). Figures: p50, p95 and max
in milliseconds, and SQL statements per call, counted with a ``before_cursor_execute`` listener
(on SQLite one of them is the ``BEGIN`` the database layer sends).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.future import create_engine

from benchmarks.measure import machine, percentile
from assistant.care.bookings.bookings import KIND_PREFIX, REFERENCE_ALPHABET, slot_starts
from assistant.care.core.db import Database
from assistant.care.core.errors import CareError
from assistant.care.homeservices.homeservices import HomeServiceService, NoFreeSlot, TimeWindow
from assistant.care.registry.hours import dumps_hours, parse_hours_text
from assistant.care.core.models import (
    Booking,
    BookingSlot,
    Offering,
    Person,
    Provider,
    ProviderDistrict,
    SeniorProfile,
)
from assistant.care.homeservices.slot_search import FEES_CENTS
from assistant.care.core.vocabulary import HOME_SERVICE_KINDS, WEEKDAYS
from assistant.settings import PROJECT_ROOT, STATE_DIR

CACHE_DIR = STATE_DIR / "bench"
DATASET_VERSION = 2
"""Bump when the generator changes, so cached datasets are rebuilt."""
BASELINE_COMMIT = "0dfe6a9"
"""The commit whose ``assistant/care/homeservices/slot_search.py`` is the ``before`` variant."""
BASELINE_REVISION = "0002"
"""The schema of the ``before`` variant (the cached SQLite dataset is built at it)."""

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
"""The benchmark's fixed clock: a Monday morning."""
LONDON = ZoneInfo("Europe/London")
PAST_DAYS = 730
FUTURE_DAYS = 60
CHUNK = 20_000

DISTRICTS: tuple[str, ...] = (
    "Riverside", "Old Town", "Hillcrest", "Parkview", "Harbourside", "Millbrook", "Oakfield", "Ashford",
    "Cedar Grove", "Willowmead", "Kingsgate", "Queensbury", "Northfield", "Southwick", "Eastbrook",
    "Westbury", "Elmwood", "Greenhill", "Bridgeton", "Churchend", "Fairview", "Foxley", "Highbury",
    "Lakeside", "Longmoor", "Marshfield", "Meadowbank", "Newhaven", "Orchard Hill", "Pinewood",
    "Redcliffe", "Rosedale", "Sandhurst", "Stonebridge", "Sunnyside", "Thornbury", "Upton", "Valley End",
    "Whitecross", "Yewtree",
)
"""40 districts on a ring: a provider serves its home district and some neighbours."""

HOURS: tuple[tuple[str, float], ...] = (
    ("mon-fri 08:00-18:00", 0.35),
    ("mon-fri 08:00-18:00; sat 09:00-13:00", 0.20),
    ("mon-sat 09:00-17:00", 0.15),
    ("tue-sat 10:00-19:00", 0.10),
    ("mon-fri 08:00-12:00, 13:00-17:00", 0.08),
    ("daily 08:00-20:00", 0.07),
    ("mon, wed, fri 09:00-15:00", 0.05),
)
"""Opening-hours templates (deployment time) and their shares."""

OFFERINGS: dict[str, tuple[tuple[str, str, int, int, str], ...]] = {
    "cleaning": (
        ("home_clean", "Regular home clean (2 hours)", 3600, 120, "Kitchen, bathroom, dusting and hoovering."),
        ("deep_clean", "Deep clean (4 hours)", 7200, 240, "Inside cupboards, oven and windows too."),
        ("housekeeping", "Light housekeeping (2 hours)", 3000, 120, "Tidying, laundry folding, changing beds."),
        ("window_cleaning", "Window cleaning", 2500, 60, "Inside and outside, ground floor."),
    ),
    "laundry": (
        ("wash_and_fold", "Wash and fold pickup (up to 6 kg)", 1800, 30, "Collected and returned within 48 hours."),
        ("ironing", "Ironing service (15 items)", 1500, 30, "Collected and returned on hangers."),
        ("bedding", "Bedding wash", 2000, 30, "Duvet covers, sheets and pillowcases."),
    ),
    "repair": (
        ("handyman", "Small household repair (1 hour)", 4500, 60, "Dripping taps, sticking doors, shelves."),
        ("grab_rails", "Grab rail installation", 6000, 90, "Bathroom or hallway rail, fitted securely."),
        ("plumbing", "Plumbing check", 5000, 60, "Leaks, blocked sinks and toilets."),
        ("electrical", "Light bulb and fuse help", 2500, 30, "Changing bulbs and resetting fuses safely."),
    ),
    "hairdressing": (
        ("haircut", "Wash, cut and blow-dry at home", 2800, 60, "Relaxed appointment in your own home."),
        ("haircut", "Gentleman's haircut at home", 1800, 30, "Clippers or scissors, with a neck trim."),
        ("colour", "Colour at home", 4500, 90, "Gentle permanent or semi-permanent colour."),
    ),
    "beauty": (
        ("manicure", "Manicure at home", 2200, 45, "Shaping, cuticle care and polish."),
        ("pedicure", "Foot care and pedicure", 3000, 60, "Soak, nail trim and moisturising."),
        ("facial", "Gentle facial", 3500, 60, "Cleanse, tone and moisturise."),
    ),
}
"""Offering templates by service: (mode, name, price in cents, minutes, description)."""

DETAILS: dict[str, tuple[str, ...]] = {
    "cleaning": ("a deep clean please", "windows", "just tidying"),
    "laundry": ("ironing", "bedding"),
    "repair": ("a leaking tap", "grab rail in the bathroom", "fuse keeps tripping"),
    "hairdressing": ("a colour", "short haircut"),
    "beauty": ("pedicure", "nails", "a facial"),
}
"""Notes a senior may add; they change which offering each provider proposes."""


@dataclass(frozen=True)
class Sizes:
    """What to build."""

    providers: int
    bookings: int
    future: int
    seniors: int
    seed: int

    def key(self) -> str:
        """A short name of this dataset for the cache file."""
        digest = hashlib.sha1(json.dumps([DATASET_VERSION, asdict(self)]).encode()).hexdigest()[:10]
        return f"matching-p{self.providers}-b{self.bookings}-f{self.future}-{digest}"


# ---- the dataset -------------------------------------------------------------------------------


def _reference(number: int, kind: str) -> str:
    """Return a unique booking reference for the ``number``-th booking."""
    code = ""
    for _ in range(5):
        number, digit = divmod(number, len(REFERENCE_ALPHABET))
        code = REFERENCE_ALPHABET[digit] + code
    if number:
        raise ValueError("too many bookings for five-character references")
    return f"{KIND_PREFIX[kind]}-{code}"


def _spans(hours_text: str) -> dict[int, list[tuple[int, int]]]:
    """Return opening minute spans by weekday of an hours template."""
    hours = parse_hours_text(hours_text)
    result: dict[int, list[tuple[int, int]]] = {}
    for index, day in enumerate(WEEKDAYS):
        result[index] = [
            (int(s[:2]) * 60 + int(s[3:]), int(e[:2]) * 60 + int(e[3:])) for s, e in hours.get(day, [])
        ]
    return result


@dataclass
class _ProviderPlan:
    """What the generator needs to remember of a provider."""

    id: int
    kind: str
    districts: list[str]
    hours: str
    offerings: list[tuple[int, int, int]]  # (offering id, minutes, price cents)
    bookable: bool
    weight: float


class DatasetBuilder:
    """Generate the registry, seniors and bookings deterministically and insert them in chunks.

    Rows go in with Core ``insert()`` and lists of parameters (``executemany``; ``execute_values``
    on psycopg2), one transaction per chunk, never through the ORM one by one.
    """

    def __init__(self, sizes: Sizes, log: Callable[[str], None]) -> None:
        self.sizes = sizes
        self.rng = random.Random(sizes.seed)
        self.log = log
        self.plans: list[_ProviderPlan] = []
        self.seniors_by_district: dict[str, list[int]] = {d: [] for d in DISTRICTS}
        self._open_days: dict[tuple[str, bool], list[date]] = {}

    def build(self, engine: Engine) -> dict[str, int]:
        """Insert everything; return the row counts."""
        started = time.perf_counter()
        counts = {
            "seniors": self._seniors(engine),
            "providers": self._providers(engine),
        }
        counts["provider_districts"] = sum(len(p.districts) for p in self.plans)
        counts["offerings"] = sum(len(p.offerings) for p in self.plans)
        booked = self._bookings(engine)
        counts.update(booked)
        self.log(f"built in {time.perf_counter() - started:.0f} s: {counts}")
        return counts

    # -- people and registry

    def _seniors(self, engine: Engine) -> int:
        rng = self.rng
        district_weights = [rng.uniform(0.5, 1.5) for _ in DISTRICTS]
        persons, profiles = [], []
        for person_id in range(1, self.sizes.seniors + 1):
            district = rng.choices(DISTRICTS, district_weights)[0]
            self.seniors_by_district[district].append(person_id)
            created = NOW - timedelta(days=rng.randrange(1, PAST_DAYS + 200))
            persons.append({
                "id": person_id, "role": "senior", "display_name": f"Senior {person_id}",
                "conversation_id": f"bench-senior-{person_id}", "channel": "rest", "created_at": created,
            })
            profiles.append({
                "person_id": person_id, "full_name": f"Senior {person_id}", "address": f"{person_id} High Street",
                "district": district, "phone": None, "dietary_needs": "[]", "language": "en",
                "timezone": "Europe/London", "voice_replies": False, "consent_care_data": True,
                "consent_care_data_at": created, "consent_health_data": False, "consent_health_data_at": None,
                "updated_at": created,
            })
        _insert(engine, Person.__table__, persons)
        _insert(engine, SeniorProfile.__table__, profiles)
        return len(persons)

    def _providers(self, engine: Engine) -> int:
        rng = self.rng
        providers, districts, offerings = [], [], []
        templates = [h for h, _ in HOURS]
        shares = [s for _, s in HOURS]
        offering_id = 0
        for provider_id in range(1, self.sizes.providers + 1):
            kind = HOME_SERVICE_KINDS[(provider_id - 1) % len(HOME_SERVICE_KINDS)]
            home = rng.randrange(len(DISTRICTS))
            reach = rng.choices((0, 1, 2), (0.35, 0.45, 0.20))[0]
            served = sorted({DISTRICTS[(home + step) % len(DISTRICTS)] for step in range(-reach, reach + 1)})
            hours_text = rng.choices(templates, shares)[0]
            verified = rng.random() < 0.65
            rating_count = rng.randrange(0, 300)
            rating = round(rng.uniform(3.0, 5.0), 1) if rating_count else 0.0
            flagged = rng.random() < 0.02
            active = rng.random() < 0.96
            score = round(rng.uniform(3.0, 4.9), 3) if rating_count else 0.0
            providers.append({
                "id": provider_id, "name": f"{DISTRICTS[home]} {kind.title()} {provider_id}", "kind": kind,
                "phone": None, "verified": verified, "rating": rating, "rating_count": rating_count,
                "opening_hours": dumps_hours(parse_hours_text(hours_text)), "active": active,
                "created_at": NOW - timedelta(days=PAST_DAYS + rng.randrange(1, 400)),
                "score": score, "review_count": rng.randrange(0, 40) if rating_count else 0,
                "complaint_count": 3 if flagged else 0,
                "flagged_at": NOW - timedelta(days=rng.randrange(1, 60)) if flagged else None,
                "flag_reason": "three complaints in 30 days" if flagged else None,
            })
            districts.extend({"provider_id": provider_id, "district": d} for d in served)
            plan_offerings = []
            for mode, name, price, minutes, description in rng.sample(OFFERINGS[kind], rng.randint(1, 3)):
                offering_id += 1
                price = max(0, price + 100 * rng.randint(-5, 5))
                offerings.append({
                    "id": offering_id, "provider_id": provider_id, "mode": mode, "name": name,
                    "description": description, "price_cents": price, "duration_minutes": minutes,
                    "active": rng.random() < 0.95,
                })
                plan_offerings.append((offering_id, minutes, price))
            weight = (0.5 + score / 5) * (1.5 if verified else 1.0) * rng.lognormvariate(0, 0.5)
            self.plans.append(_ProviderPlan(
                provider_id, kind, served, hours_text, plan_offerings, active and not flagged, weight
            ))
        _insert(engine, Provider.__table__, providers)
        _insert(engine, ProviderDistrict.__table__, districts)
        _insert(engine, Offering.__table__, offerings)
        return len(providers)

    # -- bookings

    def _days(self, hours_text: str, future: bool) -> list[date]:
        """Days (past two years, or the next FUTURE_DAYS) on which this template is open."""
        key = (hours_text, future)
        if key not in self._open_days:
            spans = _spans(hours_text)
            today = NOW.astimezone(LONDON).date()
            offsets = range(0, FUTURE_DAYS) if future else range(-PAST_DAYS, 0)
            days = [today + timedelta(days=o) for o in offsets]
            self._open_days[key] = [d for d in days if spans[d.weekday()]]
        return self._open_days[key]

    def _visits(self, plan: _ProviderPlan, count: int, future: bool) -> Iterator[tuple[datetime, int, int, int, list]]:
        """Yield ``count`` non-overlapping visits: (start, offering id, minutes, price, slots)."""
        rng = self.rng
        spans = _spans(plan.hours)
        days = self._days(plan.hours, future)
        held: set[datetime] = set()
        for _ in range(count):
            for _attempt in range(100):
                if future:  # most future visits are booked for the coming two weeks
                    day = days[min(len(days) - 1, int(rng.expovariate(1 / 10)))]
                else:
                    day = rng.choice(days)
                opens, closes = rng.choice(spans[day.weekday()])
                offering_id, minutes, price = rng.choice(plan.offerings)
                latest = closes - minutes
                if latest < opens:
                    continue
                start_minute = opens + 30 * rng.randrange((latest - opens) // 30 + 1)
                local = datetime.combine(day, clock_time(start_minute // 60, start_minute % 60), LONDON)
                start = local.astimezone(timezone.utc)
                if future and start <= NOW + timedelta(hours=2):
                    continue
                slots = slot_starts(start, start + timedelta(minutes=minutes))
                if held.isdisjoint(slots):
                    held.update(slots)
                    yield start, offering_id, minutes, price, slots
                    break

    def _bookings(self, engine: Engine) -> dict[str, int]:
        rng = self.rng
        sizes = self.sizes
        past = _allocate(rng, [p.weight for p in self.plans], sizes.bookings)
        bookable = [p for p in self.plans if p.bookable]
        future = _allocate(rng, [p.weight for p in bookable], sizes.future)
        work = [(p, n, False) for p, n in zip(self.plans, past)] + [(p, n, True) for p, n in zip(bookable, future)]
        bookings: list[dict[str, Any]] = []
        slots: list[dict[str, Any]] = []
        counts = {"past_bookings": 0, "future_bookings": 0, "booking_slots": 0}
        booking_id = 0
        for plan, count, ahead in work:
            seniors = [s for d in plan.districts for s in self.seniors_by_district[d]] or [1]
            for start, offering_id, minutes, price, held in self._visits(plan, count, ahead):
                booking_id += 1
                roll = rng.random()
                if ahead:
                    status = "cancelled" if roll < 0.10 else "requested" if roll < 0.15 else (
                        "assigned" if roll < 0.25 else "confirmed")
                else:
                    status = "cancelled" if roll < 0.15 else "done"
                created = start - timedelta(hours=rng.randrange(3, 24 * 21))
                ends = start + timedelta(minutes=minutes)
                if plan.kind == "laundry":
                    ends = start + timedelta(hours=48)
                senior = rng.choice(seniors)
                bookings.append({
                    "id": booking_id, "reference": _reference(booking_id, plan.kind), "senior_id": senior,
                    "created_by_id": senior, "kind": plan.kind, "status": status, "provider_id": plan.id,
                    "offering_id": offering_id, "dish_id": None, "quantity": 1, "party_size": None,
                    "starts_at": start, "ends_at": ends, "recurrence": None, "details": "",
                    "price_cents": price, "fees_cents": FEES_CENTS.get(plan.kind, 0),
                    "created_at": created, "updated_at": created if ahead else ends,
                    "cancelled_at": created + timedelta(hours=1) if status == "cancelled" else None,
                })
                counts["future_bookings" if ahead else "past_bookings"] += 1
                if status != "cancelled":  # done visits keep their slots; cancelling frees them
                    slots.extend({"provider_id": plan.id, "slot_start": s, "booking_id": booking_id} for s in held)
                if len(bookings) >= CHUNK:
                    counts["booking_slots"] += self._flush(engine, bookings, slots)
            if len(slots) >= CHUNK:
                counts["booking_slots"] += self._flush(engine, bookings, slots)
        counts["booking_slots"] += self._flush(engine, bookings, slots)
        return counts

    def _flush(self, engine: Engine, bookings: list[dict[str, Any]], slots: list[dict[str, Any]]) -> int:
        """Insert the buffered bookings, then their slots; empty both buffers."""
        written = len(slots)
        if bookings:
            _insert(engine, Booking.__table__, bookings)
            if bookings[-1]["id"] % 100_000 < CHUNK:
                self.log(f"  {bookings[-1]['id']:,} bookings")
        _insert(engine, BookingSlot.__table__, slots)
        bookings.clear()
        slots.clear()
        return written


def _allocate(rng: random.Random, weights: Sequence[float], total: int) -> list[int]:
    """Split ``total`` among items in proportion to ``weights`` (at random)."""
    counts = [0] * len(weights)
    if not weights:
        return counts
    for index in rng.choices(range(len(weights)), weights, k=total):
        counts[index] += 1
    return counts


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with one executemany per CHUNK, each in its own transaction."""
    for first in range(0, len(rows), CHUNK):
        with engine.begin() as connection:
            connection.execute(table.insert(), rows[first:first + CHUNK])


def _fix_sequences(engine: Engine) -> None:
    """On PostgreSQL, move the id sequences past the ids inserted explicitly."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("persons", "providers", "offerings", "bookings"):
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ))


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the tables the benchmark fills."""
    with engine.connect() as connection:
        return {
            "providers": connection.scalar(select(func.count()).select_from(Provider.__table__)),
            "provider_districts": connection.scalar(select(func.count()).select_from(ProviderDistrict.__table__)),
            "offerings": connection.scalar(select(func.count()).select_from(Offering.__table__)),
            "seniors": connection.scalar(select(func.count()).select_from(SeniorProfile.__table__)),
            "bookings": connection.scalar(select(func.count()).select_from(Booking.__table__)),
            "past_bookings": connection.scalar(
                select(func.count()).select_from(Booking.__table__).where(Booking.starts_at < NOW)
            ),
            "booking_slots": connection.scalar(select(func.count()).select_from(BookingSlot.__table__)),
        }


def sqlite_dataset(sizes: Sizes, log: Callable[[str], None]) -> Path:
    """Return the cached SQLite file of ``sizes`` at BASELINE_REVISION, building it if needed."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{sizes.key()}.db"
    if path.exists():
        log(f"using the cached dataset {path.relative_to(PROJECT_ROOT)}")
        return path
    partial = path.with_suffix(".partial.db")
    _remove_sqlite(partial)
    log(f"building {path.relative_to(PROJECT_ROOT)} (once; later runs reuse it)")
    database = Database(f"sqlite:///{partial}", durable=False)
    try:
        database.upgrade(BASELINE_REVISION)
        DatasetBuilder(sizes, log).build(database.engine)
    finally:
        database.dispose()  # checkpoints the WAL into the file
    _remove_sqlite(partial, keep_main=True)
    partial.rename(path)
    return path


def _remove_sqlite(path: Path, *, keep_main: bool = False) -> None:
    """Remove a SQLite file's WAL and shared-memory files (and the file itself)."""
    for suffix in ("-wal", "-shm") if keep_main else ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ---- the queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One call of find_options."""

    conversation_id: str
    service: str
    window: TimeWindow
    details: str
    shape: str


def make_queries(sizes: Sizes, count: int, seed: int) -> list[Query]:
    """Return ``count`` random queries: registered seniors, any service, realistic windows."""
    rng = random.Random(seed)
    today = NOW.astimezone(LONDON).date()
    queries = []
    for _ in range(count):
        senior = rng.randint(1, sizes.seniors)
        service = rng.choice(HOME_SERVICE_KINDS)
        day = today + timedelta(days=rng.randint(1, 21))
        roll = rng.random()

        def local(hour: int, minute: int = 0, on: date = day) -> datetime:
            return datetime.combine(on, clock_time(hour, minute), LONDON).astimezone(timezone.utc)

        if roll < 0.35:
            shape = "part of a day"
            first, last = rng.choice(((8, 12), (12, 17), (13, 17)))
            window = TimeWindow(local(first), local(last))
        elif roll < 0.60:
            shape = "whole day"
            window = TimeWindow(local(8), local(18))
        elif roll < 0.85:
            shape = "exact time"
            window = TimeWindow.at(local(rng.randint(8, 17), rng.choice((0, 30))))
        else:  # hardly anyone is open then: the nearest alternatives are searched
            shape = "closed time"
            sunday = day + timedelta(days=6 - day.weekday())
            window = TimeWindow.at(rng.choice((local(7, 0, sunday), local(21, 30), local(6, 30))))
        details = rng.choice(DETAILS[service]) if rng.random() < 0.3 else ""
        queries.append(Query(f"bench-senior-{senior}", service, window, details, shape))
    return queries


# ---- the variants --------------------------------------------------------------------------------


def baseline_slot_search() -> Optional[type]:
    """Return SlotSearch as it was at BASELINE_COMMIT (read with ``git show``), or None without git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:assistant/care/homeservices/slot_search.py"],
            cwd=PROJECT_ROOT, check=True, capture_output=True, text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    name = f"assistant.care._slot_search_{BASELINE_COMMIT}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{BASELINE_COMMIT}:assistant/care/homeservices/slot_search.py", "exec"), module.__dict__)
    return module.SlotSearch  # type: ignore[no-any-return]


class Variant:
    """One database and one version of the matching code, with a statement counter."""

    def __init__(self, name: str, database: Database, slot_search: Optional[type] = None) -> None:
        self.name = name
        self.database = database
        self.service = HomeServiceService(database, clock=lambda: NOW, timezone="Europe/London")
        if slot_search is not None:
            # the benchmark swaps the search engine of an otherwise unchanged service
            self.service._slots = slot_search(self.service._tz)
        self.statements = 0
        event.listen(database.engine, "before_cursor_execute", self._count)
        self.timings_ms: list[float] = []
        self.statement_counts: list[int] = []

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def call(self, query: Query) -> tuple[float, int, tuple]:
        """Run one query; return (milliseconds, statements, answer)."""
        gc.collect()  # the other variant's garbage is not this call's cost
        before = self.statements
        started = time.perf_counter()
        try:
            options = self.service.find_options(
                query.conversation_id, query.service, query.window, details=query.details
            )
            answer: tuple = ("options", tuple(options))
        except NoFreeSlot as refused:
            answer = ("no free slot", str(refused), tuple(refused.alternatives))
        except CareError as error:
            answer = (type(error).__name__, str(error))
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, self.statements - before, answer


def measure(variants: Sequence[Variant], queries: Sequence[Query], warmup: int) -> dict[str, Any]:
    """Warm up, then time every query on every variant, alternating the order call by call."""
    for query in queries[:warmup]:
        for variant in variants:
            variant.call(query)
    mismatches = []
    outcomes: dict[str, int] = {}
    for index, query in enumerate(queries[warmup:]):
        order = variants if index % 2 == 0 else list(reversed(variants))
        answers = {}
        for variant in order:
            elapsed, statements, answer = variant.call(query)
            variant.timings_ms.append(elapsed)
            variant.statement_counts.append(statements)
            answers[variant.name] = answer
        first = answers[variants[0].name]
        if any(a != first for a in answers.values()):
            mismatches.append(query)
        outcomes[f"{query.shape}: {first[0]}"] = outcomes.get(f"{query.shape}: {first[0]}", 0) + 1
    figures = {v.name: summarise(v.timings_ms, v.statement_counts) for v in variants}
    return {"variants": figures, "outcomes": dict(sorted(outcomes.items())), "mismatches": len(mismatches),
            "mismatched_queries": [repr(q) for q in mismatches[:5]]}


def summarise(timings: list[float], statements: list[int]) -> dict[str, Any]:
    """p50, p95 and max of the timings; the range of statements per call."""
    return {
        "calls": len(timings),
        "p50_ms": round(percentile(timings, 0.50), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "statements_min": min(statements),
        "statements_median": statistics.median(statements),
        "statements_max": max(statements),
    }


# ---- the engines -----------------------------------------------------------------------------------


def run_sqlite(sizes: Sizes, queries: Sequence[Query], warmup: int, baseline: Optional[type],
               log: Callable[[str], None]) -> dict[str, Any]:
    """Time both variants on two copies of the cached SQLite dataset, the second migrated to head."""
    cached = sqlite_dataset(sizes, log)
    before_path = CACHE_DIR / "run-before.db"
    after_path = CACHE_DIR / "run-after.db"
    for path in (before_path, after_path):
        _remove_sqlite(path)
        shutil.copyfile(cached, path)
    before = Database(f"sqlite:///{before_path}")
    after = Database(f"sqlite:///{after_path}")
    try:
        started = time.perf_counter()
        after.upgrade()
        migrate_s = time.perf_counter() - started
        counts = table_counts(after.engine)
        variants = [Variant("after", after)]
        if baseline is not None:
            variants.insert(0, Variant("before", before, baseline))
        results = measure(variants, queries, warmup)
        results.update(counts=counts, migrate_to_head_s=round(migrate_s, 1))
        return results
    finally:
        before.dispose()
        after.dispose()
        for path in (before_path, after_path):
            _remove_sqlite(path)


def run_postgres(url: str, sizes: Sizes, queries: Sequence[Query], warmup: int, baseline: Optional[type],
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Time both variants on two throwaway PostgreSQL databases (the second a copy of the first)."""
    stem = f"bench_matching_{uuid.uuid4().hex[:10]}"
    names = {"before": f"{stem}_before", "after": f"{stem}_after"}
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    databases: list[Database] = []
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{names["before"]}"'))
        created.append(names["before"])
        before_url = str(make_url(url).set(database=names["before"]))
        loader = Database(before_url)
        log(f"building the dataset in PostgreSQL database {names['before']}")
        loader.upgrade(BASELINE_REVISION)
        DatasetBuilder(sizes, log).build(loader.engine)
        _fix_sequences(loader.engine)
        _analyze(loader.engine)
        loader.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{names["after"]}" TEMPLATE "{names["before"]}"'))
        created.append(names["after"])
        before = Database(before_url)
        after = Database(str(make_url(url).set(database=names["after"])))
        databases += [before, after]
        started = time.perf_counter()
        after.upgrade()
        migrate_s = time.perf_counter() - started
        _analyze(after.engine)
        counts = table_counts(after.engine)
        variants = [Variant("after", after)]
        if baseline is not None:
            variants.insert(0, Variant("before", before, baseline))
        results = measure(variants, queries, warmup)
        results.update(counts=counts, migrate_to_head_s=round(migrate_s, 1))
        with after.engine.connect() as connection:
            results["server"] = connection.scalar(text("SHOW server_version"))
        return results
    finally:
        for database in databases:
            database.dispose()
        with admin.connect() as connection:
            for name in reversed(created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _analyze(engine: Engine) -> None:
    """Refresh the planner's statistics, as autovacuum would after a bulk load."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


# ---- the report ------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    """Return the figures as text tables."""
    lines = [
        f"machine: {results['machine']}, nproc {results['nproc']}; load average {results['load_average_before']:.2f} before, "
        f"{results['load_average_after']:.2f} after",
        f"queries: {results['queries']} timed after {results['warmup']} warm-up, clock {NOW.isoformat()}",
    ]
    for engine_name in ("sqlite", "postgresql"):
        figures = results.get(engine_name)
        if not figures:
            continue
        counts = figures["counts"]
        lines += [
            "",
            f"{engine_name}{' ' + figures['server'] if 'server' in figures else ''}: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
            "| variant | p50 ms | p95 ms | max ms | statements per call (min / median / max) |",
            "|---|---|---|---|---|",
        ]
        for name, f in figures["variants"].items():
            lines.append(
                f"| {name} | {f['p50_ms']} | {f['p95_ms']} | {f['max_ms']} | "
                f"{f['statements_min']} / {f['statements_median']} / {f['statements_max']} |"
            )
        variants = figures["variants"]
        if "before" in variants and "after" in variants:
            b, a = variants["before"], variants["after"]
            lines.append(
                f"before ÷ after: p50 {b['p50_ms'] / a['p50_ms']:.1f}×, p95 {b['p95_ms'] / a['p95_ms']:.1f}×"
            )
        lines.append("outcomes: " + ", ".join(f"{k} {v}" for k, v in figures["outcomes"].items()))
        lines.append(f"answers that differ between variants: {figures['mismatches']}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build (or reuse) the dataset, time both variants, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=1_000_000, help="past bookings (last two years)")
    parser.add_argument("--future", type=int, default=50_000, help="future bookings holding slots")
    parser.add_argument("--seniors", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200, help="timed find_options calls per variant")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database-url", default="", help="also run on this PostgreSQL server")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-baseline", action="store_true", help="time the current code only")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    sizes = Sizes(args.providers, args.bookings, args.future, args.seniors, args.seed)
    queries = make_queries(sizes, args.queries + args.warmup, args.seed + 1)
    baseline = None if args.no_baseline else baseline_slot_search()
    if baseline is None and not args.no_baseline:
        log(f"git show {BASELINE_COMMIT} failed: timing the current code only")
    results: dict[str, Any] = {
        "machine": machine(), "nproc": len(os.sched_getaffinity(0)), "load_average_before": os.getloadavg()[0], "sizes": asdict(sizes),
        "queries": args.queries, "warmup": args.warmup, "baseline": f"{BASELINE_COMMIT} on schema {BASELINE_REVISION}",
    }
    if not args.no_sqlite:
        results["sqlite"] = run_sqlite(sizes, queries, args.warmup, baseline, log)
    if args.database_url:
        results["postgresql"] = run_postgres(args.database_url, sizes, queries, args.warmup, baseline, log)
    results["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2, default=str) if args.json else report(results))
    failed = any(results.get(e, {}).get("mismatches") for e in ("sqlite", "postgresql"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

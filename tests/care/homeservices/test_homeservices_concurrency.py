"""Two sessions race to book the same provider and time: exactly one wins.

Each thread has its own :class:`Database` (engine and connections), as two action
server workers would. The race runs on a SQLite file in WAL mode and on PostgreSQL
(``CARE_TEST_POSTGRES_URL``, a throwaway database per test, as in test_postgres.py).
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Union

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.homeservices.homeservices import NoFreeSlot
from assistant.care.core.models import Booking, BookingSlot
from assistant.care.core.views import BookingView

from ..helpers import MONDAY_9AM, FakeClock, add_home_provider, at, register

POSTGRES_URL = os.environ.get("CARE_TEST_POSTGRES_URL", "")
RACES = 10
"""Races per database; each uses a fresh time of the same provider."""


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A new SQLite file with every table (WAL mode is set by Database)."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    database = Database(url, durable=False)
    database.create_all()
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    database.dispose()
    yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("CARE_TEST_POSTGRES_URL is not set")
    name = "care_race_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = str(make_url(POSTGRES_URL).set(database=name))
    database = Database(url)
    try:
        database.upgrade()
        database.dispose()
        yield url
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _race(url: str) -> None:
    """Set up one cleaner and two seniors, then race RACES times for the same start."""
    clock = FakeClock(MONDAY_9AM)
    setup = CareServices(Database(url, durable=False), clock=clock)
    ids = add_home_provider(
        setup, "Racing Clean", "cleaning", ["Riverside"], hours="mon-sat 08:00-18:00",
        offerings=[("home_clean", "Home clean (90 minutes)", 3000, 90)],
    )
    register(setup, "conv-ada", name="Ada")
    register(setup, "conv-bea", name="Bea")
    offering = ids["Home clean (90 minutes)"]
    racers = [CareServices(Database(url, durable=False), clock=clock) for _ in range(2)]
    conversations = ("conv-ada", "conv-bea")
    try:
        for race in range(RACES):
            start = at(2 + race // 4, 8 + 2 * (race % 4))
            results = _book_together(racers, conversations, offering, start)

            won = [r for r in results if isinstance(r, BookingView)]
            lost = [r for r in results if isinstance(r, NoFreeSlot)]
            assert len(won) == 1 and len(lost) == 1, (race, results)
            assert lost[0].field == "time" and lost[0].alternatives
            assert all(o.starts_at != start for o in lost[0].alternatives)
            with setup.db.reading() as session:
                window = (BookingSlot.slot_start >= start, BookingSlot.slot_start < start + timedelta(hours=2))
                held = list(session.scalars(select(BookingSlot).where(*window).order_by(BookingSlot.slot_start)))
                assert [s.slot_start for s in held] == [start + timedelta(minutes=m) for m in (0, 30, 60)]
                assert {s.booking_id for s in held} == {
                    session.scalar(select(Booking.id).where(Booking.reference == won[0].reference))
                }
        with setup.db.reading() as session:
            assert session.scalar(select(func.count(Booking.id))) == RACES
            assert session.scalar(select(func.count()).select_from(BookingSlot)) == 3 * RACES
            duplicates = session.execute(
                select(BookingSlot.provider_id, BookingSlot.slot_start)
                .group_by(BookingSlot.provider_id, BookingSlot.slot_start)
                .having(func.count() > 1)
            ).all()
            assert duplicates == []
        assert len(setup.home_services.upcoming("conv-ada")) + len(setup.home_services.upcoming("conv-bea")) == RACES
    finally:
        for care in (setup, *racers):
            care.db.dispose()


def _book_together(
    racers: list[CareServices], conversations: tuple[str, str], offering: int, start: datetime
) -> list[Union[BookingView, BaseException]]:
    """Release two threads together at a barrier; return what each booking attempt gave."""
    barrier = threading.Barrier(len(racers), timeout=30)
    results: list[Union[BookingView, BaseException, None]] = [None] * len(racers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = racers[index].home_services.book(conversations[index], offering, start)
        except BaseException as error:  # noqa: BLE001 - reported by the assertions
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return [r for r in results if r is not None]


def test_only_one_of_two_racing_bookings_wins_on_sqlite(sqlite_url: str) -> None:
    _race(sqlite_url)


def test_only_one_of_two_racing_bookings_wins_on_postgres(postgres_url: str) -> None:
    _race(postgres_url)

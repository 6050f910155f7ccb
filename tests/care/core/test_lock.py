"""Tests for assistant.care.core.lock: one holder at a time, stale locks taken over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from assistant.care.core import lock
from assistant.care.core.db import Database
from assistant.care.core.lock import ServiceLockHeld
from assistant.care.core.models import AuditLog, ServiceLock

from ..helpers import MONDAY_9AM
from ..test_postgres import URL, postgres  # noqa: F401 - the PostgreSQL fixture

STALE = timedelta(seconds=90)
NAME = "care-scheduler"


def holder_of(db: Database) -> str | None:
    with db.reading() as session:
        row = session.get(ServiceLock, NAME)
        return row.holder if row else None


def check_one_holder(db: Database) -> None:
    lock.acquire(db, NAME, "first", MONDAY_9AM, STALE)

    with pytest.raises(ServiceLockHeld) as caught:
        lock.acquire(db, NAME, "second", MONDAY_9AM + timedelta(seconds=30), STALE)

    assert caught.value.holder == "first"
    assert "first" in caught.value.message and "09:00:00" in caught.value.message
    assert holder_of(db) == "first"
    lock.acquire(db, NAME, "first", MONDAY_9AM + timedelta(seconds=40), STALE)  # same holder again
    assert lock.heartbeat(db, NAME, "first", MONDAY_9AM + timedelta(seconds=60))
    with pytest.raises(ServiceLockHeld):  # the heartbeat keeps it alive past the first 90 s
        lock.acquire(db, NAME, "second", MONDAY_9AM + timedelta(seconds=120), STALE)


def check_stale_take_over(db: Database) -> None:
    lock.acquire(db, NAME, "crashed", MONDAY_9AM, STALE)

    lock.acquire(db, NAME, "new", MONDAY_9AM + STALE + timedelta(seconds=1), STALE)

    assert holder_of(db) == "new"
    assert lock.heartbeat(db, NAME, "crashed", MONDAY_9AM + timedelta(seconds=100)) is False
    assert lock.release(db, NAME, "crashed") is False
    assert lock.release(db, NAME, "new") is True
    lock.acquire(db, NAME, "third", MONDAY_9AM + timedelta(seconds=200), STALE)
    assert holder_of(db) == "third"
    with db.reading() as session:
        actions = list(session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "service_lock")))
    assert actions == ["lock.acquired", "lock.taken_over", "lock.released", "lock.acquired"]


def check_one_of_many_contenders_wins(db: Database) -> None:
    lock.acquire(db, NAME, "crashed", MONDAY_9AM, STALE)
    later = MONDAY_9AM + timedelta(minutes=5)
    winners: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(4)

    def contend(holder: str) -> None:
        start.wait()
        try:
            lock.acquire(db, NAME, holder, later, STALE)
            winners.append(holder)
        except ServiceLockHeld:
            refused.append(holder)

    threads = [threading.Thread(target=contend, args=(f"contender-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1 and len(refused) == 3
    assert holder_of(db) == winners[0]


def test_a_second_holder_is_refused(db: Database) -> None:
    check_one_holder(db)


def test_a_stale_lock_is_taken_over(db: Database) -> None:
    check_stale_take_over(db)


def test_only_one_contender_takes_over(db: Database) -> None:
    check_one_of_many_contenders_wins(db)


def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(ValueError):
        lock.acquire(db, NAME, "first", MONDAY_9AM.replace(tzinfo=None), STALE)


def test_holder_names_are_unique() -> None:
    assert lock.new_holder() != lock.new_holder()


@pytest.mark.skipif(not URL, reason="CARE_TEST_POSTGRES_URL is not set")
def test_a_second_holder_is_refused_on_postgres(postgres: Database) -> None:  # noqa: F811
    check_one_holder(postgres)


@pytest.mark.skipif(not URL, reason="CARE_TEST_POSTGRES_URL is not set")
def test_a_stale_lock_is_taken_over_on_postgres(postgres: Database) -> None:  # noqa: F811
    check_stale_take_over(postgres)


@pytest.mark.skipif(not URL, reason="CARE_TEST_POSTGRES_URL is not set")
def test_only_one_contender_takes_over_on_postgres(postgres: Database) -> None:  # noqa: F811
    check_one_of_many_contenders_wins(postgres)


def test_a_killed_holder_on_this_machine_is_taken_over_at_once(db: Database) -> None:
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = f"{socket.gethostname()}:{dead.pid}:abcd1234"
    lock.acquire(db, NAME, gone, MONDAY_9AM, STALE)

    lock.acquire(db, NAME, lock.new_holder(), MONDAY_9AM + timedelta(seconds=5), STALE)

    assert holder_of(db) != gone


def test_a_live_or_remote_holder_is_not_presumed_gone() -> None:
    import os
    import socket

    assert not lock.holder_is_gone(f"{socket.gethostname()}:{os.getppid()}:abcd1234")  # alive
    assert not lock.holder_is_gone("another-machine:999999:abcd1234")
    assert not lock.holder_is_gone("first")

"""Tests for assistant.care.core.db and the UTCDateTime column type."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, StatementError

from assistant.care.core.columns import UTCDateTime
from assistant.care.core.db import Database
from assistant.care.core.models import Person, SeniorProfile


def _count_people(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count(Person.id)))


def test_session_commits_when_the_block_ends(db: Database) -> None:
    with db.session() as session:
        session.add(Person(role="senior", display_name="Ann", conversation_id="c1", channel="rest"))
    assert _count_people(db) == 1


def test_session_rolls_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        with db.session() as session:
            session.add(Person(role="senior", display_name="Ann", conversation_id="c1", channel="rest"))
            session.flush()
            raise RuntimeError("boom")
    assert _count_people(db) == 0


def test_a_read_then_write_is_not_refused_when_another_process_wrote_meanwhile(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two engines on one file, as the action server and care service have: both writes succeed."""
    url = f"sqlite:///{tmp_path / 'care.db'}"
    first, second = Database(url, durable=False), Database(url, durable=False)
    first.create_all()
    has_read, errors = threading.Event(), []

    def other_process() -> None:
        has_read.wait(5)
        try:
            with second.session() as session:
                session.add(Person(role="senior", display_name="Bea", conversation_id="c2", channel="rest"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=other_process)
    thread.start()
    with first.session() as session:
        assert session.scalar(select(func.count(Person.id))) == 0
        has_read.set()
        time.sleep(0.5)  # the other writer tries now
        session.add(Person(role="senior", display_name="Ann", conversation_id="c1", channel="rest"))
    thread.join(10)
    assert errors == [] and _count_people(first) == 2


def test_sqlite_enforces_foreign_keys(db: Database) -> None:
    with pytest.raises(IntegrityError):
        with db.session() as session:
            session.add(SeniorProfile(person_id=999, full_name="X", address="Y", district="Z", timezone="UTC"))


def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    with db.session() as session:
        session.add(
            Person(role="senior", conversation_id="c1", channel="rest",
                   created_at=datetime(2025, 12, 1, 10, 30, tzinfo=paris))
        )
    with db.session() as session:
        stored = session.scalar(select(Person.created_at))
    assert stored.tzinfo is not None
    assert stored == datetime(2025, 12, 1, 9, 30, tzinfo=timezone.utc)
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2025, 12, 1, 9, 0), sqlite.dialect())


def test_naive_datetimes_never_reach_the_database(db: Database) -> None:
    with pytest.raises(StatementError) as caught:
        with db.session() as session:
            session.add(Person(role="senior", conversation_id="c1", channel="rest",
                               created_at=datetime(2025, 12, 1, 9, 0)))
    assert isinstance(caught.value.orig, ValueError)
    assert _count_people(db) == 0


def test_in_memory_database_keeps_its_tables_between_sessions() -> None:
    memory = Database("sqlite://")
    memory.create_all()
    with memory.session() as session:
        session.add(Person(role="coordinator", conversation_id=None, channel="console"))
    assert _count_people(memory) == 1
    memory.dispose()

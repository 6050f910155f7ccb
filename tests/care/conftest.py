"""Fixtures for the care domain: a fresh SQLite file and a fixed clock per test.

Building the schema (and the demo registry) once per run and copying the file
into each test's ``tmp_path`` keeps every test isolated and the suite fast.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.registry.seed import load_demo_data

from .helpers import MONDAY_9AM, FakeClock


def _template(directory: Path, *, demo: bool) -> Path:
    """Create a database file with every table (and the demo data) and close it."""
    path = directory / "template.db"
    database = Database(f"sqlite:///{path}", durable=False)
    database.create_all()
    if demo:
        load_demo_data(database)
    database.dispose()  # checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the schema only."""
    return _template(tmp_path_factory.mktemp("empty"), demo=False)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the schema and the demo registry."""
    return _template(tmp_path_factory.mktemp("demo"), demo=True)


def _open_copy(template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "care.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}", durable=False)


@pytest.fixture
def db(tmp_path: Path, empty_template: Path) -> Iterator[Database]:
    """A fresh SQLite database file with every table and no rows."""
    database = _open_copy(empty_template, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """A clock fixed at Monday 09:00."""
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def care(db: Database, clock: FakeClock) -> CareServices:
    """All services on the fresh database, London time, fixed clock."""
    return CareServices(db, clock=clock, timezone="Europe/London")


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path, clock: FakeClock) -> Iterator[CareServices]:
    """All services on a fresh copy of the demo registry."""
    database = _open_copy(demo_template, tmp_path)
    yield CareServices(database, clock=clock, timezone="Europe/London")
    database.dispose()

"""The same schema and a booking round trip on PostgreSQL.

``CARE_TEST_POSTGRES_URL`` names a server database to connect to first (``make test`` sets
``postgresql+psycopg2://postgres@127.0.0.1:5432/test``); each test creates a database of its
own next to it and drops it afterwards. Skipped, with that reason, only when the variable is unset.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta, timezone
from typing import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.core.models import metadata
from assistant.care.registry.seed import load_demo_data

from .helpers import MONDAY_9AM, FakeClock, at, register

URL = os.environ.get("CARE_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="CARE_TEST_POSTGRES_URL is not set")


@pytest.fixture
def postgres() -> Iterator[Database]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    name = "care_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(str(make_url(URL).set(database=name)))
    try:
        database.upgrade()
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_migrations_match_the_models_on_postgres(postgres: Database) -> None:
    with postgres.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_booking_round_trip_on_postgres(postgres: Database) -> None:
    care = CareServices(postgres, clock=FakeClock(MONDAY_9AM))
    load_demo_data(postgres)
    register(care, "conv-pg", needs=["diabetic"])
    option = care.registry.meal_options("Riverside", ["diabetic-friendly"], at=at(1, 12))[0]

    order = care.meals.place_order("conv-pg", option.dish_id, 1, at(1, 12))

    listed = care.meals.list_orders("conv-pg")
    assert listed == [order]
    assert listed[0].starts_at.utcoffset() == timedelta(0)
    assert listed[0].starts_at == at(1, 12).astimezone(timezone.utc)
    assert care.meals.cancel("conv-pg", order.reference).status == "cancelled"

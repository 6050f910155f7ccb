"""The care services on SQLite and on PostgreSQL, for the privacy tests."""

from __future__ import annotations

import pytest

from assistant.care import CareServices

from ..helpers import FakeClock
from ..test_postgres import URL, postgres  # noqa: F401 - the PostgreSQL fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, care: CareServices, clock: FakeClock) -> CareServices:
    """The care services on SQLite, then on PostgreSQL (skipped without CARE_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        return care
    if not URL:
        pytest.skip("CARE_TEST_POSTGRES_URL is not set")
    return CareServices(request.getfixturevalue("postgres"), clock=clock)

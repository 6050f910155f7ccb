"""The N+1 guard of home-service matching: statements per search do not grow with the registry.

Timings at scale are in ``benchmarks/matching.py`` and docs/benchmarks.md; this only counts.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import event

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.homeservices.homeservices import SERVICES, NoFreeSlot, TimeWindow

from ..helpers import add_home_provider, at, register

DISTRICTS = ("Riverside", "Old Town", "Hillcrest", "Parkview")
HOURS = ("mon-fri 08:00-18:00", "mon-sat 09:00-17:00", "tue-sat 10:00-19:00; sun 10:00-12:00")
FRIDAY_MORNING = TimeWindow(at(5, 8), at(5, 12))
"""Many cleaners are free: options are found."""
SUNDAY_EARLY = TimeWindow.at(at(7, 7))
"""Nobody is open: the nearest free times are searched as well."""


class StatementCounter:
    """Counts the SQL statements sent through an engine while it is listening."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self.count = 0

    def _on_execute(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> "StatementCounter":
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def counter(db: Database) -> Iterator[StatementCounter]:
    """A statement counter on the test database."""
    yield StatementCounter(db)


def grow_registry(care: CareServices, total: int) -> None:
    """Add home-service providers (all services, several districts and hours) until there are ``total``."""
    existing = len(care.registry.providers())
    for number in range(existing, total):
        served = [DISTRICTS[number % len(DISTRICTS)], DISTRICTS[(number + 1) % len(DISTRICTS)]]
        add_home_provider(
            care, f"Helper {number}", SERVICES[number % len(SERVICES)], served[: 1 + number % 2],
            verified=number % 3 != 0, rating=3.0 + number % 20 / 10, rating_count=number % 7,
            hours=HOURS[number % len(HOURS)],
            offerings=[("standard", f"Visit {number}", 2000 + 10 * number, 60),
                       ("long", f"Long visit {number}", 4000 + 10 * number, 120)],
        )


def statements_per_search(care: CareServices, counter: StatementCounter, window: TimeWindow) -> tuple[int, int]:
    """Return (statements, options or alternatives found) of one cleaning search for Edith."""
    with counter:
        before = counter.count
        try:
            found = len(care.home_services.find_options("conv-edith", "cleaning", window))
        except NoFreeSlot as refused:
            found = len(refused.alternatives)
        return counter.count - before, found


def test_statements_per_search_do_not_grow_from_20_to_200_providers(
    care: CareServices, counter: StatementCounter
) -> None:
    register(care)
    grow_registry(care, 20)
    option = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING)[0]
    care.home_services.book("conv-edith", option.offering_id, option.starts_at)  # some slots are held
    small = [statements_per_search(care, counter, w) for w in (FRIDAY_MORNING, SUNDAY_EARLY)]

    grow_registry(care, 200)
    large = [statements_per_search(care, counter, w) for w in (FRIDAY_MORNING, SUNDAY_EARLY)]

    assert all(found for _, found in small + large), "every search should find someone"
    assert [statements for statements, _ in large] == [statements for statements, _ in small]

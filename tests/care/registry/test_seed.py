"""Tests for assistant.care.registry.seed: the demo registry."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput
from assistant.care.registry.hours import loads_hours
from assistant.care.core.models import Dish, Offering, Provider
from assistant.care.registry.seed import load_demo_data
from assistant.care.core.vocabulary import HOME_SERVICE_KINDS

DISTRICTS = {"Riverside", "Old Town", "Hillcrest", "Parkview"}


def _providers(db: Database) -> list[Provider]:
    with db.reading() as session:
        return list(session.scalars(
            select(Provider).options(
                selectinload(Provider.districts),
                selectinload(Provider.dishes).selectinload(Dish.tags),
                selectinload(Provider.offerings),
            )
        ))


def test_demo_data_loads_once(care: CareServices) -> None:
    first = load_demo_data(care.db)
    second = load_demo_data(care.db)

    assert first["providers"] == len(_providers(care.db))
    assert first["districts"] == 4
    assert second == {}
    assert len(_providers(care.db)) == first["providers"]


def test_demo_meal_providers_meet_the_brief(demo: CareServices) -> None:
    meal = [p for p in _providers(demo.db) if p.kind == "meal"]

    assert len(meal) >= 8
    for provider in meal:
        assert 1 <= len(provider.districts) <= 3, provider.name
        assert set(provider.district_names) <= DISTRICTS
        assert 6 <= len(provider.dishes) <= 10, provider.name
        assert {d.meal_type for d in provider.dishes} == {"breakfast", "lunch", "dinner"}, provider.name
    assert {p.verified for p in meal} == {True, False}
    assert len({p.rating for p in meal}) >= 5
    assert any("sun" not in loads_hours(p.opening_hours) for p in meal)


def test_every_district_has_diabetic_lunches_from_two_providers(demo: CareServices) -> None:
    for district in DISTRICTS:
        options = demo.registry.meal_options(district, ["diabetic-friendly"], meal_type="lunch", limit=100)
        assert len({o.provider_id for o in options}) >= 2, district


def test_demo_catering_offerings(demo: CareServices) -> None:
    chef = {o.offering_id for d in DISTRICTS for o in demo.registry.catering_offerings(d, "chef_visit")}
    tables = {o.offering_id for d in DISTRICTS for o in demo.registry.catering_offerings(d, "table_reservation")}
    assert len(chef) >= 2
    assert len(tables) >= 3


def test_demo_home_services_cover_every_district(demo: CareServices) -> None:
    home = [p for p in _providers(demo.db) if p.kind in HOME_SERVICE_KINDS]
    covered: dict[str, set[str]] = defaultdict(set)
    for provider in home:
        assert provider.offerings, provider.name
        for offering in provider.offerings:
            assert offering.price_cents > 0 and offering.duration_minutes, offering.name
        for district in provider.district_names:
            covered[provider.kind].add(district)

    assert len(home) >= 12
    assert {kind: DISTRICTS for kind in HOME_SERVICE_KINDS} == dict(covered)


def test_a_misspelt_demo_file_is_refused(tmp_path: Path, db: Database) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "meal_providers:\n"
        "  - {name: K, districts: [Riverside], hours: 'daily 08:00-18:00',\n"
        "     dishes: [{name: Soup, meal: lunch, price: 5, description: Hot, tasty}]}\n"
    )
    with pytest.raises(InvalidInput):
        load_demo_data(db, bad)
    with db.reading() as session:
        assert session.scalars(select(Offering)).all() == []
        assert session.scalars(select(Provider)).all() == []

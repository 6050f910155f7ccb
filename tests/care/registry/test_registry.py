"""Tests for assistant.care.registry.registry: finding meals and providers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput
from assistant.care.registry.hours import parse_hours_text
from assistant.care.registry.registry import RegistryService

from ..helpers import add_meal_provider, at

DIABETIC = "diabetic-friendly"


@pytest.fixture
def kitchens(care: CareServices) -> dict[str, dict[str, int]]:
    """Three kitchens: two in Riverside (one unverified), one in Old Town."""
    return {
        "verified": add_meal_provider(
            care, "Verified Kitchen", ["Riverside"], verified=True, rating=4.0,
            hours="mon-sat 07:00-20:00",
            dishes=[
                ("Salmon", "lunch", 950, [DIABETIC, "low-salt"]),
                ("Casserole", "lunch", 850, [DIABETIC]),
                ("Pie", "lunch", 700, []),
                ("Porridge", "breakfast", 380, [DIABETIC, "soft"]),
            ],
        ),
        "unverified": add_meal_provider(
            care, "Unverified Bistro", ["Riverside", "Parkview"], verified=False, rating=5.0,
            dishes=[("Sea bass", "lunch", 1250, [DIABETIC, "low-salt"])],
        ),
        "elsewhere": add_meal_provider(
            care, "Old Town Meals", ["Old Town"], verified=True, rating=4.9,
            dishes=[("Turkey", "lunch", 900, [DIABETIC])],
        ),
    }


def names(options) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.dish_name for o in options]


def test_meal_options_match_district_and_every_dietary_need(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    assert names(care.registry.meal_options("Riverside", [DIABETIC], meal_type="lunch")) == [
        "Casserole", "Salmon", "Sea bass",
    ]
    assert names(care.registry.meal_options("Riverside", [DIABETIC, "low salt"], meal_type="lunch")) == [
        "Salmon", "Sea bass",
    ]
    assert names(care.registry.meal_options("Old Town", [DIABETIC])) == ["Turkey"]
    assert care.registry.meal_options("Hillcrest", []) == []


def test_verified_providers_come_first_then_rating_then_price(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    options = care.registry.meal_options("riverside", [], meal_type="lunch")

    assert [(o.provider_name, o.dish_name) for o in options] == [
        ("Verified Kitchen", "Pie"),
        ("Verified Kitchen", "Casserole"),
        ("Verified Kitchen", "Salmon"),
        ("Unverified Bistro", "Sea bass"),
    ]
    assert options[0].verified is True and options[-1].verified is False
    assert options[1].tags == (DIABETIC,)
    assert options[1].price_text == "€8.50"


def test_a_closed_provider_is_not_offered(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    sunday_noon = at(7, 12)
    monday_noon = at(1, 12)
    late_evening = at(1, 20, 30)

    assert names(care.registry.meal_options("Riverside", [DIABETIC, "low-salt"], at=sunday_noon)) == ["Sea bass"]
    assert names(care.registry.meal_options("Riverside", [DIABETIC, "low-salt"], at=monday_noon)) == [
        "Salmon", "Sea bass",
    ]
    assert care.registry.meal_options("Riverside", [DIABETIC, "low-salt"], at=late_evening) == []


def test_opening_hours_are_read_in_the_deployment_timezone(db: Database) -> None:
    registry = RegistryService(db, timezone="Europe/London")
    provider = registry.add_provider(
        "Summer Kitchen", "meal", ["Riverside"], opening_hours=parse_hours_text("daily 08:00-20:00")
    )
    registry.add_dish(provider.provider_id, "Salad", "lunch", 500)

    # In July London is UTC+1: 07:30 UTC is 08:30 local (open), 19:30 UTC is 20:30 (closed).
    assert len(registry.meal_options("Riverside", [], at=datetime(2025, 7, 1, 7, 30, tzinfo=timezone.utc))) == 1
    assert registry.meal_options("Riverside", [], at=datetime(2025, 7, 1, 19, 30, tzinfo=timezone.utc)) == []


def test_inactive_providers_are_not_offered(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    care.registry.set_active(kitchens["verified"]["provider"], False)
    assert names(care.registry.meal_options("Riverside", [])) == ["Sea bass"]


def test_limit_and_meal_type(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    assert len(care.registry.meal_options("Riverside", [], limit=2)) == 2
    assert names(care.registry.meal_options("Riverside", [], meal_type="breakfast")) == ["Porridge"]
    with pytest.raises(InvalidInput):
        care.registry.meal_options("Riverside", [], meal_type="brunch")


def test_naive_time_is_a_programming_error(care: CareServices) -> None:
    with pytest.raises(ValueError):
        care.registry.meal_options("Riverside", [], at=datetime(2025, 12, 1, 12, 0))


def test_catering_offerings_by_mode(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    kitchen = kitchens["verified"]["provider"]
    care.registry.add_offering(kitchen, "chef_visit", "Cook at home", 6500, duration_minutes=180)
    care.registry.add_offering(kitchen, "table_reservation", "Lunch table", 0)

    chefs = care.registry.catering_offerings("Riverside", "chef_visit")

    assert [(o.name, o.price_text, o.duration_minutes) for o in chefs] == [("Cook at home", "€65.00", 180)]
    assert [o.name for o in care.registry.catering_offerings("Riverside", "table_reservation")] == ["Lunch table"]
    assert care.registry.catering_offerings("Old Town", "chef_visit") == []
    with pytest.raises(InvalidInput):
        care.registry.catering_offerings("Riverside", "cleaning")


def test_meal_offerings_must_use_a_meal_mode(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        care.registry.add_offering(kitchens["verified"]["provider"], "ironing", "Ironing", 1000)


def test_providers_by_kind_and_district(care: CareServices, kitchens) -> None:  # type: ignore[no-untyped-def]
    care.registry.add_provider(
        "Sparkle", "cleaning", ["Riverside"], verified=True, opening_hours=parse_hours_text("mon-fri 08:00-18:00")
    )

    assert [p.name for p in care.registry.providers(kind="cleaning")] == ["Sparkle"]
    assert [p.name for p in care.registry.providers(district="Parkview")] == ["Unverified Bistro"]
    sparkle = care.registry.providers(kind="cleaning")[0]
    assert sparkle.opening_hours == "Mon-Fri 08:00-18:00"
    assert sparkle.districts == ("Riverside",)


def test_adding_a_provider_is_validated(care: CareServices) -> None:
    care.registry.add_provider("Sparkle", "cleaning", ["Riverside"])
    with pytest.raises(InvalidInput):
        care.registry.add_provider("sparkle", "cleaning", ["Old Town"])
    with pytest.raises(InvalidInput):
        care.registry.add_provider("Sparkle", "gardening", ["Riverside"])
    with pytest.raises(InvalidInput):
        care.registry.add_provider("Nowhere Ltd", "repair", [" "])
    with pytest.raises(InvalidInput):
        care.registry.add_provider("Stars", "repair", ["Riverside"], rating=6)


def test_district_spelling_follows_the_registry(care: CareServices) -> None:
    care.registry.add_provider("A", "cleaning", ["Old Town"])
    b = care.registry.add_provider("B", "repair", ["old town"])
    assert b.districts == ("Old Town",)

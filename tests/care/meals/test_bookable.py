"""Options are promises: what is offered is what a booking accepts, and when nothing fits, the earliest time."""

from __future__ import annotations

import pytest

from assistant.care import CareServices
from assistant.care.core.errors import CareError

from ..helpers import FakeClock, add_meal_provider, at, register

DIABETIC = "diabetic-friendly"


@pytest.fixture
def kitchen(care: CareServices) -> dict[str, int]:
    """A Riverside kitchen open Monday to Saturday 07:00-20:00 with a chef and a table, and Edith."""
    ids = add_meal_provider(
        care, "Riverside Kitchen", ["Riverside"], hours="mon-sat 07:00-20:00",
        dishes=[("Porridge", "breakfast", 450, [DIABETIC]), ("Casserole", "lunch", 850, [DIABETIC])],
    )
    ids["chef"] = care.registry.add_offering(ids["provider"], "chef_visit", "Cook at home", 6500).offering_id
    ids["table"] = care.registry.add_offering(ids["provider"], "table_reservation", "Lunch table", 1250).offering_id
    register(care, "conv-edith", name="Edith Smith", needs=["diabetic"])
    return ids


def test_a_chef_for_this_evening_is_not_offered_and_the_earliest_is_tomorrow(
    care: CareServices, kitchen: dict[str, int], clock: FakeClock
) -> None:
    clock.now = at(2, 10)  # Tuesday morning
    assert care.meals.options_at("conv-edith", "chef_visit", at(2, 18)) == []
    found = care.meals.earliest_options("conv-edith", "chef_visit", at(2, 18))
    assert found is not None
    assert found.at == at(3, 10)  # a day's notice from now, within opening hours
    assert "24 hours' notice" in found.reason
    assert [o.offering_id for o in found.options] == [kitchen["chef"]]
    # What was offered is booked without a refusal.
    assert care.meals.book_chef_visit("conv-edith", kitchen["chef"], found.at).starts_at == at(3, 10)


def test_every_option_offered_is_accepted_by_the_booking(care: CareServices, kitchen: dict[str, int], clock: FakeClock) -> None:
    clock.now = at(2, 6)
    for mode, hour in (("delivery", 12), ("table_reservation", 13), ("chef_visit", 15)):
        asked = at(4 if mode == "chef_visit" else 2, hour)
        for option in care.meals.options_at("conv-edith", mode, asked, limit=10):
            if mode == "delivery":
                care.meals.place_order("conv-edith", option.dish_id, 1, asked)
            elif mode == "table_reservation":
                care.meals.reserve_table("conv-edith", option.offering_id, asked, 2)
            else:
                care.meals.book_chef_visit("conv-edith", option.offering_id, asked)


def test_breakfast_as_soon_as_possible_before_the_kitchen_opens_offers_when_it_does(
    care: CareServices, kitchen: dict[str, int], clock: FakeClock
) -> None:
    clock.now = at(2, 5, 10)  # 05:10 on a Tuesday, London = UTC in December
    asked = at(2, 5, 55)
    assert care.meals.options_at("conv-edith", "delivery", asked, "breakfast") == []
    found = care.meals.earliest_options("conv-edith", "delivery", asked, "breakfast")
    assert found is not None and found.at == at(2, 7)
    assert "closed" in found.reason and "07:00" in found.reason
    assert [o.dish_name for o in found.options] == ["Porridge"]


def test_on_sunday_the_earliest_is_monday(care: CareServices, kitchen: dict[str, int], clock: FakeClock) -> None:
    clock.now = at(7, 9)  # Sunday: the kitchen is closed all day
    found = care.meals.earliest_options("conv-edith", "delivery", at(7, 12), "lunch")
    assert found is not None and found.at == at(8, 7)


def test_nothing_within_two_weeks_is_none(care: CareServices, kitchen: dict[str, int], clock: FakeClock) -> None:
    clock.now = at(2, 9)
    assert care.meals.earliest_options("conv-edith", "delivery", at(2, 12), "dinner") is None  # no dinners at all


def test_unknown_mode_is_refused(care: CareServices, kitchen: dict[str, int]) -> None:
    with pytest.raises(CareError):
        care.meals.options_at("conv-edith", "picnic", at(2, 12))

"""A senior chooses what each linked relative may see and arrange: meals and visits, reminders."""

from __future__ import annotations

import pytest

from assistant.care import CareServices
from assistant.care.core.errors import NotAllowed
from assistant.care.core.notifications import enqueue_for_family

from ..helpers import FakeClock, add_meal_provider, at, register


def _family(care: CareServices) -> dict[str, int]:
    register(care, "conv-edith")
    care.people.link_relative("conv-edith", "conv-anna", "Anna Smith", "daughter")
    care.people.link_relative("conv-edith", "conv-ben", "Ben Smith", "son")
    return {m.name: m.link_id for m in care.family.family("conv-edith").members}


def test_a_new_link_shares_both_and_the_senior_sees_what_each_relative_may_see(care: CareServices) -> None:
    links = _family(care)
    care.family.set_share("conv-edith", links["Ben Smith"], "bookings", False)
    members = {m.name: m.shares for m in care.family.family("conv-edith").members}
    assert members == {"Anna Smith": ("bookings", "reminders"), "Ben Smith": ("reminders",)}


def test_a_relative_not_shown_meals_cannot_order_and_hears_nothing_of_them(care: CareServices, clock: FakeClock) -> None:
    links = _family(care)
    ids = add_meal_provider(care, "Kitchen", ["Riverside"], dishes=[("Soup", "lunch", 500, [])])
    care.family.set_share("conv-edith", links["Ben Smith"], "bookings", False)
    clock.now = at(1, 9)
    with pytest.raises(NotAllowed, match="has not chosen to share their meals and help at home with you"):
        care.meals.place_order("conv-ben", ids["Soup"], 1, at(2, 12))
    assert care.meals.place_order("conv-anna", ids["Soup"], 1, at(2, 12)).reference
    assert care.family.relative_names("conv-edith") == ["Anna"]

    with care.db.session() as session:
        told = enqueue_for_family(session, _person_id(care, "conv-edith"), "booking_status", "EXTERNAL_booking_update",
                                  text="Your lunch is on its way.", share="bookings")
        everyone = enqueue_for_family(session, _person_id(care, "conv-edith"), "emergency", "EXTERNAL_emergency_alert",
                                      text="Edith may have fallen.")
        assert [n.person_id for n in told] == [_person_id(care, "conv-anna")]
        assert len(everyone) == 2  # emergencies reach every linked relative


def test_only_the_senior_changes_what_is_shared(care: CareServices) -> None:
    links = _family(care)
    with pytest.raises(NotAllowed):
        care.family.set_share("conv-anna", links["Anna Smith"], "reminders", False)
    assert care.family.family("conv-edith").members[0].shares == ("bookings", "reminders")


def _person_id(care: CareServices, conversation_id: str) -> int:
    return care.privacy.export(conversation_id).person_id  # type: ignore[union-attr]

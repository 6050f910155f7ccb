"""Tests for assistant.care.meals.meals: orders, meal plans, chef visits, tables."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import event, func, select

from assistant.care import CareServices
from assistant.care.bookings.bookings import REFERENCE_ALPHABET
from assistant.care.core.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    NotRegistered,
    Unavailable,
)
from assistant.care.meals.meals import DELIVERY_FEE_CENTS
from assistant.care.core.models import AuditLog, Booking

from ..helpers import FakeClock, add_meal_provider, at, register

DIABETIC = "diabetic-friendly"


@pytest.fixture
def kitchen(care: CareServices) -> dict[str, int]:
    """A Riverside kitchen closed on Sundays, a Hillcrest one, and Edith and Frank."""
    ids = add_meal_provider(
        care, "Riverside Kitchen", ["Riverside"], hours="mon-sat 07:00-20:00",
        dishes=[
            ("Casserole", "lunch", 850, [DIABETIC, "soft"]),
            ("Pie", "lunch", 700, []),
        ],
    )
    kitchen_id = ids["provider"]
    ids["chef"] = care.registry.add_offering(
        kitchen_id, "chef_visit", "Cook at home", 6500, duration_minutes=180
    ).offering_id
    ids["table"] = care.registry.add_offering(
        kitchen_id, "table_reservation", "Set lunch table", 1250, duration_minutes=90
    ).offering_id
    ids["Stew"] = add_meal_provider(
        care, "Faraway Meals", ["Hillcrest"], dishes=[("Stew", "lunch", 800, [DIABETIC])]
    )["Stew"]
    register(care, "conv-edith", name="Edith Smith", needs=["diabetic"])
    register(care, "conv-frank", name="Frank Brown")
    return ids


def test_order_is_saved_with_a_reference_and_listed(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 2, at(1, 12), details="Ring twice")

    assert re.fullmatch(rf"ML-[{REFERENCE_ALPHABET}]{{5}}", order.reference)
    assert order.status == "confirmed"
    assert (order.item_name, order.provider_name, order.quantity) == ("Casserole", "Riverside Kitchen", 2)
    assert (order.price_cents, order.fees_cents, order.total_cents) == (1700, DELIVERY_FEE_CENTS, 1850)
    assert order.total_text == "€18.50"
    assert (order.starts_at, order.ends_at) == (at(1, 12), at(1, 12, 30))
    assert order.details == "Ring twice"
    assert care.meals.list_orders("conv-edith") == [order]
    assert care.meals.list_orders("conv-frank") == []


def test_quote_shows_the_full_price_without_saving(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    quote = care.meals.quote_order("conv-edith", kitchen["Casserole"], 2, at(1, 12))

    assert (quote.unit_price_cents, quote.price_cents, quote.fees_cents, quote.total_cents) == (850, 1700, 150, 1850)
    assert quote.total_text == "€18.50"
    assert care.meals.list_orders("conv-edith") == []
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 2, at(1, 12))
    assert order.total_cents == quote.total_cents


def test_order_in_the_past_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 8))
    assert caught.value.message == "That time has already passed. When would you like it?"
    assert care.meals.list_orders("conv-edith") == []


def test_order_needs_twenty_minutes_notice(care: CareServices, kitchen, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable) as caught:
        care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 9, 10))
    assert "20 minutes" in caught.value.message
    assert care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 9, 20)).status == "confirmed"


def test_naive_delivery_time_is_a_programming_error(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        care.meals.place_order("conv-edith", kitchen["Casserole"], 1, datetime(2025, 12, 1, 12, 0))


def test_provider_closed_at_that_time_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable) as caught:
        care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(7, 12))
    assert "closed on Sunday 7 December at 12:00" in caught.value.message
    assert "Mon-Sat 07:00-20:00" in caught.value.message


def test_provider_outside_the_district_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable) as caught:
        care.meals.place_order("conv-edith", kitchen["Stew"], 1, at(1, 12))
    assert caught.value.message == "Sorry, Faraway Meals does not come to Riverside."


def test_dish_that_does_not_fit_the_diet_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable) as caught:
        care.meals.place_order("conv-edith", kitchen["Pie"], 1, at(1, 12))
    assert "not marked diabetic-friendly" in caught.value.message
    assert care.meals.place_order("conv-frank", kitchen["Pie"], 1, at(1, 12)).item_name == "Pie"


def test_quantity_must_be_sensible(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    for quantity in (0, 11, "lots"):
        with pytest.raises(InvalidInput):
            care.meals.place_order("conv-edith", kitchen["Casserole"], quantity, at(1, 12))


def test_unknown_dish_and_unregistered_senior(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        care.meals.place_order("conv-edith", 9999, 1, at(1, 12))
    with pytest.raises(NotRegistered):
        care.meals.place_order("conv-stranger", kitchen["Casserole"], 1, at(1, 12))


def test_nothing_is_reported_saved_when_the_commit_fails(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    def refuse(connection) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    event.listen(care.db.engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12))
    finally:
        event.remove(care.db.engine, "commit", refuse)
    with care.db.reading() as session:
        assert session.scalar(select(func.count(Booking.id))) == 0


def test_cancel_marks_cancelled_and_a_second_cancel_is_explained(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12))

    cancelled = care.meals.cancel("conv-edith", " " + order.reference.lower().replace("-", " ") + " ")

    assert cancelled.status == "cancelled"
    assert care.meals.list_orders("conv-edith") == []
    assert [b.status for b in care.meals.list_orders("conv-edith", include_past=True)] == ["cancelled"]
    with pytest.raises(InvalidTransition) as caught:
        care.meals.cancel("conv-edith", order.reference)
    assert caught.value.message == f"Booking {order.reference} is already cancelled. There is nothing more to do."


def test_a_senior_cannot_cancel_someone_elses_booking(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12))

    with pytest.raises(NotFound) as caught:
        care.meals.cancel("conv-frank", order.reference)

    assert "could not find a booking" in caught.value.message
    assert care.meals.list_orders("conv-edith")[0].status == "confirmed"


def test_a_done_booking_cannot_be_cancelled(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12))
    for status in ("assigned", "in_progress", "done"):
        care.bookings.set_status(order.reference, status, "coordinator:alice")

    with pytest.raises(InvalidTransition) as caught:
        care.meals.cancel("conv-edith", order.reference)
    assert "already done" in caught.value.message


def test_orders_are_listed_soonest_first(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    later = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(3, 12))
    sooner = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(2, 12))
    assert [o.reference for o in care.meals.list_orders("conv-edith")] == [sooner.reference, later.reference]


def test_meal_plan_is_listed_with_its_recurrence(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    plan = care.meals.create_meal_plan("conv-edith", kitchen["Casserole"], [4, 0, 2], time(12, 30), date(2025, 12, 1))

    assert plan.kind == "meal_plan"
    assert plan.reference.startswith("MP-")
    assert plan.recurrence == "mon,wed,fri 12:30"
    assert plan.starts_at == at(1, 12, 30)  # today is Monday and 12:30 is still ahead
    assert (plan.price_cents, plan.fees_cents) == (850, DELIVERY_FEE_CENTS)  # per delivery
    assert care.meals.list_orders("conv-edith") == [plan]


def test_meal_plan_starts_at_the_next_possible_day(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    plan = care.meals.create_meal_plan("conv-edith", kitchen["Casserole"], range(5), time(8, 0), date(2025, 11, 20))
    assert plan.recurrence == "weekdays 08:00"
    assert plan.starts_at == at(2, 8, 0)  # Monday 08:00 has passed; Tuesday is next


def test_meal_plan_time_is_the_seniors_local_time(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    register(care, "conv-paris", name="Amélie", timezone_name="Europe/Paris")
    plan = care.meals.create_meal_plan("conv-paris", kitchen["Pie"], [1], time(12, 0), date(2025, 12, 1))
    assert plan.starts_at == datetime(2025, 12, 2, 11, 0, tzinfo=timezone.utc)


def test_meal_plan_on_a_closed_day_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable) as caught:
        care.meals.create_meal_plan("conv-edith", kitchen["Casserole"], [5, 6], time(12, 0), date(2025, 12, 1))
    assert "closed at 12:00 on Sunday" in caught.value.message
    with pytest.raises(InvalidInput):
        care.meals.create_meal_plan("conv-edith", kitchen["Casserole"], [], time(12, 0), date(2025, 12, 1))


def test_chef_visit_needs_a_day_of_notice(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unavailable):
        care.meals.book_chef_visit("conv-edith", kitchen["chef"], at(1, 17))

    visit = care.meals.book_chef_visit("conv-edith", kitchen["chef"], at(3, 11))

    assert visit.reference.startswith("CV-")
    assert (visit.item_name, visit.total_cents) == ("Cook at home", 6500)
    assert visit.ends_at == at(3, 14)


def test_table_reservation_is_priced_per_person(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    table = care.meals.reserve_table("conv-frank", kitchen["table"], at(2, 12, 30), party_size=3)

    assert table.reference.startswith("TR-")
    assert (table.party_size, table.price_cents, table.fees_cents) == (3, 3750, 0)
    with pytest.raises(InvalidInput):
        care.meals.reserve_table("conv-frank", kitchen["table"], at(2, 12, 30), party_size=13)
    with pytest.raises(NotFound):
        care.meals.reserve_table("conv-frank", kitchen["chef"], at(2, 12, 30), party_size=2)


def test_change_time_moves_the_whole_window(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12), window_minutes=45)

    moved = care.meals.change_time("conv-edith", order.reference, at(2, 18))

    assert (moved.starts_at, moved.ends_at) == (at(2, 18), at(2, 18, 45))
    with pytest.raises(Unavailable):
        care.meals.change_time("conv-edith", order.reference, at(7, 12))
    with care.db.reading() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == order.reference)).all()
    assert actions == ["booking.created", "booking.confirmed", "booking.rescheduled"]


def test_change_time_of_a_cancelled_booking_is_refused(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    order = care.meals.place_order("conv-edith", kitchen["Casserole"], 1, at(1, 12))
    care.meals.cancel("conv-edith", order.reference)
    with pytest.raises(InvalidTransition):
        care.meals.change_time("conv-edith", order.reference, at(2, 12))


def test_change_time_of_a_meal_plan_changes_its_time_of_day(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    plan = care.meals.create_meal_plan("conv-edith", kitchen["Casserole"], [0, 2], time(12, 0), date(2025, 12, 1))

    moved = care.meals.change_time("conv-edith", plan.reference, at(3, 13, 15))

    assert moved.recurrence == "mon,wed 13:15"
    with pytest.raises(InvalidInput):
        care.meals.change_time("conv-edith", plan.reference, at(4, 13, 15))  # a Thursday


def test_a_linked_relative_can_order_for_the_senior(care: CareServices, kitchen) -> None:  # type: ignore[no-untyped-def]
    care.people.link_relative("conv-edith", "conv-mary", "Mary", "daughter")

    order = care.meals.place_order(
        "conv-edith", kitchen["Casserole"], 1, at(1, 12), created_by_conversation="conv-mary"
    )

    with care.db.reading() as session:
        booking = session.scalars(select(Booking).where(Booking.reference == order.reference)).one()
        assert booking.created_by.conversation_id == "conv-mary"
        assert booking.senior.conversation_id == "conv-edith"
    with pytest.raises(NotAllowed):
        care.meals.place_order("conv-frank", kitchen["Pie"], 1, at(1, 12), created_by_conversation="conv-mary")

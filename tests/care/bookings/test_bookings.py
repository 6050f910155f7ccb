"""Tests for assistant.care.bookings.bookings: lifecycle, references, collisions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assistant.care import CareServices
from assistant.care.meals import meals
from assistant.care.bookings.bookings import (
    REFERENCE_ALPHABET,
    TRANSITIONS,
    new_reference,
    normalise_reference,
)
from assistant.care.core.errors import InvalidTransition, NotFound
from assistant.care.core.models import AuditLog, Booking

from ..helpers import add_meal_provider, at, register


@pytest.fixture
def order(care: CareServices):  # type: ignore[no-untyped-def]
    """A confirmed meal delivery for Edith."""
    ids = add_meal_provider(care, "Kitchen", ["Riverside"], dishes=[("Soup", "lunch", 500, [])])
    register(care, "conv-edith")
    return care.meals.place_order("conv-edith", ids["Soup"], 1, at(1, 12))


def test_references_avoid_look_alike_characters() -> None:
    assert not set("0O1IL") & set(REFERENCE_ALPHABET)
    for _ in range(200):
        assert re.fullmatch(rf"ML-[{REFERENCE_ALPHABET}]{{5}}", new_reference("ML"))


def test_references_are_read_the_way_people_type_them() -> None:
    assert normalise_reference(" ml-7k3q9 ") == "ML-7K3Q9"
    assert normalise_reference("ml 7k3q9") == "ML-7K3Q9"
    assert normalise_reference("ML7K3Q9") == "ML-7K3Q9"
    assert normalise_reference("e-abcde") == "E-ABCDE"


def test_the_full_lifecycle_is_allowed_and_audited(care: CareServices, order) -> None:  # type: ignore[no-untyped-def]
    for status in ("assigned", "in_progress", "done"):
        assert care.bookings.set_status(order.reference, status, "coordinator:alice").status == status

    with care.db.reading() as session:
        rows = session.execute(
            select(AuditLog.actor, AuditLog.action).where(AuditLog.entity_id == order.reference).order_by(AuditLog.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("person:1", "booking.created"),
        ("assistant", "booking.confirmed"),
        ("coordinator:alice", "booking.assigned"),
        ("coordinator:alice", "booking.in_progress"),
        ("coordinator:alice", "booking.done"),
    ]


@pytest.mark.parametrize("path, refused", [
    ((), "done"),
    ((), "requested"),
    (("assigned",), "confirmed"),
    (("assigned", "in_progress"), "cancelled"),
    (("assigned", "in_progress", "done"), "in_progress"),
])
def test_invalid_transitions_are_refused(care: CareServices, order, path, refused) -> None:  # type: ignore[no-untyped-def]
    for status in path:
        care.bookings.set_status(order.reference, status, "cli")
    with pytest.raises(InvalidTransition) as caught:
        care.bookings.set_status(order.reference, refused, "cli")
    assert caught.value.message.startswith(f"Booking {order.reference} is")
    assert care.bookings.get(order.reference).status == (path[-1] if path else "confirmed")


def test_cancelling_while_under_way_offers_a_person(care: CareServices, order) -> None:  # type: ignore[no-untyped-def]
    care.bookings.set_status(order.reference, "assigned", "cli")
    care.bookings.set_status(order.reference, "in_progress", "cli")
    with pytest.raises(InvalidTransition) as caught:
        care.meals.cancel("conv-edith", order.reference)
    assert "A person from our team can help" in caught.value.message


def test_cancel_is_allowed_only_before_work_starts() -> None:
    assert [s for s, nxt in TRANSITIONS.items() if "cancelled" in nxt] == ["requested", "confirmed", "assigned"]


def test_unknown_reference(care: CareServices) -> None:
    with pytest.raises(NotFound):
        care.bookings.get("ML-ZZZZZ")


def test_a_reference_collision_draws_a_new_reference(
    care: CareServices, order, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    drawn = iter([order.reference, "ML-22222"])
    monkeypatch.setattr(meals, "new_reference", lambda prefix: next(drawn))
    dish_id = care.registry.meal_options("Riverside", [])[0].dish_id

    second = care.meals.place_order("conv-edith", dish_id, 1, at(2, 12))

    assert second.reference == "ML-22222"
    assert [o.reference for o in care.meals.list_orders("conv-edith")] == [order.reference, "ML-22222"]


def test_endless_collisions_give_up_without_saving(
    care: CareServices, order, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(meals, "new_reference", lambda prefix: order.reference)
    dish_id = care.registry.meal_options("Riverside", [])[0].dish_id

    with pytest.raises(IntegrityError):
        care.meals.place_order("conv-edith", dish_id, 1, at(2, 12))
    with care.db.reading() as session:
        assert session.scalar(select(func.count(Booking.id))) == 1

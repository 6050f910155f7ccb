"""Tests for assistant.care.people.people: registration, consent, profiles."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select

from assistant.care import CareServices
from assistant.care.core.errors import InvalidInput, NotAllowed, NotRegistered
from assistant.care.core.models import AuditLog, Booking, Person, RelativeLink, SeniorProfile

from ..helpers import add_meal_provider, at, register


def _count(care: CareServices, model: type) -> int:
    with care.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_registered_senior_is_recognised_when_they_come_back(care: CareServices) -> None:
    add_meal_provider(care, "Riverside Kitchen", ["Riverside"])
    saved = care.people.register_senior(
        "conv-1", "telegram", "  Edith Smith ", "12 Mill Road", "riverside",
        ["Diabetic", "low salt"], True,
    )

    found = care.people.find_by_conversation("conv-1")

    assert found == saved
    assert found.full_name == "Edith Smith"
    assert found.district == "Riverside"  # the registry's spelling
    assert found.dietary_needs == ("diabetic-friendly", "low-salt")
    assert found.timezone == "Europe/London"
    assert found.consent_care_data is True


def test_unknown_conversation_has_no_profile(care: CareServices) -> None:
    assert care.people.find_by_conversation("nobody") is None


def test_registering_again_updates_the_same_person(care: CareServices) -> None:
    register(care, "conv-1", name="Edith Smith")
    again = register(care, "conv-1", name="Edith Jones", needs=["vegetarian"])

    assert again.full_name == "Edith Jones"
    assert again.dietary_needs == ("vegetarian",)
    assert _count(care, Person) == 1
    assert _count(care, SeniorProfile) == 1


def test_without_consent_nothing_is_stored(care: CareServices) -> None:
    with pytest.raises(NotAllowed) as caught:
        care.people.register_senior(
            "conv-1", "rest", "Edith Smith", "12 Mill Road", "Riverside", [], False
        )

    assert "will not keep your details" in caught.value.message
    assert caught.value.kind == "not_allowed"
    assert _count(care, Person) == 0
    assert _count(care, SeniorProfile) == 0
    assert _count(care, AuditLog) == 0


def test_a_300_character_name_is_refused_kindly(care: CareServices) -> None:
    with pytest.raises(InvalidInput) as caught:
        register(care, name="A" * 300)

    assert caught.value.kind == "invalid_input"
    assert caught.value.field == "full_name"
    assert caught.value.message == "That name is too long. Please keep it under 120 characters."
    assert _count(care, Person) == 0


def test_address_limit_is_300_characters(care: CareServices) -> None:
    with pytest.raises(InvalidInput):
        care.people.register_senior("c", "rest", "Ann", "x" * 301, "Riverside", [], True)
    assert care.people.register_senior("c", "rest", "Ann", "x" * 300, "Riverside", [], True).address == "x" * 300


def test_empty_name_is_asked_for_again(care: CareServices) -> None:
    with pytest.raises(InvalidInput) as caught:
        register(care, name="   ")
    assert caught.value.message == "Please tell me your name."


def test_html_and_sql_are_stored_verbatim_and_harmlessly(care: CareServices) -> None:
    name = "Robert'); DROP TABLE persons;--"
    address = '<script>alert("hi")</script> 1 Main St'

    care.people.register_senior("conv-x", "rest", name, address, "Riverside", [], True)
    found = care.people.find_by_conversation("conv-x")

    assert found.full_name == name
    assert found.address == address
    assert "persons" in inspect(care.db.engine).get_table_names()
    assert _count(care, Person) == 1


def test_unknown_dietary_need_is_explained(care: CareServices) -> None:
    with pytest.raises(InvalidInput) as caught:
        register(care, needs=["no nuts"])
    assert "diabetic-friendly" in caught.value.message
    assert "a person from our team" in caught.value.message


def test_unknown_timezone_is_refused(care: CareServices) -> None:
    with pytest.raises(InvalidInput):
        register(care, timezone_name="Mars/Olympus")


def test_update_profile_changes_only_the_given_fields(care: CareServices) -> None:
    register(care, "conv-1", needs=["soft"])

    updated = care.people.update_profile(
        "conv-1", address="3 New Street", phone="+44 20 7946 0000", voice_replies=True
    )

    assert updated.address == "3 New Street"
    assert updated.phone == "+44 20 7946 0000"
    assert updated.voice_replies is True
    assert updated.dietary_needs == ("soft",)
    with care.db.reading() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "profile.updated")).one()
        assert json.loads(entry.detail) == {"fields": ["address", "phone", "voice_replies"]}
        assert "New Street" not in entry.detail


def test_update_profile_refuses_a_bad_phone(care: CareServices) -> None:
    register(care, "conv-1")
    with pytest.raises(InvalidInput) as caught:
        care.people.update_profile("conv-1", phone="call me")
    assert caught.value.field == "phone"


def test_update_profile_needs_a_registration(care: CareServices) -> None:
    with pytest.raises(NotRegistered) as caught:
        care.people.update_profile("nobody", address="x")
    assert caught.value.kind == "not_registered"


def test_withdrawing_consent_deletes_personal_data(care: CareServices) -> None:
    ids = add_meal_provider(care, "K", ["Riverside"], dishes=[("Soup", "lunch", 500, [])])
    register(care, "conv-1", name="Edith Smith")
    order = care.meals.place_order("conv-1", ids["Soup"], 1, at(1, 12), details="Key under the mat")

    cancelled = care.people.withdraw_consent("conv-1")

    assert cancelled == 1
    assert care.people.find_by_conversation("conv-1") is None
    with care.db.reading() as session:
        assert session.scalar(select(func.count(SeniorProfile.person_id))) == 0
        person = session.scalars(select(Person)).one()
        assert person.display_name == ""
        booking = session.scalars(select(Booking).where(Booking.reference == order.reference)).one()
        assert booking.status == "cancelled"
        assert booking.details == ""
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "consent.withdrawn")).one()
        assert "Edith" not in entry.detail and "Mill" not in entry.detail
        assert json.loads(entry.detail) == {"cancelled_bookings": 1}
    assert care.people.withdraw_consent("conv-1") == 0


def test_a_withdrawn_senior_can_register_again(care: CareServices) -> None:
    register(care, "conv-1")
    care.people.withdraw_consent("conv-1")
    again = register(care, "conv-1", name="Edith Again")
    assert again.full_name == "Edith Again"


def test_health_consent_is_separate(care: CareServices) -> None:
    register(care, "conv-1")
    assert care.people.find_by_conversation("conv-1").consent_health_data is False
    assert care.people.set_health_consent("conv-1", True).consent_health_data is True


def test_known_districts_are_those_of_active_providers(care: CareServices) -> None:
    add_meal_provider(care, "A", ["Riverside", "Old Town"])
    closed = add_meal_provider(care, "B", ["Hillcrest"])
    care.registry.set_active(closed["provider"], False)

    assert care.people.known_districts() == ["Old Town", "Riverside"]


def test_linking_a_relative(care: CareServices) -> None:
    register(care, "conv-senior")
    care.people.link_relative("conv-senior", "conv-daughter", "Mary", "daughter")
    care.people.link_relative("conv-senior", "conv-daughter", "Mary", "daughter")

    assert _count(care, RelativeLink) == 1
    assert care.people.find_by_conversation("conv-daughter") is None
    with pytest.raises(NotAllowed):
        care.people.register_senior("conv-daughter", "rest", "Mary", "x", "Riverside", [], True)

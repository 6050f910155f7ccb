"""Profile changes by conversation."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.profile import ActionUpdateProfile
from assistant.care import CareServices

from .conftest import make_tracker, register, responses


async def test_moving_house_changes_address_and_area(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    tracker = make_tracker("I moved to 5 Oak Street in Hillcrest", "update_profile", entities=[("district", "Hillcrest")])
    await ActionUpdateProfile().run(dispatcher, tracker, domain)
    profile = care.people.find_by_conversation("mary-0001")
    assert profile is not None and (profile.address, profile.district) == ("5 Oak Street", "Hillcrest")
    assert responses(dispatcher) == ["utter_profile_updated"]
    assert "5 Oak Street" in dispatcher.messages[0]["changes"]


async def test_new_diet_is_added(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionUpdateProfile().run(dispatcher, make_tracker("I'm vegetarian now", "update_profile", entities=[("diet", "vegetarian")]), domain)
    profile = care.people.find_by_conversation("mary-0001")
    assert profile is not None and set(profile.dietary_needs) == {"diabetic-friendly", "vegetarian"}


async def test_no_longer_vegetarian_removes_it(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care, dietary_needs=["vegetarian"])
    await ActionUpdateProfile().run(dispatcher, make_tracker("I'm no longer vegetarian", "update_profile", entities=[("diet", "vegetarian")]), domain)
    profile = care.people.find_by_conversation("mary-0001")
    assert profile is not None and profile.dietary_needs == ()


async def test_unclear_change_asks_for_an_example(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionUpdateProfile().run(dispatcher, make_tracker("change my details", "update_profile"), domain)
    assert responses(dispatcher) == ["utter_profile_unchanged"]


async def test_unregistered_user_is_told_how_to_register(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionUpdateProfile().run(dispatcher, make_tracker("I moved to 1 High St", "update_profile", sender="nobody-0001"), domain)
    assert responses(dispatcher) == ["utter_need_registration"]


async def test_a_phone_number_shared_from_telegram_is_saved(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    tracker = make_tracker('/update_profile{"phone": "+44 20 7946 0999"}', "update_profile", entities=[("phone", "+44 20 7946 0999")])
    await ActionUpdateProfile().run(dispatcher, tracker, domain)
    profile = care.people.find_by_conversation("mary-0001")
    assert profile is not None and profile.phone is not None and "7946 0999" in profile.phone
    assert responses(dispatcher) == ["utter_profile_updated"]

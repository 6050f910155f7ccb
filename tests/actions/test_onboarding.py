"""Session start, greeting and registration of a first-time user."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.onboarding import (
    ActionAskDietaryNeeds,
    ActionAskDistrict,
    ActionGreet,
    ActionRegisterUser,
    ActionSessionStart,
    ValidateOnboardingForm,
    match_district,
)
from assistant.care import CareServices

from .conftest import make_tracker, register, responses, slot_events


async def test_session_start_knows_a_new_user_is_not_registered(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)
    assert events[0]["event"] == "session_started"
    assert slot_events(events)["registered"] is False
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")


async def test_a_new_session_stays_quiet_while_a_coordinator_still_holds_the_chat(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    register(care)
    ticket = care.escalations.open("talk_to_human", "mary-0001", "wants a person")
    care.handoffs.join(ticket.reference, "Sam Taylor")
    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)
    assert slot_events(events)["handoff_by"] == "Sam Taylor"
    care.handoffs.hand_back(ticket.reference, "Sam Taylor")
    again = await ActionSessionStart().run(dispatcher, make_tracker(), domain)
    assert "handoff_by" not in slot_events(again)


async def test_returning_user_is_greeted_by_first_name(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    events = await ActionGreet().run(dispatcher, make_tracker("hello", "greet"), domain)
    assert responses(dispatcher) == ["utter_greet_back"]
    assert dispatcher.messages[0]["user_name"] == "Mary"
    assert slot_events(events) == {"registered": True, "user_name": "Mary"}


async def test_new_user_is_welcomed(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    events = await ActionGreet().run(dispatcher, make_tracker("hi", "greet", sender="new-user-01"), domain)
    assert responses(dispatcher) == ["utter_greet_new"]
    assert slot_events(events) == {"registered": False}


async def _validate(tracker, domain, dispatcher) -> dict[str, Any]:
    return slot_events(await ValidateOnboardingForm().run(dispatcher, tracker, domain))


async def test_name_answer_drops_my_name_is(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("my name is Mary Jones", requested_slot="full_name", active_loop="onboarding_form",
                           extracted={"full_name": "my name is Mary Jones"})
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["full_name"] == "Mary Jones"


@pytest.mark.parametrize(("said", "taken"), [("Doris Day", "Doris Day"), ("good day to you", None)])
async def test_a_name_that_sounds_like_a_greeting_is_the_name(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], said: str, taken: Any
) -> None:
    tracker = make_tracker(said, "greet", requested_slot="full_name", active_loop="onboarding_form")
    assert (await _validate(tracker, domain, dispatcher)).get("full_name") == taken


async def test_a_300_character_name_is_refused_kindly(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    long_name = "A" * 300
    tracker = make_tracker(long_name, requested_slot="full_name", active_loop="onboarding_form", extracted={"full_name": long_name})
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["full_name"] is None
    assert "120" in dispatcher.messages[0]["reason"]


async def test_second_failed_answer_offers_a_person(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("🙂🙂", requested_slot="full_name", active_loop="onboarding_form",
                           slots={"failed_attempts": 1.0}, extracted={"full_name": "🙂🙂"})
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["full_name"] is None and slots["failed_attempts"] == 2.0
    assert responses(dispatcher) == ["utter_invalid_answer", "utter_explain_and_offer_person"]
    assert dispatcher.messages[1]["buttons"][0]["payload"] == "/talk_to_human"


async def test_district_typed_with_a_typo_is_understood(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("rivrside", requested_slot="district", active_loop="onboarding_form")
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["district"] == "Riverside"


@pytest.mark.parametrize(("asked", "answer"), [("full_name", "Rose Parkview"), ("address", "3 Hillcrest Gardens")])
async def test_an_answer_to_another_question_never_fills_the_district(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], asked: str, answer: str
) -> None:
    district = answer.split()[-1] if asked == "full_name" else "Hillcrest"
    tracker = make_tracker(answer, requested_slot=asked, active_loop="onboarding_form",
                           entities=[("district", district)], extracted={asked: answer})
    slots = await _validate(tracker, domain, dispatcher)
    assert "district" not in slots
    assert slots[asked] == answer


async def test_the_message_that_starts_registering_may_name_the_district(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker("I live in Riverside and want to sign up", entities=[("district", "Riverside")],
                           active_loop="onboarding_form")
    assert (await _validate(tracker, domain, dispatcher))["district"] == "Riverside"


async def test_unknown_district_is_refused_with_the_reason(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("Atlantis", requested_slot="district", active_loop="onboarding_form")
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["district"] is None
    assert "don't have providers there" in dispatcher.messages[0]["reason"]


async def test_diet_in_free_text_becomes_tags(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("I'm diabetic and need low salt food", requested_slot="dietary_needs", active_loop="onboarding_form")
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["dietary_needs"] == ["diabetic-friendly", "low-salt"]


async def test_no_diet_answer_is_accepted(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("no", "deny", requested_slot="dietary_needs", active_loop="onboarding_form")
    slots = await _validate(tracker, domain, dispatcher)
    assert slots["dietary_needs"] == []


async def test_an_emergency_is_never_taken_as_a_name(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker("I've fallen and can't get up", "emergency", requested_slot="district", active_loop="onboarding_form")
    assert await _validate(tracker, domain, dispatcher) == {}


async def test_district_question_has_a_button_per_served_area(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionAskDistrict().run(dispatcher, make_tracker(), domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Hillcrest", "Old Town", "Parkview", "Riverside"]


async def test_diet_question_offers_no_special_diet_first(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionAskDietaryNeeds().run(dispatcher, make_tracker(), domain)
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[0]["title"] == "No special diet"
    assert any("diabetic-friendly" in b["payload"] for b in buttons)


async def test_registration_with_consent_is_saved_before_it_is_confirmed(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    slots = {"full_name": "Edith <b>Brown</b>", "address": "4 Church Road", "district": "Old Town",
             "dietary_needs": ["soft"], "consent": True}
    events = await ActionRegisterUser().run(dispatcher, make_tracker("yes", "affirm", sender="edith-0001", slots=slots), domain)
    profile = care.people.find_by_conversation("edith-0001")
    assert profile is not None and profile.full_name == "Edith <b>Brown</b>"
    assert profile.dietary_needs == ("soft",) and profile.consent_care_data
    assert responses(dispatcher) == ["utter_registered_next"]
    assert [b["payload"] for b in domain["responses"]["utter_registered_next"][0]["buttons"]] == [
        "/order_meal", "/book_home_service", "/set_reminder"]
    assert slot_events(events)["registered"] is True


async def test_a_request_made_before_registering_carries_on_without_the_menu(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = {"full_name": "Edith Brown", "address": "4 Church Road", "district": "Old Town",
             "dietary_needs": [], "consent": True, "pending_request": "order_meal"}
    await ActionRegisterUser().run(dispatcher, make_tracker("yes", "affirm", sender="edith-0002", slots=slots), domain)
    assert responses(dispatcher) == ["utter_registered"]


async def test_refused_consent_stores_nothing(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    slots = {"full_name": "Albert Smith", "address": "9 Hill Road", "district": "Hillcrest", "dietary_needs": [], "consent": False}
    events = await ActionRegisterUser().run(dispatcher, make_tracker("no", "deny", sender="albert-001", slots=slots), domain)
    assert care.people.find_by_conversation("albert-001") is None
    assert responses(dispatcher) == ["utter_no_consent"]
    cleared = slot_events(events)
    assert cleared["registered"] is False and cleared["full_name"] is None and cleared["address"] is None


def test_match_district_tolerates_spacing_and_case() -> None:
    districts = ["Hillcrest", "Old Town", "Parkview", "Riverside"]
    assert match_district("oldtown", districts) == "Old Town"
    assert match_district("I live in park view", districts) == "Parkview"
    assert match_district("", districts) is None

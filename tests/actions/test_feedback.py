"""Rating a finished visit and complaining: what the user is asked, told, and what is saved."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from assistant.actions.feedback import (
    ActionAskReviewRating,
    ActionRequestReview,
    ActionSaveReview,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    ValidateReviewForm,
)
from assistant.care import CareServices
from assistant.care.homeservices.homeservices import TimeWindow
from assistant.care.core.models import Complaint, Escalation, Review

from .conftest import make_tracker, register, responses, slot_events

LONDON = ZoneInfo("Europe/London")


def finished_cleaning(care: CareServices) -> str:
    """A cleaning visit by Sparkle Home Cleaning that is done (and so waits for a review)."""
    option = care.home_services.find_options("mary-0001", "cleaning", TimeWindow(
        datetime(2026, 11, 27, 8, 0, tzinfo=LONDON), datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)))[0]
    reference = care.home_services.book("mary-0001", option.offering_id, option.starts_at).reference
    for status in ("assigned", "in_progress", "done"):
        care.home_services.set_status(reference, status, "coordinator:sam")
    return reference


def reviews(care: CareServices) -> list[Review]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Review)))
        session.expunge_all()
    return found


async def validate_review(dispatcher: CollectingDispatcher, domain: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("active_loop", "review_form")
    return slot_events(await ValidateReviewForm().run(dispatcher, make_tracker(*args, **kwargs), domain))


# ---- reviews ----------------------------------------------------------------------------------


async def test_a_finished_visit_asks_how_it_went(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    tracker = make_tracker(intent="EXTERNAL_review_request", entities=[
        ("reference", reference), ("provider", "Sparkle Home Cleaning"),
        ("text", "How was your cleaning visit with Sparkle Home Cleaning?")])
    events = await ActionRequestReview().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_review_intro"]
    assert dispatcher.messages[0]["provider"] == "Sparkle Home Cleaning"
    assert dispatcher.messages[0]["item"] == "cleaning visit"
    assert slot_events(events) == {"review_reference": reference}

    dispatcher = CollectingDispatcher()
    await ActionAskReviewRating().run(dispatcher, make_tracker(requested_slot="review_rating", active_loop="review_form"), domain)
    buttons = dispatcher.messages[0]["buttons"]
    assert [json.loads(b["payload"].removeprefix("/inform"))["rating"] for b in buttons] == ["5", "4", "3", "2", "1"]
    assert buttons[0]["title"].startswith("★★★★★")


@pytest.mark.parametrize("said, entities", [
    ("4", []),
    ("four stars", []),
    ('/inform{"rating": "4"}', [("rating", "4")]),
])
async def test_a_rating_is_understood(said: str, entities: list[tuple[str, str]], care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    slots = await validate_review(dispatcher, domain, said, entities=entities, requested_slot="review_rating",
                                  slots={"review_reference": reference})
    assert slots["review_rating"] == 4.0
    assert dispatcher.messages == []


@pytest.mark.parametrize("said, reason", [
    ("11", "from 1 to 5"),
    ("abc", "1 to 5 stars"),
])
async def test_a_wrong_rating_is_refused_kindly(said: str, reason: str, care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    slots = await validate_review(dispatcher, domain, said, requested_slot="review_rating",
                                  slots={"review_reference": reference})
    assert slots["review_rating"] is None
    assert responses(dispatcher) == ["utter_invalid_answer"]
    assert reason in dispatcher.messages[0]["reason"]
    assert reviews(care) == []


async def test_the_comment_is_saved_with_the_rating(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    dispatcher = CollectingDispatcher()
    slots = await validate_review(dispatcher, domain, "she was  lovely and very thorough", requested_slot="review_comment",
                                  slots={"review_reference": reference, "review_rating": 4.0})
    assert slots["review_comment"] == "she was lovely and very thorough"

    dispatcher = CollectingDispatcher()
    events = await ActionSaveReview().run(dispatcher, make_tracker(slots={
        "review_reference": reference, "review_rating": 4.0, "review_comment": slots["review_comment"]}), domain)
    assert responses(dispatcher) == ["utter_review_saved"]
    assert (dispatcher.messages[0]["provider"], dispatcher.messages[0]["stars"]) == ("Sparkle Home Cleaning", "4 stars")
    [review] = reviews(care)
    assert (review.rating, review.comment) == (4, "she was lovely and very thorough")
    assert all(value is None for value in slot_events(events).values())


async def test_no_comment_saves_the_rating_alone(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    dispatcher = CollectingDispatcher()
    slots = await validate_review(dispatcher, domain, "/deny", "deny", requested_slot="review_comment",
                                  slots={"review_reference": reference, "review_rating": 5.0})
    assert slots["review_comment"] == ""
    dispatcher = CollectingDispatcher()
    await ActionSaveReview().run(dispatcher, make_tracker(slots={
        "review_reference": reference, "review_rating": 5.0, "review_comment": ""}), domain)
    assert dispatcher.messages[0]["stars"] == "5 stars"
    [review] = reviews(care)
    assert (review.rating, review.comment) == (5, "")


async def test_rating_when_nothing_is_done_says_so(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    dispatcher = CollectingDispatcher()
    slots = await validate_review(dispatcher, domain, "I want to rate the service", "rate_service", active_loop=None)
    assert slots["requested_slot"] is None  # nothing to rate: the form ends at once
    dispatcher = CollectingDispatcher()
    await ActionSaveReview().run(dispatcher, make_tracker(), domain)
    assert responses(dispatcher) == ["utter_nothing_to_review"]
    assert reviews(care) == []


async def test_stars_given_when_nothing_is_done_are_not_saved(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    dispatcher = CollectingDispatcher()
    slots = await validate_review(dispatcher, domain, "I'd give them 4 stars", "rate_service",
                                  entities=[("rating", "4")], active_loop=None)
    assert slots["requested_slot"] is None
    dispatcher = CollectingDispatcher()
    await ActionSaveReview().run(dispatcher, make_tracker(slots={"review_rating": slots.get("review_rating")}), domain)
    assert responses(dispatcher) == ["utter_nothing_to_review"]
    assert reviews(care) == []


async def test_a_visit_is_rated_only_once(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    care.home_services.rate("mary-0001", 5, reference=reference)
    dispatcher = CollectingDispatcher()
    await ActionSaveReview().run(dispatcher, make_tracker(slots={"review_reference": reference, "review_rating": 1.0}), domain)
    assert responses(dispatcher) == ["utter_review_failed"]
    assert [r.rating for r in reviews(care)] == [5]


# ---- complaints ----------------------------------------------------------------------------------


def complaints(care: CareServices) -> list[Complaint]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Complaint)))
        session.expunge_all()
    return found


def complaint_escalations(care: CareServices) -> list[Escalation]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Escalation).where(Escalation.kind == "complaint")))
        session.expunge_all()
    return found


async def test_a_complaint_with_details_is_recorded_at_once(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    reference = finished_cleaning(care)
    said = "the cleaner was an hour late and broke my vase"
    dispatcher = CollectingDispatcher()
    slots = slot_events(await ValidateComplaintForm().run(dispatcher, make_tracker(said, "complain", active_loop="complaint_form"), domain))
    assert slots["complaint_text"] == said
    assert dispatcher.messages == []  # nothing more to ask

    dispatcher = CollectingDispatcher()
    events = await ActionSubmitComplaint().run(dispatcher, make_tracker(slots={"complaint_text": said}), domain)
    assert responses(dispatcher) == ["utter_complaint_recorded"]
    [complaint] = complaints(care)
    [escalation] = complaint_escalations(care)
    message = dispatcher.messages[0]
    assert message["reference"] == complaint.reference
    assert message["about"] == " about Sparkle Home Cleaning"
    assert complaint.text == said and complaint.escalation_id == escalation.id
    assert escalation.priority == 2 and reference in escalation.summary and said in escalation.summary
    assert slot_events(events)["complaint_text"] is None


async def test_wanting_to_complain_asks_what_happened_first(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    tracker = make_tracker("i want to make a complaint", "complain", active_loop="complaint_form")
    slots = slot_events(await ValidateComplaintForm().run(dispatcher, tracker, domain))
    assert slots.get("complaint_text") is None
    assert complaints(care) == [] and complaint_escalations(care) == []
    dispatcher = CollectingDispatcher()
    answered = slot_events(await ValidateComplaintForm().run(dispatcher, make_tracker(
        "nobody came on Tuesday", requested_slot="complaint_text", active_loop="complaint_form"), domain))
    assert answered["complaint_text"] == "nobody came on Tuesday"


async def test_a_complaint_without_any_booking_still_reaches_a_person(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionSubmitComplaint().run(dispatcher, make_tracker(slots={"complaint_text": "nobody answers the phone"}), domain)
    assert responses(dispatcher) == ["utter_complaint_recorded"]
    assert dispatcher.messages[0]["about"] == ""
    assert len(complaint_escalations(care)) == 1


async def test_someone_unknown_wanting_to_rate_is_told_there_is_nothing(care: CareServices, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    slots = await validate_review(dispatcher, domain, "I want to rate the service", "rate_service",
                                  sender="stranger-01", active_loop=None)
    assert slots["requested_slot"] is None
    dispatcher = CollectingDispatcher()
    await ActionSaveReview().run(dispatcher, make_tracker(sender="stranger-01"), domain)
    assert responses(dispatcher) == ["utter_nothing_to_review"]


async def test_a_complaint_naming_someone_elses_booking_is_still_recorded(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    said = "CL-ZZZZZ never came"
    await ActionSubmitComplaint().run(dispatcher, make_tracker(said, slots={"complaint_text": said},
                                                               entities=[("reference", "CL-ZZZZZ")]), domain)
    assert responses(dispatcher) == ["utter_complaint_recorded"]
    [complaint] = complaints(care)
    assert complaint.text == said and complaint.booking_id is None
    assert len(complaint_escalations(care)) == 1

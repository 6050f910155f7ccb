"""Honest reviews of finished visits and complaints that reach a person."""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, entity_values, first_entity, latest_intent, latest_text
from assistant.actions.forms import PatientFormValidation
from assistant.care.bookings.bookings import KIND_PREFIX
from assistant.care.core.errors import CareError, NotFound
from assistant.care.homeservices.homeservices import SERVICE_WORDS, parse_rating
from assistant.care.core.views import ComplaintView

logger = logging.getLogger(__name__)

REVIEW_FORM_SLOTS = ("review_reference", "review_rating", "review_comment", "failed_attempts")
NO_COMMENT = ""
_COMPLAINT_FILLER = re.compile(
    r"\b(i|i'd|i'm|would|like|want|wish|to|make|have|a|an|the|complaint|complain|complaining|about|please|"
    r"i've|got|me|my|this|that|is|it|not|happy|with|service|good|enough)\b"
)


def star_words(rating: float) -> str:
    """'4 stars' or '1 star'."""
    stars = int(rating)
    return f"{stars} star" if stars == 1 else f"{stars} stars"


def visit_words(reference: Optional[str]) -> str:
    """What was done, from the booking reference: "cleaning visit" for CL-..., else "visit"."""
    prefix = (reference or "").split("-", 1)[0].upper()
    kind = next((k for k, p in KIND_PREFIX.items() if p == prefix), "")
    return SERVICE_WORDS.get(kind, "visit")


class ActionRequestReview(Action):
    """Sent by the care service when a visit is marked done: asks how it went."""

    def name(self) -> str:
        return "action_request_review"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reference = first_entity(tracker, "reference") or None
        provider = first_entity(tracker, "provider", "Your helper")
        item = first_entity(tracker, "item") or visit_words(reference)
        dispatcher.utter_message(response="utter_review_intro", provider=provider, item=item)
        return [SlotSet("review_reference", reference)]


class ValidateReviewForm(PatientFormValidation):
    """A rating from 1 to 5 for a finished booking, and an optional comment."""

    def name(self) -> str:
        return "validate_review_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("review_reference") is None and tracker.get_slot("requested_slot") is None:
            try:
                pending = care().home_services.pending_review(tracker.sender_id)
            except CareError:  # not registered (or no senior to act for): nothing of theirs to rate
                pending = None
            if pending is None:
                return []
        return domain_slots

    async def extract_review_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("review_rating") is not None:
            return {}
        said = entity_values(tracker, "rating") or entity_values(tracker, "number")
        if said:
            return {"review_rating": said[0]}
        answer = self.requested_answer(tracker, "review_rating")
        return {"review_rating": answer} if answer else {}

    def validate_review_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, float) and 1 <= value <= 5 and value.is_integer():
            return {}
        try:
            rating = parse_rating(str(value or ""))
        except CareError as error:
            return self.reject("review_rating", error.message, dispatcher, tracker)
        return self.accept(review_rating=float(rating))

    async def extract_review_comment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "review_comment":
            return {}
        if latest_intent(tracker) == "deny":
            return {"review_comment": NO_COMMENT}
        answer = self.requested_answer(tracker, "review_comment")
        return {"review_comment": answer} if answer else {}

    def validate_review_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.accept(review_comment=" ".join(str(value or "").split())[:1000])


class ActionAskReviewRating(Action):
    """Asks for 1 to 5 stars with big buttons."""

    def name(self) -> str:
        return "action_ask_review_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [
            {"title": "★" * n + f"  {n}", "payload": "/inform" + json.dumps({"rating": str(n)})}
            for n in (5, 4, 3, 2, 1)
        ]
        dispatcher.utter_message(text="How many stars would you give, from 1 (poor) to 5 (excellent)?", buttons=buttons)
        return []


class ActionSaveReview(Action):
    """Saves the review; the provider's score is recomputed by the care layer."""

    def name(self) -> str:
        return "action_save_review"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in REVIEW_FORM_SLOTS]
        rating = tracker.get_slot("review_rating")
        if rating is None:
            dispatcher.utter_message(response="utter_nothing_to_review")
            return reset
        try:
            review = care().home_services.rate(
                tracker.sender_id,
                int(rating),
                reference=tracker.get_slot("review_reference"),
                comment=tracker.get_slot("review_comment") or "",
            )
        except CareError as error:
            dispatcher.utter_message(response="utter_review_failed", reason=error.message)
            return reset
        dispatcher.utter_message(
            response="utter_review_saved", provider=review.provider_name, stars=star_words(review.rating)
        )
        return reset


def complaint_from(text: str) -> str:
    """The message itself, when it says what went wrong rather than only "I want to complain"."""
    rest = [w for w in re.findall(r"[a-z']+", _COMPLAINT_FILLER.sub(" ", text.lower())) if len(w) > 2]
    return text.strip() if len(rest) >= 2 else ""


class ValidateComplaintForm(PatientFormValidation):
    """What went wrong, in the user's words."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def extract_complaint_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("complaint_text"):
            return {}
        answer = self.requested_answer(tracker, "complaint_text")
        if answer:
            return {"complaint_text": answer}
        if tracker.get_slot("requested_slot") is None:
            said = complaint_from(latest_text(tracker))
            return {"complaint_text": said} if said else {}
        return {}

    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 3:
            return self.reject("complaint_text", "Please tell me in a few words what went wrong.", dispatcher, tracker)
        return self.accept(complaint_text=text[:2000])


def record_complaint(conversation_id: str, text: str, reference: Optional[str]) -> ComplaintView:
    """Record the complaint; a reference that is not one of theirs must not lose it (it is kept in the text)."""
    try:
        return care().home_services.complain(conversation_id, text, reference=reference)
    except NotFound:
        if reference is None:
            raise
        return care().home_services.complain(conversation_id, text)


class ActionSubmitComplaint(Action):
    """Records the complaint against the booking and provider, escalates it, and gives a reference."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet("complaint_text", None), SlotSet("failed_attempts", 0.0)]
        text = tracker.get_slot("complaint_text") or ""
        reference = first_entity(tracker, "reference") or None
        try:
            complaint = record_complaint(tracker.sender_id, text, reference)
        except CareError as error:
            dispatcher.utter_message(response="utter_complaint_failed", reason=error.message)
            return reset
        except Exception:
            logger.exception("could not record a complaint for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_complaint_failed", reason="something went wrong on our side.")
            return reset
        about = f" about {complaint.provider_name}" if complaint.provider_name else ""
        dispatcher.utter_message(response="utter_complaint_recorded", about=about, reference=complaint.reference)
        return reset

"""Legal-aid and health questions: answered from the reviewed knowledge base, or passed to a person."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    care,
    first_entity,
    latest_intent,
    latest_text,
    profile_of,
)
from assistant.care.consultation.knowledge import KnowledgeBase, Match
from assistant.settings import PROJECT_ROOT, load_settings

logger = logging.getLogger(__name__)

KNOWLEDGE_FILES = (PROJECT_ROOT / "data" / "knowledge" / "legal.yml", PROJECT_ROOT / "data" / "knowledge" / "health.yml")
DOMAINS = {"consult_legal": "legal", "consult_health": "health"}
PERSON_BUTTONS = [
    {"title": "Talk to a person", "payload": "/talk_to_human"},
    {"title": "That helps, thank you", "payload": "/thank"},
]


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The knowledge base, loaded once per process."""
    return KnowledgeBase.load(KNOWLEDGE_FILES)


def best_match(question: str, area: Optional[str]) -> Optional[Match]:
    """The reviewed topic answering ``question``, looked for in ``area`` first, then everywhere."""
    if not question:
        return None
    match = knowledge().answer(question, domain=area)
    if match is None and area is not None:
        match = knowledge().answer(question)  # the classifier may have picked the wrong area
    return match


class ActionConsult(Action):
    """Answers from a reviewed topic, with its limits and who to contact; otherwise opens a ticket."""

    def name(self) -> str:
        return "action_consult"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = latest_text(tracker)
        area = DOMAINS.get(latest_intent(tracker))
        try:
            match = best_match(question, area)
        except Exception:  # a broken knowledge file must not leave the question unanswered: a person takes it
            logger.exception("the knowledge base failed on a %s question; passing it to a consultant", area)
            match = None
        if match is None:
            return self._ticket(dispatcher, tracker, question, area or "general")
        topic = match.topic
        contact = f" {topic.contact} can help further." if topic.contact else ""
        answer = topic.answer.strip()
        limits = "" if "lawyer's advice" in answer.lower() else " This is general information, not a lawyer's advice for your case."
        dispatcher.utter_message(
            response=f"utter_consult_answer_{topic.domain}",
            title=topic.title,
            answer=answer,
            contact=contact,
            limits=limits,
            reviewed=f"{topic.last_reviewed.day} {topic.last_reviewed:%B %Y}",  # a date is not JSON
            buttons=PERSON_BUTTONS,
        )
        return [SlotSet("consult_topic", topic.id)]

    @staticmethod
    def _ticket(
        dispatcher: CollectingDispatcher, tracker: Tracker, question: str, area: str
    ) -> list[EventType]:
        """Nothing reviewed covers it: a human consultant answers later, in this chat."""
        profile = profile_of(tracker)
        try:
            escalation = care().escalations.open(
                "consultation",
                tracker.sender_id,
                summary=f"{area} question: {question[:1000]}",
                person_id=profile.person_id if profile else None,
            )
        except Exception:
            logger.exception("could not open a consultation ticket for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_consult_unsaved")
            return []
        dispatcher.utter_message(
            response="utter_consult_ticket", reference=escalation.reference, number=load_settings().emergency_number
        )
        return [SlotSet("consult_topic", None)]


class ActionConsultationAnswer(Action):
    """Says a consultant's written answer, delivered by the care service into this chat."""

    def name(self) -> str:
        return "action_consultation_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = first_entity(tracker, "text")
        consultant = first_entity(tracker, "consultant", "our consultant")
        reference = first_entity(tracker, "reference")
        if text:
            dispatcher.utter_message(
                response="utter_consultation_answer", consultant=consultant, reference=reference, answer=text,
                buttons=PERSON_BUTTONS,
            )
        return []

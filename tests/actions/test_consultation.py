"""Legal and health questions: a reviewed answer with its limits, or a consultant who answers later."""

from __future__ import annotations

import json
from typing import Any, Iterator
from unittest.mock import patch

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from assistant.actions import consultation
from assistant.actions.consultation import ActionConsult, ActionConsultationAnswer
from assistant.care import CareServices
from assistant.care.consultation.knowledge import KnowledgeError
from assistant.care.core.models import Escalation

from .conftest import make_tracker, register, responses, slot_events

TALK_TO_A_PERSON = {"title": "Talk to a person", "payload": "/talk_to_human"}


def said(domain: dict[str, Any], message: dict[str, Any]) -> str:
    """The text the user reads: the domain response filled with the message's values."""
    template = domain["responses"][message["response"]][0]["text"]
    return template.format(**{k: v for k, v in message.items() if k not in ("response", "buttons", "text")})


def consultations(care: CareServices) -> list[Escalation]:
    with care.db.reading() as session:
        found = list(session.scalars(select(Escalation).where(Escalation.kind == "consultation")))
        session.expunge_all()
    return found


@pytest.fixture
def broken_knowledge() -> Iterator[None]:
    """The knowledge files cannot be loaded (e.g. a bad edit to data/knowledge/legal.yml)."""
    consultation.knowledge.cache_clear()
    with patch.object(consultation.KnowledgeBase, "load", side_effect=KnowledgeError("legal.yml: not valid YAML")):
        yield
    consultation.knowledge.cache_clear()


async def test_a_legal_question_gets_the_reviewed_answer_and_its_limits(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    events = await ActionConsult().run(dispatcher, make_tracker("how do i make a will", "consult_legal"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_consult_answer_legal"
    assert message["title"] == "Making or changing a will"
    assert "two witnesses" in message["answer"]
    assert message["reviewed"] == "20 November 2026"
    text = said(domain, message)
    assert text.count("not a lawyer's advice") == 1
    assert "Citizens Advice can help further." in text
    assert TALK_TO_A_PERSON in message["buttons"]
    json.dumps(dispatcher.messages)  # what the action server sends must be JSON
    assert slot_events(events) == {"consult_topic": "legal/wills"}
    assert consultations(care) == []


async def test_a_health_question_gets_the_answer_with_the_health_safety_words(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    events = await ActionConsult().run(dispatcher, make_tracker("what can i do to lower my blood pressure", "consult_health"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_consult_answer_health"
    text = said(domain, message)
    assert "I can't examine you or give a diagnosis" in text
    assert "follow your prescription or ask your pharmacist" in text
    assert TALK_TO_A_PERSON in message["buttons"]
    json.dumps(dispatcher.messages)
    assert slot_events(events) == {"consult_topic": "health/blood_pressure"}


async def test_a_question_in_the_other_area_is_still_answered(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    await ActionConsult().run(dispatcher, make_tracker("how do i make a will", "consult_health"), domain)
    assert responses(dispatcher) == ["utter_consult_answer_legal"]


async def test_an_uncovered_question_goes_to_a_consultant(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    question = "can my neighbour's tree roots damage the foundations of my garage"
    events = await ActionConsult().run(dispatcher, make_tracker(question, "consult_legal"), domain)
    assert responses(dispatcher) == ["utter_consult_ticket"]
    [escalation] = consultations(care)
    assert dispatcher.messages[0]["reference"] == escalation.reference
    assert dispatcher.messages[0]["number"] == "112"
    assert escalation.conversation_id == "mary-0001"
    assert question in escalation.summary and escalation.summary.startswith("legal question")
    assert slot_events(events) == {"consult_topic": None}


async def test_an_unregistered_person_can_still_ask_a_consultant(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    question = "can my neighbour's tree roots damage the foundations of my garage"
    await ActionConsult().run(dispatcher, make_tracker(question, "consult_legal", sender="visitor-01"), domain)
    assert responses(dispatcher) == ["utter_consult_ticket"]
    assert [e.conversation_id for e in consultations(care)] == ["visitor-01"]


async def test_a_broken_knowledge_base_passes_the_question_to_a_consultant(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], broken_knowledge: None, caplog: pytest.LogCaptureFixture) -> None:
    register(care)
    await ActionConsult().run(dispatcher, make_tracker("how do i make a will", "consult_legal"), domain)
    assert responses(dispatcher) == ["utter_consult_ticket"]  # not silence, and no answer made up
    [escalation] = consultations(care)
    assert dispatcher.messages[0]["reference"] == escalation.reference
    assert "how do i make a will" in escalation.summary
    assert "knowledge base failed" in caplog.text  # and the team can see why in the log


async def test_a_knowledge_base_failing_to_answer_passes_the_question_on(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    register(care)
    with patch.object(consultation.KnowledgeBase, "answer", side_effect=RuntimeError("index corrupted")):
        await ActionConsult().run(dispatcher, make_tracker("how do i make a will", "consult_legal"), domain)
    assert responses(dispatcher) == ["utter_consult_ticket"]
    assert len(consultations(care)) == 1


async def test_no_ticket_saved_is_said_honestly(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any], broken_knowledge: None) -> None:
    register(care)
    with patch.object(type(care.escalations), "open", side_effect=RuntimeError("database is down")):
        events = await ActionConsult().run(dispatcher, make_tracker("how do i make a will", "consult_legal"), domain)
    assert responses(dispatcher) == ["utter_consult_unsaved"]
    assert events == []


async def test_a_consultants_answer_is_said_with_a_person_button(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="EXTERNAL_consultation_answer", entities=[
        ("text", "Yes, roots from a neighbour's tree can be a nuisance; ask them to cut them back first."),
        ("consultant", "Priya"), ("reference", "E-7K3Q9")])
    await ActionConsultationAnswer().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_consultation_answer"
    assert (message["consultant"], message["reference"]) == ("Priya", "E-7K3Q9")
    assert message["text"] is None, "a text would replace the response: the user would not see who answered"
    assert said(domain, message).startswith("Priya has answered your question (E-7K3Q9): Yes, roots")
    assert TALK_TO_A_PERSON in message["buttons"]


async def test_the_legal_limit_is_said_once_even_when_the_answer_says_it_too(
    care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    await ActionConsult().run(dispatcher, make_tracker("how do I stop scam phone calls", "consult_legal"), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_consult_answer_legal"
    assert said(domain, message).count("not a lawyer's advice") == 1

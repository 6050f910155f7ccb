"""End to end through Rasa's REST channel: register, order, check, cancel; emergencies; bad input."""

from __future__ import annotations

import re

import pytest

from assistant.care import CareServices

from .conftest import RunningStack, button_payloads, log_tail, texts

pytestmark = pytest.mark.stack


def register(stack: RunningStack, sender: str, diet: str = "diabetic") -> None:
    """Answers the registration questions like a new user."""
    replies = stack.say(sender, "hello")
    assert "What is your name?" in texts(replies), texts(replies) + log_tail(stack, "rasa")
    assert "address" in texts(stack.say(sender, "Mary Jones"))
    replies = stack.say(sender, "12 Mill Lane")
    assert "/inform{\"district\": \"Riverside\"}" in button_payloads(replies)
    replies = stack.say(sender, "/inform{\"district\": \"Riverside\"}")
    assert "diet" in texts(replies)
    replies = stack.say(sender, diet)
    assert "Is that all right?" in texts(replies)
    replies = stack.say(sender, "yes")
    assert "I've saved your details" in texts(replies), texts(replies)


def test_new_user_registers_orders_checks_and_cancels_a_diabetic_lunch(running_stack: RunningStack, sender: str) -> None:
    register(running_stack, sender)

    replies = running_stack.say(sender, "I'd like a diabetic-friendly lunch tomorrow at noon")
    options = [p for p in button_payloads(replies) if p.startswith("/inform{\"choice\"")]
    assert options, texts(replies) + log_tail(running_stack, "actions")
    assert "tomorrow at 12:00" in texts(replies)

    replies = running_stack.say(sender, options[0])
    summary = texts(replies)
    assert "Shall I order it?" in summary and "€1.50 delivery" in summary, summary

    replies = running_stack.say(sender, "yes")
    confirmation = texts(replies)
    match = re.search(r"reference is ([A-Z]{2}-[A-Z0-9]{5})", confirmation)
    assert match, confirmation
    reference = match.group(1)

    care = CareServices.from_url(running_stack.database_url)
    [order] = care.meals.list_orders(sender)
    assert order.reference == reference and order.status == "confirmed"
    assert order.total_cents > 0

    replies = running_stack.say(sender, "what have I ordered?")
    assert reference in texts(replies)

    replies = running_stack.say(sender, "can my lunch come at 1pm instead")
    assert f"Move {reference}" in texts(replies) and "to tomorrow at 13:00" in texts(replies), texts(replies)
    replies = running_stack.say(sender, "yes")
    assert f"{reference} is now tomorrow at 13:00" in texts(replies), texts(replies)
    [moved] = care.meals.list_orders(sender)
    assert (moved.starts_at - order.starts_at).total_seconds() == 3600

    replies = running_stack.say(sender, "cancel my lunch order")
    assert f"Cancel {reference}" in texts(replies), texts(replies)
    replies = running_stack.say(sender, "yes")
    assert f"{reference} is cancelled" in texts(replies)
    assert care.meals.list_orders(sender) == []

    replies = running_stack.say(sender, "hello")
    assert "Hello Mary" in texts(replies)


def test_an_emergency_in_the_middle_of_an_order_is_answered_at_once(running_stack: RunningStack, sender: str) -> None:
    register(running_stack, sender)
    replies = running_stack.say(sender, "I want to order lunch")
    assert "When would you like it?" in texts(replies)
    replies = running_stack.say(sender, "I've fallen and can't get up")
    assert "call 112" in texts(replies), texts(replies)
    care = CareServices.from_url(running_stack.database_url)
    emergencies = [e for e in care.escalations.list_open() if e.conversation_id == sender]
    assert [e.priority for e in emergencies] == [1]
    replies = running_stack.say(sender, "what have I ordered?")
    assert "nothing booked" in texts(replies)


def test_a_possible_emergency_asks_first_and_no_carries_on(running_stack: RunningStack, sender: str) -> None:
    replies = running_stack.say(sender, "my dad doesn't know who I am today")
    said = texts(replies)
    assert "call 112 now" in said and "Are you hurt or in danger right now?" in said, said
    assert "within 2 minutes" in said, said + log_tail(running_stack, "actions")
    assert {"/emergency", "/not_in_danger"} <= set(button_payloads(replies))
    care = CareServices.from_url(running_stack.database_url)
    assert care.danger_checks.open_for(sender) is not None
    assert [e for e in care.escalations.list_open() if e.conversation_id == sender] == [], "asked, not alarmed"

    replies = running_stack.say(sender, "/not_in_danger")
    assert "glad you're safe" in texts(replies), texts(replies)
    assert "/talk_to_human" in button_payloads(replies)
    assert care.danger_checks.open_for(sender) is None
    assert [e for e in care.escalations.list_open() if e.conversation_id == sender] == []


def test_yes_to_the_danger_question_raises_the_alarm_about_what_was_written(
    running_stack: RunningStack, sender: str
) -> None:
    running_stack.say(sender, "my dad doesn't know who I am today")
    replies = running_stack.say(sender, "yes")
    said = texts(replies)
    assert "call 112" in said and "I have alerted" in said, said
    care = CareServices.from_url(running_stack.database_url)
    [alarm] = [e for e in care.escalations.list_open() if e.conversation_id == sender]
    assert alarm.priority == 1 and "know who I am" in alarm.summary


@pytest.mark.parametrize(
    "message",
    ["", "   ", "a" * 5000, "🙂🙂🙂", "¿Dónde está mi comida?", "'; DROP TABLE bookings; --", "<script>alert(1)</script>"],
    ids=["empty", "spaces", "5000-chars", "emoji", "spanish", "sql", "html"],
)
def test_odd_input_gets_a_kind_reply(running_stack: RunningStack, sender: str, message: str) -> None:
    replies = running_stack.say(sender, message)
    if message.strip():
        assert replies and all(r.get("text") for r in replies), replies
        assert "Traceback" not in texts(replies)
    # the stack is still healthy afterwards
    assert running_stack.say(sender, "what can you do")

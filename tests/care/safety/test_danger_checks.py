"""The "are you hurt or in danger right now?" question: yes or silence raises the alarm, no does not."""

from __future__ import annotations

from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.core.models import DangerCheck, Notification

from ..helpers import FakeClock


def _senior_with_daughter(care: CareServices) -> None:
    care.people.register_senior("mary-0001", "webchat", "Mary Jones", "12 Mill Lane", "Riverside", [], True)
    care.people.link_relative("mary-0001", "anne-0001", "Anne Jones", "daughter")


def test_no_closes_the_question_and_alerts_nobody(care: CareServices, clock: FakeClock) -> None:
    _senior_with_daughter(care)
    care.danger_checks.ask("mary-0001", "I had a fall last week, can someone clean", "fall", message_id="m1")
    check, alarm = care.danger_checks.answer("mary-0001", False)
    assert check is not None and check.answer == "no" and alarm is None
    clock.advance(minutes=5)
    assert care.danger_checks.raise_overdue() == 0
    assert care.escalations.list_open() == []


def test_yes_raises_the_full_alarm_about_the_message_that_was_asked_about(care: CareServices) -> None:
    _senior_with_daughter(care)
    care.danger_checks.ask("mary-0001", "my legs went from under me this morning", None, message_id="m1")
    check, alarm = care.danger_checks.answer("mary-0001", True, message_id="m2")
    assert alarm is not None and alarm.alerted == ("Anne",)
    [escalation] = care.escalations.list_open()
    assert escalation.priority == 1 and "legs went from under me" in escalation.summary
    assert "answered yes" in escalation.summary
    assert check is not None and check.answer == "yes"
    assert care.danger_checks.open_for("mary-0001") is None


def test_silence_raises_the_alarm_after_two_minutes_and_tells_the_user(care: CareServices, clock: FakeClock) -> None:
    _senior_with_daughter(care)
    care.danger_checks.ask("mary-0001", "feeling very strange and shaky", "hypo", message_id="m1")
    clock.advance(seconds=119)
    assert care.danger_checks.raise_overdue() == 0, "not before the two minutes are up"
    clock.advance(seconds=2)
    assert care.danger_checks.raise_overdue() == 1
    assert care.danger_checks.raise_overdue() == 0, "once"
    [escalation] = care.escalations.list_open()
    assert escalation.priority == 1 and "no answer within 2 minutes" in escalation.summary
    with care.db.reading() as session:
        intents = sorted(n.intent for n in session.scalars(select(Notification)))
        check = session.scalar(select(DangerCheck))
        assert check is not None and check.answer == "timeout" and check.escalation_reference == escalation.reference
    assert intents == ["EXTERNAL_danger_timeout", "EXTERNAL_emergency_alert"], "the user and the daughter are told"


def test_an_unknown_user_is_told_in_their_conversation(care: CareServices, clock: FakeClock) -> None:
    care.danger_checks.ask("visitor-1", "something's not right with me", None, message_id="m1")
    clock.advance(minutes=3)
    assert care.danger_checks.raise_overdue() == 1
    with care.db.reading() as session:
        [note] = list(session.scalars(select(Notification)))
        assert note.conversation_id == "visitor-1" and note.intent == "EXTERNAL_danger_timeout"


def test_the_same_message_is_asked_about_once(care: CareServices) -> None:
    first = care.danger_checks.ask("mary-0001", "I had a fall", None, message_id="m1")
    again = care.danger_checks.ask("mary-0001", "I had a fall", None, message_id="m1")
    assert first.id == again.id
    assert first.new and not again.new, "the second time says it was already asked"


def test_yes_with_no_open_question_raises_nothing_here(care: CareServices) -> None:
    assert care.danger_checks.answer("mary-0001", True) == (None, None)
    assert care.escalations.list_open() == []

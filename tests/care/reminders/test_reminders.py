"""Tests for assistant.care.reminders.reminders: schedules, the conversation side and the scheduler side."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time as walltime
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, NotAllowed, NotFound, NotRegistered
from assistant.care.core.models import (
    AuditLog,
    Escalation,
    Notification,
    Reminder,
    ReminderDelivery,
)
from assistant.care.core.notifications import MAX_ATTEMPTS
from assistant.care.reminders.reminders import (
    ACKNOWLEDGED_INTENT,
    CHECKIN_ALERT_INTENT,
    MISSED_INTENT,
    Schedule,
    parse_schedule,
)

from ..helpers import FakeClock, at, register
from ..test_postgres import URL, postgres  # noqa: F401 - the PostgreSQL fixture

ROOT = Path(__file__).resolve().parents[3]

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
NOW = at(1, 9)
"""Monday 1 December 2025, 09:00 (London is on UTC in winter)."""


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def deliveries(db: Database) -> list[ReminderDelivery]:
    with db.reading() as session:
        return list(session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))


def escalations(db: Database) -> list[Escalation]:
    with db.reading() as session:
        return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def notifications(db: Database) -> list[Notification]:
    with db.reading() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def audit_actions(db: Database) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


@pytest.fixture
def senior(care: CareServices) -> str:
    """A registered senior in London; returns the conversation id."""
    register(care, "conv-edith")
    return "conv-edith"


@pytest.fixture
def relative(care: CareServices, senior: str) -> str:
    """A relative linked to the senior; returns the relative's conversation id."""
    care.people.link_relative(senior, "conv-anna", "Anna Smith", "daughter")
    return "conv-anna"


def pill(care: CareServices, conversation: str = "conv-edith", when: str = "every day at 8 and 20"):
    return care.reminders.create(conversation, "medication", "Blood pressure pill", when, dose="1 tablet")


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------


def test_every_day_at_two_times() -> None:
    schedule = parse_schedule("every day at 8 and 20", NOW, LONDON)

    assert schedule.kind == "weekly"
    assert schedule.times == (time(8), time(20))
    assert schedule.describe() == "every day at 08:00 and 20:00"
    assert schedule.next_after(NOW) == at(1, 20)
    assert schedule.next_after(at(1, 20)) == at(2, 8)


def test_every_monday_and_thursday() -> None:
    schedule = parse_schedule("every Monday and Thursday at 10", NOW, LONDON)

    assert schedule.describe() == "every Monday and Thursday at 10:00"
    assert schedule.next_after(NOW) == at(1, 10)
    assert schedule.next_after(at(1, 10)) == at(4, 10)
    assert schedule.next_after(at(4, 10)) == at(8, 10)


def test_one_off_times() -> None:
    in_two_hours = parse_schedule("in 2 hours", NOW, LONDON)
    tomorrow = parse_schedule("tomorrow at 3pm", NOW, LONDON)

    assert (in_two_hours.kind, in_two_hours.at) == ("once", at(1, 11))
    assert tomorrow.at == at(2, 15)
    assert tomorrow.describe() == "on Tuesday 2 December at 15:00"
    assert tomorrow.describe(NOW) == "tomorrow (Tuesday 2 December) at 15:00"
    assert tomorrow.next_after(NOW) == at(2, 15)
    assert tomorrow.next_after(at(2, 15)) is None


def test_intervals() -> None:
    hours = parse_schedule("every 4 hours", NOW, LONDON)
    half = parse_schedule("every half an hour", NOW, LONDON)
    other_day = parse_schedule("every other day at 9", NOW, LONDON)

    assert (hours.describe(), hours.next_after(NOW), hours.next_after(at(1, 13))) == (
        "every 4 hours", at(1, 13), at(1, 17)
    )
    assert half.every_minutes == 30
    assert other_day.describe() == "every other day at 09:00"
    assert other_day.next_after(NOW) == at(3, 9)
    assert other_day.next_after(at(3, 9)) == at(5, 9)


def test_a_part_of_the_day_gives_a_time() -> None:
    assert parse_schedule("every morning", NOW, LONDON).describe() == "every day at 08:00"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("yesterday", "passed"),
        ("yesterday at 8", "passed"),
        ("every 0 minutes", "not possible"),
        ("every 10 minutes", "at most every 15 minutes"),
        ("every minute", "at most every 15 minutes"),
        ("every day", "At what time"),
        ("on friday", "At what time"),
        ("in 0 minutes", "later than now"),
        ("purple elephants", "did not understand"),
        ("", "did not understand"),
        ("x" * 5000, "did not understand"),
    ],
)
def test_times_that_cannot_be_used(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_schedule(text, NOW, LONDON)

    assert caught.value.field == "time"
    assert words in caught.value.message


def test_daily_time_keeps_local_time_across_both_clock_changes() -> None:
    schedule = parse_schedule("every day at 8", utc(2026, 3, 27, 9), LONDON)

    spring = schedule.next_after(utc(2026, 3, 28, 8))
    autumn = schedule.next_after(utc(2026, 10, 24, 7))

    assert spring == utc(2026, 3, 29, 7)  # 08:00 BST
    assert spring.astimezone(LONDON).hour == 8
    assert autumn == utc(2026, 10, 25, 8)  # 08:00 GMT
    assert autumn.astimezone(LONDON).hour == 8


def test_a_time_skipped_or_repeated_by_the_clock_change_is_due_once() -> None:
    schedule = Schedule("weekly", "Europe/London", weekdays=tuple(range(7)), times=(time(1, 30),))

    skipped = schedule.next_after(utc(2026, 3, 28, 12))
    repeated = schedule.next_after(utc(2026, 10, 24, 12))

    assert skipped == utc(2026, 3, 29, 1, 30)  # 01:30 does not exist: 02:30 BST
    assert schedule.next_after(skipped) == utc(2026, 3, 30, 0, 30)
    assert repeated == utc(2026, 10, 25, 0, 30)  # the first 01:30 (BST)
    assert schedule.next_after(repeated) == utc(2026, 10, 26, 1, 30)


def test_day_intervals_follow_the_local_clock_and_hour_intervals_elapsed_time() -> None:
    days = parse_schedule("every other day at 9", utc(2026, 3, 27, 10), LONDON)
    hours = parse_schedule("every 6 hours", utc(2026, 3, 28, 18), LONDON)

    assert days.next_after(utc(2026, 3, 27, 12)) == utc(2026, 3, 28, 9)  # 09:00 GMT
    assert days.next_after(utc(2026, 3, 28, 9)) == utc(2026, 3, 30, 8)  # 09:00 BST
    assert hours.next_after(utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 6)


def test_schedules_round_trip_through_json() -> None:
    for text in ("every day at 8 and 20", "tomorrow at 3pm", "every 4 hours", "every other day at 9"):
        schedule = parse_schedule(text, NOW, LONDON)
        assert Schedule.from_json(schedule.to_json()) == schedule
    with pytest.raises(ValueError):
        Schedule.from_json('{"kind": "sometimes", "timezone": "Europe/London"}')


def test_schedules_use_the_seniors_timezone() -> None:
    schedule = parse_schedule("every day at 8", NOW, ZoneInfo("America/New_York"))

    assert schedule.next_after(NOW) == at(1, 13)


# ---------------------------------------------------------------------------
# Create, preview, list, cancel
# ---------------------------------------------------------------------------


def test_preview_reads_back_without_saving(care: CareServices, senior: str) -> None:
    view = care.reminders.preview(senior, "medication", "Blood pressure pill", "every day at 8 and 20",
                                  dose="1 tablet")

    assert view.saved is False and view.reminder_id is None
    assert view.schedule == "every day at 08:00 and 20:00"
    assert view.next_due_at == at(1, 20)
    assert view.read_back == (
        "Blood pressure pill (1 tablet), every day at 08:00 and 20:00. The next one is today at 20:00."
    )
    assert care.reminders.list_for(senior) == []


def test_create_saves_with_medication_escalation_by_default(care: CareServices, senior: str) -> None:
    view = pill(care)
    appointment = care.reminders.create(senior, "appointment", "Dentist", "tomorrow at 3pm",
                                        location="High Street")

    assert view.saved and view.reminder_id is not None
    assert view.escalate_after_minutes == 30
    assert appointment.escalate_after_minutes is None
    assert appointment.read_back == "Dentist at High Street, tomorrow (Tuesday 2 December) at 15:00."
    assert [r.title for r in care.reminders.list_for(senior)] == ["Blood pressure pill", "Dentist"]
    assert "reminder.created" in audit_actions(care.db)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "x" * 2000}, "title"),
        ({"title": "  "}, "title"),
        ({"dose": "y" * 2000}, "dose"),
        ({"kind": "astrology"}, "kind"),
        ({"schedule_text": "every 0 minutes"}, "time"),
        ({"schedule_text": "z" * 2000}, "time"),
        ({"escalate_after_minutes": 0}, "escalate_after_minutes"),
    ],
)
def test_bad_reminders_are_refused_kindly(care: CareServices, senior: str, kwargs: dict, field: str) -> None:
    values = {"kind": "medication", "title": "Pill", "schedule_text": "every day at 8", **kwargs}
    extra = {k: values.pop(k) for k in ("dose", "escalate_after_minutes") if k in values}

    with pytest.raises(InvalidInput) as caught:
        care.reminders.create(senior, values["kind"], values["title"], values["schedule_text"], **extra)

    assert caught.value.field == field
    assert care.reminders.list_for(senior) == []


def test_unknown_conversation_cannot_set_reminders(care: CareServices) -> None:
    with pytest.raises(NotRegistered):
        care.reminders.create("conv-stranger", "other", "Bins", "tomorrow at 8")


def test_a_relative_creates_for_the_linked_senior(care: CareServices, senior: str, relative: str) -> None:
    view = pill(care, relative)

    assert [r.reminder_id for r in care.reminders.list_for(senior)] == [view.reminder_id]
    with care.db.reading() as session:
        reminder = session.get(Reminder, view.reminder_id)
        assert reminder is not None
        assert reminder.created_by_id != reminder.senior_id


def test_a_relative_of_two_seniors_is_not_guessed_for(care: CareServices, senior: str, relative: str) -> None:
    register(care, "conv-arthur", name="Arthur Jones")
    care.people.link_relative("conv-arthur", relative, "Anna Smith", "niece")

    with pytest.raises(NotAllowed):
        pill(care, relative)


def test_cancel_by_number_and_by_misspelt_name(care: CareServices, senior: str) -> None:
    first = pill(care)
    second = care.reminders.create(senior, "appointment", "Dentist", "tomorrow at 3pm")

    assert care.reminders.cancel(senior, str(second.reminder_id)).active is False
    assert care.reminders.cancel(senior, "blod presure").reminder_id == first.reminder_id
    assert care.reminders.list_for(senior) == []
    assert audit_actions(care.db).count("reminder.cancelled") == 2


def test_cancel_asks_which_one_when_ambiguous(care: CareServices, senior: str) -> None:
    pill(care)
    care.reminders.create(senior, "medication", "Vitamin pill", "every day at 9")

    with pytest.raises(InvalidInput) as caught:
        care.reminders.cancel(senior, "pill")
    with pytest.raises(NotFound):
        care.reminders.cancel(senior, "choir practice")

    assert "'Blood pressure pill'" in caught.value.message and "'Vitamin pill'" in caught.value.message
    assert len(care.reminders.list_for(senior)) == 2


# ---------------------------------------------------------------------------
# Due deliveries
# ---------------------------------------------------------------------------


def test_due_deliveries_creates_one_row_and_advances(care: CareServices, senior: str) -> None:
    reminder = pill(care)
    service = care.reminders

    assert service.due_deliveries(at(1, 19, 59)) == []
    due = service.due_deliveries(at(1, 20, 0))
    again = service.due_deliveries(at(1, 20, 1))  # not sent yet: offered again, not duplicated

    assert [(d.reminder_id, d.due_at, d.status, d.note) for d in due] == [
        (reminder.reminder_id, at(1, 20), "pending", "")
    ]
    assert due[0].conversation_id == senior and due[0].dose == "1 tablet"
    assert [d.delivery_id for d in again] == [due[0].delivery_id]
    assert service.list_for(senior)[0].next_due_at == at(2, 8)

    service.record_sent(due[0].delivery_id, at(1, 20, 1))
    assert service.due_deliveries(at(1, 20, 2)) == []
    assert len(deliveries(care.db)) == 1


def test_the_database_refuses_a_second_row_for_a_due_time(care: CareServices, senior: str) -> None:
    pill(care)
    due = care.reminders.due_deliveries(at(1, 20))[0]

    with pytest.raises(IntegrityError):
        with care.db.reading() as session:
            session.add(ReminderDelivery(reminder_id=due.reminder_id, due_at=due.due_at, status="pending",
                                         attempts=0, note=""))


def test_a_process_with_stale_state_cannot_duplicate_a_due_time(care: CareServices, senior: str) -> None:
    view = pill(care)
    care.reminders.due_deliveries(at(1, 20))
    with care.db.reading() as session:  # as another process that read the reminder before it moved on
        reminder = session.get(Reminder, view.reminder_id)
        assert reminder is not None
        reminder.next_due_at = at(1, 20)

    care.reminders.due_deliveries(at(1, 20, 1))

    assert [r.due_at for r in deliveries(care.db)] == [at(1, 20)]
    assert care.reminders.list_for(senior)[0].next_due_at == at(2, 8)


def test_a_one_off_reminder_ends_after_its_time(care: CareServices, senior: str) -> None:
    care.reminders.create(senior, "other", "Call the plumber", "in 2 hours")

    assert len(care.reminders.due_deliveries(at(1, 11))) == 1
    assert care.reminders.list_for(senior) == []


def test_cancelled_reminders_are_not_sent(care: CareServices, senior: str) -> None:
    pill(care)
    care.reminders.due_deliveries(at(1, 20))
    care.reminders.cancel(senior, "blood pressure pill")

    assert care.reminders.due_deliveries(at(1, 20, 1)) == []


def test_nothing_is_sent_after_consent_is_withdrawn(care: CareServices, senior: str) -> None:
    pill(care)
    care.reminders.due_deliveries(at(1, 20))
    care.people.withdraw_consent(senior)

    assert care.reminders.due_deliveries(at(1, 20, 1)) == []
    assert care.reminders.due_deliveries(at(2, 8)) == []
    assert care.reminders.overdue_unacknowledged(at(2, 9)) == []


def test_withdrawing_consent_deletes_reminders_and_deliveries(
    care: CareServices, senior: str, relative: str
) -> None:
    pill(care)
    care.reminders.create(relative, "appointment", "Cardiology clinic", "tomorrow at 3pm")
    sent = care.reminders.due_deliveries(at(1, 20))[0]
    care.reminders.record_sent(sent.delivery_id, at(1, 20))
    register(care, "conv-arthur", name="Arthur Jones")
    kept = care.reminders.create("conv-arthur", "medication", "Vitamin D", "every day at 9")

    care.people.withdraw_consent(senior)

    with care.db.reading() as session:
        assert [r.id for r in session.scalars(select(Reminder))] == [kept.reminder_id]
        assert session.scalars(select(ReminderDelivery)).all() == []
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "reminders.deleted")).one()
        assert json.loads(entry.detail) == {"reminders": 2, "deliveries": 1, "reason": "consent withdrawn"}
        assert "pill" not in entry.detail.lower()
    register(care, senior)
    assert care.reminders.list_for(senior) == []
    assert [r.title for r in care.reminders.list_for("conv-arthur")] == ["Vitamin D"]


def test_failed_attempts_back_off_then_fail_with_an_escalation(
    care: CareServices, senior: str, clock: FakeClock
) -> None:
    pill(care)
    service = care.reminders
    delivery_id = service.due_deliveries(at(1, 20))[0].delivery_id
    clock.now = at(1, 20)

    view = service.record_failed(delivery_id, "Rasa is not reachable")
    assert (view.status, view.attempts) == ("pending", 1)
    assert service.due_deliveries(at(1, 20) + timedelta(seconds=9)) == []
    assert [d.attempts for d in service.due_deliveries(at(1, 20) + timedelta(seconds=10))] == [1]
    service.record_failed(delivery_id, "Rasa answered 500")
    assert service.due_deliveries(at(1, 20) + timedelta(seconds=29)) == []
    assert [d.attempts for d in service.due_deliveries(at(1, 20) + timedelta(seconds=30))] == [2]
    for _ in range(3, MAX_ATTEMPTS + 1):
        view = service.record_failed(delivery_id, "Rasa answered 500")
        clock.advance(minutes=10)
    assert view.status == "failed" and view.attempts == MAX_ATTEMPTS
    assert service.due_deliveries(clock.now) == []
    assert [(e.kind, e.status) for e in escalations(care.db)] == [("failed_delivery", "open")]
    assert "reminder_delivery.failed" in audit_actions(care.db)


# ---------------------------------------------------------------------------
# Acknowledge and snooze
# ---------------------------------------------------------------------------


def sent_pill(care: CareServices, clock: FakeClock, sent: datetime = at(1, 20)) -> int:
    """Create the pill reminder and send its 20:00 delivery; returns the delivery id."""
    pill(care)
    due = care.reminders.due_deliveries(sent)[0]
    care.reminders.record_sent(due.delivery_id, sent)
    clock.now = sent
    return due.delivery_id


def test_acknowledge_the_latest_reminder(care: CareServices, senior: str, clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)
    clock.advance(minutes=5)

    view = care.reminders.acknowledge(senior)

    assert view is not None and view.delivery_id == delivery_id
    assert (view.status, view.acknowledged_at) == ("acknowledged", at(1, 20, 5))
    assert care.reminders.acknowledge(senior) is None
    assert care.reminders.overdue_unacknowledged(at(2, 20)) == []
    assert "reminder_delivery.acknowledged" in audit_actions(care.db)


def test_a_relative_may_acknowledge(care: CareServices, senior: str, relative: str, clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)

    view = care.reminders.acknowledge(relative, delivery_id)

    assert view is not None and view.status == "acknowledged"
    with care.db.reading() as session:
        row = session.get(ReminderDelivery, delivery_id)
        assert row is not None and row.acknowledged_by_id != row.reminder.senior_id


def test_acknowledging_someone_elses_delivery_is_not_found(care: CareServices, senior: str,
                                                           clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)
    register(care, "conv-arthur", name="Arthur Jones")

    with pytest.raises(NotFound):
        care.reminders.acknowledge("conv-arthur", delivery_id)


def test_snooze_sends_again_later(care: CareServices, senior: str, clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)

    view = care.reminders.snooze(senior, 10)

    assert view is not None and (view.status, view.snoozed_until) == ("snoozed", at(1, 20, 10))
    assert care.reminders.due_deliveries(at(1, 20, 9)) == []
    assert [d.delivery_id for d in care.reminders.due_deliveries(at(1, 20, 10))] == [delivery_id]
    assert care.reminders.record_sent(delivery_id, at(1, 20, 10)).status == "sent"
    assert "reminder_delivery.snoozed" in audit_actions(care.db)


def test_snooze_has_limits(care: CareServices, senior: str, clock: FakeClock) -> None:
    sent_pill(care, clock)

    with pytest.raises(InvalidInput):
        care.reminders.snooze(senior, 0)
    clock.now = at(1, 22, 30)
    with pytest.raises(InvalidInput) as caught:
        care.reminders.snooze(senior, 60)

    assert "23:00" in caught.value.message


# ---------------------------------------------------------------------------
# Escalation
# ---------------------------------------------------------------------------


def test_escalation_tells_relatives_then_coordinators(
    care: CareServices, senior: str, relative: str, clock: FakeClock
) -> None:
    delivery_id = sent_pill(care, clock)
    service = care.reminders

    assert service.overdue_unacknowledged(at(1, 20, 29)) == []
    assert [d.delivery_id for d in service.overdue_unacknowledged(at(1, 20, 30))] == [delivery_id]
    first = service.escalate(delivery_id, at(1, 20, 30))
    told = notifications(care.db)

    assert (first.status, first.escalated_at) == ("sent", at(1, 20, 30))
    assert escalations(care.db) == []
    assert [(n.kind, n.intent) for n in told] == [("missed_reminder", MISSED_INTENT)]
    assert told[0].entities["title"] == "Blood pressure pill" and told[0].entities["due_time"] == "20:00"
    assert service.overdue_unacknowledged(at(1, 20, 59)) == []

    second = service.escalate(delivery_id, at(1, 21))

    assert second.status == "escalated"
    assert [(e.kind, e.priority, e.conversation_id) for e in escalations(care.db)] == [
        ("missed_medication", 2, senior)
    ]
    assert service.overdue_unacknowledged(at(1, 23)) == []


def test_a_relative_not_shown_reminders_cannot_set_them_and_is_not_told_of_a_missed_one(
    care: CareServices, senior: str, relative: str, clock: FakeClock
) -> None:
    [anna] = care.family.family(senior).members
    care.family.set_share(senior, anna.link_id, "reminders", False)
    with pytest.raises(NotAllowed, match="has not chosen to share their reminders and pills with you"):
        pill(care, relative)
    delivery_id = sent_pill(care, clock)

    view = care.reminders.escalate(delivery_id, at(1, 20, 30))

    assert notifications(care.db) == []  # Anna hears nothing of Edith's pills
    assert view.status == "escalated" and [e.kind for e in escalations(care.db)] == ["missed_medication"]
    with pytest.raises(NotAllowed, match="Only the person you help"):
        care.family.set_share(relative, anna.link_id, "reminders", True)
    care.family.set_share(senior, anna.link_id, "reminders", True)
    assert pill(care, relative).title == "Blood pressure pill"


def test_without_relatives_coordinators_are_told_at_once(care: CareServices, senior: str,
                                                         clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)

    view = care.reminders.escalate(delivery_id, at(1, 20, 30))

    assert view.status == "escalated"
    assert [e.kind for e in escalations(care.db)] == ["missed_medication"]
    assert notifications(care.db) == []


def test_a_late_confirmation_stops_escalation_and_tells_relatives(
    care: CareServices, senior: str, relative: str, clock: FakeClock
) -> None:
    delivery_id = sent_pill(care, clock)
    care.reminders.escalate(delivery_id, at(1, 20, 30))
    clock.now = at(1, 20, 40)

    care.reminders.acknowledge(senior)

    assert care.reminders.overdue_unacknowledged(at(1, 23)) == []
    assert care.reminders.escalate(delivery_id, at(1, 23)).status == "acknowledged"
    assert [n.intent for n in notifications(care.db)] == [MISSED_INTENT, ACKNOWLEDGED_INTENT]
    assert escalations(care.db) == []


# ---------------------------------------------------------------------------
# Check-in
# ---------------------------------------------------------------------------


def sent_checkin(care: CareServices, senior: str, clock: FakeClock) -> int:
    view = care.reminders.set_checkin(senior, "at 10")
    assert (view.kind, view.schedule) == ("checkin", "every day at 10:00")
    due = care.reminders.due_deliveries(at(1, 10))[0]
    care.reminders.record_sent(due.delivery_id, at(1, 10))
    clock.now = at(1, 10, 5)
    return due.delivery_id


def test_checkin_answered_fine(care: CareServices, senior: str, clock: FakeClock) -> None:
    delivery_id = sent_checkin(care, senior, clock)

    result = care.reminders.answer_checkin(senior, "fine")

    assert (result.answer, result.delivery_id, result.escalation_reference) == ("fine", delivery_id, None)
    assert escalations(care.db) == []
    assert deliveries(care.db)[0].answer == "fine"


@pytest.mark.parametrize(("answer", "kind"), [("not good", "wellbeing"), ("call_me", "talk_to_human")])
def test_checkin_answers_that_need_a_person(
    care: CareServices, senior: str, relative: str, clock: FakeClock, answer: str, kind: str
) -> None:
    sent_checkin(care, senior, clock)

    result = care.reminders.answer_checkin(senior, answer)

    assert [e.kind for e in escalations(care.db)] == [kind]
    assert result.escalation_reference == escalations(care.db)[0].reference
    assert result.relatives_told == 1
    assert [n.intent for n in notifications(care.db)] == [CHECKIN_ALERT_INTENT]


@pytest.mark.parametrize(
    ("said", "meant"),
    [("I'm fine thanks", "fine"), ("not so good today", "not_good"), ("fine but please call me", "call_me"),
     ("OK", "fine"), ("poorly", "not_good")],
)
def test_checkin_answers_in_words(care: CareServices, senior: str, said: str, meant: str) -> None:
    assert care.reminders.answer_checkin(senior, said).answer == meant


def test_an_escalated_reminder_can_be_confirmed_but_not_put_off(care: CareServices, senior: str,
                                                                clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)
    care.reminders.escalate(delivery_id, at(1, 20, 30))
    clock.now = at(1, 20, 35)

    assert care.reminders.snooze(senior, 10) is None
    view = care.reminders.acknowledge(senior)
    assert view is not None and view.status == "acknowledged"


def test_the_number_of_reminders_is_capped(care: CareServices, senior: str) -> None:
    for n in range(50):
        care.reminders.create(senior, "other", f"Water the plant {n}", "every day at 9")

    with pytest.raises(InvalidInput):
        care.reminders.preview(senior, "other", "One more", "every day at 9")


def test_checkin_reschedule_stop_and_nonsense(care: CareServices, senior: str) -> None:
    care.reminders.set_checkin(senior, "at 10")
    moved = care.reminders.set_checkin(senior, "every day at 11")

    with pytest.raises(InvalidInput):
        care.reminders.answer_checkin(senior, "purple")
    with pytest.raises(InvalidInput):
        care.reminders.set_checkin(senior, "every 2 hours")
    assert [r.schedule for r in care.reminders.list_for(senior)] == ["every day at 11:00"]
    stopped = care.reminders.stop_checkin(senior)
    assert stopped is not None and stopped.reminder_id == moved.reminder_id and not stopped.active
    assert care.reminders.stop_checkin(senior) is None


def test_unanswered_checkin_escalates_as_wellbeing(care: CareServices, senior: str, clock: FakeClock) -> None:
    delivery_id = sent_checkin(care, senior, clock)

    assert care.reminders.overdue_unacknowledged(at(1, 10, 59)) == []
    care.reminders.escalate(delivery_id, at(1, 11))

    assert [e.kind for e in escalations(care.db)] == ["wellbeing"]


# ---------------------------------------------------------------------------
# Catch-up after the scheduler was stopped
# ---------------------------------------------------------------------------


def pill_due_at_8(care: CareServices, clock: FakeClock) -> None:
    """A pill reminder made on Sunday evening, first due Monday 08:00."""
    clock.now = at(1, 0) - timedelta(hours=3)
    pill(care, when="every day at 8")
    clock.now = NOW


def test_catch_up_within_grace_delivers_late_with_a_note(care: CareServices, senior: str,
                                                         clock: FakeClock) -> None:
    pill_due_at_8(care, clock)

    late = care.reminders.catch_up(at(1, 8, 30))

    assert [(d.due_at, d.status, d.note) for d in late] == [(at(1, 8), "pending", "this was due at 08:00")]
    assert escalations(care.db) == []


def test_catch_up_beyond_grace_records_missed_and_escalates(
    care: CareServices, senior: str, relative: str, clock: FakeClock
) -> None:
    pill_due_at_8(care, clock)

    assert care.reminders.catch_up(at(1, 9, 30)) == []

    rows = deliveries(care.db)
    assert [(r.due_at, r.status) for r in rows] == [(at(1, 8), "missed")]
    assert "missed" in rows[0].note
    assert [n.entities["reason"] for n in notifications(care.db)] == ["missed"]
    assert care.reminders.list_for(senior)[0].next_due_at == at(2, 8)
    assert [d.delivery_id for d in care.reminders.overdue_unacknowledged(at(1, 10))] == [rows[0].id]
    assert care.reminders.escalate(rows[0].id, at(1, 10)).status == "escalated"
    assert [e.kind for e in escalations(care.db)] == ["missed_medication"]


def test_a_long_outage_gives_one_missed_delivery_not_hundreds(care: CareServices, senior: str,
                                                              clock: FakeClock) -> None:
    clock.now = at(1, 0)
    care.reminders.create(senior, "other", "Stretch", "every 15 minutes")

    care.reminders.catch_up(at(8, 0))

    rows = deliveries(care.db)
    assert [(r.due_at, r.status) for r in rows] == [(at(7, 22, 45), "escalated"), (at(8, 0), "pending")]
    assert rows[0].note.startswith("missed: due at 22:45") and "times since 00:15" in rows[0].note
    assert rows[1].note == "this was due at 00:00 (and at 23:00, 23:15, 23:30 and 23:45)"
    assert len(escalations(care.db)) == 1


def test_a_pending_delivery_left_by_a_crash_is_sent_or_missed(care: CareServices, senior: str,
                                                              clock: FakeClock) -> None:
    pill(care)
    care.reminders.due_deliveries(at(1, 20))  # created, then the process died before sending

    late = care.reminders.catch_up(at(1, 20, 30))
    assert [d.note for d in late] == ["this was due at 20:00"]
    assert care.reminders.catch_up(at(1, 21, 1)) == []
    assert deliveries(care.db)[0].status in ("missed", "escalated")


def test_every_step_is_audited(care: CareServices, senior: str, clock: FakeClock) -> None:
    delivery_id = sent_pill(care, clock)
    care.reminders.snooze(senior, 5)
    care.reminders.acknowledge(senior, delivery_id)

    with care.db.reading() as session:
        counted = dict(session.execute(
            select(AuditLog.action, func.count()).where(AuditLog.entity_type == "reminder_delivery")
            .group_by(AuditLog.action)
        ).all())

    assert counted == {
        "reminder_delivery.due": 1,
        "reminder_delivery.sent": 1,
        "reminder_delivery.snoozed": 1,
        "reminder_delivery.acknowledged": 1,
    }


# ---------------------------------------------------------------------------
# Two processes at once (PostgreSQL)
# ---------------------------------------------------------------------------

_RACER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timedelta, timezone
    from assistant.care.core.db import Database
    from assistant.care.reminders.reminders import ReminderService

    service = ReminderService(Database(sys.argv[1]))
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    base = datetime(2025, 12, 1, 0, 0, tzinfo=timezone.utc)
    for step in range(1, 9):
        service.due_deliveries(base + timedelta(minutes=15 * step))
    """
)


@pytest.mark.skipif(not URL, reason="CARE_TEST_POSTGRES_URL is not set")
def test_two_processes_create_one_delivery_per_due_time_on_postgres(postgres: Database) -> None:  # noqa: F811
    care = CareServices(postgres, clock=FakeClock(at(1, 0)))
    register(care, "conv-pg")
    for n in range(6):
        care.reminders.create("conv-pg", "other", f"Stretch {n}", "every 15 minutes")
    start = walltime.time() + 0.4
    racers = [
        subprocess.Popen([sys.executable, "-c", _RACER, postgres.url, str(start)], cwd=ROOT,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for racer in racers:
        assert racer.wait(timeout=60) == 0, racer.stderr.read() if racer.stderr else ""

    with postgres.session() as session:
        per_due_time = list(session.execute(
            select(ReminderDelivery.reminder_id, ReminderDelivery.due_at, func.count())
            .group_by(ReminderDelivery.reminder_id, ReminderDelivery.due_at)
        ))
        escalated = session.scalar(
            select(func.count()).select_from(ReminderDelivery).where(ReminderDelivery.status == "escalated")
        )
        next_due = set(session.scalars(select(Reminder.next_due_at)))
    # Late due times of one reminder may be folded into one delivery, but never duplicated.
    assert {count for _, _, count in per_due_time} == {1}
    assert {(r, due) for r, due, _ in per_due_time if due == at(1, 2)} == {(r, at(1, 2)) for r in range(1, 7)}
    assert next_due == {at(1, 2, 15)}
    assert escalated and len(escalations(postgres)) == escalated  # each stale delivery escalated once

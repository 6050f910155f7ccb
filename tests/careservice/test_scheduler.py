"""Tests for assistant.careservice.scheduler with a fake Rasa server on 127.0.0.1 and a fake clock."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Callable, Iterator

import pytest
from sqlalchemy import select, update

from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.core.lock import ServiceLockHeld
from assistant.care.core.models import (
    Escalation,
    Notification,
    ReminderDelivery,
    ServiceLock,
)
from assistant.care.core.notifications import MAX_ATTEMPTS, enqueue
from assistant.careservice.delivery import RasaDelivery
from assistant.careservice.scheduler import (
    JOB_ESCALATIONS,
    JOB_HEARTBEAT,
    JOB_NOTIFICATIONS,
    JOB_REMINDERS,
    LOCK_NAME,
    CareScheduler,
)
from tests.care.helpers import FakeClock, at

from .conftest import FakeRasa


@pytest.fixture
def make_scheduler(db: Database, clock: FakeClock) -> Iterator[Callable[..., CareScheduler]]:
    """Build schedulers on the test database and stop every one at the end."""
    made: list[CareScheduler] = []

    def build(url: str, **kwargs: object) -> CareScheduler:
        kwargs.setdefault("tick_seconds", 3600.0)
        scheduler = CareScheduler(db, RasaDelivery(url, timeout=2.0), clock=clock, **kwargs)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        if scheduler.running:
            scheduler.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 1.5) -> None:
    """Poll until ``condition`` holds (the background jobs run in their own thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the care service"
        time.sleep(0.01)


def rows(db: Database, model: type) -> list:
    with db.reading() as session:
        return list(session.scalars(select(model).order_by(*model.__table__.primary_key.columns)))


def senior_id(care: CareServices) -> int:
    profile = care.people.find_by_conversation("conv-edith")
    assert profile is not None
    return profile.person_id


def pill(care: CareServices, when: str = "every day at 8 and 20") -> None:
    care.reminders.create("conv-edith", "medication", "Blood pressure pill", when, dose="1 tablet")


def pill_due_at_8(care: CareServices, clock: FakeClock) -> None:
    """A pill reminder made on Sunday evening, first due Monday 08:00."""
    clock.now = at(1, 0) - timedelta(hours=3)
    pill(care, "every day at 8")


def test_a_due_reminder_is_delivered_exactly_once(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    pill(care)
    scheduler = make_scheduler(rasa.url)
    clock.now = at(1, 19, 59)
    scheduler.run_once()
    assert rasa.calls == []

    for _ in range(4):
        clock.advance(seconds=15)
        scheduler.run_once()

    assert len(rasa.calls) == 1
    assert rasa.calls[0].conversation_id == "conv-edith"
    assert rasa.batches == 1
    [sent] = rasa.batch_bodies[0]["reminders"]
    starts = {e["name"]: e["value"] for e in sent["session_start"] if e["event"] == "slot"}
    assert starts == {"registered": True, "user_name": "Edith"}, "a new session, if one is due, knows her"
    delivery = rows(care.db, ReminderDelivery)[0]
    [bot] = rasa.reminders("conv-edith")
    assert bot["text"] == "It's 20:00. Reminder: Blood pressure pill (1 tablet). Please press “Done” when you have."
    assert bot["metadata"]["delivery_id"] == delivery.id
    assert (delivery.status, delivery.sent_at, delivery.attempts) == ("sent", at(1, 20), 1)


def test_rasa_errors_are_retried_with_backoff_then_failed_and_escalated(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    pill(care)
    rasa.status = 500
    scheduler = make_scheduler(rasa.url)
    clock.now = at(1, 20)
    attempt_offsets: list[float] = []

    for _ in range(120):  # ten minutes of 5-second ticks
        before = len(rasa.calls)
        scheduler.run_once()
        if len(rasa.calls) > before:
            attempt_offsets.append((clock.now - at(1, 20)).total_seconds())
        clock.advance(seconds=5)

    assert attempt_offsets == [0, 10, 30, 70, 150, 310][:MAX_ATTEMPTS]
    delivery = rows(care.db, ReminderDelivery)[0]
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert [(e.kind, e.status) for e in rows(care.db, Escalation)] == [("failed_delivery", "open")]


def test_connection_refused_counts_attempts(
    care: CareServices, clock: FakeClock, dead_rasa_url: str, make_scheduler: Callable[..., CareScheduler]
) -> None:
    pill(care)
    scheduler = make_scheduler(dead_rasa_url)
    clock.now = at(1, 20)

    scheduler.run_once()
    clock.advance(seconds=10)
    scheduler.run_once()

    delivery = rows(care.db, ReminderDelivery)[0]
    assert (delivery.status, delivery.attempts) == ("pending", 2)


def test_restart_within_grace_delivers_late_with_a_note(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    pill_due_at_8(care, clock)
    clock.now = at(1, 8, 30)  # the care service was stopped from before 08:00 until now
    scheduler = make_scheduler(rasa.url)

    scheduler.start()
    wait_for(lambda: bool(scheduler.job_ids))
    scheduler.stop()

    assert len(rasa.calls) == 1
    assert "(this was due at 08:00)" in rasa.reminders("conv-edith")[0]["text"]
    assert rows(care.db, ReminderDelivery)[0].status == "sent"
    assert rows(care.db, Escalation) == []


def test_restart_beyond_grace_records_missed_and_escalates(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    care.people.link_relative("conv-edith", "conv-anna", "Anna Smith", "daughter")
    pill_due_at_8(care, clock)
    clock.now = at(1, 9, 30)
    scheduler = make_scheduler(rasa.url)

    scheduler.start()
    wait_for(lambda: rasa.intents() == [("conv-anna", "EXTERNAL_missed_reminder")])
    scheduler.stop()

    delivery = rows(care.db, ReminderDelivery)[0]
    assert delivery.status == "missed" and delivery.escalated_at == at(1, 9, 30)
    assert rasa.calls[0].body["entities"]["reason"] == "missed"
    assert [n.status for n in rows(care.db, Notification)] == ["delivered"]

    clock.now = at(1, 10)  # no confirmation after the second window: coordinators
    make_scheduler(rasa.url).run_once()
    assert [e.kind for e in rows(care.db, Escalation)] == ["missed_medication"]


def test_unconfirmed_medication_reaches_relatives_then_coordinators(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    care.people.link_relative("conv-edith", "conv-anna", "Anna Smith", "daughter")
    pill(care)
    scheduler = make_scheduler(rasa.url)
    clock.now = at(1, 20)
    scheduler.run_once()

    clock.now = at(1, 20, 30)
    scheduler.run_once()
    assert rasa.intents() == [("conv-edith", "action_deliver_reminder"), ("conv-anna", "EXTERNAL_missed_reminder")]
    assert rows(care.db, Escalation) == []

    clock.now = at(1, 21)
    scheduler.run_once()
    assert [e.kind for e in rows(care.db, Escalation)] == ["missed_medication"]
    assert rows(care.db, ReminderDelivery)[0].status == "escalated"


def test_notifications_are_delivered_with_their_intent(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    with care.db.reading() as session:
        enqueue(session, senior_id(care), "booking_status", "EXTERNAL_booking_status", {"reference": "ML-7K3Q9"},
                at=clock.now)

    make_scheduler(rasa.url).run_once()

    assert rasa.intents() == [("conv-edith", "EXTERNAL_booking_status")]
    assert rasa.calls[0].body["entities"] == {"reference": "ML-7K3Q9"}
    assert [(n.status, n.attempts) for n in rows(care.db, Notification)] == [("delivered", 1)]


def test_a_guest_known_only_by_conversation_is_reached_and_a_failure_is_escalated(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    with care.db.session() as session:
        enqueue(session, None, "coordinator_message", "EXTERNAL_coordinator_message", {"message": "hi"},
                at=clock.now, conversation_id="guest-9")
        enqueue(session, None, "coordinator_message", "EXTERNAL_coordinator_message", {"message": "again"},
                at=clock.now, conversation_id="guest-9")
    scheduler = make_scheduler(rasa.url)
    scheduler.run_once()
    assert rasa.intents() == [("guest-9", "EXTERNAL_coordinator_message")] * 2

    with care.db.session() as session:
        enqueue(session, None, "handoff_ended", "EXTERNAL_handoff_ended", {}, at=clock.now, conversation_id="guest-9")
    rasa.status = 503
    for _ in range(200):
        scheduler.run_once()
        clock.advance(seconds=5)
    [escalation] = rows(care.db, Escalation)
    assert escalation.kind == "failed_delivery" and escalation.conversation_id == "guest-9"


def test_failing_notifications_back_off_then_fail_and_escalate(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    with care.db.reading() as session:
        enqueue(session, senior_id(care), "booking_status", "EXTERNAL_booking_status", {}, at=clock.now)
    rasa.status = 503
    scheduler = make_scheduler(rasa.url)

    for _ in range(200):
        scheduler.run_once()
        clock.advance(seconds=5)

    assert len(rasa.calls) == MAX_ATTEMPTS
    notification = rows(care.db, Notification)[0]
    assert (notification.status, notification.attempts) == ("failed", MAX_ATTEMPTS)
    assert "503" in (notification.last_error or "")
    assert [e.kind for e in rows(care.db, Escalation)] == ["failed_delivery"]


def test_a_second_scheduler_refuses_to_start(
    care: CareServices, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    first = make_scheduler(rasa.url)
    second = make_scheduler(rasa.url)

    first.start()
    with pytest.raises(ServiceLockHeld) as caught:
        second.start()

    assert caught.value.holder == first.holder
    assert first.job_ids == sorted([JOB_REMINDERS, JOB_ESCALATIONS, JOB_NOTIFICATIONS, JOB_HEARTBEAT])
    assert not second.running
    first.stop()
    second.start()  # the lock was released
    assert second.running


def test_jobs_run_in_the_background_and_deliver_once(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    pill(care)
    clock.now = at(1, 20)
    scheduler = make_scheduler(rasa.url, tick_seconds=0.05)

    scheduler.start()
    wait_for(lambda: len(rasa.calls) == 1)
    time.sleep(0.3)  # several more ticks
    scheduler.stop()

    assert len(rasa.calls) == 1
    assert rows(care.db, ServiceLock) == []


def test_a_scheduler_that_lost_its_lock_stops(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    scheduler = make_scheduler(rasa.url)
    scheduler.start()
    with care.db.reading() as session:  # write first: the background jobs may commit meanwhile
        taken = session.execute(update(ServiceLock).where(ServiceLock.name == LOCK_NAME).values(holder="someone-else"))
        assert taken.rowcount == 1

    assert scheduler.heartbeat() is False
    assert scheduler.lost_lock.is_set()


def test_an_unanswered_danger_question_becomes_an_alarm_on_the_escalations_tick(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    care.danger_checks.ask("conv-nobody", "I feel really peculiar", None, message_id="m-1")
    scheduler = make_scheduler(rasa.url)
    assert scheduler.escalate_overdue() == 0
    clock.advance(minutes=2, seconds=1)
    assert scheduler.escalate_overdue() == 1
    [escalation] = rows(care.db, Escalation)
    assert escalation.priority == 1 and "peculiar" in escalation.summary
    scheduler.deliver_notifications()
    assert rasa.intents() == [("conv-nobody", "EXTERNAL_danger_timeout")]

"""Concurrent delivery in assistant.careservice.scheduler: many due reminders, several workers, a fake Rasa.

Whatever Rasa does (answers, fails, answers too late), each due time reaches its conversation
exactly once and every delivery is recorded.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import pytest
from sqlalchemy import func, select

from assistant.care import CareServices
from assistant.care.core import lock
from assistant.care.core.db import Database
from assistant.care.core.lock import ServiceLockHeld
from assistant.care.core.models import AuditLog, Notification, ReminderDelivery
from assistant.care.core.notifications import enqueue
from assistant.careservice.delivery import RasaDelivery
from assistant.careservice.scheduler import CareScheduler
from tests.care.helpers import FakeClock, at, register

from .conftest import FakeRasa


@pytest.fixture
def make_scheduler(db: Database, clock: FakeClock) -> Iterator[Callable[..., CareScheduler]]:
    """Build schedulers on the test database and stop every one at the end."""
    made: list[CareScheduler] = []

    def build(url: str, *, timeout: float = 2.0, **kwargs: object) -> CareScheduler:
        kwargs.setdefault("tick_seconds", 3600.0)
        scheduler = CareScheduler(db, RasaDelivery(url, timeout=timeout), clock=clock, **kwargs)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.stop()


def seniors_with_pills(care: CareServices, clock: FakeClock, count: int) -> list[str]:
    """``count`` seniors (``conv-edith`` first), each with a pill due every day at 20:00."""
    conversations = ["conv-edith"] + [f"conv-{n:03d}" for n in range(1, count)]
    for conversation in conversations[1:]:
        register(care, conversation, name=f"Senior {conversation}")
    for conversation in conversations:
        care.reminders.create(conversation, "medication", "Blood pressure pill", "every day at 20")
    clock.now = at(1, 20)
    return conversations


def rows(db: Database) -> list[ReminderDelivery]:
    with db.reading() as session:
        return list(session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))


def trigger_counts(rasa: FakeRasa) -> Counter[str]:
    return Counter(conversation for conversation, _ in rasa.intents())


def delivered_once_each(rasa: FakeRasa, conversations: list[str]) -> bool:
    return all(rasa.delivered(c) == ["action_deliver_reminder"] for c in conversations)


def test_200_due_reminders_are_delivered_exactly_once_by_8_workers(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    conversations = seniors_with_pills(care, clock, 200)
    rasa.delay = 0.01
    scheduler = make_scheduler(rasa.url, workers=8)

    assert scheduler.deliver_reminders() == 200
    clock.advance(seconds=15)
    assert scheduler.deliver_reminders() == 0

    assert trigger_counts(rasa) == Counter({c: 1 for c in conversations})
    assert delivered_once_each(rasa, conversations)
    assert 1 < rasa.max_in_flight <= 8
    deliveries = rows(care.db)
    assert len(deliveries) == 200
    assert {(d.status, d.attempts, d.sent_at) for d in deliveries} == {("sent", 1, at(1, 20))}
    with care.db.reading() as session:
        assert session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "reminder_delivery.sent")
        ) == 200


def test_a_slow_rasa_that_answers_too_late_does_not_get_a_reminder_twice(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    conversations = seniors_with_pills(care, clock, 20)
    rasa.held = threading.Event()  # Rasa runs every reminder but answers after the care service gave up
    scheduler = make_scheduler(rasa.url, timeout=0.2, workers=4)

    assert scheduler.deliver_reminders() == 0
    assert {(d.status, d.attempts) for d in rows(care.db)} == {("pending", 1)}
    assert delivered_once_each(rasa, conversations)

    rasa.held.set()
    rasa.held = None
    clock.advance(seconds=10)  # the first retry: Rasa's trackers show they arrived after all
    assert scheduler.deliver_reminders() == 20

    assert trigger_counts(rasa) == Counter({c: 1 for c in conversations})
    assert delivered_once_each(rasa, conversations)
    assert rasa.tracker_reads == 20
    assert {(d.status, d.attempts, d.sent_at) for d in rows(care.db)} == {("sent", 2, clock.now)}


def test_a_failing_rasa_loses_nothing_and_duplicates_nothing(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    conversations = seniors_with_pills(care, clock, 50)
    rasa.statuses = [500, 200] * 25  # every other answer is an error
    scheduler = make_scheduler(rasa.url, workers=8, reminder_batch=1)

    assert scheduler.deliver_reminders() == 25
    assert Counter(d.status for d in rows(care.db)) == Counter({"sent": 25, "pending": 25})
    rasa.status = 503  # then Rasa is down for a while
    clock.advance(seconds=5)
    assert scheduler.deliver_reminders() == 0  # too early for a retry: nothing is tried
    clock.advance(seconds=5)
    assert scheduler.deliver_reminders() == 0
    rasa.status = 200
    clock.advance(seconds=20)
    assert scheduler.deliver_reminders() == 25

    assert delivered_once_each(rasa, conversations)
    counts = trigger_counts(rasa)
    assert sorted(Counter(counts.values()).items()) == [(1, 25), (3, 25)]  # 500, then 503, then delivered
    assert sum(1 for d in rows(care.db) if d.status == "sent") == 50
    assert {d.attempts for d in rows(care.db)} == {1, 3}


def test_a_sent_reminder_the_database_could_not_record_is_never_sent_again(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversations = seniors_with_pills(care, clock, 3)
    scheduler = make_scheduler(rasa.url, workers=2)
    real = scheduler.reminders.record_sent_many
    broken = True

    def flaky(sent: list) -> int:
        if broken:
            raise RuntimeError("the disk is full")
        return real(sent)

    monkeypatch.setattr(scheduler.reminders, "record_sent_many", flaky)

    assert scheduler.deliver_reminders() == 3
    assert {d.status for d in rows(care.db)} == {"pending"}
    clock.advance(seconds=15)
    with pytest.raises(RuntimeError):  # still broken: this tick fails before it sends anything
        scheduler.deliver_reminders()
    broken = False
    clock.advance(seconds=15)
    assert scheduler.deliver_reminders() == 0

    assert trigger_counts(rasa) == Counter({c: 1 for c in conversations})
    assert {(d.status, d.attempts, d.sent_at) for d in rows(care.db)} == {("sent", 1, at(1, 20))}


def test_stopping_during_a_long_batch_leaves_the_rest_pending_for_the_next_run(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    conversations = seniors_with_pills(care, clock, 40)
    clock.now = at(1, 19, 59)
    rasa.delay = 0.05
    first = make_scheduler(rasa.url, workers=2, tick_seconds=0.05)
    first.start()
    clock.now = at(1, 20)
    deadline = time.monotonic() + 5
    while len(rasa.calls) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.01)

    first.stop()

    called = trigger_counts(rasa)
    assert 4 <= len(called) < 40 and set(called.values()) == {1}
    statuses = Counter(d.status for d in rows(care.db))
    assert statuses == Counter({"sent": len(called), "pending": 40 - len(called)})

    rasa.delay = 0.0
    make_scheduler(rasa.url, workers=8).deliver_reminders()
    assert trigger_counts(rasa) == Counter({c: 1 for c in conversations})
    assert {d.status for d in rows(care.db)} == {"sent"}


def test_notifications_are_sent_concurrently_and_once(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    people = ["conv-edith"] + [f"conv-{n:03d}" for n in range(1, 30)]
    ids = [register(care, conversation).person_id for conversation in people[1:]]
    edith = care.people.find_by_conversation("conv-edith")
    assert edith is not None
    ids.append(edith.person_id)
    with care.db.reading() as session:
        for person_id in ids:
            enqueue(session, person_id, "booking_status", "EXTERNAL_booking_status", {"reference": "ML-7K3Q9"},
                    at=clock.now)
    rasa.delay = 0.02

    scheduler = make_scheduler(rasa.url, workers=8)
    assert scheduler.deliver_notifications() == 30
    assert scheduler.deliver_notifications() == 0

    assert trigger_counts(rasa) == Counter({c: 1 for c in people})
    assert rasa.max_in_flight > 1
    with care.db.reading() as session:
        assert {n.status for n in session.scalars(select(Notification))} == {"delivered"}


def test_reminders_go_in_batches_and_one_the_channel_could_not_send_is_tried_again(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    conversations = seniors_with_pills(care, clock, 45)
    rasa.unreachable = {"conv-007"}  # Telegram refused that one (the user blocked the bot for a moment)
    scheduler = make_scheduler(rasa.url, workers=2, reminder_batch=10)

    assert scheduler.deliver_reminders() == 44
    assert rasa.batches == 5
    by_conversation = {c: rasa.reminders(c) for c in conversations}
    assert [c for c, sent in by_conversation.items() if len(sent) != 1] == ["conv-007"]
    assert Counter(d.status for d in rows(care.db)) == Counter({"sent": 44, "pending": 1})

    rasa.unreachable = set()
    clock.advance(seconds=15)
    assert scheduler.deliver_reminders() == 1
    assert delivered_once_each(rasa, conversations)
    assert {d.status for d in rows(care.db)} == {"sent"}


def test_workers_must_be_positive(db: Database, rasa: FakeRasa) -> None:
    with pytest.raises(ValueError, match="workers"):
        CareScheduler(db, RasaDelivery(rasa.url), workers=0)


def test_delivery_is_safe_from_many_threads(rasa: FakeRasa) -> None:
    delivery = RasaDelivery(rasa.url)

    def send(n: int) -> None:
        delivery.trigger(f"conv-{n}", "action_deliver_reminder", {"delivery_id": n})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(40)))
    delivery.close()

    assert trigger_counts(rasa) == Counter({f"conv-{n}": 1 for n in range(40)})


def test_a_long_catch_up_keeps_the_lock_fresh(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seniors_with_pills(care, clock, 12)
    clock.now = at(1, 20, 5)  # stopped over the due time: start() catches up, one at a time
    rasa.delay = 0.05
    scheduler = make_scheduler(rasa.url, workers=1, reminder_batch=1)
    monkeypatch.setattr(scheduler, "_beat_interval", lambda: 0.1)
    beats: list[str] = []
    real_heartbeat = lock.heartbeat

    def heartbeat(*args: object) -> bool:
        beats.append("beat")
        return real_heartbeat(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(lock, "heartbeat", heartbeat)

    scheduler.start()

    assert len(rasa.calls) == 12
    assert len(beats) >= 2
    assert scheduler.running


def test_a_lock_lost_during_the_catch_up_stops_sending(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seniors_with_pills(care, clock, 12)
    clock.now = at(1, 20, 5)
    rasa.delay = 0.05
    scheduler = make_scheduler(rasa.url, workers=1, reminder_batch=1)
    monkeypatch.setattr(scheduler, "_beat_interval", lambda: 0.1)
    monkeypatch.setattr(lock, "heartbeat", lambda *args: False)  # another care service took over

    with pytest.raises(ServiceLockHeld):
        scheduler.start()

    assert 1 <= len(rasa.calls) < 12
    assert not scheduler.running
    statuses = Counter(d.status for d in rows(care.db))
    assert statuses == Counter({"sent": len(rasa.calls), "pending": 12 - len(rasa.calls)})


class LiveClock:
    """A clock that starts at ``start`` and then runs like the real one."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


def test_the_reminders_job_wakes_at_a_due_time_between_ticks(
    care: CareServices, clock: FakeClock, db: Database, rasa: FakeRasa
) -> None:
    seniors_with_pills(care, clock, 2)
    live = LiveClock(at(1, 20) - timedelta(seconds=1.5))
    scheduler = CareScheduler(db, RasaDelivery(rasa.url, timeout=2.0), clock=live, tick_seconds=60.0)
    try:
        scheduler.start()  # the first tick finds nothing due; the next would come a minute later
        deadline = time.monotonic() + 6
        while len(rasa.calls) < 2:
            assert time.monotonic() < deadline, "the reminders waited for the next tick"
            time.sleep(0.02)
    finally:
        scheduler.stop()

    assert trigger_counts(rasa) == Counter({"conv-edith": 1, "conv-001": 1})
    sent_at = {d.sent_at for d in rows(care.db)}
    assert all(at(1, 20) <= t < at(1, 20) + timedelta(seconds=3) for t in sent_at if t is not None)


def test_notifications_are_not_held_up_by_a_wave_of_reminders(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    seniors_with_pills(care, clock, 30)
    clock.now = at(1, 19, 59)
    rasa.delay = 0.1
    scheduler = make_scheduler(rasa.url, workers=1, tick_seconds=0.1)
    scheduler.start()
    clock.now = at(1, 20)
    deadline = time.monotonic() + 5
    while not rasa.calls:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    edith = care.people.find_by_conversation("conv-edith")
    assert edith is not None
    with care.db.reading() as session:
        enqueue(session, edith.person_id, "booking_status", "EXTERNAL_booking_status", {}, at=clock.now)

    while ("conv-edith", "EXTERNAL_booking_status") not in rasa.intents():
        assert time.monotonic() < deadline, "the notification waited for the reminders"
        time.sleep(0.01)

    assert sum(1 for _, intent in rasa.intents() if intent == "action_deliver_reminder") < 30
    scheduler.stop()


def test_a_send_started_but_never_recorded_is_checked_not_repeated(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    """What a care service killed mid-send leaves behind: claimed deliveries, one of them arrived."""
    seniors_with_pills(care, clock, 2)
    arrived, lost = care.reminders.due_deliveries(clock.now)
    care.reminders.claim([arrived.delivery_id, lost.delivery_id], clock.now)
    RasaDelivery(rasa.url).send_reminder(arrived)  # it reached Rasa; the answer was never recorded

    clock.advance(seconds=20)
    assert make_scheduler(rasa.url, workers=2).deliver_reminders() == 2

    assert trigger_counts(rasa) == Counter({arrived.conversation_id: 1, lost.conversation_id: 1})
    assert {d.status for d in rows(care.db)} == {"sent"}
    assert rasa.tracker_reads == 2, "both claimed sends were checked in the conversation first"


def test_medication_goes_first_when_many_fall_due_at_once(
    care: CareServices, clock: FakeClock, rasa: FakeRasa, make_scheduler: Callable[..., CareScheduler]
) -> None:
    for n in range(6):
        register(care, f"conv-{n}", name=f"Senior {n}")
        kind, title = ("medication", "Heart pill") if n % 2 else ("other", "Put the bins out")
        care.reminders.create(f"conv-{n}", kind, title, "every day at 20")
    clock.now = at(1, 20)

    make_scheduler(rasa.url, workers=1).deliver_reminders()

    assert [call.conversation_id for call in rasa.calls] == ["conv-1", "conv-3", "conv-5", "conv-0", "conv-2", "conv-4"]

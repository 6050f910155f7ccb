"""The care service's timers: reminders, escalation steps and the notification outbox.

Every job polls the tables, so nothing lives only in memory: a restarted scheduler rebuilds
the same jobs, catches up on what fell due while it was stopped (:meth:`ReminderService.catch_up`)
and carries on. The ``service_locks`` row makes sure only one scheduler runs at a time.

Due reminders and notifications are sent to Rasa by a pool of ``workers`` threads (at most
``2 * workers`` requests queued or in flight), while the job's own thread records what became of
each one as the answers come in, several in one transaction. Reminders are appended to their
conversations (no dialogue turn), medication first, ``REMINDER_BATCH`` to a request. A delivery is
handed to a worker once per tick; its row exists before it is sent (the unique ``(reminder_id,
due_at)``) and is marked as claimed, in batches, before its send starts. A retry after a failed or
timed-out attempt, and a claimed send whose outcome was never recorded (the care service was
killed), first asks Rasa's tracker whether it arrived after all: every due time reaches the person
once.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Final, Optional, Sequence, TypeVar

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from assistant.care import CareServices
from assistant.care.core import lock
from assistant.care.core.clock import Clock, utcnow
from assistant.care.safety.danger_checks import DangerCheckService
from assistant.care.core.db import Database
from assistant.care.reminders.reminder_delivery import retry_when_busy
from assistant.care.reminders.reminder_messages import send_order
from assistant.care.reminders.reminders import DeliveryView, ReminderService
from assistant.careservice.coordinator_chat import CoordinatorChat
from assistant.careservice.delivery import DeliveryError, RasaDelivery
from assistant.careservice.emergency_sweep import EmergencySweep
from assistant.careservice.retention import Retention
from assistant.careservice.outbox import Outbox, OutboxItem

LOCK_NAME: Final = "care-scheduler"
JOB_REMINDERS: Final = "care.reminders"
JOB_REMINDERS_DUE: Final = "care.reminders.due"
"""A one-off run of the reminders job at a due time that comes before the next tick."""
JOB_ESCALATIONS: Final = "care.escalations"
JOB_NOTIFICATIONS: Final = "care.notifications"
JOB_HEARTBEAT: Final = "care.heartbeat"
JOB_COORDINATOR_CHAT: Final = "care.coordinator_chat"
JOB_EMERGENCY_SWEEP: Final = "care.emergency_sweep"
JOB_RETENTION: Final = "care.retention"
RETENTION_SECONDS: Final = 3600.0
"""How often old conversation history and resolved escalations are looked for."""
DEFAULT_WORKERS: Final = 16
"""Requests to Rasa in flight at once (``ASSISTANT_CARE_DELIVERY_WORKERS``)."""
REMINDER_BATCH: Final = 10
"""Reminders sent to Rasa in one request."""

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = tuple[Any, Any, Optional[BaseException]]
"""(item, what its send returned (when it reached Rasa) or None, the error or None)."""


class CareScheduler:
    """Deliver due reminders and notifications, and escalate unconfirmed reminders.

    Args:
        db: The database (schema already migrated).
        delivery: Sends intents to Rasa (used from several threads at once).
        clock: Returns the current aware time (inject a fake one in tests).
        tick_seconds: How often each job polls the tables.
        stale_after: A lock whose heartbeat is older than this may be taken over.
        holder: This process's name in the lock (unique by default).
        workers: How many requests to Rasa may be in flight at once.
        coordinator_chat: Posts new emergencies to the coordinators' Telegram chat (off when None),
            as often as the outbox is polled.
        emergency_sweep: Records emergency messages the action server missed, from Rasa's tracker
            store (off when None), every ``tick_seconds`` (at most 5 s).
        reminder_batch: Reminders sent to Rasa in one request.
        notify_seconds: How often the notification outbox is polled (default: every second, or
            ``tick_seconds`` if shorter): a coordinator's reply or an emergency alert must not
            wait for the next reminders tick.
    """

    def __init__(
        self,
        db: Database,
        delivery: RasaDelivery,
        *,
        clock: Clock = utcnow,
        tick_seconds: float = 15.0,
        stale_after: timedelta = timedelta(seconds=90),
        holder: Optional[str] = None,
        workers: int = DEFAULT_WORKERS,
        notify_seconds: Optional[float] = None,
        coordinator_chat: Optional[CoordinatorChat] = None,
        emergency_sweep: Optional[EmergencySweep] = None,
        retention: Optional[Retention] = None,
        reminder_batch: int = REMINDER_BATCH,
    ) -> None:
        if tick_seconds <= 0 or (notify_seconds is not None and notify_seconds <= 0):
            raise ValueError("tick_seconds and notify_seconds must be positive")
        if workers < 1 or reminder_batch < 1:
            raise ValueError("workers and reminder_batch must be at least 1")
        self.db: Database = db
        self.delivery: RasaDelivery = delivery
        self.care: CareServices = CareServices(db, clock=clock)
        self.reminders: ReminderService = self.care.reminders
        self.danger_checks: DangerCheckService = DangerCheckService(db, clock=clock)
        self.outbox: Outbox = Outbox(db, clock=clock)
        self.tick_seconds: float = tick_seconds
        self.notify_seconds: float = min(tick_seconds, 1.0) if notify_seconds is None else notify_seconds
        self.coordinator_chat: Optional[CoordinatorChat] = coordinator_chat
        self.emergency_sweep: Optional[EmergencySweep] = emergency_sweep
        self.retention: Optional[Retention] = retention
        self.stale_after: timedelta = stale_after
        self.holder: str = holder or lock.new_holder()
        self.workers: int = workers
        self.reminder_batch: int = reminder_batch
        self.lost_lock: threading.Event = threading.Event()
        self._clock = clock
        self._scheduler: Optional[BackgroundScheduler] = None
        self._stopping = threading.Event()
        self._senders: Optional[futures.ThreadPoolExecutor] = None
        self._senders_lock = threading.Lock()
        self._last_beat = time.monotonic()
        self._catching_up = False
        # Sent, but the database refused to record it: recorded before anything else is sent,
        # and never sent again meanwhile.
        self._unrecorded_reminders: dict[int, datetime] = {}
        self._unrecorded_notifications: dict[int, datetime] = {}

    @property
    def running(self) -> bool:
        """Whether the APScheduler jobs are running."""
        return self._scheduler is not None and self._scheduler.running

    @property
    def job_ids(self) -> list[str]:
        """The ids of the scheduled jobs (empty when stopped)."""
        return sorted(job.id for job in self._scheduler.get_jobs()) if self._scheduler else []

    def start(self) -> None:
        """Take the lock, catch up on what fell due while stopped, then start the jobs.

        Raises:
            ServiceLockHeld: If another live care service holds the lock (or took it over during
                a long catch-up).
        """
        self._stopping.clear()
        lock.acquire(self.db, LOCK_NAME, self.holder, self._clock(), self.stale_after)
        self._last_beat = time.monotonic()
        self._catching_up = True
        try:
            self.deliver_reminders(self.reminders.catch_up(self._clock()))
            self._catching_up = False
            if self.lost_lock.is_set():
                raise lock.ServiceLockHeld(LOCK_NAME)
            self._scheduler = self._build()
            self._scheduler.start()
        except BaseException:
            self._catching_up = False
            self._close_senders()
            lock.release(self.db, LOCK_NAME, self.holder)
            raise
        log.info("care scheduler started (holder %s, tick %ss, %s workers)", self.holder, self.tick_seconds,
                 self.workers)

    def stop(self) -> None:
        """Stop the jobs (a running one sends nothing new and waits for its requests) and release the lock."""
        self._stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None
        self._close_senders()
        self._stopping.clear()
        lock.release(self.db, LOCK_NAME, self.holder)
        log.info("care scheduler stopped")

    def run_once(self) -> None:
        """Run every job once, in order (what one tick does)."""
        self.deliver_reminders()
        self.escalate_overdue()
        self.deliver_notifications()

    def deliver_reminders(self, deliveries: Optional[list[DeliveryView]] = None) -> int:
        """Send the due reminders (or ``deliveries``), medication first, in concurrent batches;
        return how many reached Rasa.

        Each one is recorded as sent or failed (retried with backoff, escalated after the last
        attempt) as soon as its batch's answer comes in.
        """
        if self._unrecorded_reminders:
            pending_records = sorted(self._unrecorded_reminders.items())
            retry_when_busy(lambda: self.reminders.record_sent_many(pending_records))
            self._unrecorded_reminders.clear()
        pending = self.reminders.due_deliveries(self._clock()) if deliveries is None else deliveries
        pending = sorted(pending, key=send_order)
        size = self.reminder_batch
        batches = [pending[start:start + size] for start in range(0, len(pending), size)]
        sent = 0

        def finished(outcomes: list[Outcome]) -> None:
            nonlocal sent
            reached: list[tuple[int, datetime]] = []
            failures: list[tuple[DeliveryView, BaseException]] = []
            for batch, result, error in outcomes:
                at, failed = result if error is None else (None, {})
                for item in batch:
                    problem = error or failed.get(item.delivery_id)
                    if problem is None:
                        reached.append((item.delivery_id, at))
                    else:
                        failures.append((item, problem))
            if reached:
                try:
                    retry_when_busy(lambda: self.reminders.record_sent_many(reached))
                except Exception:  # noqa: BLE001 - keep them in memory: never send them again
                    log.exception("could not record %s sent reminders; trying again before sending more",
                                  len(reached))
                    self._unrecorded_reminders.update(reached)
                sent += len(reached)
            for item, problem in failures:
                self._reminder_failed(item, problem)

        def claim(claimed: Sequence[list[DeliveryView]]) -> None:
            self.reminders.claim([item.delivery_id for batch in claimed for item in batch], self._clock())

        self._send_all(batches, self._send_reminders, finished, claim)
        return sent

    def _send_reminders(self, batch: list[DeliveryView]) -> tuple[datetime, dict[int, DeliveryError]]:
        """Send a batch of reminders (in a worker thread); return when they reached Rasa and which failed.

        A reminder tried before, or whose send was started but never recorded, is first looked for
        in its conversation: if it arrived after all, it is not sent again.
        """
        arrived = set()
        for item in batch:
            if (item.attempts > 0 or item.in_doubt) and self.delivery.reminder_already_delivered(item):
                log.info("reminder delivery %s had reached the conversation on an earlier attempt", item.delivery_id)
                arrived.add(item.delivery_id)
        to_send = [item for item in batch if item.delivery_id not in arrived]
        failed = self.delivery.send_reminders(to_send, self._clock(), self.care.session_slots) if to_send else {}
        return self._clock(), failed

    def _reminder_failed(self, item: DeliveryView, error: BaseException) -> None:
        if not isinstance(error, DeliveryError):
            log.error("sending reminder delivery %s failed unexpectedly", item.delivery_id, exc_info=error)
        try:
            view = retry_when_busy(lambda: self.reminders.record_failed(item.delivery_id, str(error)))
        except Exception:  # noqa: BLE001 - it stays pending and is tried again
            log.exception("could not record the failed attempt of reminder delivery %s", item.delivery_id)
            return
        log.warning("reminder delivery %s failed (attempt %s, now %s): %s",
                    item.delivery_id, view.attempts, view.status, error)

    def escalate_overdue(self) -> int:
        """Raise the alarm for danger questions left unanswered, and take the next escalation step of
        unconfirmed reminders; return how many of both."""
        alarms = retry_when_busy(self.danger_checks.raise_overdue)
        now = self._clock()
        overdue = self.reminders.overdue_unacknowledged(now)
        for item in overdue:
            retry_when_busy(lambda: self.reminders.escalate(item.delivery_id, now))
        return alarms + len(overdue)

    def deliver_notifications(self) -> int:
        """Send the pending notifications that are due concurrently; return how many reached Rasa."""
        if self._unrecorded_notifications:
            for notification_id, at in sorted(self._unrecorded_notifications.items()):
                retry_when_busy(lambda: self.outbox.record_sent(notification_id, at))
                del self._unrecorded_notifications[notification_id]
        items: list[OutboxItem] = []
        for item in self.outbox.due(self._clock()):
            if item.conversation_id:
                items.append(item)
            else:
                self.outbox.record_failed(item.notification_id, "the person has no conversation", final=True)
        sent = 0

        def finished(batch: list[Outcome]) -> None:
            nonlocal sent
            for item, at, error in batch:
                if error is None:
                    try:
                        retry_when_busy(lambda: self.outbox.record_sent(item.notification_id, at))
                    except Exception:  # noqa: BLE001 - keep it in memory: never send it again
                        log.exception("could not record sent notification %s", item.notification_id)
                        self._unrecorded_notifications[item.notification_id] = at
                    sent += 1
                    continue
                if not isinstance(error, DeliveryError):
                    log.error("sending notification %s failed unexpectedly", item.notification_id, exc_info=error)
                status = retry_when_busy(lambda: self.outbox.record_failed(item.notification_id, str(error)))
                log.warning("notification %s failed (now %s): %s", item.notification_id, status, error)

        self._send_all(items, self._send_notification, finished)
        return sent

    def _send_notification(self, item: OutboxItem) -> datetime:
        """Send one notification (in a worker thread); return when it reached Rasa."""
        assert item.conversation_id
        self.delivery.trigger(item.conversation_id, item.intent, item.entities)
        return self._clock()

    def heartbeat(self) -> bool:
        """Refresh the lock; on losing it, stop the jobs and set :attr:`lost_lock`."""
        if lock.heartbeat(self.db, LOCK_NAME, self.holder, self._clock()):
            return True
        log.error("care scheduler lost its lock to another process; stopping its jobs")
        self.lost_lock.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        return False

    def _send_all(
        self, items: Sequence[Item], send: Callable[[Item], Any], finished: Callable[[list[Outcome]], None],
        claim: Optional[Callable[[Sequence[Item]], None]] = None,
    ) -> None:
        """Send ``items`` with ``send`` on the worker threads, in order; call ``finished`` here with
        each batch of outcomes as they come in.

        ``claim`` is called with the next ``2 * workers`` items before any of them is handed out
        (a failure stops the handing out: the tick fails and the next one carries on). Nothing new
        is handed out once the scheduler stops or loses its lock; what was not handed out stays
        pending in the database for the next tick or the next care service.
        """
        if not items:
            return
        senders = self._sender_pool()
        position, claimed = 0, 0
        in_flight: dict[futures.Future[Any], Item] = {}

        def hand_out() -> None:
            nonlocal position, claimed
            while len(in_flight) < 2 * self.workers and not self._halted() and position < len(items):
                if claim is not None and position >= claimed:
                    chunk = items[position:position + 2 * self.workers]
                    retry_when_busy(lambda: claim(chunk))
                    claimed = position + len(chunk)
                try:
                    in_flight[senders.submit(send, items[position])] = items[position]
                except RuntimeError:  # stop() shut the workers down meanwhile: this one stays pending
                    return
                position += 1

        hand_out()
        while in_flight:
            done, _ = futures.wait(in_flight, timeout=self._beat_interval(), return_when=futures.FIRST_COMPLETED)
            if self._halted():  # what no worker has started yet stays pending
                done |= {future for future in in_flight if future.cancel()}
            batch: list[Outcome] = []
            for future in done:
                item = in_flight.pop(future)
                if future.cancelled():
                    continue
                error = future.exception()
                batch.append((item, None if error is not None else future.result(), error))
            hand_out()  # keep the workers busy while this thread writes to the database
            if batch:
                finished(batch)
            self._beat_during_start()

    def _halted(self) -> bool:
        return self._stopping.is_set() or self.lost_lock.is_set()

    def _sender_pool(self) -> futures.ThreadPoolExecutor:
        with self._senders_lock:
            if self._senders is None:
                self._senders = futures.ThreadPoolExecutor(self.workers, thread_name_prefix="care-send")
            return self._senders

    def _close_senders(self) -> None:
        with self._senders_lock:
            senders, self._senders = self._senders, None
        if senders is not None:
            senders.shutdown(wait=True)

    def _beat_interval(self) -> float:
        return min(self.tick_seconds, self.stale_after.total_seconds() / 4)

    def _beat_during_start(self) -> None:
        """Refresh the lock during a long catch-up in :meth:`start`, before the heartbeat job runs."""
        if not self._catching_up or time.monotonic() - self._last_beat < self._beat_interval():
            return
        self._last_beat = time.monotonic()
        try:
            held = lock.heartbeat(self.db, LOCK_NAME, self.holder, self._clock())
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.exception("could not refresh the care scheduler's lock during catch-up")
            return
        if not held:
            log.error("care scheduler lost its lock during catch-up; sending nothing more")
            self.lost_lock.set()

    def _deliver_reminders_and_plan(self) -> None:
        """The reminders job: deliver what is due, then plan a run at the next due time."""
        try:
            self.deliver_reminders()
        finally:
            self._plan_next_due()

    def _plan_next_due(self) -> None:
        """Wake the reminders job at the next due time when that comes before the next tick."""
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running or self._halted():
            return
        next_due = self.reminders.next_due_at()
        if next_due is None:
            return
        wait = (next_due - self._clock()).total_seconds()
        if not 0 < wait < self.tick_seconds:
            return
        try:
            scheduler.add_job(
                _logged(JOB_REMINDERS, self._deliver_reminders_and_plan),
                DateTrigger(run_date=datetime.now(timezone.utc) + timedelta(seconds=wait), timezone=timezone.utc),
                id=JOB_REMINDERS_DUE, name=JOB_REMINDERS_DUE, executor="reminders", replace_existing=True,
            )
        except Exception:  # noqa: BLE001 - the next tick delivers it anyway
            log.exception("could not plan the reminders job at the next due time")

    def _build(self) -> BackgroundScheduler:
        """Create the APScheduler with one interval job per table it polls.

        Reminders, escalations and notifications each run on an executor of their own: a long
        wave of reminders does not hold up a coordinator's reply, which is polled every
        ``notify_seconds``.
        """
        scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(1), "reminders": ThreadPoolExecutor(1),
                       "notifications": ThreadPoolExecutor(1), "chat": ThreadPoolExecutor(1),
                       "heartbeat": ThreadPoolExecutor(1), "sweep": ThreadPoolExecutor(1),
                       "retention": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(1, int(self.tick_seconds * 2))},
        )
        first = datetime.now(timezone.utc)
        beat = self._beat_interval()
        jobs: list[tuple[str, Callable[[], object], float, str]] = [
            (JOB_REMINDERS, self._deliver_reminders_and_plan, self.tick_seconds, "reminders"),
            (JOB_ESCALATIONS, self.escalate_overdue, self.tick_seconds, "default"),
            (JOB_NOTIFICATIONS, self.deliver_notifications, self.notify_seconds, "notifications"),
            (JOB_HEARTBEAT, self.heartbeat, beat, "heartbeat"),
        ]
        if self.emergency_sweep is not None:
            jobs.append((JOB_EMERGENCY_SWEEP, self.emergency_sweep.run, min(self.tick_seconds, 5.0), "sweep"))
        if self.retention is not None:
            jobs.append((JOB_RETENTION, self.retention.run, RETENTION_SECONDS, "retention"))
        if self.coordinator_chat is not None:
            chat = self.coordinator_chat
            jobs.append((JOB_COORDINATOR_CHAT, lambda: chat.post_pending(self._clock()), self.notify_seconds, "chat"))
        for job_id, func, seconds, executor in jobs:
            scheduler.add_job(
                _logged(job_id, func), IntervalTrigger(seconds=seconds, start_date=first, timezone=timezone.utc),
                id=job_id, name=job_id, executor=executor, replace_existing=True, next_run_time=first,
            )
        return scheduler


def _logged(job_id: str, func: Callable[[], object]) -> Callable[[], None]:
    """Wrap a job so one failed tick is logged and the next tick simply tries again."""

    def run() -> None:
        try:
            func()
        except Exception:  # noqa: BLE001 - a tick must never kill the scheduler
            log.exception("care job %s failed; it runs again at the next tick", job_id)

    return run

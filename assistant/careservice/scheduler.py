"""The care service's timers: reminders, escalation steps and the notification outbox.

Every job polls the tables, so nothing lives only in memory: a restarted scheduler rebuilds
the same jobs, catches up on what fell due while it was stopped (:meth:`ReminderService.catch_up`)
and carries on. The ``service_locks`` row makes sure only one scheduler runs at a time.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Final, Optional

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from assistant.care import lock
from assistant.care.clock import Clock, utcnow
from assistant.care.db import Database
from assistant.care.reminders import DeliveryView, ReminderService
from assistant.careservice.delivery import DeliveryError, RasaDelivery
from assistant.careservice.outbox import Outbox

LOCK_NAME: Final = "care-scheduler"
JOB_REMINDERS: Final = "care.reminders"
JOB_ESCALATIONS: Final = "care.escalations"
JOB_NOTIFICATIONS: Final = "care.notifications"
JOB_HEARTBEAT: Final = "care.heartbeat"

log = logging.getLogger(__name__)


class CareScheduler:
    """Deliver due reminders and notifications, and escalate unconfirmed reminders.

    Args:
        db: The database (schema already migrated).
        delivery: Sends intents to Rasa.
        clock: Returns the current aware time (inject a fake one in tests).
        tick_seconds: How often each job polls the tables.
        stale_after: A lock whose heartbeat is older than this may be taken over.
        holder: This process's name in the lock (unique by default).
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
    ) -> None:
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self.db: Database = db
        self.delivery: RasaDelivery = delivery
        self.reminders: ReminderService = ReminderService(db, clock=clock)
        self.outbox: Outbox = Outbox(db, clock=clock)
        self.tick_seconds: float = tick_seconds
        self.stale_after: timedelta = stale_after
        self.holder: str = holder or lock.new_holder()
        self.lost_lock: threading.Event = threading.Event()
        self._clock = clock
        self._scheduler: Optional[BackgroundScheduler] = None

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
            ServiceLockHeld: If another live care service holds the lock.
        """
        lock.acquire(self.db, LOCK_NAME, self.holder, self._clock(), self.stale_after)
        try:
            self.deliver_reminders(self.reminders.catch_up(self._clock()))
            self._scheduler = self._build()
            self._scheduler.start()
        except BaseException:
            lock.release(self.db, LOCK_NAME, self.holder)
            raise
        log.info("care scheduler started (holder %s, tick %ss)", self.holder, self.tick_seconds)

    def stop(self) -> None:
        """Stop the jobs (waiting for a running one) and release the lock."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None
        lock.release(self.db, LOCK_NAME, self.holder)
        log.info("care scheduler stopped")

    def run_once(self) -> None:
        """Run every job once, in order (what one tick does)."""
        self.deliver_reminders()
        self.escalate_overdue()
        self.deliver_notifications()

    def deliver_reminders(self, deliveries: Optional[list[DeliveryView]] = None) -> int:
        """Send the due reminders (or ``deliveries``); return how many reached Rasa."""
        pending = self.reminders.due_deliveries(self._clock()) if deliveries is None else deliveries
        sent = 0
        for item in pending:
            try:
                self.delivery.send_reminder(item)
            except DeliveryError as error:
                view = self.reminders.record_failed(item.delivery_id, str(error))
                log.warning("reminder delivery %s failed (attempt %s, now %s): %s",
                            item.delivery_id, view.attempts, view.status, error)
                continue
            self.reminders.record_sent(item.delivery_id, self._clock())
            sent += 1
        return sent

    def escalate_overdue(self) -> int:
        """Take the next escalation step of unconfirmed reminders; return how many."""
        now = self._clock()
        overdue = self.reminders.overdue_unacknowledged(now)
        for item in overdue:
            self.reminders.escalate(item.delivery_id, now)
        return len(overdue)

    def deliver_notifications(self) -> int:
        """Send the pending notifications that are due; return how many reached Rasa."""
        sent = 0
        for item in self.outbox.due(self._clock()):
            if not item.conversation_id:
                self.outbox.record_failed(item.notification_id, "the person has no conversation", final=True)
                continue
            try:
                self.delivery.trigger(item.conversation_id, item.intent, item.entities)
            except DeliveryError as error:
                status = self.outbox.record_failed(item.notification_id, str(error))
                log.warning("notification %s failed (now %s): %s", item.notification_id, status, error)
                continue
            self.outbox.record_sent(item.notification_id, self._clock())
            sent += 1
        return sent

    def heartbeat(self) -> bool:
        """Refresh the lock; on losing it, stop the jobs and set :attr:`lost_lock`."""
        if lock.heartbeat(self.db, LOCK_NAME, self.holder, self._clock()):
            return True
        log.error("care scheduler lost its lock to another process; stopping its jobs")
        self.lost_lock.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        return False

    def _build(self) -> BackgroundScheduler:
        """Create the APScheduler with one interval job per table it polls."""
        scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(1, int(self.tick_seconds * 2))},
        )
        first = datetime.now(timezone.utc)
        beat = min(self.tick_seconds, self.stale_after.total_seconds() / 4)
        jobs: list[tuple[str, Callable[[], object], float, str]] = [
            (JOB_REMINDERS, self.deliver_reminders, self.tick_seconds, "default"),
            (JOB_ESCALATIONS, self.escalate_overdue, self.tick_seconds, "default"),
            (JOB_NOTIFICATIONS, self.deliver_notifications, self.tick_seconds, "default"),
            (JOB_HEARTBEAT, self.heartbeat, beat, "heartbeat"),
        ]
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

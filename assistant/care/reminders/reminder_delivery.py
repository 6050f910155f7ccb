"""The scheduler side of reminders: due times become deliveries, which are sent, retried and escalated.

Used by the care service's one scheduler process through :class:`~assistant.care.reminders.reminders.ReminderService`.
Each due time of a reminder becomes one :class:`~assistant.care.core.models.ReminderDelivery` row;
the unique ``(reminder_id, due_at)`` constraint means a due time is delivered at most once, even
when two processes look at the same reminder. Unconfirmed deliveries go to the linked relatives
first (``EXTERNAL_missed_reminder``), then to coordinators.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Final, Optional, Sequence, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, contains_eager

from assistant.care.core import audit
from assistant.care.core.clock import require_aware
from assistant.care.core.db import CareService
from assistant.care.core.errors import NotFound
from assistant.care.escalations.escalations import open_escalation
from assistant.care.core.models import Person, Reminder, ReminderDelivery, SeniorProfile
from assistant.care.core.notifications import (
    MAX_ATTEMPTS,
    enqueue_for_family,
    relatives_of,
    retry_delay,
)
from assistant.care.reminders.reminder_views import (
    DeliveryView,
    delivery_view,
    due_words,
    hhmm,
    local_time,
    senior_name,
)
from assistant.care.reminders.schedules import Schedule, join_words

SECOND_WINDOW_MINUTES: Final = 30
"""Used for the coordinators' step when the reminder itself has no escalation time."""
LATE_NOTE_AFTER: Final = timedelta(minutes=2)
"""A delivery sent later than this after its due time says so ("this was due at 08:00")."""
MAX_CATCH_UP_STEPS: Final = 1000

MISSED_INTENT: Final = "EXTERNAL_missed_reminder"
"""Sent to relatives: entities senior_name, title, kind, due_time, delivery_id, reason."""
MATERIALISE_BATCH: Final = 200
"""Due reminders turned into delivery rows per transaction."""
RECORD_BATCH: Final = 500
"""Ids per statement when several deliveries are recorded at once."""

log = logging.getLogger(__name__)
T = TypeVar("T")


def retry_when_busy(work: Callable[[], T], attempts: int = 5, pause: float = 0.05) -> T:
    """Run ``work`` (one whole transaction) again, after a short pause, when the database was busy.

    SQLite refuses a transaction that read before it wrote when another connection committed
    in between ("database is locked"); PostgreSQL may break a deadlock or a serialisation
    conflict. The transaction was rolled back, so running it again is safe.
    """
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as error:
            reason = str(error.orig).lower()
            busy = any(word in reason for word in ("locked", "busy", "deadlock", "could not serialize"))
            if not busy or attempt == attempts - 1:
                raise
            time.sleep(pause * 2 ** attempt)
    raise AssertionError("unreachable")


class ReminderDeliveries(CareService):
    """Deliver due reminders and escalate those nobody confirmed.

    Args:
        db: The database.
        clock: Returns the current aware time (inject a fixed one in tests).
    """

    def due_deliveries(self, now: datetime) -> list[DeliveryView]:
        """Create the deliveries that fell due and return everything to send now.

        For each active reminder with ``next_due_at <= now`` (of a senior who still consents) a
        delivery row is created and ``next_due_at`` moves on; the unique ``(reminder_id, due_at)``
        makes a second row for the same due time impossible, in any process. Due times older than
        the reminder's grace time become one "missed" delivery that is escalated at once; several
        late ones within the grace time become one delivery whose note lists them.

        Returned (oldest first): new deliveries, pending ones whose retry time has come
        (exponential backoff counted in ``attempts``) and snoozed ones whose snooze is over.
        Call :meth:`record_sent` or :meth:`record_failed` for each.
        """
        now = require_aware(now, "now")
        with self._db.session() as session:
            due_ids = list(session.scalars(
                select(Reminder.id)
                .where(Reminder.active.is_(True), Reminder.next_due_at <= now, _consenting())
                .order_by(Reminder.id)
            ))
        for start in range(0, len(due_ids), MATERIALISE_BATCH):
            batch = due_ids[start:start + MATERIALISE_BATCH]
            try:
                retry_when_busy(lambda: self._materialise_all(batch, now))
            except OperationalError:
                raise  # the database is in trouble: this tick fails and the next one tries again
            except Exception:  # noqa: BLE001 - a due time that has its row already, or a broken reminder
                for reminder_id in batch:  # one at a time, carefully: the others still get theirs
                    try:
                        retry_when_busy(lambda: self._materialise_all([reminder_id], now, careful=True))
                    except OperationalError:
                        raise
                    except Exception:  # noqa: BLE001
                        log.exception("could not create the due delivery of reminder %s", reminder_id)
        return retry_when_busy(lambda: self._sendable(now))

    def next_due_at(self) -> Optional[datetime]:
        """The earliest due time of an active reminder (None when there is none)."""
        with self._db.session() as session:
            return session.scalar(select(func.min(Reminder.next_due_at)).where(Reminder.active.is_(True)))

    def catch_up(self, now: datetime) -> list[DeliveryView]:
        """Deal with what fell due while no scheduler ran; call once at start.

        Within a reminder's grace time the reminder is delivered late with a note ("this was
        due at 08:00"); beyond it the delivery is recorded as missed and escalated. Returns
        what to send now, like :meth:`due_deliveries`.
        """
        views = self.due_deliveries(now)
        with self._db.session() as session:
            audit.record(session, audit.ASSISTANT, "reminders.caught_up", "scheduler", "reminders",
                         at=require_aware(now), to_send=len(views))
        return views

    def record_sent(self, delivery_id: int, at: datetime) -> DeliveryView:
        """Record that a delivery reached Rasa.

        Raises:
            NotFound: If there is no such delivery.
        """
        at = require_aware(at, "at")
        with self._db.session() as session:
            delivery = self._get(session, delivery_id)
            delivery.attempts += 1
            if delivery.status in ("pending", "snoozed"):
                delivery.status = "sent"
                delivery.sent_at = at
            audit.record(session, audit.ASSISTANT, "reminder_delivery.sent", "reminder_delivery",
                         delivery.id, at=at, attempts=delivery.attempts)
            view = delivery_view(delivery)
        return view

    def claim(self, delivery_ids: Sequence[int], at: datetime) -> None:
        """Record that sending these deliveries starts now, in one transaction, before they are sent.

        A delivery whose send was started but never recorded (the care service was killed) comes
        back :attr:`~DeliveryView.in_doubt`: the conversation is asked whether it arrived before
        it is sent again.
        """
        at = require_aware(at, "at")
        table = ReminderDelivery.__table__
        with self._db.session() as session:
            for start in range(0, len(delivery_ids), RECORD_BATCH):
                ids = list(delivery_ids[start:start + RECORD_BATCH])
                session.execute(update(table).where(table.c.id.in_(ids)).values(claimed_at=at))

    def record_sent_many(self, sent: Sequence[tuple[int, datetime]]) -> int:
        """Record in one transaction that several deliveries reached Rasa; return how many exist.

        The same as :meth:`record_sent` for each ``(delivery_id, at)``, for the care service, which
        records its concurrent sends in batches. Unknown ids are skipped.
        """
        items = [(delivery_id, require_aware(at, "at")) for delivery_id, at in sent]
        if not items:
            return 0
        table = ReminderDelivery.__table__
        found: dict[int, int] = {}
        with self._db.session() as session:
            # Write before reading: SQLite then takes its write lock first, and another
            # connection's commit cannot make this transaction fail halfway.
            for start in range(0, len(items), RECORD_BATCH):
                ids = [delivery_id for delivery_id, _ in items[start:start + RECORD_BATCH]]
                session.execute(
                    update(table).where(table.c.id.in_(ids)).values(attempts=table.c.attempts + 1)
                )
            session.execute(
                update(table)
                .where(table.c.id == bindparam("delivery_id"),
                       (table.c.status == "pending") | (table.c.status == "snoozed"))
                .values(status="sent", sent_at=bindparam("at", type_=table.c.sent_at.type)),
                [{"delivery_id": delivery_id, "at": at} for delivery_id, at in items],
            )
            for start in range(0, len(items), RECORD_BATCH):
                ids = [delivery_id for delivery_id, _ in items[start:start + RECORD_BATCH]]
                found.update(session.execute(select(table.c.id, table.c.attempts).where(table.c.id.in_(ids))).all())
            for delivery_id, at in items:
                if delivery_id in found:
                    audit.record(session, audit.ASSISTANT, "reminder_delivery.sent", "reminder_delivery",
                                 delivery_id, at=at, attempts=found[delivery_id])
        return len(found)

    def record_failed(self, delivery_id: int, error: str) -> DeliveryView:
        """Record a failed attempt; after ``MAX_ATTEMPTS`` the delivery fails and is escalated.

        Raises:
            NotFound: If there is no such delivery.
        """
        now = self._clock()
        with self._db.session() as session:
            delivery = self._get(session, delivery_id)
            delivery.attempts += 1
            delivery.claimed_at = None  # this attempt's outcome is known: it failed
            reason = str(error)[:300]
            if delivery.attempts < MAX_ATTEMPTS or delivery.status not in ("pending", "snoozed"):
                audit.record(session, audit.ASSISTANT, "reminder_delivery.attempt_failed",
                             "reminder_delivery", delivery.id, at=now, attempts=delivery.attempts,
                             error=reason)
                return delivery_view(delivery)
            delivery.status = "failed"
            senior = session.get(Person, delivery.reminder.senior_id)
            assert senior is not None
            escalation = open_escalation(
                session, "failed_delivery", senior,
                f"Could not deliver the reminder '{delivery.reminder.title}' (due {due_words(delivery)}) "
                f"to {senior_name(senior)} after {delivery.attempts} attempts: {reason}", now,
            )
            audit.record(session, audit.ASSISTANT, "reminder_delivery.failed", "reminder_delivery",
                         delivery.id, at=now, attempts=delivery.attempts, escalation=escalation.reference,
                         error=reason)
            view = delivery_view(delivery)
        return view

    def overdue_unacknowledged(self, now: datetime) -> list[DeliveryView]:
        """Return the deliveries whose next escalation step is due at ``now``.

        First step: ``escalate_after_minutes`` after sending without a confirmation. Second
        step: the same window again after relatives were told (30 minutes when unset).
        """
        now = require_aware(now, "now")
        # Only the columns the decision needs, for every waiting delivery (after a wave of
        # reminders there are thousands); full views only for the few that are due.
        query = (
            select(ReminderDelivery.id, ReminderDelivery.status, ReminderDelivery.sent_at,
                   ReminderDelivery.escalated_at, Reminder.escalate_after_minutes)
            .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
            .where(
                Reminder.cancelled_at.is_(None),
                _consenting(),
                ReminderDelivery.acknowledged_at.is_(None),
                ReminderDelivery.status.in_(("sent", "missed")),
            )
        )
        with self._db.session() as session:
            due_ids = [row.id for row in session.execute(query) if _step_due(*row[1:], now)]
            views: list[DeliveryView] = []
            for start in range(0, len(due_ids), RECORD_BATCH):
                views += [delivery_view(d) for d, _ in session.execute(
                    _with_reminder_and_senior().where(ReminderDelivery.id.in_(due_ids[start:start + RECORD_BATCH]))
                )]
        return sorted(views, key=lambda view: (view.due_at, view.delivery_id))

    def escalate(self, delivery_id: int, now: datetime) -> DeliveryView:
        """Take the next escalation step of an unconfirmed delivery, if it is due at ``now``.

        First linked relatives are told (``EXTERNAL_missed_reminder``); if there are none, or
        the reminder is still not confirmed after a second window, coordinators get an
        escalation: "missed_medication" for medication, "wellbeing" otherwise.

        Raises:
            NotFound: If there is no such delivery.
        """
        now = require_aware(now, "now")
        with self._db.session() as session:
            delivery = self._get(session, delivery_id, lock=True)
            if delivery.status in ("sent", "missed") and delivery.acknowledged_at is None \
                    and _escalation_due(delivery, now):
                self._escalate(session, delivery, now)
            view = delivery_view(delivery)
        return view

    # ---- helpers --------------------------------------------------------------

    @staticmethod
    def _get(session: Session, delivery_id: int, *, lock: bool = False) -> ReminderDelivery:
        """Return a delivery, locked for update with ``lock``, or raise NotFound."""
        delivery = session.get(ReminderDelivery, delivery_id, with_for_update=lock or None)
        if delivery is None:
            raise NotFound(f"There is no reminder delivery {delivery_id}.")
        return delivery

    def _materialise_all(self, reminder_ids: list[int], now: datetime, *, careful: bool = False) -> None:
        """Create the delivery rows of these reminders' passed due times, in one transaction.

        Quick by default: every row is inserted in one flush, and a due time that already has
        its row makes the whole transaction fail (IntegrityError). ``careful`` inserts each row
        in a savepoint and skips such a due time instead.
        """
        with self._db.session() as session:
            reminders = list(session.scalars(
                select(Reminder)
                .where(Reminder.id.in_(reminder_ids), Reminder.active.is_(True), Reminder.next_due_at <= now)
                .order_by(Reminder.id)
                .with_for_update(skip_locked=True)
            ))
            rows: list[ReminderDelivery] = []
            for reminder in reminders:
                rows += self._materialise(session, reminder, now, careful)
            session.flush()
            for row in rows:
                status = row.status
                audit.record(session, audit.ASSISTANT, f"reminder_delivery.{'due' if status == 'pending' else status}",
                             "reminder_delivery", row.id, at=now, reminder_id=row.reminder_id)
                if status == "missed":
                    self._escalate(session, row, now)

    def _materialise(self, session: Session, reminder: Reminder, now: datetime, careful: bool) -> list[ReminderDelivery]:
        """Add the delivery rows of one (locked) reminder's passed due times, move it on; return the rows."""
        if reminder.next_due_at is None:
            return []
        schedule = Schedule.from_json(reminder.schedule_json)
        cutoff = now - timedelta(minutes=reminder.grace_minutes)
        due: Optional[datetime] = reminder.next_due_at
        missed: list[datetime] = []
        while due is not None and due < cutoff and len(missed) < MAX_CATCH_UP_STEPS:
            missed.append(due)
            due = schedule.next_after(due)
        if due is not None and due < cutoff:
            due = schedule.next_after(cutoff - timedelta(microseconds=1))
        current: list[datetime] = []
        while due is not None and due <= now:
            current.append(due)
            due = schedule.next_after(due)
        rows: list[Optional[ReminderDelivery]] = []
        if missed:
            note = f"missed: due at {hhmm(missed[-1], schedule.tz)} while reminders were not running"
            if len(missed) > 1:
                note += f" ({len(missed)} times since {hhmm(missed[0], schedule.tz)})"
            rows.append(self._insert(session, reminder, missed[-1], "missed", note, careful))
        if current:
            latest, skipped = current[-1], [hhmm(at, schedule.tz) for at in current[:-1]]
            note = f"this was due at {hhmm(latest, schedule.tz)}" if now - latest > LATE_NOTE_AFTER else ""
            if skipped:  # several late due times of a short interval: one reminder, not a burst
                note = f"this was due at {hhmm(latest, schedule.tz)} (and at {join_words(skipped)})"
            rows.append(self._insert(session, reminder, latest, "pending", note, careful))
        reminder.next_due_at = due
        if due is None:
            reminder.active = False
        return [row for row in rows if row is not None]

    @staticmethod
    def _insert(
        session: Session, reminder: Reminder, due_at: datetime, status: str, note: str, careful: bool
    ) -> Optional[ReminderDelivery]:
        """Add one delivery; when ``careful``, None if that due time already has one (the unique constraint)."""
        row = ReminderDelivery(reminder_id=reminder.id, due_at=due_at, status=status, attempts=0, note=note)
        if not careful:
            session.add(row)
            return row
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            return None
        return row

    def _sendable(self, now: datetime) -> list[DeliveryView]:
        """Return the deliveries to send now; stale ones become missed and are escalated."""
        query = (
            _with_reminder_and_senior()
            .where(
                Reminder.cancelled_at.is_(None),
                _consenting(),
                (ReminderDelivery.status == "pending")
                | ((ReminderDelivery.status == "snoozed") & (ReminderDelivery.snoozed_until <= now)),
            )
            .order_by(ReminderDelivery.due_at, ReminderDelivery.id)
            .with_for_update(skip_locked=True, of=ReminderDelivery)
        )
        views: list[DeliveryView] = []
        with self._db.session() as session:
            for delivery, _ in session.execute(query):
                base = delivery.snoozed_until if delivery.status == "snoozed" else delivery.due_at
                assert base is not None
                if delivery.attempts == 0 and now - base > timedelta(minutes=delivery.reminder.grace_minutes):
                    delivery.status = "missed"
                    delivery.note = f"missed: due at {local_time(delivery)} and not sent in time"
                    audit.record(session, audit.ASSISTANT, "reminder_delivery.missed", "reminder_delivery",
                                 delivery.id, at=now)
                    self._escalate(session, delivery, now)
                    continue
                if now < base + _backoff(delivery.attempts):
                    continue
                if not delivery.note and delivery.status == "pending" and now - base > LATE_NOTE_AFTER:
                    delivery.note = f"this was due at {local_time(delivery)}"
                views.append(delivery_view(delivery))
        return views

    @staticmethod
    def _escalate(session: Session, delivery: ReminderDelivery, now: datetime) -> None:
        """Tell relatives first; coordinators when there are none or on the second step."""
        reminder = delivery.reminder
        senior = session.get(Person, reminder.senior_id)
        assert senior is not None
        name = senior_name(senior)
        relatives = relatives_of(session, senior.id, "reminders")
        if delivery.escalated_at is None and relatives:
            reason = "missed" if delivery.status == "missed" else "not_confirmed"
            enqueue_for_family(
                session, senior.id, "missed_reminder", MISSED_INTENT,
                {"senior_name": name, "title": reminder.title, "kind": reminder.kind,
                 "due_time": local_time(delivery), "delivery_id": delivery.id, "reason": reason},
                text=f"{name} has not confirmed the reminder '{reminder.title}' due at {local_time(delivery)}.",
                at=now, share="reminders",
            )
            delivery.escalated_at = now
            audit.record(session, audit.ASSISTANT, "reminder_delivery.family_told", "reminder_delivery",
                         delivery.id, at=now, relatives=len(relatives))
            return
        kind = "missed_medication" if reminder.kind == "medication" else "wellbeing"
        what = "the check-in" if reminder.kind == "checkin" else f"the reminder '{reminder.title}'"
        told = " Relatives were told." if delivery.escalated_at is not None else " No relatives are linked."
        escalation = open_escalation(
            session, kind, senior,
            f"{name} has not confirmed {what} due {due_words(delivery)}.{told}", now,
        )
        delivery.status = "escalated"
        delivery.escalated_at = delivery.escalated_at or now
        audit.record(session, audit.ASSISTANT, "reminder_delivery.escalated", "reminder_delivery",
                     delivery.id, at=now, escalation=escalation.reference, kind=kind)


def _with_reminder_and_senior() -> Any:
    """``select(ReminderDelivery, Person)`` with each delivery's reminder and senior loaded in the same query."""
    return (
        select(ReminderDelivery, Person)
        .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
        .join(Person, Person.id == Reminder.senior_id)
        .options(contains_eager(ReminderDelivery.reminder))
    )


def _consenting() -> Any:
    """A condition on ``Reminder``: its senior still has a profile with consent."""
    return Reminder.senior_id.in_(
        select(SeniorProfile.person_id).where(SeniorProfile.consent_care_data.is_(True))
    )


def _backoff(attempts: int) -> timedelta:
    """Return how long after its due time a delivery with ``attempts`` failures may be retried."""
    return sum((retry_delay(n) for n in range(1, attempts + 1)), timedelta())


def _escalation_due(delivery: ReminderDelivery, now: datetime) -> bool:
    """Whether the next escalation step of an unconfirmed delivery is due at ``now``."""
    return _step_due(delivery.status, delivery.sent_at, delivery.escalated_at,
                     delivery.reminder.escalate_after_minutes, now)


def _step_due(
    status: str, sent_at: Optional[datetime], escalated_at: Optional[datetime], minutes: Optional[int],
    now: datetime,
) -> bool:
    """Whether the next escalation step of an unconfirmed delivery with these values is due at ``now``."""
    if escalated_at is None:
        if status == "missed":
            return True
        return minutes is not None and sent_at is not None and now >= sent_at + timedelta(minutes=minutes)
    since = max(escalated_at, sent_at or escalated_at)
    return now >= since + timedelta(minutes=minutes or SECOND_WINDOW_MINUTES)


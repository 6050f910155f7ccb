"""Reminders: medication, appointments, free reminders and the daily wellbeing check-in.

Two sides use :class:`ReminderService`:

* the conversation (Rasa actions): :meth:`~ReminderService.preview`, ``create``, ``list_for``,
  ``cancel``, ``acknowledge``, ``snooze`` and the check-in methods. A senior or a linked
  relative may call them.
* the care service (one scheduler process): :meth:`~ReminderService.due_deliveries`,
  ``record_sent``, ``record_failed``, ``overdue_unacknowledged``, ``escalate`` and ``catch_up``.

Each due time of a reminder becomes one :class:`~assistant.care.core.models.ReminderDelivery` row;
the unique ``(reminder_id, due_at)`` constraint means a due time is delivered at most once, even
when two processes look at the same reminder. A delivery moves through::

    pending -> sent -> acknowledged
       |        |  \\-> snoozed -> sent ...
       |        \\-> (not confirmed) relatives told -> escalated (coordinators)
       |-> missed (due beyond the grace time while nothing ran) -> relatives / coordinators
       \\-> failed (Rasa unreachable after MAX_ATTEMPTS) -> escalation "failed_delivery"

Everything is in the tables, so a restarted scheduler carries on where the last one stopped.

Schedules live in :mod:`assistant.care.reminders.schedules`, the frozen views in
:mod:`assistant.care.reminders.reminder_views` and the scheduler side in
:mod:`assistant.care.reminders.reminder_delivery`; their public names are re-exported here.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.clock import Clock, utcnow, zone
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, NotFound
from assistant.care.escalations.escalations import open_escalation
from assistant.care.core.models import Person, Reminder, ReminderDelivery
from assistant.care.core.notifications import enqueue_for_family
from assistant.care.people.people import acting_for
from assistant.care.reminders.reminder_delivery import (
    LATE_NOTE_AFTER,
    MAX_CATCH_UP_STEPS,
    MISSED_INTENT,
    SECOND_WINDOW_MINUTES,
    ReminderDeliveries,
)
from assistant.care.reminders.reminder_views import (
    CheckinAnswer,
    DeliveryView,
    ReminderView,
    delivery_view,
    local_time,
    next_due_text,
    reminder_view,
    senior_name,
)
from assistant.care.reminders.schedules import (
    MAX_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    MONTH_NAMES,
    WEEKDAY_NAMES,
    Schedule,
    join_words,
    parse_schedule,
)
from assistant.care.core.validation import clean_int, clean_text

__all__ = [
    "ACK_STATUSES",
    "ACKNOWLEDGED_INTENT",
    "CHECKIN_ALERT_INTENT",
    "CHECKIN_ANSWERS",
    "CHECKIN_TITLE",
    "DEFAULT_ESCALATE_AFTER",
    "LATE_NOTE_AFTER",
    "MAX_ACTIVE_REMINDERS",
    "MAX_CATCH_UP_STEPS",
    "MAX_DOSE",
    "MAX_INTERVAL_MINUTES",
    "MAX_LOCATION",
    "MAX_SNOOZE_MINUTES",
    "MAX_TITLE",
    "MIN_INTERVAL_MINUTES",
    "MISSED_INTENT",
    "MONTH_NAMES",
    "REMINDER_KINDS_FOR_PEOPLE",
    "SECOND_WINDOW_MINUTES",
    "SNOOZABLE",
    "SNOOZE_LIMIT",
    "WEEKDAY_NAMES",
    "CheckinAnswer",
    "DeliveryView",
    "ReminderDeliveries",
    "ReminderService",
    "ReminderView",
    "Schedule",
    "acting_for",
    "delivery_view",
    "open_escalation",
    "parse_schedule",
    "reminder_view",
]

MAX_TITLE: Final = 200
MAX_DOSE: Final = 120
MAX_LOCATION: Final = 200
MAX_ACTIVE_REMINDERS: Final = 50
DEFAULT_ESCALATE_AFTER: Final = {"medication": 30, "checkin": 60}
"""Minutes without a confirmation before relatives are told, by reminder kind."""
MAX_SNOOZE_MINUTES: Final = 120
SNOOZE_LIMIT: Final = timedelta(hours=3)
"""A reminder cannot be put off further than this after its due time."""
CHECKIN_TITLE: Final = "Daily check-in"
CHECKIN_ANSWERS: Final = ("fine", "not_good", "call_me")

ACKNOWLEDGED_INTENT: Final = "EXTERNAL_reminder_acknowledged"
"""Sent to relatives told about a reminder that was confirmed late: senior_name, title, due_time."""
CHECKIN_ALERT_INTENT: Final = "EXTERNAL_checkin_alert"
"""Sent to relatives when the check-in answer is not good: senior_name, answer, reference."""

REMINDER_KINDS_FOR_PEOPLE: Final = ("medication", "appointment", "other")
_KIND_WORDS: Final = {
    "medication": "medication", "medicine": "medication", "meds": "medication", "pill": "medication",
    "pills": "medication", "tablet": "medication", "tablets": "medication", "drug": "medication",
    "appointment": "appointment", "appt": "appointment", "visit": "appointment",
    "doctor": "appointment", "other": "other", "reminder": "other", "": "other",
}
_ANSWER_WORDS: Final = {
    "fine": "fine", "good": "fine", "ok": "fine", "okay": "fine", "well": "fine", "great": "fine",
    "not_good": "not_good", "bad": "not_good", "unwell": "not_good", "not_well": "not_good",
    "not_fine": "not_good", "poorly": "not_good", "ill": "not_good", "sick": "not_good",
    "call_me": "call_me", "call": "call_me", "please_call": "call_me", "help": "call_me",
    "call_me_please": "call_me", "talk_to_someone": "call_me", "not_bad": "fine", "not_too_bad": "fine",
}
ACK_STATUSES: Final = ("sent", "snoozed", "escalated")
"""Statuses of a delivery that still waits for a confirmation."""
SNOOZABLE: Final = ("sent", "snoozed")
"""Once coordinators have it ("escalated") a reminder can be confirmed but no longer put off."""
_CALL_WORDS: Final = frozenset("call phone ring someone somebody person human help".split())
_NOT_GOOD_WORDS: Final = frozenset(
    "not bad unwell poorly ill sick terrible awful pain hurt dizzy fell fallen lonely sad".split()
)
_FINE_WORDS: Final = frozenset("fine good ok okay well great alright grand".split())
_ID_QUERY: Final = re.compile(r"^(?:reminder\s*)?(?:number\s*|no\.?\s*)?#?\s*(\d{1,9})$")
_QUERY_NOISE: Final = frozenset(
    "the my a an to for of at please cancel stop delete remove reminder reminders about "
    "one that this".split()
)


@dataclass(frozen=True)
class _Draft:
    """Checked values of a reminder not yet saved."""

    senior_id: int
    actor_id: int
    kind: str
    title: str
    dose: Optional[str]
    location: Optional[str]
    schedule: Schedule
    next_due_at: Optional[datetime]
    escalate_after_minutes: Optional[int]


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _checkin_answer(text: str) -> Optional[str]:
    """Return ``"fine"``, ``"not_good"`` or ``"call_me"`` for an answer, or None.

    When in doubt the answer that brings a person wins ("fine, but call me" is ``call_me``).
    """
    key = _normalise(text[:MAX_TITLE]).replace(" ", "_")
    if key in _ANSWER_WORDS:
        return _ANSWER_WORDS[key]
    words = set(_normalise(text[:MAX_TITLE]).split())
    if words & _CALL_WORDS:
        return "call_me"
    if words & _NOT_GOOD_WORDS:
        return "not_good"
    if words & _FINE_WORDS:
        return "fine"
    return None


def _match_reminders(reminders: list[Reminder], query: str) -> list[Reminder]:
    """Return the reminders ``query`` (an id or a title, typos allowed) may mean."""
    wanted = _normalise(query[:MAX_TITLE])
    by_id = _ID_QUERY.match(wanted)
    if by_id:
        return [r for r in reminders if r.id == int(by_id.group(1))]
    exact = [r for r in reminders if _normalise(r.title) == wanted]
    if exact:
        return exact
    words = [w for w in wanted.split() if w not in _QUERY_NOISE and len(w) >= 3]
    if not words:
        return []
    core = " ".join(words)
    contained = [r for r in reminders if core in _normalise(r.title)]
    if contained:
        return contained
    scores: dict[int, int] = {}
    for reminder in reminders:
        title_words = _normalise(reminder.title).split() + [reminder.kind]
        scores[reminder.id] = sum(
            1 for w in words if difflib.get_close_matches(w, title_words, n=1, cutoff=0.8)
        )
    best = max(scores.values(), default=0)
    return [r for r in reminders if best and scores[r.id] == best]


# --------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------


class ReminderService:
    """Reminders for seniors: set up in the chat, delivered and escalated by the care service.

    Args:
        db: The database.
        clock: Returns the current aware time (inject a fixed one in tests).
    """

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock
        self._deliveries = ReminderDeliveries(db, clock)

    # ---- conversation side ------------------------------------------------

    def preview(
        self,
        conversation_id: str,
        kind: str,
        title: str,
        schedule_text: str,
        *,
        dose: Optional[str] = None,
        location: Optional[str] = None,
        escalate_after_minutes: Optional[int] = None,
    ) -> ReminderView:
        """Check a reminder and return how it would read, without saving it.

        Raises:
            InvalidInput: On a bad kind, name, dose, place or time (see :func:`parse_schedule`).
            NotRegistered, NotAllowed: If the conversation may not set reminders.
        """
        now = self._clock()
        with self._db.session() as session:
            draft = self._draft(
                session, conversation_id, kind, title, schedule_text, now,
                dose=dose, location=location, escalate_after_minutes=escalate_after_minutes,
            )
        return ReminderView(
            reminder_id=None, kind=draft.kind, title=draft.title, dose=draft.dose,
            location=draft.location, schedule=draft.schedule.describe(now),
            timezone=draft.schedule.timezone, next_due_at=draft.next_due_at,
            next_due_text=next_due_text(draft.next_due_at, draft.schedule.tz, now),
            escalate_after_minutes=draft.escalate_after_minutes, active=True,
            recurring=draft.schedule.recurring, saved=False,
        )

    def create(
        self,
        conversation_id: str,
        kind: str,
        title: str,
        schedule_text: str,
        *,
        dose: Optional[str] = None,
        location: Optional[str] = None,
        escalate_after_minutes: Optional[int] = None,
    ) -> ReminderView:
        """Save a reminder for the senior of this conversation (or the relative's senior).

        Medication reminders tell relatives after 30 minutes without a confirmation unless
        ``escalate_after_minutes`` says otherwise.

        Raises:
            InvalidInput: On a bad kind, name, dose, place or time, or too many reminders.
            NotRegistered, NotAllowed: If the conversation may not set reminders.
        """
        now = self._clock()
        with self._db.session() as session:
            draft = self._draft(
                session, conversation_id, kind, title, schedule_text, now,
                dose=dose, location=location, escalate_after_minutes=escalate_after_minutes,
            )
            reminder = self._save(session, draft, now)
            view = reminder_view(reminder, now)
        return view

    def list_for(self, conversation_id: str) -> list[ReminderView]:
        """Return the senior's active reminders, the next due first."""
        now = self._clock()
        with self._db.session() as session:
            senior, _, _ = acting_for(session, conversation_id, about="reminder", needs="reminders")
            reminders = self._active(session, senior.id)
            reminders.sort(key=lambda r: (r.next_due_at is None, r.next_due_at or now, r.id))
            return [reminder_view(r, now) for r in reminders]

    def cancel(self, conversation_id: str, reminder_id_or_title: str) -> ReminderView:
        """Stop a reminder chosen by its number or (part of) its name.

        Raises:
            NotFound: If no active reminder matches.
            InvalidInput: If several match; the message lists them.
        """
        query = str(reminder_id_or_title or "").strip()
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            reminders = self._active(session, senior.id)
            if not reminders:
                raise NotFound("You have no reminders at the moment.")
            found = _match_reminders(reminders, query) if query else []
            if not found:
                names = join_words([f"'{r.title}'" for r in reminders[:5]], "or")
                raise NotFound(f"I could not find that reminder. Did you mean {names}?", field="reminder")
            if len(found) > 1:
                choices = join_words(
                    [f"'{r.title}' ({Schedule.from_json(r.schedule_json).describe(now)})" for r in found[:5]],
                    "or",
                )
                raise InvalidInput(f"Which one do you mean: {choices}?", field="reminder")
            reminder = found[0]
            reminder.active = False
            reminder.cancelled_at = now
            audit.record(
                session, audit.person_actor(actor.id), "reminder.cancelled", "reminder", reminder.id, at=now
            )
            view = reminder_view(reminder, now)
        return view

    def acknowledge(self, conversation_id: str, delivery_id: Optional[int] = None) -> Optional[DeliveryView]:
        """Record that a reminder was done ("I took it"); None when nothing waits.

        Without ``delivery_id`` the most recent unconfirmed reminder (not the check-in) is meant.
        A linked relative may confirm for the senior. Confirming twice is harmless.
        """
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            delivery = self._waiting(
                session, senior.id, delivery_id, statuses=(*ACK_STATUSES, "missed", "failed")
            )
            if delivery is None:
                return None
            if delivery.status != "acknowledged":
                self._acknowledge(session, delivery, actor, senior, now)
            view = delivery_view(delivery)
        return view

    def snooze(
        self, conversation_id: str, minutes: int = 10, delivery_id: Optional[int] = None
    ) -> Optional[DeliveryView]:
        """Put a reminder off for ``minutes``; it is sent again then. None when nothing waits.

        Raises:
            InvalidInput: If the minutes are not 1-120, or the reminder would be put off more
                than three hours after its due time.
        """
        minutes = clean_int(minutes, "number of minutes", 1, MAX_SNOOZE_MINUTES, field="minutes")
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            delivery = self._waiting(session, senior.id, delivery_id, statuses=SNOOZABLE)
            if delivery is None or delivery.status == "acknowledged":
                return delivery_view(delivery) if delivery is not None else None
            until = now + timedelta(minutes=minutes)
            if until > delivery.due_at + SNOOZE_LIMIT:
                tz = ZoneInfo(delivery.reminder.timezone)
                limit = (delivery.due_at + SNOOZE_LIMIT).astimezone(tz)
                if limit <= now:
                    raise InvalidInput(
                        "I cannot put this reminder off any longer. Have you done it?", field="minutes"
                    )
                raise InvalidInput(
                    f"I can only put this reminder off until {limit:%H:%M}.", field="minutes"
                )
            delivery.status = "snoozed"
            delivery.snoozed_until = until
            delivery.attempts = 0
            audit.record(
                session, audit.person_actor(actor.id), "reminder_delivery.snoozed", "reminder_delivery",
                delivery.id, at=now, minutes=minutes,
            )
            view = delivery_view(delivery)
        return view

    # ---- check-in ----------------------------------------------------------

    def set_checkin(self, conversation_id: str, time_text: str) -> ReminderView:
        """Ask the senior every day how they are ("every day at 10", "at 10", "weekdays at 9").

        A second call changes the time of the existing check-in.

        Raises:
            InvalidInput: If the time cannot be used or is an interval.
        """
        now = self._clock()
        with self._db.session() as session:
            senior, profile, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            tz = zone(profile.timezone)
            schedule = parse_schedule(time_text, now, tz)
            if schedule.kind == "once":
                assert schedule.at is not None
                local = schedule.at.astimezone(tz).time().replace(second=0, microsecond=0)
                schedule = Schedule("weekly", tz.key, weekdays=tuple(range(7)), times=(local,))
            elif schedule.kind != "weekly":
                raise InvalidInput(
                    "The check-in is once or a few times a day. At what time should I ask you?",
                    field="time",
                )
            current = session.scalar(
                select(Reminder).where(
                    Reminder.senior_id == senior.id, Reminder.kind == "checkin", Reminder.active.is_(True)
                )
            )
            if current is None:
                draft = _Draft(
                    senior.id, actor.id, "checkin", CHECKIN_TITLE, None, None, schedule,
                    schedule.next_after(now), DEFAULT_ESCALATE_AFTER["checkin"],
                )
                reminder = self._save(session, draft, now)
            else:
                reminder = current
                reminder.schedule_json = schedule.to_json()
                reminder.timezone = schedule.timezone
                reminder.next_due_at = schedule.next_after(now)
                audit.record(
                    session, audit.person_actor(actor.id), "reminder.rescheduled", "reminder", reminder.id,
                    at=now, kind="checkin",
                )
            view = reminder_view(reminder, now)
        return view

    def stop_checkin(self, conversation_id: str) -> Optional[ReminderView]:
        """Stop the daily check-in; None when there was none."""
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            stopped: Optional[ReminderView] = None
            for reminder in self._active(session, senior.id):
                if reminder.kind != "checkin":
                    continue
                reminder.active = False
                reminder.cancelled_at = now
                audit.record(
                    session, audit.person_actor(actor.id), "reminder.cancelled", "reminder",
                    reminder.id, at=now, kind="checkin",
                )
                stopped = reminder_view(reminder, now)
        return stopped

    def answer_checkin(self, conversation_id: str, answer: str) -> CheckinAnswer:
        """Record the answer to the check-in: ``"fine"``, ``"not_good"`` or ``"call_me"``.

        ``not_good`` opens a "wellbeing" escalation and ``call_me`` a "talk_to_human" one;
        both tell the linked relatives (intent ``EXTERNAL_checkin_alert``).

        Raises:
            InvalidInput: If the answer is none of the three.
        """
        value = _checkin_answer(str(answer or ""))
        if value is None:
            raise InvalidInput(
                "Are you fine, not so good, or would you like someone to call you?", field="answer"
            )
        now = self._clock()
        with self._db.session() as session:
            senior, _, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
            delivery = self._waiting(session, senior.id, None, statuses=ACK_STATUSES, checkin=True)
            if delivery is not None:
                delivery.answer = value
                self._acknowledge(session, delivery, actor, senior, now)
            reference, told = None, 0
            if value != "fine":
                kind = "wellbeing" if value == "not_good" else "talk_to_human"
                words = "is not feeling good" if value == "not_good" else "would like someone to call"
                escalation = open_escalation(
                    session, kind, senior, f"Check-in: {senior_name(senior)} {words}.", now
                )
                reference = escalation.reference
                told = len(enqueue_for_family(
                    session, senior.id, "checkin_alert", CHECKIN_ALERT_INTENT,
                    {"senior_name": senior_name(senior), "answer": value, "reference": reference},
                    text=f"{senior_name(senior)} {words} (check-in).", at=now, skip_person_id=actor.id,
                ))
            audit.record(
                session, audit.person_actor(actor.id), "checkin.answered", "person", senior.id,
                at=now, answer=value, delivery_id=delivery.id if delivery else None,
            )
        return CheckinAnswer(value, delivery.id if delivery else None, reference, told)

    # ---- scheduler side: delegated to ReminderDeliveries -----------------------

    def due_deliveries(self, now: datetime) -> list[DeliveryView]:
        """Create the deliveries that fell due and return everything to send now.

        See :meth:`ReminderDeliveries.due_deliveries`; call :meth:`record_sent` or
        :meth:`record_failed` for each.
        """
        return self._deliveries.due_deliveries(now)

    def next_due_at(self) -> Optional[datetime]:
        """The earliest due time of an active reminder (None when there is none)."""
        return self._deliveries.next_due_at()

    def catch_up(self, now: datetime) -> list[DeliveryView]:
        """Deal with what fell due while no scheduler ran; call once at start (see :meth:`due_deliveries`)."""
        return self._deliveries.catch_up(now)

    def claim(self, delivery_ids: list[int], at: datetime) -> None:
        """Record that sending these deliveries starts now (see :meth:`ReminderDeliveries.claim`)."""
        self._deliveries.claim(delivery_ids, at)

    def record_sent(self, delivery_id: int, at: datetime) -> DeliveryView:
        """Record that a delivery reached Rasa.

        Raises:
            NotFound: If there is no such delivery.
        """
        return self._deliveries.record_sent(delivery_id, at)

    def record_sent_many(self, sent: list[tuple[int, datetime]]) -> int:
        """Record in one transaction that several deliveries reached Rasa; return how many exist."""
        return self._deliveries.record_sent_many(sent)

    def record_failed(self, delivery_id: int, error: str) -> DeliveryView:
        """Record a failed attempt; after ``MAX_ATTEMPTS`` the delivery fails and is escalated.

        Raises:
            NotFound: If there is no such delivery.
        """
        return self._deliveries.record_failed(delivery_id, error)

    def overdue_unacknowledged(self, now: datetime) -> list[DeliveryView]:
        """Return the deliveries whose next escalation step is due at ``now``."""
        return self._deliveries.overdue_unacknowledged(now)

    def escalate(self, delivery_id: int, now: datetime) -> DeliveryView:
        """Take the next escalation step of an unconfirmed delivery, if it is due at ``now``.

        Raises:
            NotFound: If there is no such delivery.
        """
        return self._deliveries.escalate(delivery_id, now)

    # ---- helpers --------------------------------------------------------------

    def _draft(
        self,
        session: Session,
        conversation_id: str,
        kind: str,
        title: str,
        schedule_text: str,
        now: datetime,
        *,
        dose: Optional[str],
        location: Optional[str],
        escalate_after_minutes: Optional[int],
    ) -> _Draft:
        """Check every value of a new reminder."""
        kind_key = _normalise(str(kind or ""))
        if kind_key not in _KIND_WORDS:
            raise InvalidInput("Is this a medication, an appointment or something else?", field="kind")
        kind_value = _KIND_WORDS[kind_key]
        clean_title = clean_text(title, "reminder name", MAX_TITLE, field="title")
        clean_dose = clean_text(dose, "dose", MAX_DOSE, field="dose", required=False) or None
        clean_location = clean_text(location, "place", MAX_LOCATION, field="location", required=False) or None
        escalate = (
            clean_int(escalate_after_minutes, "number of minutes", 5, 24 * 60, field="escalate_after_minutes")
            if escalate_after_minutes is not None else DEFAULT_ESCALATE_AFTER.get(kind_value)
        )
        senior, profile, actor = acting_for(session, conversation_id, about="reminder", needs="reminders")
        if len(self._active(session, senior.id)) >= MAX_ACTIVE_REMINDERS:
            raise InvalidInput(
                f"There are already {MAX_ACTIVE_REMINDERS} reminders. Please cancel one first.", field="title"
            )
        schedule = parse_schedule(schedule_text, now, zone(profile.timezone))
        return _Draft(
            senior.id, actor.id, kind_value, clean_title, clean_dose, clean_location, schedule,
            schedule.next_after(now), escalate,
        )

    def _save(self, session: Session, draft: _Draft, now: datetime) -> Reminder:
        """Insert a checked reminder."""
        reminder = Reminder(
            senior_id=draft.senior_id, created_by_id=draft.actor_id, kind=draft.kind, title=draft.title,
            dose=draft.dose, location=draft.location, schedule_json=draft.schedule.to_json(),
            timezone=draft.schedule.timezone, next_due_at=draft.next_due_at,
            escalate_after_minutes=draft.escalate_after_minutes, active=True, created_at=now,
        )
        session.add(reminder)
        session.flush()
        audit.record(
            session, audit.person_actor(draft.actor_id), "reminder.created", "reminder", reminder.id,
            at=now, kind=draft.kind, senior_id=draft.senior_id, schedule=draft.schedule.kind,
        )
        return reminder

    @staticmethod
    def _active(session: Session, senior_id: int) -> list[Reminder]:
        query = (
            select(Reminder)
            .where(Reminder.senior_id == senior_id, Reminder.active.is_(True))
            .order_by(Reminder.id)
        )
        return list(session.scalars(query))

    @staticmethod
    def _waiting(
        session: Session,
        senior_id: int,
        delivery_id: Optional[int],
        *,
        statuses: tuple[str, ...],
        checkin: bool = False,
    ) -> Optional[ReminderDelivery]:
        """Return the delivery meant: by id (the senior's), else the latest unconfirmed one."""
        if delivery_id is not None:
            delivery = session.get(ReminderDelivery, delivery_id)
            if delivery is None or delivery.reminder.senior_id != senior_id:
                raise NotFound("I could not find that reminder.")
            if delivery.status == "acknowledged" or delivery.status in statuses:
                return delivery
            return None
        kind = Reminder.kind == "checkin" if checkin else Reminder.kind != "checkin"
        query = (
            select(ReminderDelivery)
            .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
            .where(
                Reminder.senior_id == senior_id, kind,
                ReminderDelivery.status.in_([s for s in statuses if s in ACK_STATUSES]),
                ReminderDelivery.acknowledged_at.is_(None),
            )
            .order_by(ReminderDelivery.due_at.desc(), ReminderDelivery.id.desc())
            .limit(1)
        )
        return session.scalar(query)

    @staticmethod
    def _acknowledge(
        session: Session, delivery: ReminderDelivery, actor: Person, senior: Person, now: datetime
    ) -> None:
        """Mark a delivery confirmed; relatives already told hear that it is done."""
        delivery.status = "acknowledged"
        delivery.acknowledged_at = now
        delivery.acknowledged_by_id = actor.id
        audit.record(
            session, audit.person_actor(actor.id), "reminder_delivery.acknowledged", "reminder_delivery",
            delivery.id, at=now, answer=delivery.answer,
        )
        if delivery.escalated_at is not None:
            enqueue_for_family(
                session, senior.id, "reminder_acknowledged", ACKNOWLEDGED_INTENT,
                {"senior_name": senior_name(senior), "title": delivery.reminder.title,
                 "due_time": local_time(delivery), "delivery_id": delivery.id},
                text=f"{senior_name(senior)} has now confirmed '{delivery.reminder.title}'.", at=now,
                skip_person_id=actor.id, share="reminders",
            )

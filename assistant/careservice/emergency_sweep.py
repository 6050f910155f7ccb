"""Emergencies the action server never saw, found in Rasa's tracker store and recorded.

Possible emergencies too: Rasa asks "are you hurt or in danger right now?" by itself; if the action
could not record the question, the sweep records it here, so silence still raises the alarm.

And, for the coordinators' review list, what a user chose (or wrote) right after a "did you mean
...?": the intent of their next message, read from the same table.

Rasa says the emergency number by itself (``utter_emergency_call``), so a user who writes "I've
fallen" while the action server is down still hears it. The escalation and the family's alert are
the action's work; when it could not run (the action server was down, or the database failed) this
sweep finds the message in Rasa's tracker store and records it with the same message id, once:
:meth:`EmergencyService.raise_alert` is idempotent per message.

It reads Rasa's ``events`` table (SQLTrackerStore) directly: ``id`` grows with every event, so each
run reads only what is new. A message is left alone for ``grace`` seconds, the time the action
normally needs to record it itself.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from assistant.care.core.clock import Clock, utcnow
from assistant.care.privacy.history import EVENTS
from assistant.care.safety.danger_checks import DangerCheckService
from assistant.care.safety.emergencies import EmergencyService
from assistant.care.coordinators.review_list import ReviewListService

log = logging.getLogger("assistant.careservice.emergency_sweep")

LOOKBACK = timedelta(hours=6)
"""How far back the first run looks (the care service may have been down too)."""
DEFAULT_GRACE = timedelta(seconds=10)
EMERGENCY = "emergency"
POSSIBLE = "possible_emergency"


class EmergencySweep:
    """Records emergency messages from Rasa's tracker store that have no escalation yet.

    Args:
        tracker_url: SQLAlchemy URL of Rasa's tracker store.
        emergencies: Records an emergency (idempotent per message id).
        clock: Returns the current aware time.
        grace: How long the action gets to record a message itself.
        danger_checks: Records the question about a possible emergency (off when None).
        review_list: Notes what users chose after "did you mean ...?" (off when None).
    """

    def __init__(
        self, tracker_url: str, emergencies: EmergencyService, *, clock: Clock = utcnow,
        grace: timedelta = DEFAULT_GRACE, danger_checks: Optional[DangerCheckService] = None,
        review_list: Optional[ReviewListService] = None,
    ) -> None:
        self._url = tracker_url
        self._engine: Optional[Engine] = None
        self._emergencies = emergencies
        self._danger_checks = danger_checks
        self._review_list = review_list
        self._clock = clock
        self.grace = grace
        self._after_id: Optional[int] = None

    def run(self) -> int:
        """Record every emergency message older than the grace period not yet recorded; returns how many."""
        engine = self._connect()
        if engine is None:
            return 0
        now = self._clock()
        # Taken before the first read: afterwards every run reads by id, never the whole table again.
        ceiling = self._newest_id(engine) if self._after_id is None else None
        rows = self._read(engine, now)
        recorded = 0
        for row in rows:
            written = datetime.fromtimestamp(row.timestamp or 0, timezone.utc)
            if written > now - self.grace:
                if self._after_id is None:
                    self._after_id = row.id - 1
                break  # the action may still be recording it; look again next time
            if self._record(row, written):
                recorded += 1
            self._after_id = row.id
        else:
            if ceiling is not None:
                self._after_id = max(self._after_id or 0, ceiling)
        self.note_choices(engine, now)
        return recorded

    def note_choices(self, engine: Engine, now: datetime) -> int:
        """For each unclear message with no choice yet, note the intent of the user's next message."""
        if self._review_list is None:
            return 0
        waiting = self._review_list.awaiting_choice(now - LOOKBACK, now)
        if not waiting:
            return 0
        chosen: list[tuple[int, str]] = []
        try:
            with engine.connect() as connection:
                for unclear_id, conversation_id, at in waiting:
                    query = sa.select(EVENTS.c.intent_name).where(
                        EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "user",
                        EVENTS.c.timestamp > at.timestamp(),
                    ).order_by(EVENTS.c.id).limit(1)
                    intent = connection.execute(query).scalar()
                    if intent:
                        chosen.append((unclear_id, str(intent)))
        except SQLAlchemyError as error:
            log.debug("tracker store not readable for the review list: %s", error)
        for unclear_id, intent in chosen:
            self._review_list.note_choice(unclear_id, intent)
        return len(chosen)

    def close(self) -> None:
        """Release the tracker store's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _connect(self) -> Optional[Engine]:
        if self._engine is None:
            if self._url.startswith("sqlite:///") and not Path(self._url.removeprefix("sqlite:///")).exists():
                return None  # Rasa has not created its tracker store yet; do not create it for it
            self._engine = sa.create_engine(self._url, future=True)
        return self._engine

    @staticmethod
    def _newest_id(engine: Engine) -> Optional[int]:
        try:
            with engine.connect() as connection:
                return connection.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar()
        except SQLAlchemyError:
            return None

    def _read(self, engine: Engine, now: datetime) -> list[Any]:
        intents = [EMERGENCY, POSSIBLE] if self._danger_checks is not None else [EMERGENCY]
        query = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.data).where(
            EVENTS.c.type_name == "user", EVENTS.c.intent_name.in_(intents)
        ).order_by(EVENTS.c.id)
        if self._after_id is None:
            query = query.where(EVENTS.c.timestamp >= (now - LOOKBACK).timestamp())
        else:
            query = query.where(EVENTS.c.id > self._after_id)
        try:
            with engine.connect() as connection:
                return list(connection.execute(query))
        except SQLAlchemyError as error:
            log.debug("tracker store not readable yet: %s", error)
            return []

    def _record(self, row: Any, written: datetime) -> bool:
        try:
            event = json.loads(row.data or "{}")
        except ValueError:
            event = {}
        message_id = event.get("message_id") or (event.get("parse_data") or {}).get("message_id")
        if not message_id:
            return False  # not a chat message (e.g. a test story); nothing to key it on
        sign = (event.get("parse_data") or {}).get("emergency_sign")
        if row.intent_name == POSSIBLE and self._danger_checks is not None:
            return self._ask(row, event, str(message_id)[:64], sign)
        try:
            record = self._emergencies.raise_alert(
                row.sender_id, event.get("text") or "", sign, message_id=str(message_id)[:64], written_at=written,
            )
        except IntegrityError:
            return False  # the action recorded it a moment ago
        if record.new:
            log.warning("recorded an emergency the assistant's action missed: %s in %s (%s)",
                        record.reference, row.sender_id, written.isoformat())
        return record.new

    def _ask(self, row: Any, event: dict[str, Any], message_id: str, sign: Optional[str]) -> bool:
        """Record the danger question Rasa asked by itself; its deadline runs from now."""
        checks = self._danger_checks
        if checks is None:
            return False
        try:
            check = checks.ask(row.sender_id, event.get("text") or "", sign, message_id=message_id)
        except IntegrityError:
            return False  # the action recorded it a moment ago
        if check.new:
            log.warning("recorded a danger question the assistant's action missed in %s", row.sender_id)
        return check.new

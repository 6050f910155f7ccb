"""Emergencies the action server never saw, found in Rasa's tracker store and recorded.

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

from assistant.care.clock import Clock, utcnow
from assistant.care.emergencies import EmergencyService

log = logging.getLogger("assistant.careservice.emergency_sweep")

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer), sa.column("sender_id", sa.String), sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float), sa.column("intent_name", sa.String), sa.column("data", sa.Text),
)
"""The columns of Rasa's tracker store table that the sweep reads."""
LOOKBACK = timedelta(hours=6)
"""How far back the first run looks (the care service may have been down too)."""
DEFAULT_GRACE = timedelta(seconds=10)


class EmergencySweep:
    """Records emergency messages from Rasa's tracker store that have no escalation yet.

    Args:
        tracker_url: SQLAlchemy URL of Rasa's tracker store.
        emergencies: Records an emergency (idempotent per message id).
        clock: Returns the current aware time.
        grace: How long the action gets to record a message itself.
    """

    def __init__(
        self, tracker_url: str, emergencies: EmergencyService, *, clock: Clock = utcnow,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self._url = tracker_url
        self._engine: Optional[Engine] = None
        self._emergencies = emergencies
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
        return recorded

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
        query = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.data).where(
            EVENTS.c.type_name == "user", EVENTS.c.intent_name == "emergency"
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

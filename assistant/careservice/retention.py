"""Deleting what has been kept long enough, on schedule (docs/privacy.md).

Conversation history: the events of Rasa's tracker store (SQLTrackerStore's ``events`` table) older
than ``history`` are deleted. Escalations: resolved ones older than their own period, with their
notes (:func:`assistant.care.privacy.retention.delete_resolved_escalations`). The care service runs
this once an hour; a run that fails is logged and the next one tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional

from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.db import Database
from assistant.care.privacy.history import ConversationHistory
from assistant.care.privacy.retention import DEFAULT_ESCALATION_DAYS, delete_resolved_escalations

log = logging.getLogger("assistant.careservice.retention")

DEFAULT_HISTORY_DAYS: Final = 180
"""How long conversation history is kept by default."""


@dataclass(frozen=True)
class RetentionRun:
    """What one run deleted."""

    events: int
    escalations: int


class Retention:
    """Deletes conversation history and resolved escalations once they are older than their periods.

    Args:
        db: The care database.
        tracker_url: SQLAlchemy URL of Rasa's tracker store (None: history is not touched).
        history: How long conversation events are kept.
        escalations: How long resolved escalations are kept.
        clock: Returns the current aware time.
    """

    def __init__(
        self, db: Database, tracker_url: Optional[str], *,
        history: timedelta = timedelta(days=DEFAULT_HISTORY_DAYS),
        escalations: timedelta = timedelta(days=DEFAULT_ESCALATION_DAYS),
        clock: Clock = utcnow,
    ) -> None:
        if history <= timedelta(0) or escalations <= timedelta(0):
            raise ValueError("retention periods must be positive")
        self._db = db
        self._history = ConversationHistory(tracker_url)
        self.history = history
        self.escalations = escalations
        self._clock = clock

    def run(self) -> RetentionRun:
        """Delete what is past its period; return how much went."""
        now = self._clock()
        events = self._delete_history(now - self.history)
        with self._db.session() as session:
            escalations = delete_resolved_escalations(session, now - self.escalations, now)
        if events or escalations:
            log.info("retention: deleted %d conversation events and %d resolved escalations", events, escalations)
        return RetentionRun(events, escalations)

    def _delete_history(self, before: datetime) -> int:
        """Delete tracker events older than ``before`` (nothing when Rasa has not made its table yet)."""
        return self._history.delete_before(before)

    def close(self) -> None:
        """Release the tracker store's connections."""
        self._history.close()

"""Conversation history: the events of Rasa's SQL tracker store, read and deleted with plain SQL.

The care layer never imports Rasa; it knows only the columns of the ``events`` table that Rasa's
``SQLTrackerStore`` writes. The care service's emergency sweep reads it, retention deletes old
events from it, and a person's export includes their own events from it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer), sa.column("sender_id", sa.String), sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float), sa.column("intent_name", sa.String), sa.column("data", sa.Text),
)
"""The columns of Rasa's tracker store table that we read and delete from."""


class ConversationHistory:
    """Rasa's stored conversation events, for one tracker store URL (None: no SQL tracker store)."""

    def __init__(self, url: Optional[str]) -> None:
        self._engine: Optional[Engine] = sa.create_engine(url, future=True) if url else None

    @property
    def engine(self) -> Optional[Engine]:
        """The tracker store's engine (None when there is none to read)."""
        return self._engine

    def _ready(self) -> Optional[Engine]:
        """The engine, once Rasa has made its table."""
        if self._engine is None:
            return None
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            return None  # Rasa has not written a conversation yet: do not create its file
        if not sa.inspect(self._engine).has_table("events"):
            return None
        return self._engine

    def events_of(self, sender_id: str) -> list[dict[str, Any]]:
        """Every stored event of one conversation, oldest first, as Rasa wrote it."""
        engine = self._ready()
        if engine is None:
            return []
        query = sa.select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        with engine.connect() as connection:
            return [json.loads(data) for (data,) in connection.execute(query)]

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many went."""
        return self._delete(EVENTS.c.sender_id == sender_id)

    def delete_before(self, before: datetime) -> int:
        """Delete every event older than ``before``; returns how many went."""
        return self._delete(EVENTS.c.timestamp < before.timestamp())

    def _delete(self, condition: Any) -> int:
        engine = self._ready()
        if engine is None:
            return 0
        with engine.begin() as connection:
            result = connection.execute(sa.delete(EVENTS).where(condition))
        return int(result.rowcount or 0)

    def close(self) -> None:
        """Release the connections."""
        if self._engine is not None:
            self._engine.dispose()

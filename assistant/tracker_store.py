"""Rasa's SQL tracker store, with two privacy rules (the ``tracker_store`` type in endpoints*.yml).

1. **Forgetting.** When ``action_forget_me`` has deleted a person's data it sets the slot
   ``forgotten``. Saving that conversation then deletes every stored event of it, the turn that
   asked included, instead of writing the turn: Rasa's own save would write the whole session back
   (it appends what it believes is missing), so the deletion has to happen here.
2. **Exports are not kept.** The message that carries a person's data export (custom payload
   ``{"download": {"filename": ..., "content": ...}}``) reaches the chat whole, but is stored
   without its content: the conversation history does not keep a second copy of everything.

And one way in for proactive messages: :meth:`PrivateSQLTrackerStore.append` adds events to a
stored conversation without loading it (a reminder is a handful of rows, not a tracker rebuilt
and saved), for :mod:`assistant.channels.care_push`, which holds the conversation's lock meanwhile.
"""

from __future__ import annotations

import logging
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Optional, Sequence

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import insert, select

from assistant.security import make_private_dir

log = logging.getLogger("assistant.tracker_store")

FORGOTTEN_SLOT: Final = "forgotten"
"""Set (True) by the action that deleted the person of this conversation."""
DOWNLOAD_KEY: Final = "download"
"""The custom payload key of a message that carries a file for the user."""
NOT_KEPT: Final = "(sent to the user, not kept in the conversation history)"


def without_download(data: dict[str, Any]) -> dict[str, Any]:
    """A bot message's data with the content of a download replaced by a note (a new dict)."""
    custom = data.get("custom")
    if not isinstance(custom, dict) or not isinstance(custom.get(DOWNLOAD_KEY), dict):
        return data
    download = {**custom[DOWNLOAD_KEY], "content": NOT_KEPT}
    return {**data, "custom": {**custom, DOWNLOAD_KEY: download}}


@dataclass(frozen=True)
class StoredConversation:
    """A stored conversation, as a proactive message needs it."""

    channel: str
    """The channel of the latest user message ("" when none says): Rasa's ``output_channel=latest``."""
    last_user_at: Optional[float]
    """When the person last wrote in the current session (None: not since it started), for its expiry."""


class PrivateSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that deletes a forgotten conversation and does not keep data exports."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Rasa's store; a missing folder of its SQLite file (``.state`` by default) is made, owner-only."""
        db = kwargs.get("db")
        if kwargs.get("dialect", "sqlite") == "sqlite" and isinstance(db, str) and db not in ("", ":memory:"):
            folder = Path(db).expanduser().resolve().parent
            if not folder.exists():
                make_private_dir(folder)
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn; or, when the conversation's person was just forgotten, delete it all."""
        if tracker.get_slot(FORGOTTEN_SLOT) is True:
            deleted = self.delete_conversation(tracker.sender_id)
            log.info("conversation forgotten: %d stored events deleted", deleted)
            return
        for event in tracker.events:
            if isinstance(event, BotUttered):
                event.data = without_download(event.data)  # a new dict: the message already sent is untouched
        await super().save(tracker)

    def stored_conversation(self, sender_id: str) -> Optional[StoredConversation]:
        """What a proactive message needs to know of a stored conversation; None if nothing is stored.

        Read with at most two indexed queries, without loading the conversation.
        """
        table = self.SQLEvent.__table__
        with self.session_scope() as session:
            latest = session.execute(
                select(table.c.type_name, table.c.timestamp, table.c.data).where(
                    table.c.sender_id == sender_id,
                    table.c.type_name.in_((UserUttered.type_name, SessionStarted.type_name)),
                ).order_by(table.c.id.desc()).limit(1)
            ).first()
            if latest is not None and latest.type_name == UserUttered.type_name:
                channel = json.loads(latest.data).get("input_channel") or ""
                return StoredConversation(str(channel), latest.timestamp)
            data = session.execute(
                select(table.c.data).where(table.c.sender_id == sender_id, table.c.type_name == UserUttered.type_name)
                .order_by(table.c.id.desc()).limit(1)
            ).scalar()
            if data is None and latest is None:
                stored = session.execute(select(table.c.id).where(table.c.sender_id == sender_id).limit(1)).scalar()
                if stored is None:
                    return None
        channel = json.loads(data).get("input_channel") if data is not None else ""
        return StoredConversation(str(channel or ""), None)

    def append(self, sender_id: str, events: Sequence[Event]) -> int:
        """Store ``events`` after a conversation's stored ones, as :meth:`save` stores new events.

        The caller holds the conversation's lock (no turn runs meanwhile). Returns how many events
        were stored. Unlike :meth:`save`, nothing is streamed to an event broker (none is configured
        in ``endpoints*.yml``; configure one, and proactive messages must be streamed here too).
        """
        rows = []
        for event in events:
            if isinstance(event, BotUttered):
                event.data = without_download(event.data)
            data = event.as_dict()
            rows.append({
                "sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
                "action_name": data.get("name"), "data": json.dumps(data),
            })
        if rows:
            with self.session_scope() as session:
                session.execute(insert(self.SQLEvent.__table__), rows)
                session.commit()
        return len(rows)

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many went."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False
            )
            session.commit()
        return int(deleted or 0)

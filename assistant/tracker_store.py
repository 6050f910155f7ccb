"""Rasa's SQL tracker store, with two privacy rules (named as the ``tracker_store`` type in endpoints.yml).

1. **Forgetting.** When ``action_forget_me`` has deleted a person's data it sets the slot
   ``forgotten``. Saving that conversation then deletes every stored event of it, the turn that
   asked included, instead of writing the turn: Rasa's own save would write the whole session back
   (it appends what it believes is missing), so the deletion has to happen here.
2. **Exports are not kept.** The message that carries a person's data export (custom payload
   ``{"download": {"filename": ..., "content": ...}}``) reaches the chat whole, but is stored
   without its content: the conversation history does not keep a second copy of everything.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

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


class PrivateSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that deletes a forgotten conversation and does not keep data exports."""

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

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many went."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False
            )
            session.commit()
        return int(deleted or 0)

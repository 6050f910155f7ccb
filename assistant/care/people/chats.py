"""What a chat channel keeps about one chat: spoken replies on or off, their language, recent buttons.

It lives in the care database (``chat_settings``), not in files, so it is in the person's export
and goes with them when they ask to be forgotten; several channel processes share it.
"""

from __future__ import annotations

import json
from typing import Final, Optional, Sequence

from sqlalchemy.orm import Session

from assistant.care.core.db import CareService
from assistant.care.core.models import ChatSetting

MAX_BUTTONS: Final = 64
"""Buttons kept per chat: a press on an older message's button gets a kind "please ask again"."""


class ChatSettingsService(CareService):
    """Per-chat settings and button payloads, read and written through the care database."""

    def voice_replies(self, conversation_id: str) -> bool:
        """Whether replies in this chat are also spoken."""
        with self._db.reading() as session:
            row = session.get(ChatSetting, conversation_id)
            return bool(row and row.voice_replies)

    def set_voice_replies(self, conversation_id: str, on: bool) -> None:
        """Turn spoken replies on or off for this chat."""
        with self._db.session() as session:
            self._row(session, conversation_id).voice_replies = on

    def language(self, conversation_id: str) -> Optional[str]:
        """The language replies are spoken in here (None: the assistant's)."""
        with self._db.reading() as session:
            row = session.get(ChatSetting, conversation_id)
            return row.language if row else None

    def set_language(self, conversation_id: str, language: str) -> None:
        """Set the spoken language of this chat."""
        with self._db.session() as session:
            self._row(session, conversation_id).language = language

    def remember_button(self, conversation_id: str, key: str, title: str, payload: str) -> None:
        """Keep one button's title and payload under ``key`` (the newest :data:`MAX_BUTTONS` are kept)."""
        self.remember_buttons(conversation_id, [(key, title, payload)])

    def remember_buttons(self, conversation_id: str, buttons: Sequence[tuple[str, str, str]]) -> None:
        """Keep the ``(key, title, payload)`` of one message's buttons, in one transaction, newest last."""
        if not buttons:
            return
        with self._db.session() as session:
            row = self._row(session, conversation_id)
            kept = json.loads(row.buttons_json or "{}")
            if list(kept.items())[-len(buttons):] == [(key, [title, payload]) for key, title, payload in buttons]:
                return
            for key, title, payload in buttons:
                kept.pop(key, None)
                kept[key] = [title, payload]
            row.buttons_json = json.dumps(dict(list(kept.items())[-MAX_BUTTONS:]), ensure_ascii=False)

    def button(self, conversation_id: str, key: str) -> Optional[tuple[str, str]]:
        """The title and payload of a button kept under ``key``; None when unknown or dropped."""
        with self._db.reading() as session:
            row = session.get(ChatSetting, conversation_id)
            pair = json.loads(row.buttons_json or "{}").get(key) if row else None
            return (str(pair[0]), str(pair[1])) if isinstance(pair, list) and len(pair) == 2 else None

    def _row(self, session: Session, conversation_id: str) -> ChatSetting:
        row = session.get(ChatSetting, conversation_id)
        if row is None:
            row = ChatSetting(conversation_id=conversation_id, voice_replies=False, buttons_json="{}")
            session.add(row)
        row.updated_at = self._clock()
        return row

"""What the Telegram channel remembers: seen updates, per-chat settings and buttons, failures.

Framework-free (no Rasa, no Telegram): plain Python and JSON files under ``.state/``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from assistant.channels.telegram_format import Button, button_key

logger = logging.getLogger(__name__)

STATE_FILE = "telegram-chats.json"
FAILURE_FILE = "telegram-failures.jsonl"


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)





class RecentIds:
    """Remembers recently seen update ids (bounded, with a time to live)."""

    def __init__(
        self,
        max_size: int = 10_000,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Creates an empty memory."""
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._seen: "OrderedDict[int, float]" = OrderedDict()

    def first_time(self, key: int) -> bool:
        """Records ``key``; ``True`` only the first time it is seen within the TTL."""
        now = self._clock()
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self.ttl_seconds and len(self._seen) < self.max_size:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)


@dataclass
class ChatState:
    """What the channel remembers about one chat."""

    voice: bool = False
    language: Optional[str] = None
    buttons: "OrderedDict[str, Tuple[str, str]]" = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.buttons is None:
            self.buttons = OrderedDict()


class ChatStore:
    """Per-chat voice setting, voice language and button payloads, in memory and a JSON file.

    The voice setting and language move to the senior's profile (``voice_replies``,
    ``language``) later; until then they live here. Button payloads that carry
    personal data (a phone number offered for saving) are kept in memory only.
    """

    def __init__(
        self,
        path: Optional[Path],
        default_language: str = "en",
        max_buttons: int = 64,
        max_chats: int = 20_000,
    ) -> None:
        """Creates the store and loads ``path`` if it exists."""
        self.path = Path(path) if path is not None else None
        self.default_language = default_language
        self.max_buttons = max_buttons
        self.max_chats = max_chats
        self._chats: "OrderedDict[int, ChatState]" = OrderedDict()
        self._private: Dict[int, "OrderedDict[str, Tuple[str, str]]"] = {}
        self._load()

    # -- voice

    def voice_enabled(self, chat_id: int) -> bool:
        """Whether voice replies are on for ``chat_id``."""
        state = self._chats.get(chat_id)
        return bool(state and state.voice)

    def set_voice(self, chat_id: int, enabled: bool) -> None:
        """Turns voice replies on or off for ``chat_id``."""
        state = self._state(chat_id)
        if state.voice != enabled:
            state.voice = enabled
            self._save()

    def language(self, chat_id: int) -> str:
        """The language voice replies are spoken in (the assistant's language)."""
        state = self._chats.get(chat_id)
        return (state.language if state and state.language else None) or self.default_language

    def set_language(self, chat_id: int, language: str) -> None:
        """Sets the voice language of ``chat_id``."""
        state = self._state(chat_id)
        if state.language != language:
            state.language = language
            self._save()

    # -- buttons

    def remember_button(self, chat_id: int, button: Button, persist: bool = True) -> str:
        """Keeps ``button`` for ``chat_id``; returns the short id to put in ``callback_data``."""
        key = button_key(button.payload)
        value = (button.title, button.payload)
        if persist:
            buttons = self._state(chat_id).buttons
            changed = buttons.get(key) != value
            buttons[key] = value
            buttons.move_to_end(key)
            while len(buttons) > self.max_buttons:
                buttons.popitem(last=False)
                changed = True
            if changed:
                self._save()
        else:
            private = self._private.setdefault(chat_id, OrderedDict())
            private[key] = value
            private.move_to_end(key)
            while len(private) > self.max_buttons:
                private.popitem(last=False)
        return key

    def button(self, chat_id: int, key: str) -> Optional[Button]:
        """The button behind ``key`` in ``chat_id``, or ``None`` if unknown or forgotten."""
        value = self._private.get(chat_id, {}).get(key)
        if value is None:
            state = self._chats.get(chat_id)
            value = state.buttons.get(key) if state else None
        return Button(title=value[0], payload=value[1]) if value else None

    # -- persistence

    def _state(self, chat_id: int) -> ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = ChatState()
            while len(self._chats) > self.max_chats:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return state

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for raw_id, raw in (data.get("chats") or {}).items():
                buttons: "OrderedDict[str, Tuple[str, str]]" = OrderedDict()
                for key, pair in (raw.get("buttons") or {}).items():
                    if isinstance(pair, list) and len(pair) == 2:
                        buttons[str(key)] = (str(pair[0]), str(pair[1]))
                language = raw.get("language")
                self._chats[int(raw_id)] = ChatState(
                    voice=bool(raw.get("voice")),
                    language=str(language) if language else None,
                    buttons=buttons,
                )
        except (OSError, ValueError, TypeError, AttributeError) as error:
            logger.error("telegram: cannot read %s (%s); starting with empty chat state", self.path, error)

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "version": 1,
            "chats": {
                str(chat_id): {
                    "voice": state.voice,
                    **({"language": state.language} if state.language else {}),
                    "buttons": {key: list(value) for key, value in state.buttons.items()},
                }
                for chat_id, state in self._chats.items()
            },
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, suffix=".tmp", delete=False, encoding="utf-8"
            ) as handle:
                json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
            os.replace(handle.name, self.path)
        except OSError as error:
            logger.error("telegram: cannot save chat state to %s: %s", self.path, error)


class FailureLog:
    """Records what could not be delivered: an ERROR log line and a JSON line on disk."""

    def __init__(self, path: Optional[Path]) -> None:
        """Creates a log writing to ``path`` (``None``: the logger only)."""
        self.path = Path(path) if path is not None else None
        self.count = 0

    def record(self, chat_id: Optional[int], action: str, error: BaseException, text: Optional[str] = None) -> None:
        """Logs and appends one failed delivery."""
        self.count += 1
        name, message = type(error).__name__, str(error)
        description = message if message.startswith(name) else f"{name}: {message}"
        logger.error("telegram: %s to chat %s failed for good: %s", action, chat_id, description)
        if self.path is None:
            return
        entry = {
            "at": utcnow().isoformat(),
            "chat_id": chat_id,
            "action": action,
            "error": description[:500],
        }
        if text is not None:
            entry["text"] = text[:200]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as log_error:
            logger.error("telegram: cannot append to %s: %s", self.path, log_error)

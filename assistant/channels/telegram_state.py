"""What the Telegram channel remembers: seen updates, per-chat settings and buttons, failures.

Framework-free (no Rasa, no Telegram). Per-chat settings are kept in the care database (through a
:class:`ChatSettings`); only the failure log is a file under ``.state/``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple, TypeVar

from assistant.channels.telegram_format import Button, button_key

logger = logging.getLogger(__name__)
T = TypeVar("T")

STATE_FILE = "telegram-chats.json"
"""Where older versions kept per-chat settings; moved into the database at start, then deleted."""
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


class ChatSettings(Protocol):
    """Where per-chat settings are kept for good (the care database's ``chat_settings``)."""

    def voice_replies(self, conversation_id: str) -> bool: ...
    def set_voice_replies(self, conversation_id: str, on: bool) -> None: ...
    def language(self, conversation_id: str) -> Optional[str]: ...
    def set_language(self, conversation_id: str, language: str) -> None: ...
    def remember_button(self, conversation_id: str, key: str, title: str, payload: str) -> None: ...
    def remember_buttons(self, conversation_id: str, buttons: Sequence[Tuple[str, str, str]]) -> None: ...
    def button(self, conversation_id: str, key: str) -> Optional[Tuple[str, str]]: ...


class ChatStore:
    """Per-chat voice setting, voice language and button payloads: in the database, with a memory copy.

    With ``settings`` (the care database) every setting and button is written there, so it is in the
    person's export, goes when they are forgotten, and is shared by every channel process; reads
    ask the database and fall back to the memory copy only when it fails (logged). Button
    payloads that carry personal data (a phone number offered for saving) are kept in memory
    only. A chat file left by an older version (``legacy_path``) is moved into the database once
    and deleted.
    """

    def __init__(
        self,
        settings: Optional[ChatSettings] = None,
        default_language: str = "en",
        max_buttons: int = 64,
        max_chats: int = 20_000,
        legacy_path: Optional[Path] = None,
    ) -> None:
        """Creates the store; moves ``legacy_path`` into ``settings`` if both exist."""
        self.settings = settings
        self.default_language = default_language
        self.max_buttons = max_buttons
        self.max_chats = max_chats
        self._chats: "OrderedDict[int, ChatState]" = OrderedDict()
        self._private: Dict[int, "OrderedDict[str, Tuple[str, str]]"] = {}
        if settings is not None and legacy_path is not None and legacy_path.exists():
            self._move_legacy_file(legacy_path)

    # -- voice

    def voice_enabled(self, chat_id: int) -> bool:
        """Whether voice replies are on for ``chat_id``."""
        state = self._chats.get(chat_id)
        return bool(self._ask(lambda s: s.voice_replies(str(chat_id)), state is not None and state.voice))

    def set_voice(self, chat_id: int, enabled: bool) -> None:
        """Turns voice replies on or off for ``chat_id``."""
        self._state(chat_id).voice = enabled
        self._tell(lambda s: s.set_voice_replies(str(chat_id), enabled))

    def language(self, chat_id: int) -> str:
        """The language voice replies are spoken in (the assistant's language)."""
        state = self._chats.get(chat_id)
        known = self._ask(lambda s: s.language(str(chat_id)), state.language if state else None)
        return known or self.default_language

    def set_language(self, chat_id: int, language: str) -> None:
        """Sets the voice language of ``chat_id``."""
        self._state(chat_id).language = language
        self._tell(lambda s: s.set_language(str(chat_id), language))

    # -- buttons

    def remember_button(self, chat_id: int, button: Button, persist: bool = True) -> str:
        """Keeps ``button`` for ``chat_id``; returns the short id to put in ``callback_data``."""
        return self.remember_buttons(chat_id, [button], persist)[0]

    def remember_buttons(self, chat_id: int, buttons: Sequence[Button], persist: bool = True) -> List[str]:
        """Keeps one message's ``buttons`` for ``chat_id`` (one database write); returns their short ids."""
        kept = self._state(chat_id).buttons if persist else self._private.setdefault(chat_id, OrderedDict())
        keys = []
        for button in buttons:
            key = button_key(button.payload)
            kept[key] = (button.title, button.payload)
            kept.move_to_end(key)
            keys.append(key)
        while len(kept) > self.max_buttons:
            kept.popitem(last=False)
        if persist and buttons:
            rows = [(key, b.title, b.payload) for key, b in zip(keys, buttons)]
            self._tell(lambda s: s.remember_buttons(str(chat_id), rows))
        return keys

    def button(self, chat_id: int, key: str) -> Optional[Button]:
        """The button behind ``key`` in ``chat_id``, or ``None`` if unknown or forgotten."""
        value = self._private.get(chat_id, {}).get(key)
        if value is None:
            state = self._chats.get(chat_id)
            value = state.buttons.get(key) if state else None
        if value is None:
            value = self._ask(lambda s: s.button(str(chat_id), key), None)
        return Button(title=value[0], payload=value[1]) if value else None

    # -- keeping

    def _state(self, chat_id: int) -> ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = ChatState()
            while len(self._chats) > self.max_chats:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return state

    def _ask(self, read: Callable[[ChatSettings], T], fallback: T) -> T:
        if self.settings is None:
            return fallback
        try:
            return read(self.settings)
        except Exception as error:  # noqa: BLE001 - the chat goes on with what this process knows
            logger.error("telegram: cannot read chat settings (%s); using this process's copy", error)
            return fallback

    def _tell(self, write: Callable[[ChatSettings], None]) -> None:
        if self.settings is None:
            return
        try:
            write(self.settings)
        except Exception as error:  # noqa: BLE001 - kept in memory; the next change tries again
            logger.error("telegram: cannot save chat settings (%s); kept in memory only", error)

    def _move_legacy_file(self, path: Path) -> None:
        """Moves the chat file of an older version into the database, then deletes it."""
        assert self.settings is not None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for raw_id, raw in (data.get("chats") or {}).items():
                conversation = str(int(raw_id))
                if raw.get("voice"):
                    self.settings.set_voice_replies(conversation, True)
                if raw.get("language"):
                    self.settings.set_language(conversation, str(raw["language"]))
                for key, pair in (raw.get("buttons") or {}).items():
                    if isinstance(pair, list) and len(pair) == 2:
                        self.settings.remember_button(conversation, str(key), str(pair[0]), str(pair[1]))
            path.unlink()
            logger.info("telegram: moved the chat settings of %s into the database", path)
        except Exception as error:  # noqa: BLE001 - the file stays for the next start to try again
            logger.error("telegram: cannot move %s into the database: %s", path, error)


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
        if text is not None:  # how long, not what: the file is outside the database and its deletions
            entry["characters"] = len(text)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as log_error:
            logger.error("telegram: cannot append to %s: %s", self.path, log_error)

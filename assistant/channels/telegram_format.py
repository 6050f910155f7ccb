"""Plain helpers for the Telegram channel: splitting texts, button labels, commands.

Nothing here talks to Telegram or Rasa, so it is easy to test on its own. Replies are
sent as plain text (``parse_mode=None``): Telegram shows ``*``, ``_``, ``<b>`` and the
like literally, so nothing needs escaping.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

TELEGRAM_TEXT_LIMIT = 4096
"""Telegram's limit for one message, in UTF-16 code units."""

SAFE_TEXT_LIMIT = 4000
"""Where we split: a little below the limit, so a chunk never comes back refused."""

CALLBACK_DATA_LIMIT = 64
"""Telegram's limit for a button's ``callback_data``, in bytes."""

BUTTON_LABEL_LIMIT = 40
"""Longer button titles are shortened: seniors read short, large labels best."""

_SEPARATORS = (
    (re.compile(r"\n[ \t]*\n\s*"), "\n\n"),  # paragraphs
    (re.compile(r"[ \t]*\n\s*"), "\n"),  # lines
    (re.compile(r"(?<=[.!?…])[\"'”’)]*\s+"), " "),  # sentences
    (re.compile(r"\s+"), " "),  # words
)

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.DOTALL)
_WORD = re.compile(r"\w", re.UNICODE)


def utf16_len(text: str) -> int:
    """Length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = SAFE_TEXT_LIMIT) -> List[str]:
    """Splits ``text`` into chunks of at most ``limit`` UTF-16 units.

    Breaks between paragraphs first, then lines, then sentences, then words, and only
    cuts inside a word when a single word is longer than the limit. Empty text gives
    an empty list.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = (text or "").strip()
    if not text:
        return []
    return [chunk for chunk in _split(text, limit, 0) if chunk]


def _split(text: str, limit: int, level: int) -> List[str]:
    if utf16_len(text) <= limit:
        return [text]
    if level >= len(_SEPARATORS):
        return _hard_split(text, limit)
    pattern, joiner = _SEPARATORS[level]
    pieces = [piece.strip() for piece in pattern.split(text)]
    pieces = [piece for piece in pieces if piece]
    if len(pieces) <= 1:
        return _split(text, limit, level + 1)
    chunks: List[str] = []
    current = ""
    for piece in pieces:
        if utf16_len(piece) > limit:
            if current:
                chunks.append(current)
            parts = _split(piece, limit, level + 1)
            chunks.extend(parts[:-1])
            current = parts[-1]  # what follows may still fit beside the last part
        elif not current:
            current = piece
        elif utf16_len(current) + utf16_len(joiner) + utf16_len(piece) <= limit:
            current = f"{current}{joiner}{piece}"
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _hard_split(text: str, limit: int) -> List[str]:
    chunks: List[str] = []
    current: List[str] = []
    size = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        chunks.append("".join(current))
    return chunks


def short_label(title: Any, limit: int = BUTTON_LABEL_LIMIT) -> str:
    """A button label of at most ``limit`` characters, cut at a word with an ellipsis."""
    label = " ".join(str(title if title is not None else "").split())
    if len(label) <= limit:
        return label or "…"
    cut = label[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def button_key(payload: str) -> str:
    """A short, stable id for a button payload (the same payload gives the same id)."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Button:
    """One Rasa button reduced to what Telegram needs."""

    title: str
    payload: str


def clean_buttons(buttons: Optional[Iterable[Any]]) -> List[Button]:
    """Rasa buttons (``{"title", "payload"}`` dicts) as :class:`Button`, skipping junk."""
    cleaned: List[Button] = []
    for button in buttons or []:
        if not isinstance(button, dict):
            continue
        title = button.get("title")
        payload = button.get("payload")
        if title is None and payload is None:
            continue
        title_text = str(title if title is not None else payload).strip()
        payload_text = str(payload if payload is not None else title).strip()
        if title_text and payload_text:
            cleaned.append(Button(title=title_text, payload=payload_text))
    return cleaned


@dataclass(frozen=True)
class Command:
    """A Telegram command such as ``/voice on``: its name (lower case) and argument."""

    name: str
    argument: str = ""


def parse_command(text: str, bot_username: Optional[str] = None) -> Optional[Command]:
    """The command in ``text``, or ``None`` when it is not one.

    ``/voice@our_bot on`` is ``Command("voice", "on")``; a command addressed to
    another bot (``/voice@other_bot``) is not ours and gives ``None``.
    """
    match = _COMMAND.match((text or "").strip())
    if not match:
        return None
    name, addressee, argument = match.groups()
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    return Command(name=name.lower(), argument=" ".join((argument or "").split()))


def speakable(text: str) -> bool:
    """Whether ``text`` has anything to say aloud (a letter or a digit)."""
    return bool(text) and _WORD.search(text) is not None


def spoken_text(text: str, buttons: Sequence[Button] = ()) -> str:
    """What a voice reply says: the text, then the choices the buttons offer."""
    text = " ".join((text or "").split())
    titles = [" ".join(button.title.split()) for button in buttons]
    titles = [title for title in titles if speakable(title)]
    if not titles:
        return text
    if text and text[-1] not in ".!?…:":
        text += "."
    return f"{text} You can choose: {'; '.join(titles)}.".strip()


def update_profile_payload(**entities: Any) -> str:
    """The Rasa payload that asks to update the profile, e.g. the phone from a contact."""
    values: Dict[str, Any] = {key: value for key, value in entities.items() if value is not None}
    return "/update_profile" + json.dumps(values, ensure_ascii=False, separators=(", ", ": "))

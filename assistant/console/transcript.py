"""A conversation's transcript for the console, read from Rasa's tracker over its HTTP API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, Optional

MAX_LINES: Final = 80
"""The newest lines shown; the whole conversation stays in Rasa's tracker store."""

COORDINATOR_RESPONSE: Final = "utter_coordinator_message"


class TranscriptUnavailable(Exception):
    """Rasa could not be asked (down, slow, or it refused)."""


@dataclass(frozen=True)
class TranscriptLine:
    """One message: who said it (``user``, ``assistant`` or ``coordinator``), what, when (UTC)."""

    speaker: str
    text: str
    at: Optional[datetime]


class TranscriptSource:
    """Reads transcripts from Rasa (``GET /conversations/{id}/tracker``).

    Args:
        rasa_url: Base URL of Rasa's HTTP API (``--enable-api``).
        token: Rasa's ``--auth-token``, if it has one.
        timeout: Seconds to wait for Rasa.
    """

    def __init__(self, rasa_url: str, token: str = "", timeout: float = 5.0) -> None:
        self._base = rasa_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def lines(self, conversation_id: str, limit: int = MAX_LINES) -> list[TranscriptLine]:
        """The newest ``limit`` messages of a conversation, oldest first.

        Raises:
            TranscriptUnavailable: If Rasa cannot be reached or answers with an error.
        """
        query = {"include_events": "ALL"}
        if self._token:
            query["token"] = self._token
        url = f"{self._base}/conversations/{urllib.parse.quote(conversation_id, safe='')}/tracker?" + \
            urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:  # noqa: S310 - our own Rasa
                tracker = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise TranscriptUnavailable(str(error)) from error
        return transcript_lines(tracker.get("events") or [])[-limit:]


def transcript_lines(events: list[dict[str, Any]]) -> list[TranscriptLine]:
    """Turn tracker events into what people said: the user's words and the replies they saw.

    The care service's ``EXTERNAL_...`` triggers are not words anyone typed and are left out
    (the reply they caused is shown). A pressed button shows its title.
    """
    lines: list[TranscriptLine] = []
    for event in events:
        kind = event.get("event")
        at = _time(event.get("timestamp"))
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if intent.startswith("EXTERNAL_"):
                continue
            metadata = event.get("metadata") or {}
            text = str(event.get("text") or "")
            if text.startswith("/"):
                text = f"[pressed] {metadata.get('button_title')}" if metadata.get("button_title") else "[pressed a button]"
            lines.append(TranscriptLine("user", text, at))
        elif kind == "bot" and event.get("text"):
            metadata = event.get("metadata") or {}
            speaker = "coordinator" if metadata.get("utter_action") == COORDINATOR_RESPONSE else "assistant"
            lines.append(TranscriptLine(speaker, str(event["text"]), at))
    return lines


def _time(value: Any) -> Optional[datetime]:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None

"""Emergencies posted to the coordinators' own Telegram chat (a group, or one person's chat).

Set ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_COORDINATOR_CHAT_ID`` and the care service posts every new
emergency there within about a second, with a link to it in the console, besides the console's
live queue. Each escalation is posted once (``escalations.chat_alerted_at``, set only after
Telegram accepted the message); a failed post is tried again with a growing pause, so a dead
Telegram is not hammered and nothing is lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Optional

import requests
from sqlalchemy import select

from assistant.care.core.db import Database
from assistant.care.escalations.escalations import ACTIVE_STATUSES
from assistant.care.core.models import Escalation

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL: Final = "https://api.telegram.org/bot"
MAX_SUMMARY: Final = 600
MAX_PAUSE_SECONDS: Final = 300.0


class ChatPostError(Exception):
    """Telegram did not accept the message."""


@dataclass(frozen=True)
class ChatAlert:
    """An emergency to post: its reference, summary and console link."""

    escalation_id: int
    reference: str
    summary: str


def alert_text(alert: ChatAlert, console_url: str) -> str:
    """The message coordinators read in their chat."""
    summary = alert.summary if len(alert.summary) <= MAX_SUMMARY else alert.summary[: MAX_SUMMARY - 1] + "…"
    return f"🚨 Emergency {alert.reference}\n{summary}\nOpen it: {console_url.rstrip('/')}/escalations/{alert.reference}"


class CoordinatorChat:
    """Posts unannounced emergencies to one Telegram chat through the Bot API's ``sendMessage``.

    Args:
        db: The database.
        token: The bot's token.
        chat_id: The coordinators' chat id (a group's is negative).
        console_url: The console's address, for the link in each message.
        base_url: The Bot API base (``https://api.telegram.org/bot``; a local one in tests).
        timeout: Seconds to wait for Telegram.
    """

    def __init__(
        self,
        db: Database,
        token: str,
        chat_id: str,
        console_url: str,
        base_url: Optional[str] = None,
        timeout: float = 5.0,
    ) -> None:
        self._db = db
        self._url = f"{(base_url or DEFAULT_API_BASE_URL).rstrip('/')}{token}/sendMessage"
        self._chat_id = chat_id
        self._console_url = console_url
        self._timeout = timeout
        self._http = requests.Session()
        self._failures = 0
        self._paused_until = 0.0

    def pending(self) -> list[ChatAlert]:
        """Active emergencies not yet posted, oldest first."""
        query = (
            select(Escalation.id, Escalation.reference, Escalation.summary)
            .where(Escalation.priority == 1, Escalation.status.in_(ACTIVE_STATUSES),
                   Escalation.chat_alerted_at.is_(None))
            .order_by(Escalation.created_at, Escalation.id)
            .limit(20)
        )
        with self._db.reading() as session:
            return [ChatAlert(*row) for row in session.execute(query)]

    def post_pending(self, now: datetime) -> int:
        """Post each pending emergency and mark it; return how many were posted.

        After a failure nothing is posted for a while (1 s, doubling up to 5 minutes).
        """
        if time.monotonic() < self._paused_until:
            return 0
        posted = 0
        for alert in self.pending():
            try:
                self._send(alert_text(alert, self._console_url))
            except ChatPostError as error:
                self._failures += 1
                pause = min(MAX_PAUSE_SECONDS, 2.0 ** (self._failures - 1))
                self._paused_until = time.monotonic() + pause
                log.warning("could not post emergency %s to the coordinators' chat (%s); trying again in %.0f s",
                            alert.reference, error, pause)
                break
            self._failures = 0
            with self._db.session() as session:
                row = session.get(Escalation, alert.escalation_id)
                if row is not None:
                    row.chat_alerted_at = now
            posted += 1
        return posted

    def _send(self, text: str) -> None:
        try:
            response = self._http.post(
                self._url, json={"chat_id": self._chat_id, "text": text, "disable_web_page_preview": True},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise ChatPostError(type(error).__name__) from error
        if response.status_code != 200:
            raise ChatPostError(f"HTTP {response.status_code}: {response.text[:200]}")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

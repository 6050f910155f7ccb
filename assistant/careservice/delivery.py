"""Proactive messages through Rasa: ``POST /conversations/{id}/trigger_intent``.

Rasa runs the ``EXTERNAL_...`` intent in the person's conversation and sends the bot's answer
through the channel the person last used (``output_channel=latest``), so the tracker always
knows what the person was told.
"""

from __future__ import annotations

import threading
from typing import Any, Final, Mapping, Optional
from urllib.parse import quote

import requests

from assistant.care.reminders.reminders import DeliveryView

REMINDER_INTENT: Final = "EXTERNAL_reminder"
"""Entities: delivery_id, title, dose, kind, due_note, location, due_time."""


class DeliveryError(Exception):
    """Rasa could not be reached or refused the message (worth retrying later)."""


def reminder_entities(delivery: DeliveryView) -> dict[str, Any]:
    """Return the entities sent with ``EXTERNAL_reminder`` for one delivery."""
    return {
        "delivery_id": delivery.delivery_id,
        "title": delivery.title,
        "dose": delivery.dose,
        "kind": delivery.kind,
        "due_note": delivery.note,
        "location": delivery.location,
        "due_time": delivery.due_time,
    }


class RasaDelivery:
    """Send intents into conversations through Rasa's HTTP API.

    Safe to use from several threads at once: each thread gets its own pooled
    ``requests.Session`` (unless one ``session`` is given, which is then shared).

    Args:
        rasa_url: Base URL of the Rasa server, e.g. ``http://127.0.0.1:5005``.
        token: Rasa's ``--auth-token``, sent as the ``token`` query parameter, if set.
        timeout: Seconds to wait for Rasa to connect and answer.
        session: A requests session to share between threads (one per thread by default).
    """

    def __init__(
        self,
        rasa_url: str,
        token: Optional[str] = None,
        timeout: float = 10.0,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.rasa_url: str = rasa_url.rstrip("/")
        self._token = token or None
        self._timeout = timeout
        self._shared = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def trigger(self, conversation_id: str, intent: str, entities: Mapping[str, Any]) -> None:
        """Run ``intent`` with ``entities`` in a conversation.

        Rasa is asked not to send the tracker back (``include_events=NONE``): we do not read it.

        Raises:
            DeliveryError: If Rasa is unreachable, too slow, or answers with an error.
        """
        response = self._request(
            "post", conversation_id, "trigger_intent", {"output_channel": "latest", "include_events": "NONE"},
            json={"name": intent, "entities": dict(entities)},
        )
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:200]}")

    def already_delivered(self, conversation_id: str, intent: str, delivery_id: int) -> bool:
        """Whether the conversation's tracker already holds ``intent`` for ``delivery_id``.

        Asked before a retry: an attempt that timed out or failed may still have reached the
        conversation, and the person must not get the reminder twice.

        Raises:
            DeliveryError: If Rasa is unreachable, too slow, or answers with an error.
        """
        response = self._request("get", conversation_id, "tracker", {"include_events": "ALL"})
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:200]}")
        try:
            events = response.json().get("events") or []
        except ValueError as error:
            raise DeliveryError("Rasa sent a tracker that is not JSON") from error
        wanted = str(delivery_id)
        for event in events:
            if event.get("event") != "user":
                continue
            parse = event.get("parse_data") or {}
            if (parse.get("intent") or {}).get("name") != intent:
                continue
            if any(e.get("entity") == "delivery_id" and str(e.get("value")) == wanted
                   for e in parse.get("entities") or []):
                return True
        return False

    def send_reminder(self, delivery: DeliveryView) -> None:
        """Send one reminder delivery as ``EXTERNAL_reminder``.

        Raises:
            DeliveryError: If it could not be delivered (also when the senior has no conversation).
        """
        if not delivery.conversation_id:
            raise DeliveryError("the senior has no conversation to send to")
        self.trigger(delivery.conversation_id, REMINDER_INTENT, reminder_entities(delivery))

    def reminder_already_delivered(self, delivery: DeliveryView) -> bool:
        """Whether an earlier attempt of this reminder delivery reached the conversation after all.

        Raises:
            DeliveryError: If Rasa could not be asked.
        """
        if not delivery.conversation_id:
            return False
        return self.already_delivered(delivery.conversation_id, REMINDER_INTENT, delivery.delivery_id)

    def close(self) -> None:
        """Close the pooled connections of every thread."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for http in sessions:
            http.close()
        if self._shared is not None:
            self._shared.close()

    def _http(self) -> requests.Session:
        """The calling thread's session (or the shared one)."""
        if self._shared is not None:
            return self._shared
        http: Optional[requests.Session] = getattr(self._local, "session", None)
        if http is None:
            http = requests.Session()
            self._local.session = http
            with self._sessions_lock:
                self._sessions.append(http)
        return http

    def _request(
        self, method: str, conversation_id: str, endpoint: str, params: dict[str, str], **kwargs: Any
    ) -> requests.Response:
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/{endpoint}"
        if self._token:
            params["token"] = self._token
        try:
            return self._http().request(method, url, params=params, timeout=self._timeout, **kwargs)
        except requests.Timeout as error:
            raise DeliveryError(f"Rasa did not answer within {self._timeout:g} s") from error
        except requests.RequestException as error:
            raise DeliveryError(f"Rasa is not reachable: {type(error).__name__}") from error

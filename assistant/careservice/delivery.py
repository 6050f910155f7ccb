"""Proactive messages through Rasa's HTTP API.

Reminders are composed here and appended to the people's conversations, many in one request
(``POST /webhooks/care/reminders``, :mod:`assistant.channels.care_push`): Rasa sends each bot
message through the channel the person last used and stores it, without a dialogue turn. The
appended events are the ones the conversation's reminder action would have produced
(``action_deliver_reminder``, the message with its buttons, the ``last_delivery_*`` slots), so
"Done", "yes" and the buttons right after a reminder answer it. A Rasa without that channel gets
them one by one through its own API (``POST /conversations/{id}/tracker/events``).

Other notifications (a relative told, a coordinator's reply) still run their ``EXTERNAL_...``
intent with ``POST /conversations/{id}/trigger_intent``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Callable, Final, Mapping, Optional, Sequence
from urllib.parse import quote

import requests

from assistant.care.reminders.reminder_messages import message_for
from assistant.care.reminders.reminders import DeliveryView

REMINDER_INTENT: Final = "EXTERNAL_reminder"
"""How reminders were sent before they were appended (still recognised in a tracker)."""
REMINDER_ACTION: Final = "action_deliver_reminder"
"""The conversation's action for a reminder: appended with the message, so rules can follow it."""
BATCH_TIMEOUT_FACTOR: Final = 3
"""A batch of reminders may take this many times the usual timeout."""


class DeliveryError(Exception):
    """Rasa could not be reached or refused the message (worth retrying later)."""


def reminder_events(delivery: DeliveryView, now: datetime) -> list[dict[str, Any]]:
    """The events that put one reminder into its conversation (sent by Rasa as a side effect)."""
    message = message_for(delivery, now)
    return [
        {"event": "action", "name": REMINDER_ACTION, "policy": "care_service", "confidence": 1.0},
        {"event": "bot", "text": message.text, "data": {"buttons": [dict(b) for b in message.buttons]},
         "metadata": {"delivery_id": delivery.delivery_id, "reminder_kind": delivery.kind}},
        {"event": "slot", "name": "last_delivery_id", "value": str(delivery.delivery_id)},
        {"event": "slot", "name": "last_delivery_kind", "value": delivery.kind},
        {"event": "action", "name": "action_listen"},
    ]


def _batch_failures(sent: Sequence[DeliveryView], response: requests.Response) -> dict[int, DeliveryError]:
    """The reminders of a batch the care channel reports as not delivered (all of them if it makes no sense)."""
    try:
        results = response.json().get("results")
    except (ValueError, AttributeError):
        results = None
    if not isinstance(results, list) or len(results) != len(sent):
        return {d.delivery_id: DeliveryError("Rasa's answer to the batch made no sense") for d in sent}
    return {d.delivery_id: DeliveryError(str(r.get("error") or "not delivered"))
            for d, r in zip(sent, results) if not (isinstance(r, dict) and r.get("ok") is True)}


def session_start_events(slots: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A new session's beginning with ``slots``, as the conversation's ``action_session_start`` makes it."""
    return [
        {"event": "action", "name": "action_session_start", "policy": "care_service", "confidence": 1.0},
        {"event": "session_started"},
        *({"event": "slot", "name": name, "value": value} for name, value in slots.items()),
        {"event": "action", "name": "action_listen"},
    ]


def holds_reminder(events: list[dict[str, Any]], delivery_id: int) -> bool:
    """Whether a conversation's events hold the reminder ``delivery_id`` (appended, or the old intent)."""
    wanted = str(delivery_id)
    for event in events:
        kind = event.get("event")
        if kind == "bot" and str((event.get("metadata") or {}).get("delivery_id")) == wanted:
            return True
        if kind != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == REMINDER_INTENT and any(
            e.get("entity") == "delivery_id" and str(e.get("value")) == wanted for e in parse.get("entities") or []
        ):
            return True
    return False


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
        self._batches = True

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

    def send_reminder(self, delivery: DeliveryView, now: Optional[datetime] = None) -> None:
        """Append one reminder to its conversation; Rasa sends it through the person's channel.

        Raises:
            DeliveryError: If it could not be delivered (also when the senior has no conversation).
        """
        failed = self.send_reminders([delivery], now)
        if failed:
            raise failed[delivery.delivery_id]

    def send_reminders(
        self, deliveries: Sequence[DeliveryView], now: Optional[datetime] = None,
        session_slots: Optional[Callable[[str], Mapping[str, Any]]] = None,
    ) -> dict[int, DeliveryError]:
        """Append several reminders in one request; return the ones that failed, by delivery id.

        ``session_slots`` gives the slots of a new session of a conversation: sent along, so that a
        reminder to a conversation whose session has expired starts the new one itself.

        Raises:
            DeliveryError: If the whole request failed (Rasa unreachable, too slow, refusing it).
        """
        now = now or datetime.now(timezone.utc)
        failed = {d.delivery_id: DeliveryError("the senior has no conversation to send to")
                  for d in deliveries if not d.conversation_id}
        sendable = [d for d in deliveries if d.conversation_id]
        if not sendable:
            return failed
        if self._batches:
            body = {"reminders": [
                {"conversation_id": d.conversation_id, "events": reminder_events(d, now),
                 **({"session_start": session_start_events(session_slots(d.conversation_id))}
                    if session_slots is not None and d.conversation_id else {})}
                for d in sendable
            ]}
            # A batch waits for every send of it (Telegram allows about 30 a second): more time.
            response = self._call("post", f"{self.rasa_url}/webhooks/care/reminders", {}, json=body,
                                  timeout=self._timeout * BATCH_TIMEOUT_FACTOR)
            if response.status_code == 200:
                return {**failed, **_batch_failures(sendable, response)}
            if response.status_code != 404:
                raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:200]}")
            self._batches = False  # a Rasa without the care channel: one by one through its API
        for delivery in sendable:
            assert delivery.conversation_id
            response = self._request(
                "post", delivery.conversation_id, "tracker/events",
                {"output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"},
                json=reminder_events(delivery, now),
            )
            if response.status_code != 200:
                failed[delivery.delivery_id] = DeliveryError(f"Rasa answered {response.status_code}: "
                                                             f"{response.text[:200]}")
        return failed

    def reminder_already_delivered(self, delivery: DeliveryView) -> bool:
        """Whether an earlier attempt of this reminder delivery reached the conversation after all.

        Asked before a retry, and for a send the care service started but never recorded: the
        person must not get the reminder twice.

        Raises:
            DeliveryError: If Rasa could not be asked.
        """
        if not delivery.conversation_id:
            return False
        response = self._request("get", delivery.conversation_id, "tracker", {"include_events": "ALL"})
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:200]}")
        try:
            events = response.json().get("events") or []
        except ValueError as error:
            raise DeliveryError("Rasa sent a tracker that is not JSON") from error
        return holds_reminder(events, delivery.delivery_id)

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
        return self._call(method, url, params, **kwargs)

    def _call(self, method: str, url: str, params: dict[str, str], *, timeout: Optional[float] = None,
              **kwargs: Any) -> requests.Response:
        if self._token:
            params["token"] = self._token
        timeout = timeout or self._timeout
        try:
            return self._http().request(method, url, params=params, timeout=timeout, **kwargs)
        except requests.Timeout as error:
            raise DeliveryError(f"Rasa did not answer within {timeout:g} s") from error
        except requests.RequestException as error:
            raise DeliveryError(f"Rasa is not reachable: {type(error).__name__}") from error

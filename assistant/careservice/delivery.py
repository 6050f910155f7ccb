"""Proactive messages through Rasa: ``POST /conversations/{id}/trigger_intent``.

Rasa runs the ``EXTERNAL_...`` intent in the person's conversation and sends the bot's answer
through the channel the person last used (``output_channel=latest``), so the tracker always
knows what the person was told.
"""

from __future__ import annotations

from typing import Any, Final, Mapping, Optional
from urllib.parse import quote

import requests

from assistant.care.reminders import DeliveryView

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

    Args:
        rasa_url: Base URL of the Rasa server, e.g. ``http://127.0.0.1:5005``.
        token: Rasa's ``--auth-token``, sent as the ``token`` query parameter, if set.
        timeout: Seconds to wait for Rasa to connect and answer.
        session: A requests session to reuse (a new one by default).
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
        self._http = session or requests.Session()

    def trigger(self, conversation_id: str, intent: str, entities: Mapping[str, Any]) -> None:
        """Run ``intent`` with ``entities`` in a conversation.

        Raises:
            DeliveryError: If Rasa is unreachable, too slow, or answers with an error.
        """
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/trigger_intent"
        params = {"output_channel": "latest"}
        if self._token:
            params["token"] = self._token
        try:
            response = self._http.post(
                url, params=params, json={"name": intent, "entities": dict(entities)}, timeout=self._timeout
            )
        except requests.Timeout as error:
            raise DeliveryError(f"Rasa did not answer within {self._timeout:g} s") from error
        except requests.RequestException as error:
            raise DeliveryError(f"Rasa is not reachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise DeliveryError(f"Rasa answered {response.status_code}: {response.text[:200]}")

    def send_reminder(self, delivery: DeliveryView) -> None:
        """Send one reminder delivery as ``EXTERNAL_reminder``.

        Raises:
            DeliveryError: If it could not be delivered (also when the senior has no conversation).
        """
        if not delivery.conversation_id:
            raise DeliveryError("the senior has no conversation to send to")
        self.trigger(delivery.conversation_id, REMINDER_INTENT, reminder_entities(delivery))

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

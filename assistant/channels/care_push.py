"""The care service's way in: reminders appended to conversations in batches, without a dialogue turn.

Registered in ``credentials.yml`` as ``assistant.channels.care_push.CarePushInput:`` (no options).
Rasa mounts the blueprint at ``/webhooks/care/``:

* ``POST /webhooks/care/reminders``  ``{"reminders": [{"conversation_id": ..., "events": [...],
  "session_start": [...]}]}`` (at most :data:`MAX_BATCH`); answers ``{"results": [{"conversation_id",
  "ok", "error"}]}`` in order.

For each reminder, holding the conversation's lock (no turn of it runs meanwhile): the bot
messages among its events go out through the channel the person last wrote from (as Rasa's
``output_channel=latest``), then the events are stored. A message that could not be sent is not
stored and is reported as not ok, for the care service to try again.

A reminder to a conversation whose session has expired (the person last wrote longer ago than the
domain's ``session_expiration_time``: the night before a morning reminder) or that has nothing
stored starts a new session first, as Rasa does before a turn: otherwise the person's "yes" to it
would start the session and lose the reminder it answers. ``session_start`` holds that session's
beginning (``action_session_start``, ``session_started``, its slots, ``action_listen``), composed by
the care service from what the conversation's ``action_session_start`` would set.

With our SQL tracker store, events are stored without loading the conversation
(:meth:`PrivateSQLTrackerStore.append`). Otherwise, or without ``session_start`` when a session is
due, Rasa's own way is taken: load the conversation with a session start (which runs
``action_session_start``), update, send, save. Reminders of one batch run concurrently.

When Rasa has an auth token (``ASSISTANT_RASA_TOKEN``), the request must carry it as ``token``,
as for Rasa's own HTTP API.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.settings import load_settings
from assistant.tracker_store import PrivateSQLTrackerStore, StoredConversation

logger = logging.getLogger(__name__)

MAX_BATCH = 500
"""Reminders in one request."""
MAX_EVENTS = 20
"""Events of one reminder."""

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class BadBatch(ValueError):
    """The request body is not a batch of reminders."""


@dataclass(frozen=True)
class Reminder:
    """One reminder of a batch."""

    conversation_id: str
    events: List[Event]
    session_start: List[Event]
    """The beginning of a new session, stored first when one is due (may be empty)."""


def parse_batch(body: Any) -> List[Reminder]:
    """The reminders of a request body.

    Raises:
        BadBatch: With a short reason, if anything in it is malformed.
    """
    reminders = body.get("reminders") if isinstance(body, dict) else None
    if not isinstance(reminders, list) or not 0 < len(reminders) <= MAX_BATCH:
        raise BadBatch(f"expected {{'reminders': [...]}} with 1 to {MAX_BATCH} reminders")
    parsed = []
    for index, item in enumerate(reminders):
        conversation_id = item.get("conversation_id") if isinstance(item, dict) else None
        raw = item.get("events") if isinstance(item, dict) else None
        if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > 255:
            raise BadBatch(f"reminder {index}: conversation_id must be a non-empty string")
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_EVENTS:
            raise BadBatch(f"reminder {index}: events must be a list of 1 to {MAX_EVENTS} events")
        start = item.get("session_start") or []
        if not isinstance(start, list) or len(start) > MAX_EVENTS:
            raise BadBatch(f"reminder {index}: session_start must be a list of at most {MAX_EVENTS} events")
        parsed.append(Reminder(conversation_id, _events(raw, index), _events(start, index)))
    return parsed


def _events(raw: List[Any], index: int) -> List[Event]:
    """Rasa events from their JSON form."""
    try:
        events = [Event.from_parameters(event) if isinstance(event, dict) else None for event in raw]
    except Exception as error:  # noqa: BLE001 - Rasa raises several kinds for a bad event
        raise BadBatch(f"reminder {index}: an event is malformed ({type(error).__name__})") from error
    if any(event is None for event in events):
        raise BadBatch(f"reminder {index}: an event is malformed")
    return [event for event in events if event is not None]


def output_channel_named(app: Any, name: Optional[str]) -> OutputChannel:
    """The output channel of the registered input channel ``name`` (collecting, if there is none)."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if name and channel.name() == name:
            output = channel.get_output_channel()
            if output is not None:
                return output
    return CollectingOutputChannel()


async def send_messages(output: OutputChannel, conversation_id: str, events: List[Event]) -> None:
    """Send the bot messages among ``events`` (as Rasa's side effects do)."""
    for event in events:
        if isinstance(event, BotUttered):
            await output.send_response(conversation_id, event.message())


def session_due(domain: Any, stored: Optional[StoredConversation], now: float) -> bool:
    """Whether a new session must start before anything is added (as Rasa decides before a turn)."""
    if stored is None:
        return True
    config = domain.session_config
    if not config.are_sessions_enabled() or stored.last_user_at is None:
        return False
    return (now - stored.last_user_at) / 60 > config.session_expiration_time


async def append_reminder(app: Any, reminder: Reminder) -> None:
    """Send and store one reminder's events (after a new session's beginning if one is due),
    holding the conversation's lock.

    Raises:
        Exception: Whatever made sending or storing fail (nothing is stored if sending failed).
    """
    agent = app.ctx.agent
    conversation_id, events = reminder.conversation_id, reminder.events
    # Rasa wraps the configured store in a FailSafeTrackerStore; ours is inside.
    store = getattr(agent.tracker_store, "_tracker_store", agent.tracker_store)
    async with agent.lock_store.lock(conversation_id):
        if isinstance(store, PrivateSQLTrackerStore):
            stored = store.stored_conversation(conversation_id)
            due = session_due(agent.domain, stored, time.time())
            if not due or reminder.session_start:
                channel = stored.channel if stored is not None else ""
                await send_messages(output_channel_named(app, channel), conversation_id, events)
                stored_events = (reminder.session_start if due else []) + events
                sent_at = time.time()  # one time for all: the session's beginning must not come after them
                for event in stored_events:
                    event.timestamp = sent_at
                store.append(conversation_id, stored_events)
                return
        tracker = await agent.processor.fetch_tracker_and_update_session(conversation_id, CollectingOutputChannel())
        for event in events:
            tracker.update(event, agent.domain)
        output = output_channel_named(app, tracker.get_latest_input_channel())
        await send_messages(output, conversation_id, events)
        await agent.tracker_store.save(tracker)


class CarePushInput(InputChannel):
    """Rasa input channel for the care service's batches of reminders."""

    def __init__(self, token: Optional[str] = None) -> None:
        """``token``: Rasa's auth token the requests must carry (``ASSISTANT_RASA_TOKEN`` by default)."""
        self.token = load_settings().rasa_token if token is None else token

    @classmethod
    def name(cls) -> Text:
        """Mounted at ``/webhooks/care``."""
        return "care"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """No options."""
        return cls()

    def _allowed(self, request: Request) -> bool:
        if not self.token:
            return True
        given = request.args.get("token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _reminders(self, request: Request) -> HTTPResponse:
        if not self._allowed(request):
            return response.json({"error": "This needs the assistant's token."}, status=401)
        try:
            batch = parse_batch(request.json)
        except BadBatch as error:
            return response.json({"error": f"Not a batch of reminders: {error}."}, status=400)
        except Exception:  # noqa: BLE001 - sanic refuses a body that is not JSON
            return response.json({"error": "Not a batch of reminders: the body is not JSON."}, status=400)
        outcomes = await asyncio.gather(*(append_reminder(request.app, r) for r in batch), return_exceptions=True)
        results = []
        for conversation_id, outcome in zip((r.conversation_id for r in batch), outcomes):
            if isinstance(outcome, BaseException):
                logger.warning("care push: reminder for %s not delivered: %s", conversation_id, outcome)
                results.append({"conversation_id": conversation_id, "ok": False,
                                "error": f"{type(outcome).__name__}: {outcome}"[:300]})
            else:
                results.append({"conversation_id": conversation_id, "ok": True, "error": None})
        return response.json({"results": results})

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """The ``/webhooks/care/`` routes."""
        care = Blueprint("care_push", __name__)

        @care.route("/reminders", methods=["POST"])
        async def reminders(request: Request) -> HTTPResponse:
            return await self._reminders(request)

        @care.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return care

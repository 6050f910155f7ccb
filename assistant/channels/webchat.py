"""The local browser chat page: a Rasa input channel with its own page and live stream.

Registered in ``credentials.yml`` as::

    assistant.channels.webchat.WebChatInput:
      # all optional
      buffer_size: 200          # proactive messages kept per sender for replay
      heartbeat_seconds: 15     # SSE comment heartbeat interval
      max_message_length: 2000  # longer messages are cut before reaching Rasa
      speech_url: ...           # the offline speech server (ASSISTANT_SPEECH_URL); "off": no microphone

Rasa mounts the blueprint at ``/webhooks/webchat/``:

* ``GET  /webhooks/webchat/``               the chat page
* ``GET  /webhooks/webchat/static/<file>``  its JavaScript and CSS
* ``POST /webhooks/webchat/message``        one user turn; the replies come back in the response
* ``POST /webhooks/webchat/voice?sender=``  a recording (the page's microphone) as the body: heard
  offline, then handled like typed text; the answer says what was heard, with the replies
* ``GET  /webhooks/webchat/voice``          ``{"available": ...}``: whether the page shows its microphone
* ``GET  /webhooks/webchat/events?sender=`` Server-Sent Events with proactive messages

Direct replies to a POST are collected and returned in its response. Only messages
sent through :meth:`WebChatInput.get_output_channel` (``trigger_intent`` with
``output_channel=webchat``: reminders, coordinator replies) go through the in-process
:class:`MessageHub` to the event stream, so nothing is shown twice. The hub lives in
the Rasa process: run Rasa with one worker (its default).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    Dict,
    List,
    Optional,
    Set,
    Text,
    Tuple,
)

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.channels.commands import typed_command_payload
from assistant.hearing.client import listener
from assistant.hearing.verdict import (
    HEARD,
    NO_TITLE,
    SAY_AGAIN_REPLY,
    UNAVAILABLE,
    UNAVAILABLE_REPLY,
    UNSURE,
    YES_TITLE,
    Hearing,
)
from assistant.settings import load_settings

logger = logging.getLogger(__name__)

CHANNEL_NAME = "webchat"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_FILE = "index.html"

SENDER_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
STATIC_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+")
STATIC_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
STATIC_CACHE_CONTROL = "public, max-age=300"

DEFAULT_BUFFER_SIZE = 200
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_MAX_MESSAGE_LENGTH = 2000
DEFAULT_MAX_SENDERS = 1000
MAX_BODY_BYTES = 1_000_000
SSE_RETRY_MS = 3000
TALK_TO_PERSON = {"title": "Talk to a person", "payload": "/talk_to_human"}
SENDER_ERROR = "The 'sender' must be 8 to 64 letters, digits, '-' or '_'."

EMPTY_MESSAGE_REPLY = "I didn't catch anything. Could you type your message again?"
TRUNCATED_NOTE = "Your message was very long, so I only read the beginning of it."
ERROR_REPLY = "Sorry, something went wrong on my side. Please try again in a moment."

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: http: https:; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


def is_valid_sender(sender: Any) -> bool:
    """Whether ``sender`` is an acceptable session id (8-64 of ``A-Z a-z 0-9 _ -``)."""
    return isinstance(sender, str) and SENDER_RE.fullmatch(sender) is not None


def _clean_buttons(buttons: Any) -> List[Dict[Text, Text]]:
    """Reduces Rasa buttons to ``{"title", "payload"}`` pairs of strings."""
    cleaned = []
    for button in buttons or []:
        if not isinstance(button, dict):
            continue
        title = button.get("title")
        payload = button.get("payload")
        if title is None and payload is None:
            continue
        title = str(title if title is not None else payload)
        cleaned.append({"title": title, "payload": str(payload if payload is not None else title)})
    return cleaned


def page_message(raw: Dict[Text, Any]) -> Dict[Text, Any]:
    """Turns one Rasa output message into the page's shape.

    The shape is ``{"text", "buttons": [{"title", "payload"}], "image", "custom",
    "attachment"}`` with absent keys left out.
    """
    message: Dict[Text, Any] = {}
    if raw.get("text") is not None:
        message["text"] = str(raw["text"])
    buttons = _clean_buttons(raw.get("buttons") or raw.get("quick_replies"))
    if buttons:
        message["buttons"] = buttons
    for key in ("image", "custom", "attachment"):
        if raw.get(key) is not None:
            message[key] = raw[key]
    return message


@dataclass(frozen=True)
class HubEvent:
    """One proactive message kept by the hub."""

    id: int
    timestamp: float
    message: Dict[Text, Any]

    def to_sse(self) -> str:
        """The event as a Server-Sent Events block."""
        when = datetime.fromtimestamp(self.timestamp, tz=timezone.utc).isoformat()
        data = json.dumps({**self.message, "timestamp": when}, ensure_ascii=False)
        return f"id: {self.id}\ndata: {data}\n\n"


class Subscription:
    """One connected page (browser tab) listening for a sender's messages."""

    def __init__(self, sender: Text, max_pending: int) -> None:
        """Creates an open subscription with a bounded queue."""
        self.sender = sender
        self.closed = False
        self._queue: asyncio.Queue[Optional[HubEvent]] = asyncio.Queue(maxsize=max_pending + 1)

    def offer(self, event: HubEvent) -> None:
        """Queues ``event``; a subscriber that falls too far behind is closed."""
        if self.closed:
            return
        if self._queue.qsize() >= self._queue.maxsize - 1:
            logger.warning("webchat subscriber for %s is too slow; closing it", self.sender)
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        """Ends the subscription; the stream finishes and the browser reconnects."""
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next_event(self, timeout: float) -> Optional[HubEvent]:
        """The next event, or ``None`` once closed; raises ``asyncio.TimeoutError``."""
        return await asyncio.wait_for(self._queue.get(), timeout=timeout)


class MessageHub:
    """In-process fan-out of proactive messages to the pages of each sender.

    Keeps, per sender, the last ``buffer_size`` messages with an id and a timestamp,
    so a page that connects later (or reconnects with ``Last-Event-ID``) gets what it
    missed, and every open tab of the sender receives new messages. Ids increase
    across all senders and start from the current time in milliseconds, so they keep
    increasing after a restart. Everything runs on the event loop: no threads, no locks.
    """

    def __init__(
        self, buffer_size: int = DEFAULT_BUFFER_SIZE, max_senders: int = DEFAULT_MAX_SENDERS
    ) -> None:
        """Creates an empty hub."""
        if buffer_size < 1 or max_senders < 1:
            raise ValueError("buffer_size and max_senders must be positive")
        self.buffer_size = buffer_size
        self.max_senders = max_senders
        self._ids = itertools.count(int(time.time() * 1000))
        self._last_id = 0
        self._buffers: "OrderedDict[str, Deque[HubEvent]]" = OrderedDict()
        self._subscribers: Dict[str, Set[Subscription]] = {}

    def publish(self, sender: Text, message: Dict[Text, Any]) -> Optional[HubEvent]:
        """Buffers ``message`` for ``sender`` and hands it to the sender's open pages."""
        if not is_valid_sender(sender):
            logger.warning("webchat cannot deliver to an invalid sender id %r", sender)
            return None
        event = HubEvent(id=next(self._ids), timestamp=time.time(), message=dict(message))
        self._last_id = event.id
        buffer = self._buffers.get(sender)
        if buffer is None:
            buffer = self._buffers[sender] = deque(maxlen=self.buffer_size)
        self._buffers.move_to_end(sender)
        buffer.append(event)
        for subscription in list(self._subscribers.get(sender, ())):
            subscription.offer(event)
        self._evict()
        return event

    def history(self, sender: Text, after_id: Optional[int] = None) -> List[HubEvent]:
        """Buffered events of ``sender``, only those after ``after_id`` if given.

        An ``after_id`` newer than anything this hub issued (a page that remembers
        a previous run) replays the whole buffer.
        """
        events = list(self._buffers.get(sender, ()))
        if after_id is None or after_id > self._last_id:
            return events
        return [event for event in events if event.id > after_id]

    def subscribe(
        self, sender: Text, last_event_id: Optional[int] = None
    ) -> Tuple[List[HubEvent], Subscription]:
        """Registers a page; returns the backlog to replay and the live subscription.

        Both happen without yielding to the loop, so nothing is lost or doubled
        between the replay and the live messages.
        """
        subscription = Subscription(sender, max_pending=self.buffer_size)
        self._subscribers.setdefault(sender, set()).add(subscription)
        if sender in self._buffers:
            self._buffers.move_to_end(sender)
        return self.history(sender, last_event_id), subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forgets a page that went away."""
        subscription.close()
        subscribers = self._subscribers.get(subscription.sender)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.sender]

    def subscriber_count(self, sender: Text) -> int:
        """How many pages of ``sender`` are connected."""
        return len(self._subscribers.get(sender, ()))

    def disconnect_all(self) -> None:
        """Ends every open stream (used when the server stops)."""
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.close()

    def _evict(self) -> None:
        """Drops the least recently used senders without an open page."""
        if len(self._buffers) <= self.max_senders:
            return
        for sender in list(self._buffers):
            if len(self._buffers) <= self.max_senders:
                break
            if not self._subscribers.get(sender):
                del self._buffers[sender]


class WebChatOutput(OutputChannel):
    """Sends proactive messages to the chat pages of a sender through the hub."""

    def __init__(self, hub: MessageHub) -> None:
        """Creates an output channel that publishes to ``hub``."""
        self.hub = hub

    @classmethod
    def name(cls) -> Text:
        """The channel's name, as used by ``output_channel=webchat``."""
        return CHANNEL_NAME

    async def _publish(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.hub.publish(recipient_id, page_message(message))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Sends a text, one message per paragraph, like Rasa's collecting channel."""
        for part in text.strip().split("\n\n"):
            await self._publish(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Sends a text with buttons the page shows as large choices."""
        await self._publish(recipient_id, {"text": text, "buttons": buttons})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """Sends an image by URL."""
        await self._publish(recipient_id, {"image": image})

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """Sends an attachment."""
        await self._publish(recipient_id, {"attachment": attachment})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Sends custom JSON (the page shows its ``text`` field if it has one)."""
        await self._publish(recipient_id, {"custom": json_message})


class WebChatCollectingOutput(CollectingOutputChannel):
    """Collects the direct replies to one POST; named ``webchat`` for channel-specific responses."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name."""
        return CHANNEL_NAME


def _json_error(message: Text, status: int = 400) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _reply(texts_or_messages: List[Any]) -> HTTPResponse:
    messages = [m if isinstance(m, dict) else {"text": m} for m in texts_or_messages]
    return response.json({"messages": messages}, headers={"Cache-Control": "no-store"})


def _parse_event_id(raw: Optional[str]) -> Optional[int]:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


def _positive(credentials: Dict[Text, Any], key: str, default: float, kind: type) -> Any:
    value = credentials.get(key)
    if value is None:
        return kind(default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"webchat channel: {key} must be a number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"webchat channel: {key} must be positive, got {value!r}")
    return number


class WebChatInput(InputChannel):
    """Rasa input channel serving the local chat page, its messages and its live stream."""

    def __init__(
        self,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
        max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        hub: Optional[MessageHub] = None,
        static_dir: Path = STATIC_DIR,
        speech_url: Optional[str] = None,
    ) -> None:
        """Creates the channel; ``hub`` is shared by the page streams and the output."""
        self.hub = hub or MessageHub(buffer_size=buffer_size)
        self.heartbeat_seconds = heartbeat_seconds
        self.max_message_length = max_message_length
        self.static_dir = static_dir.resolve()
        self.hearing = listener(speech_url)

    @classmethod
    def name(cls) -> Text:
        """The channel's name and URL prefix."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Creates the channel from its optional ``credentials.yml`` keys."""
        credentials = credentials or {}
        return cls(
            buffer_size=_positive(credentials, "buffer_size", DEFAULT_BUFFER_SIZE, int),
            heartbeat_seconds=_positive(
                credentials, "heartbeat_seconds", DEFAULT_HEARTBEAT_SECONDS, float
            ),
            max_message_length=_positive(
                credentials, "max_message_length", DEFAULT_MAX_MESSAGE_LENGTH, int
            ),
            speech_url=str(credentials.get("speech_url") or "").strip() or load_settings().speech_base_url,
        )

    def get_output_channel(self) -> OutputChannel:
        """The output used by ``trigger_intent?output_channel=webchat``: it reaches the page."""
        return WebChatOutput(self.hub)

    # ------------------------------------------------------------------ helpers

    def _static_file(self, name: str) -> Optional[Path]:
        """The file ``name`` directly inside the static folder, or ``None``."""
        if not STATIC_NAME_RE.fullmatch(name) or ".." in name:
            return None
        if Path(name).suffix.lower() not in STATIC_CONTENT_TYPES:
            return None
        path = (self.static_dir / name).resolve()
        if path.parent != self.static_dir or not path.is_file():
            return None
        return path

    def _serve_file(self, request: Request, path: Path, headers: Dict[str, str]) -> HTTPResponse:
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {**headers, "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if etag in request.headers.get("if-none-match", ""):
            return response.empty(status=304, headers=headers)
        return response.raw(
            body, headers=headers, content_type=STATIC_CONTENT_TYPES[path.suffix.lower()]
        )

    async def _handle_message(
        self, request: Request, on_new_message: MessageHandler
    ) -> HTTPResponse:
        if len(request.body or b"") > MAX_BODY_BYTES:
            return _json_error("The message is too large.", status=413)
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return _json_error("The request body must be JSON.")
        if not isinstance(body, dict):
            return _json_error("The request body must be a JSON object.")
        sender = body.get("sender")
        if sender is None:
            return _json_error("The 'sender' field is missing.")
        if not is_valid_sender(sender):
            return _json_error(SENDER_ERROR)

        metadata: Optional[Dict[Text, Any]] = None
        truncated = False
        payload = body.get("payload")
        if payload is not None:
            if not isinstance(payload, str) or not payload.strip():
                return _json_error("The 'payload' must be non-empty text.")
            if len(payload) > self.max_message_length:
                return _json_error("The 'payload' is too long.")
            text = payload
            title = body.get("title")
            if isinstance(title, str) and title.strip():
                metadata = {"button_title": title.strip()[: self.max_message_length]}
        else:
            message = body.get("message")
            if message is None:
                message = ""
            if not isinstance(message, str):
                return _json_error("The 'message' must be text.")
            if not message.strip():
                return _reply([EMPTY_MESSAGE_REPLY])
            truncated = len(message) > self.max_message_length
            text = typed_command_payload(message) or message[: self.max_message_length]

        replies = await self._turn(sender, text, metadata, on_new_message)
        if truncated:
            replies.insert(0, TRUNCATED_NOTE)
        return _reply(replies)

    async def _turn(
        self, sender: Text, text: Text, metadata: Optional[Dict[Text, Any]], on_new_message: MessageHandler
    ) -> List[Any]:
        """One message to the assistant; its direct replies in the page's shape."""
        collector = WebChatCollectingOutput()
        failed = False
        try:
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            logger.exception("webchat: handling a message from sender %s failed", sender)
            failed = True
        replies: List[Any] = [page_message(m) for m in collector.messages]
        if failed:
            replies.append(ERROR_REPLY)
        return replies

    async def _handle_voice(self, request: Request, on_new_message: MessageHandler) -> HTTPResponse:
        """A recording from the page's microphone: heard offline, then a turn like typed text."""
        sender = request.args.get("sender")
        if not is_valid_sender(sender):
            return _json_error(SENDER_ERROR)
        audio = request.body or b""
        if self.hearing is None:
            hearing = Hearing(UNAVAILABLE, reply=UNAVAILABLE_REPLY)
        else:  # the client refuses an upload too large to be a minute of speech before sending it on
            hearing = await self.hearing.hear(audio)
        del audio  # the recording is never kept
        replies: List[Any]
        if hearing.kind == HEARD:
            turn = await self._turn(sender, hearing.typed, hearing.metadata(), on_new_message)
            replies = [{"text": hearing.reply}, *turn]
        elif hearing.kind == UNSURE:
            yes = {"title": YES_TITLE, "payload": hearing.typed}
            replies = [{"text": hearing.reply, "buttons": [yes, {"title": NO_TITLE, "reply": SAY_AGAIN_REPLY}]}]
        elif hearing.kind == UNAVAILABLE:
            replies = [{"text": hearing.reply, "buttons": [TALK_TO_PERSON]}]
        else:
            replies = [{"text": hearing.reply}]
        return response.json(
            {"heard": {"kind": hearing.kind, "text": hearing.text}, "messages": replies},
            headers={"Cache-Control": "no-store"},
        )

    async def _stream_events(self, request: Request) -> Optional[HTTPResponse]:
        sender = request.args.get("sender")
        if not is_valid_sender(sender):
            return _json_error(SENDER_ERROR)
        # The header is what EventSource sends when it reconnects, so it is newer
        # than the query parameter the page put in the URL when it first connected.
        last_event_id = _parse_event_id(request.headers.get("last-event-id"))
        if last_event_id is None:
            last_event_id = _parse_event_id(request.args.get("last_event_id"))

        backlog, subscription = self.hub.subscribe(sender, last_event_id)
        try:
            stream = await request.respond(
                content_type="text/event-stream; charset=utf-8",
                headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
            )
            await stream.send(f"retry: {SSE_RETRY_MS}\n: connected\n\n")
            for event in backlog:
                await stream.send(event.to_sse())
            while True:
                try:
                    event = await subscription.next_event(self.heartbeat_seconds)
                except asyncio.TimeoutError:
                    await stream.send(": heartbeat\n\n")
                    continue
                if event is None:
                    break
                await stream.send(event.to_sse())
        finally:
            self.hub.unsubscribe(subscription)
        return None

    # ---------------------------------------------------------------- blueprint

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """The page, static files, message endpoint and event stream."""
        webchat = Blueprint(f"webchat_{id(self)}")

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # The page loads its files and endpoints by relative URL.
                query = f"?{request.query_string}" if request.query_string else ""
                return response.redirect(f"{request.path}/{query}", status=301)
            return self._serve_file(request, self.static_dir / PAGE_FILE, PAGE_HEADERS)

        @webchat.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            path = self._static_file(name)
            if path is None:
                return _json_error("Not found.", status=404)
            return self._serve_file(request, path, {"Cache-Control": STATIC_CACHE_CONTROL})

        @webchat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            return await self._handle_message(request, on_new_message)

        @webchat.route("/voice", methods=["POST"])
        async def voice(request: Request) -> HTTPResponse:
            return await self._handle_voice(request, on_new_message)

        @webchat.route("/voice", methods=["GET"])
        async def listening(request: Request) -> HTTPResponse:
            return response.json({"available": self.hearing is not None}, headers={"Cache-Control": "no-store"})

        @webchat.route("/events", methods=["GET"])
        async def events(request: Request) -> Optional[HTTPResponse]:
            return await self._stream_events(request)

        @webchat.listener("before_server_stop")
        async def close_streams(*_: Any) -> None:
            self.hub.disconnect_all()

        return webchat

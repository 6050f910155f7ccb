"""Tests for the local chat page channel (``assistant.channels.webchat``).

The blueprint is mounted with Rasa's own ``register`` on a small Sanic app whose
agent is a fake, served on a free loopback port inside the test's event loop. No
model, no Rasa server and no network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from yarl import URL

from assistant.channels.webchat import (
    EMPTY_MESSAGE_REPLY,
    ERROR_REPLY,
    STATIC_DIR,
    TRUNCATED_NOTE,
    MessageHub,
    WebChatInput,
    WebChatOutput,
    is_valid_sender,
)
from tests.browser import BROWSER_ARGS, CHROMIUM, require_chromium

SENDER = "test-sender_0001"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TRICKY_TEXT = "<b>bold</b><script>window.__xss = 1</script>"
CHOICES = [
    {"title": "Tomorrow at noon", "payload": '/order_meal{"time": "tomorrow 12:00"}'},
    {"title": "Not now", "payload": "/deny"},
]


class FakeAgent:
    """Stands in for Rasa's agent: records each message and replies through its channel."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.received: List[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("the model fell over")
        out = message.output_channel
        if message.text and message.text.startswith("/"):
            await out.send_response(message.sender_id, {"text": "You chose well."})
            return
        await out.send_response(message.sender_id, {"text": f"You said: {message.text}"})
        await out.send_response(
            message.sender_id, {"text": "When would you like it?", "buttons": list(CHOICES)}
        )


class TrickyAgent(FakeAgent):
    """Replies with markup that must show as literal text, and offers buttons."""

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        out = message.output_channel
        if message.text and message.text.startswith("/"):
            await out.send_response(message.sender_id, {"text": "Lunch is booked for tomorrow."})
            return
        await out.send_response(
            message.sender_id, {"text": TRICKY_TEXT, "buttons": [dict(b) for b in CHOICES]}
        )


@dataclass
class ChatServer:
    """A running app with the webchat blueprint mounted at ``/webhooks/webchat``."""

    base_url: str
    channel: WebChatInput
    agent: FakeAgent
    session: aiohttp.ClientSession
    server: Any = field(repr=False)

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}/webhooks/webchat{path}"

    async def post(self, body: Any, raw: Optional[bytes] = None) -> aiohttp.ClientResponse:
        data = raw if raw is not None else json.dumps(body).encode()
        return await self.session.post(
            self.url("/message"), data=data, headers={"Content-Type": "application/json"}
        )


StartServer = Callable[..., Awaitable[ChatServer]]


@pytest.fixture
async def start_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartServer]:
    """Starts chat servers on free loopback ports and stops them afterwards."""
    # Sanic 21.12 rewrites its own methods when an app starts; test mode keeps the
    # originals so that several apps can start in one process.
    monkeypatch.setattr(Sanic, "test_mode", True)
    running: List[ChatServer] = []

    async def start(agent: Optional[FakeAgent] = None, **channel_options: Any) -> ChatServer:
        agent = agent or FakeAgent()
        channel = WebChatInput(**channel_options)
        app = Sanic(f"webchat_test_{uuid.uuid4().hex[:12]}")
        app.ctx.agent = agent
        register([channel], app, route="/webhooks/")  # exactly how `rasa run` mounts it
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        chat = ChatServer(
            base_url=f"http://127.0.0.1:{port}",
            channel=channel,
            agent=agent,
            session=aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)),
            server=server,
        )
        running.append(chat)
        return chat

    yield start

    for chat in running:
        await chat.session.close()
        await chat.server.before_stop()  # ends open event streams
        for connection in list(chat.server.connections):
            connection.close_if_idle()
        await chat.server.close()
        await chat.server.after_stop()
    await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- helpers


async def read_events(
    response: aiohttp.ClientResponse, count: int, timeout: float = 5.0
) -> List[Dict[str, Any]]:
    """Reads ``count`` SSE events that carry data, skipping comments and retry blocks."""
    events: List[Dict[str, Any]] = []
    current: Dict[str, Any] = {}
    while len(events) < count:
        raw = await asyncio.wait_for(response.content.readline(), timeout)
        if not raw:
            raise AssertionError(f"stream ended after {len(events)} events")
        line = raw.decode("utf-8").rstrip("\n")
        if line == "":
            if "data" in current:
                events.append({"id": int(current["id"]), "data": json.loads(current["data"])})
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value[1:] if value.startswith(" ") else value
    return events


async def read_comment(response: aiohttp.ClientResponse, text: str, timeout: float = 5.0) -> None:
    """Reads lines until the SSE comment ``: text`` arrives."""
    while True:
        raw = await asyncio.wait_for(response.content.readline(), timeout)
        if not raw:
            raise AssertionError(f"stream ended before ': {text}'")
        if raw.decode().rstrip("\n") == f": {text}":
            return


async def open_stream(chat: ChatServer, **headers: str) -> aiohttp.ClientResponse:
    return await open_stream_url(chat, chat.url(f"/events?sender={SENDER}"), **headers)


async def open_stream_url(chat: ChatServer, url: str, **headers: str) -> aiohttp.ClientResponse:
    response = await chat.session.get(url, headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    await read_comment(response, "connected")
    return response


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def texts(body: Dict[str, Any]) -> List[Optional[str]]:
    return [message.get("text") for message in body["messages"]]


# ---------------------------------------------------------------------- channel basics


def test_name_and_credentials() -> None:
    assert WebChatInput.name() == "webchat"
    assert WebChatOutput.name() == "webchat"
    default = WebChatInput.from_credentials(None)
    assert isinstance(default, WebChatInput)
    assert default.hub.buffer_size == 200
    assert default.heartbeat_seconds == 15
    assert default.max_message_length == 2000
    custom = WebChatInput.from_credentials(
        {"buffer_size": 20, "heartbeat_seconds": "5", "max_message_length": 500}
    )
    assert (custom.hub.buffer_size, custom.heartbeat_seconds, custom.max_message_length) == (
        20,
        5.0,
        500,
    )
    with pytest.raises(ValueError, match="buffer_size"):
        WebChatInput.from_credentials({"buffer_size": 0})
    with pytest.raises(ValueError, match="heartbeat_seconds"):
        WebChatInput.from_credentials({"heartbeat_seconds": "often"})


def test_output_channel_shares_the_hub() -> None:
    channel = WebChatInput()
    output = channel.get_output_channel()
    assert isinstance(output, WebChatOutput)
    assert output.hub is channel.hub


@pytest.mark.parametrize(
    "sender, valid",
    [
        (SENDER, True),
        ("a" * 8, True),
        ("A" * 64, True),
        ("a" * 7, False),
        ("a" * 65, False),
        ("abcdefgh\n", False),
        ("../../etc", False),
        ("abc defgh", False),
        (12345678, False),
        (None, False),
    ],
)
def test_sender_pattern(sender: Any, valid: bool) -> None:
    assert is_valid_sender(sender) is valid


def test_rasa_routes_trigger_intent_output_to_the_hub() -> None:
    """`trigger_intent?output_channel=webchat` picks our output channel in Rasa's server."""
    from rasa.server import _get_output_channel

    channel = WebChatInput()
    request = SimpleNamespace(
        args={"output_channel": "webchat"},
        app=SimpleNamespace(ctx=SimpleNamespace(input_channels=[channel])),
    )
    output = _get_output_channel(request, None)  # type: ignore[arg-type]
    assert isinstance(output, WebChatOutput)
    assert output.hub is channel.hub


# ---------------------------------------------------------------------- page and static files


async def test_page_is_served(start_server: StartServer) -> None:
    chat = await start_server()
    async with chat.session.get(chat.url("/")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    for element_id in ("log", "text", "send", "human", "again"):
        assert f'id="{element_id}"' in page
    assert 'aria-live="polite"' in page
    assert '<html lang="en">' in page
    assert "static/webchat.js" in page and "static/webchat.css" in page

    async with chat.session.get(chat.url(""), allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["Location"] == "/webhooks/webchat/"
    async with chat.session.get(chat.url(f"?sender={SENDER}"), allow_redirects=False) as response:
        assert response.headers["Location"] == f"/webhooks/webchat/?sender={SENDER}"


@pytest.mark.parametrize(
    "name, content_type",
    [("webchat.js", "text/javascript"), ("webchat.css", "text/css")],
)
async def test_static_files_are_served(
    start_server: StartServer, name: str, content_type: str
) -> None:
    chat = await start_server()
    async with chat.session.get(chat.url(f"/static/{name}")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(content_type)
        assert "max-age=" in response.headers["Cache-Control"]
        assert await response.read() == (STATIC_DIR / name).read_bytes()
        etag = response.headers["ETag"]
    async with chat.session.get(
        chat.url(f"/static/{name}"), headers={"If-None-Match": etag}
    ) as response:
        assert response.status == 304


@pytest.mark.parametrize(
    "raw_path",
    [
        "/static/..%2fwebchat.py",
        "/static/%2e%2e%2fwebchat.py",
        "/static/..%2F..%2Fchannels%2Fwebchat.py",
        "/static/..%5cwebchat.py",
        "/static/%2e%2e%2f%2e%2e%2f__init__.py",
        "/static/%2fetc%2fpasswd",
        "/static/.hidden",
        "/static/missing.js",
        "/static/webchat.py",
    ],
)
async def test_static_path_traversal_is_refused(start_server: StartServer, raw_path: str) -> None:
    chat = await start_server()
    url = URL(chat.url(raw_path), encoded=True)
    async with chat.session.get(url) as response:
        assert response.status == 404
        body = await response.text()
    assert "WebChatInput" not in body and "root:" not in body


def test_page_files_are_self_contained() -> None:
    """No CDN, no web fonts, no innerHTML: everything the page needs is local."""
    html = (STATIC_DIR / "index.html").read_text()
    script = (STATIC_DIR / "webchat.js").read_text()
    style = (STATIC_DIR / "webchat.css").read_text()
    for text in (html, script, style):
        assert "http://" not in text and "https://" not in text
    for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "@import" not in style and "url(" not in style
    assert "crypto.getRandomValues" in script and "EventSource" in script


# ---------------------------------------------------------------------- POST /message


async def test_post_returns_replies_with_buttons(start_server: StartServer) -> None:
    chat = await start_server()
    response = await chat.post({"sender": SENDER, "message": "I'd like lunch"})
    assert response.status == 200
    body = await response.json()
    assert body == {
        "messages": [
            {"text": "You said: I'd like lunch"},
            {"text": "When would you like it?", "buttons": CHOICES},
        ]
    }
    [message] = chat.agent.received
    assert (message.text, message.sender_id, message.input_channel) == (
        "I'd like lunch",
        SENDER,
        "webchat",
    )
    assert message.output_channel.name() == "webchat"
    # Direct replies come back in the response only, never through the event stream.
    assert chat.channel.hub.history(SENDER) == []


@pytest.mark.parametrize("typed, sent", [("/mydata", "/my_data"), (" /Forget ", "/forget_me"), ("/nonsense", "/nonsense"),
                                          ("/mydata please", "/mydata please")])
async def test_typed_commands_become_their_intents(start_server: StartServer, typed: str, sent: str) -> None:
    chat = await start_server()
    response = await chat.post({"sender": SENDER, "message": typed})
    assert response.status == 200
    [message] = chat.agent.received
    assert message.text == sent


async def test_button_click_sends_its_payload(start_server: StartServer) -> None:
    chat = await start_server()
    response = await chat.post(
        {"sender": SENDER, "payload": CHOICES[0]["payload"], "title": CHOICES[0]["title"]}
    )
    assert response.status == 200
    assert texts(await response.json()) == ["You chose well."]
    [message] = chat.agent.received
    assert message.text == CHOICES[0]["payload"]
    assert message.metadata == {"button_title": "Tomorrow at noon"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"{not json", "JSON"),
        (b"", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b'["a list"]', "JSON object"),
        (json.dumps({"message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": "short", "message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": "../../etc/passwd", "message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": "abcdefgh\n", "message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": "x" * 65, "message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": 1234567890, "message": "hello"}).encode(), "sender"),
        (json.dumps({"sender": SENDER, "message": ["hello"]}).encode(), "message"),
        (json.dumps({"sender": SENDER, "payload": ""}).encode(), "payload"),
    ],
)
async def test_bad_requests_get_400_with_a_message(
    start_server: StartServer, raw: bytes, expected: str
) -> None:
    chat = await start_server()
    response = await chat.post(None, raw=raw)
    assert response.status == 400
    assert response.headers["Content-Type"].startswith("application/json")
    error = (await response.json())["error"]
    assert expected in error
    assert chat.agent.received == []


@pytest.mark.parametrize(
    "body",
    [
        {"sender": SENDER, "message": ""},
        {"sender": SENDER, "message": "   \n\t "},
        {"sender": SENDER},
        {"sender": SENDER, "message": None},
    ],
)
async def test_empty_message_gets_a_kind_reply_without_rasa(
    start_server: StartServer, body: Dict[str, Any]
) -> None:
    chat = await start_server()
    response = await chat.post(body)
    assert response.status == 200
    assert await response.json() == {"messages": [{"text": EMPTY_MESSAGE_REPLY}]}
    assert chat.agent.received == []


async def test_long_message_is_truncated(start_server: StartServer) -> None:
    chat = await start_server()
    response = await chat.post({"sender": SENDER, "message": "a" * 5000})
    assert response.status == 200
    replies = texts(await response.json())
    [message] = chat.agent.received
    assert message.text == "a" * 2000
    assert replies[0] == TRUNCATED_NOTE
    assert replies[1] == f"You said: {'a' * 2000}"


async def test_message_of_exactly_the_limit_is_not_truncated(start_server: StartServer) -> None:
    chat = await start_server()
    response = await chat.post({"sender": SENDER, "message": "b" * 2000})
    assert TRUNCATED_NOTE not in texts(await response.json())
    assert chat.agent.received[0].text == "b" * 2000


async def test_handler_error_gets_a_kind_reply(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await start_server(agent=FakeAgent(fail=True))
    with caplog.at_level(logging.ERROR, logger="assistant.channels.webchat"):
        response = await chat.post({"sender": SENDER, "message": "hello"})
    assert response.status == 200
    assert await response.json() == {"messages": [{"text": ERROR_REPLY}]}
    [record] = [r for r in caplog.records if r.name == "assistant.channels.webchat"]
    assert SENDER in record.getMessage()
    assert record.exc_info is not None and "fell over" in str(record.exc_info[1])


# ---------------------------------------------------------------------- events (SSE)


async def test_output_channel_reaches_a_connected_page(start_server: StartServer) -> None:
    chat = await start_server()
    output = chat.channel.get_output_channel()
    stream = await open_stream(chat)
    assert stream.headers["Cache-Control"].startswith("no-cache")

    await output.send_text_with_buttons(
        SENDER, "Time for your tablets.", [{"title": "Done", "payload": "/reminder_done"}]
    )
    await output.send_text_message(SENDER, "First part.\n\nSecond part.")
    await output.send_image_url(SENDER, "/static/pill.png")
    await output.send_custom_json(SENDER, {"text": "Custom", "kind": "card"})
    events = await read_events(stream, 5)
    stream.close()

    ids = [event["id"] for event in events]
    assert ids == sorted(ids) and len(set(ids)) == 5
    data = [event["data"] for event in events]
    assert {k: v for k, v in data[0].items() if k != "timestamp"} == {
        "text": "Time for your tablets.",
        "buttons": [{"title": "Done", "payload": "/reminder_done"}],
    }
    assert [d.get("text") for d in data[1:3]] == ["First part.", "Second part."]
    assert data[3]["image"] == "/static/pill.png"
    assert data[4]["custom"] == {"text": "Custom", "kind": "card"}
    assert all("timestamp" in d for d in data)


async def test_messages_wait_for_a_page_that_connects_later(start_server: StartServer) -> None:
    chat = await start_server()
    output = chat.channel.get_output_channel()
    for text in ("one", "two", "three"):
        await output.send_text_message(SENDER, text)

    stream = await open_stream(chat)
    events = await read_events(stream, 3)
    stream.close()
    assert [e["data"]["text"] for e in events] == ["one", "two", "three"]
    first, second, _ = (e["id"] for e in events)

    # EventSource sends Last-Event-ID when it reconnects: only the missed messages.
    stream = await open_stream(chat, **{"Last-Event-ID": str(first)})
    assert [e["data"]["text"] for e in await read_events(stream, 2)] == ["two", "three"]
    stream.close()

    # The page passes the id it stored as a query parameter on a fresh load.
    stream = await open_stream_url(
        chat, chat.url(f"/events?sender={SENDER}&last_event_id={second}")
    )
    await output.send_text_message(SENDER, "four")
    assert [e["data"]["text"] for e in await read_events(stream, 2)] == ["three", "four"]
    stream.close()
    await wait_until(lambda: chat.channel.hub.subscriber_count(SENDER) == 0)


async def test_every_open_tab_receives(start_server: StartServer) -> None:
    chat = await start_server()
    first_tab = await open_stream(chat)
    second_tab = await open_stream(chat)
    other_sender = await open_stream_url(chat, chat.url("/events?sender=someone-else-01"))
    await chat.channel.get_output_channel().send_text_message(SENDER, "Your cleaner is on the way.")
    [a] = await read_events(first_tab, 1)
    [b] = await read_events(second_tab, 1)
    assert a == b and a["data"]["text"] == "Your cleaner is on the way."
    with pytest.raises(asyncio.TimeoutError):
        await read_events(other_sender, 1, timeout=0.3)
    for stream in (first_tab, second_tab, other_sender):
        stream.close()


async def test_streams_end_when_the_server_stops(start_server: StartServer) -> None:
    chat = await start_server()
    stream = await open_stream(chat)
    await chat.server.before_stop()  # what Sanic runs on Ctrl-C before closing connections
    rest = await asyncio.wait_for(stream.content.read(), 5)  # returns once the stream ends
    assert rest.strip() == b"" and stream.content.at_eof()
    await wait_until(lambda: chat.channel.hub.subscriber_count(SENDER) == 0)


async def test_stream_sends_heartbeats(start_server: StartServer) -> None:
    chat = await start_server(heartbeat_seconds=0.1)
    stream = await open_stream(chat)
    await read_comment(stream, "heartbeat", timeout=2)
    stream.close()


@pytest.mark.parametrize("query", ["", "?sender=short", "?sender=..%2F..%2Fetc"])
async def test_stream_needs_a_valid_sender(start_server: StartServer, query: str) -> None:
    chat = await start_server()
    async with chat.session.get(URL(chat.url(f"/events{query}"), encoded=True)) as response:
        assert response.status == 400
        assert "sender" in (await response.json())["error"]


# ---------------------------------------------------------------------- the hub


def test_hub_keeps_the_last_messages_per_sender() -> None:
    hub = MessageHub(buffer_size=200)
    events = [hub.publish(SENDER, {"text": str(i)}) for i in range(250)]
    kept = hub.history(SENDER)
    assert len(kept) == 200
    assert [e.message["text"] for e in kept] == [str(i) for i in range(50, 250)]
    assert all(a.id < b.id for a, b in zip(kept, kept[1:]))
    assert hub.history(SENDER, after_id=events[-2].id) == [events[-1]]
    # An id from a previous run that is newer than anything issued replays everything.
    assert len(hub.history(SENDER, after_id=events[-1].id + 10**9)) == 200
    assert hub.history("nobody-yet-1") == []


def test_hub_refuses_invalid_recipients_and_forgets_idle_senders() -> None:
    hub = MessageHub(buffer_size=5, max_senders=3)
    assert hub.publish("../bad", {"text": "x"}) is None
    for n in range(5):
        hub.publish(f"sender-{n:04d}", {"text": "hi"})
    assert hub.history("sender-0000") == [] and hub.history("sender-0001") == []
    assert len(hub.history("sender-0004")) == 1


async def test_hub_closes_a_subscriber_that_falls_behind() -> None:
    hub = MessageHub(buffer_size=3)
    backlog, subscription = hub.subscribe(SENDER)
    assert backlog == []
    for n in range(5):
        hub.publish(SENDER, {"text": str(n)})
    assert subscription.closed
    assert await subscription.next_event(1) is None  # the page reconnects and replays
    hub.unsubscribe(subscription)
    assert hub.subscriber_count(SENDER) == 0


# ---------------------------------------------------------------------- the page in a browser


async def test_chat_page_in_a_browser(start_server: StartServer) -> None:
    require_chromium()
    from playwright.async_api import async_playwright, expect

    chat = await start_server(agent=TrickyAgent())
    outside_requests: List[str] = []
    page_errors: List[str] = []

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=BROWSER_ARGS,
        )
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1300})
            page.set_default_timeout(10_000)
            page.on(
                "request",
                lambda request: None
                if request.url.startswith(chat.base_url)
                else outside_requests.append(request.url),
            )
            page.on("pageerror", lambda error: page_errors.append(str(error)))

            await page.goto(chat.url(f"/?sender={SENDER}"))
            log = page.locator("#log")
            await expect(log.locator(".msg.bot.welcome")).to_have_text(
                "Hello! Type a message, for example: “I'd like lunch delivered tomorrow”."
            )
            await expect(page.locator("#text")).to_be_focused()
            await wait_until(lambda: chat.channel.hub.subscriber_count(SENDER) == 1)

            # Large text and big buttons.
            font_size = await page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('#text')).fontSize)"
            )
            assert font_size >= 20
            for selector in ("#send", "#human", "#again"):
                box = await page.locator(selector).bounding_box()
                assert box is not None and box["height"] >= 48

            # Type, send, see the reply as literal text.
            await page.fill("#text", "I'd like lunch delivered tomorrow")
            await page.click("#send")
            await expect(log.locator(".msg.user")).to_have_text(
                ["I'd like lunch delivered tomorrow"]
            )
            reply = log.locator(".msg.bot:not(.welcome)").first
            await expect(reply.locator(".text")).to_have_text(TRICKY_TEXT)
            assert await log.locator("b, script").count() == 0
            assert await page.evaluate("window.__xss === undefined")
            await expect(page.locator("#text")).to_have_value("")
            await expect(page.locator("#text")).to_be_focused()
            assert chat.agent.received[-1].text == "I'd like lunch delivered tomorrow"
            assert chat.agent.received[-1].input_channel == "webchat"
            assert chat.agent.received[-1].sender_id == SENDER

            # Click a button: its title becomes the user's message, its payload goes to Rasa.
            await reply.locator(".choices button", has_text="Tomorrow at noon").click()
            await expect(log.locator(".msg.user").last).to_have_text("Tomorrow at noon")
            await expect(log.locator(".msg.bot").last).to_have_text("Lunch is booked for tomorrow.")
            assert chat.agent.received[-1].text == CHOICES[0]["payload"]
            for button in await reply.locator(".choices button").all():
                await expect(button).to_be_disabled()

            # "Say that again" shows the last bot message again.
            await page.click("#again")
            await expect(log.locator(".msg.bot.repeat")).to_have_text(
                "Lunch is booked for tomorrow."
            )

            # "Talk to a person" sends the fixed sentence.
            await page.click("#human")
            await expect(log.locator(".msg.user").last).to_have_text("I want to talk to a person")
            await wait_until(lambda: chat.agent.received[-1].text == "I want to talk to a person")

            # A proactive message arrives without reloading the page.
            await chat.channel.get_output_channel().send_text_with_buttons(
                SENDER,
                "Reminder: time for your blood pressure tablet.",
                [{"title": "Done", "payload": "/reminder_done"}],
            )
            proactive = log.locator(".msg.bot.proactive")
            await expect(proactive).to_have_count(1)
            await expect(proactive.locator(".text")).to_have_text(
                "Reminder: time for your blood pressure tablet."
            )
            await expect(proactive.locator(".choices button")).to_have_text(["Done"])
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.mouse.move(0, 0)
            await page.screenshot(path=str(ARTIFACTS / "webchat.png"))

            # The assistant cannot be reached: a kind message and a way to retry.
            await page.route("**/message", lambda route: route.abort())
            await page.fill("#text", "Are you there?")
            await page.press("#text", "Enter")
            error = log.locator(".msg.error")
            await expect(error).to_contain_text(
                "I couldn't reach the assistant. Please check it is running and try again."
            )
            await page.unroute("**/message")
            count_before = len(chat.agent.received)
            await error.locator("button", has_text="Try again").click()
            await wait_until(lambda: len(chat.agent.received) == count_before + 1)
            assert chat.agent.received[-1].text == "Are you there?"
            await expect(log.locator(".msg.bot").last.locator(".text")).to_have_text(TRICKY_TEXT)

            # Read aloud toggles where speech synthesis exists.
            if await page.evaluate("'speechSynthesis' in window"):
                speak = page.locator("#speak")
                await expect(speak).to_be_visible()
                await expect(speak).to_have_text("🔊 Read aloud: Off")
                await speak.click()
                await expect(speak).to_have_attribute("aria-pressed", "true")
                await expect(speak).to_have_text("🔊 Read aloud: On")

            # A reload with the same sender does not replay what the page already showed.
            await page.reload()
            await expect(log.locator(".msg.bot.welcome")).to_be_visible()
            await wait_until(lambda: chat.channel.hub.subscriber_count(SENDER) >= 1)
            await page.wait_for_timeout(300)
            await expect(log.locator(".msg.bot.proactive")).to_have_count(0)
        finally:
            await browser.close()

    assert outside_requests == []
    assert page_errors == []

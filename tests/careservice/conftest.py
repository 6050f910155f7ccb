"""Fixtures for the care service: a database, a fixed clock and a fake Rasa HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from assistant.care import CareServices
from assistant.care.core.db import Database
from tests.care.helpers import MONDAY_9AM, FakeClock, register


@dataclass
class Call:
    """One request the fake Rasa server received."""

    conversation_id: str
    query: dict[str, list[str]]
    body: Any
    """A trigger_intent body, or the list of appended events."""


@dataclass
class FakeRasa:
    """Records ``trigger_intent`` and ``tracker/events`` calls and answers with ``status`` (settable by the test).

    A call answered with 200 also lands in the conversation's tracker (an appended reminder
    as its events, shown by :meth:`intents` and :meth:`delivered` as ``action_deliver_reminder``), which
    ``GET /conversations/{id}/tracker`` returns (always with 200) like Rasa does, even when
    the answer came too late for the client (``delay``). ``in_flight``/``max_in_flight`` count the
    requests being handled at once.
    """

    url: str = ""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    """Answers for the next trigger_intent calls, used up first (then ``status``)."""
    delay: float = 0.0
    held: Optional[threading.Event] = None
    """While set to an event, answers wait for it: Rasa runs the call but cannot answer in time."""
    calls: list[Call] = field(default_factory=list)
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tracker_reads: int = 0
    batches: int = 0
    """Batches of reminders received (``POST /webhooks/care/reminders``)."""
    batch_bodies: list[dict[str, Any]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    """Paths answered 404 (e.g. a Rasa without the care channel)."""
    unreachable: set[str] = field(default_factory=set)
    """Conversations whose reminders the channel reports as not delivered (the user blocked the bot)."""
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def intents(self) -> list[tuple[str, str]]:
        """Return ``(conversation_id, intent)`` of every call so far (``action_deliver_reminder`` for a reminder)."""
        with self.lock:
            return [(c.conversation_id, _call_name(c.body)) for c in self.calls]

    def delivered(self, conversation_id: str) -> list[str]:
        """The intents (and appended reminders) that reached this conversation's tracker."""
        with self.lock:
            return [e["parse_data"]["intent"]["name"] if e["event"] == "user" else e["name"]
                    for e in self.trackers.get(conversation_id, [])
                    if e["event"] == "user" or (e["event"] == "action" and e["name"] != "action_listen")]

    def reminders(self, conversation_id: str) -> list[dict[str, Any]]:
        """The reminder messages (bot events) appended to this conversation's tracker."""
        with self.lock:
            return [e for e in self.trackers.get(conversation_id, []) if e["event"] == "bot"]


def _call_name(body: Any) -> str:
    """The intent of a trigger_intent body, or the action of appended events."""
    if isinstance(body, list):
        return next(e["name"] for e in body if e.get("event") == "action")
    return body["name"]


def _user_event(body: dict[str, Any]) -> dict[str, Any]:
    """The ``user`` event Rasa stores for a triggered intent."""
    entities = [{"entity": k, "value": v} for k, v in (body.get("entities") or {}).items()]
    return {"event": "user", "text": f"EXTERNAL: {body['name']}",
            "parse_data": {"intent": {"name": body["name"], "confidence": 1.0}, "entities": entities}}


def _handler(fake: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            segments = parts.path.split("/")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            answer: dict[str, Any] = {"tracker": {}, "messages": []}
            if parts.path in fake.missing:
                self._answer(404, {"status": "failure", "reason": "NotFound"})
                return
            with fake.lock:
                status = fake.statuses.pop(0) if fake.statuses else fake.status
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                if len(segments) == 4 and segments[1] == "conversations" and segments[3] == "trigger_intent":
                    conversation_id = unquote(segments[2])
                    fake.calls.append(Call(conversation_id, parse_qs(parts.query), body))
                    if status == 200:
                        fake.trackers.setdefault(conversation_id, []).append(_user_event(body))
                elif segments[1:2] == ["conversations"] and segments[3:] == ["tracker", "events"]:
                    conversation_id = unquote(segments[2])
                    fake.calls.append(Call(conversation_id, parse_qs(parts.query), body))
                    if status == 200:
                        fake.trackers.setdefault(conversation_id, []).extend(body)
                elif parts.path == "/webhooks/care/reminders":
                    fake.batches += 1
                    fake.batch_bodies.append(body)
                    for reminder in body["reminders"]:
                        conversation_id = reminder["conversation_id"]
                        fake.calls.append(Call(conversation_id, parse_qs(parts.query), reminder["events"]))
                        if status == 200 and conversation_id not in fake.unreachable:
                            fake.trackers.setdefault(conversation_id, []).extend(reminder["events"])
                    answer = {"results": [
                        {"conversation_id": r["conversation_id"], "ok": r["conversation_id"] not in fake.unreachable,
                         "error": "Forbidden: bot was blocked by the user"
                         if r["conversation_id"] in fake.unreachable else None}
                        for r in body["reminders"]]}
                held, delay = fake.held, fake.delay
            try:
                if held is not None:
                    held.wait(30)
                if delay:
                    threading.Event().wait(delay)
                self._answer(status, answer)
            finally:
                with fake.lock:
                    fake.in_flight -= 1

        def do_GET(self) -> None:  # noqa: N802
            segments = urlsplit(self.path).path.split("/")
            if len(segments) == 4 and segments[1] == "conversations" and segments[3] == "tracker":
                conversation_id = unquote(segments[2])
                with fake.lock:
                    fake.tracker_reads += 1
                    events = list(fake.trackers.get(conversation_id, []))
                self._answer(200, {"sender_id": conversation_id, "events": events})
            else:
                self._answer(404, {})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet."""

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many workers may connect at once


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    """A fake Rasa server on 127.0.0.1 recording trigger_intent calls."""
    fake = FakeRasa()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_rasa_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database file with every table."""
    database = Database(f"sqlite:///{tmp_path / 'care.db'}", durable=False)
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """A clock fixed at Monday 1 December 2025, 09:00 UTC."""
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def care(db: Database, clock: FakeClock) -> CareServices:
    """All care services on the fresh database with a registered senior ``conv-edith``."""
    services = CareServices(db, clock=clock, timezone="Europe/London")
    register(services, "conv-edith")
    return services

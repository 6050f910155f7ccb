"""Fixtures for the care service: a database, a fixed clock and a fake Rasa HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from assistant.care import CareServices
from assistant.care.db import Database
from tests.care.helpers import MONDAY_9AM, FakeClock, register


@dataclass
class Call:
    """One request the fake Rasa server received."""

    conversation_id: str
    query: dict[str, list[str]]
    body: dict[str, Any]


@dataclass
class FakeRasa:
    """Records ``trigger_intent`` calls and answers with ``status`` (settable by the test)."""

    url: str = ""
    status: int = 200
    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def intents(self) -> list[tuple[str, str]]:
        """Return ``(conversation_id, intent)`` of every call so far."""
        with self.lock:
            return [(c.conversation_id, c.body["name"]) for c in self.calls]


def _handler(fake: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            segments = parts.path.split("/")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if len(segments) == 4 and segments[1] == "conversations" and segments[3] == "trigger_intent":
                with fake.lock:
                    fake.calls.append(Call(unquote(segments[2]), parse_qs(parts.query), body))
            if fake.delay:
                threading.Event().wait(fake.delay)
            payload = json.dumps({"tracker": {}, "messages": []}).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet."""

    return Handler


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    """A fake Rasa server on 127.0.0.1 recording trigger_intent calls."""
    fake = FakeRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
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

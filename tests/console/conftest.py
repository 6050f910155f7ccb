"""Fixtures for the console: a migrated SQLite file, one account and a live server per module."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest
import requests
from argon2 import PasswordHasher

from assistant.care import CareServices
from assistant.care.coordinators.coordinators import CoordinatorService
from assistant.care.core.db import Database
from assistant.console.app import ConsoleDeps, create_app
from assistant.console.security import Signer
from assistant.console.ratelimit import FailedLogins
from assistant.console.server import BackgroundServer
from assistant.console.transcript import TranscriptSource

PASSWORD = "correct horse battery"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Still argon2id, but cheap enough for tests."""


@dataclass
class Console:
    """A running console and the services behind it."""

    url: str
    care: CareServices
    coordinators: CoordinatorService

    def client(self) -> "Client":
        """A new browser-like client without a session."""
        return Client(self.url)

    def logged_in(self, username: str = "alice") -> "Client":
        """A client logged in as ``username`` (password :data:`PASSWORD`)."""
        client = self.client()
        response = client.login(username, PASSWORD)
        assert response.status_code == 303, response.text
        return client


class Client:
    """A requests session that keeps cookies and never follows redirects."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, allow_redirects=False, timeout=10, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.http.post(self.url + path, data=data, allow_redirects=False, timeout=10, **kwargs)

    def csrf(self, path: str = "/") -> str:
        """The CSRF token of the form on ``path``."""
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    def login(self, username: str, password: str) -> requests.Response:
        token = self.csrf("/login")
        return self.post("/login", {"username": username, "password": password, "csrf": token, "next": "/"})


def start_console(
    tmp: Path, name: str, transcripts: Optional[TranscriptSource] = None,
    failed_logins: Optional[FailedLogins] = None,
) -> tuple[BackgroundServer, Console, Database]:
    """Build a database with two accounts and serve a console on a free port."""
    db = Database(f"sqlite:///{tmp / 'console.db'}", durable=False)
    db.upgrade()
    care = CareServices(db, timezone="Europe/London")
    coordinators = CoordinatorService(db, hasher=FAST_HASHER)
    coordinators.create("alice", "Alice Smith", PASSWORD)
    coordinators.create("bob", "Bob <b>Jones</b>", PASSWORD)
    deps = ConsoleDeps(
        care.escalations, coordinators, Signer(b"test-secret-" * 3), timezone="Europe/London", care=care,
        transcripts=transcripts, failed_logins=failed_logins,
    )
    server = BackgroundServer(create_app(deps, name=f"{name}_{uuid.uuid4().hex[:8]}")).start()
    return server, Console(server.url, care, coordinators), db


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A console served on 127.0.0.1 for the whole module."""
    server, running, db = start_console(tmp_path_factory.mktemp("console"), "console_http")
    yield running
    server.stop()
    db.dispose()

"""The real stack (Rasa server + action server) on a fresh SQLite, started once for the e2e tests."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import pytest

from assistant.care.db import Database
from assistant.care.seed import load_demo_data
from assistant.settings import load_settings
from assistant.stack import Stack, free_port
from assistant.training import model_path


@dataclass
class RunningStack:
    """Helpers to talk to the running stack as a user would."""

    stack: Stack
    database_url: str

    @property
    def rasa_url(self) -> str:
        return self.stack.rasa_url

    def post(self, path: str, payload: dict[str, Any], timeout: float = 60) -> Any:
        request = urllib.request.Request(
            self.rasa_url + path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode())

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One REST turn; returns the bot's messages."""
        return self.post("/webhooks/rest/webhook", {"sender": sender, "message": text})

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.rasa_url + path, timeout=30) as response:
            return json.loads(response.read().decode())

    def bot_texts(self, sender: str) -> list[str]:
        """Everything the assistant has said in a conversation, from Rasa's tracker."""
        tracker = self.get_json(f"/conversations/{sender}/tracker")
        return [e.get("text") or "" for e in tracker.get("events", []) if e.get("event") == "bot"]

    def wait_for_bot_text(self, sender: str, needle: str, timeout: float = 30.0, times: int = 1) -> str:
        """Wait until the assistant has said something containing ``needle`` ``times`` times there."""
        deadline = time.monotonic() + timeout
        said: list[str] = []
        while time.monotonic() < deadline:
            said = self.bot_texts(sender)
            found = [t for t in said if needle in t]
            if len(found) >= times:
                return found[-1]
            time.sleep(0.3)
        raise AssertionError(f"{needle!r} was not said to {sender} within {timeout}s; said: {said[-5:]}")


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Start both servers once; stop them at the end of the session."""
    if not model_path().exists():
        pytest.fail("no trained model: `make test` trains it first (or run `assistant train`)")
    state = tmp_path_factory.mktemp("stack")
    url = f"sqlite:///{state / 'care.db'}"
    database = Database(url)
    database.upgrade()
    load_demo_data(database)
    database.dispose()
    settings = replace(
        load_settings(), database_url=url, rasa_port=free_port(), action_port=free_port(), care_tick_seconds=1
    )
    stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
    try:
        stack.start(timeout=420)
    except Exception:
        logs = "\n".join(p.read_text()[-3000:] for p in (state / "logs").glob("*.log"))
        stack.stop()
        pytest.fail(f"the stack did not start:\n{logs}")
    yield RunningStack(stack, url)
    stack.stop()


@pytest.fixture
def sender() -> str:
    """A new conversation id."""
    return "e2e-" + uuid.uuid4().hex[:16]


def texts(messages: list[dict[str, Any]]) -> str:
    """All message texts joined, for assertions."""
    return "\n".join(m.get("text") or "" for m in messages)


def button_payloads(messages: list[dict[str, Any]]) -> list[str]:
    """Every button payload in the messages, in order."""
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def log_tail(stack: RunningStack, name: str) -> str:
    """The end of one server's log, for failure messages."""
    path = Path(stack.stack.log_dir) / f"{name}.log"
    return path.read_text()[-4000:] if path.exists() else ""

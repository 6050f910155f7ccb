"""The real stack (Rasa server + action server) on a fresh SQLite, started once for the e2e tests."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from assistant.stack import Stack, seeded_settings
from assistant.training import model_path
from tests.channels.fake_telegram import TOKEN, FakeTelegramThread

TELEGRAM_SECRET = "e2e-telegram-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COORDINATOR_CHAT = -100777888
"""The coordinators' Telegram group: the care service posts each emergency there."""


@dataclass
class RunningStack:
    """Helpers to talk to the running stack as a user would."""

    stack: Stack
    database_url: str
    telegram: Optional[FakeTelegramThread] = None

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

    def post_update(self, update: dict[str, Any], secret: Optional[str] = TELEGRAM_SECRET) -> int:
        """Posts a Telegram update to the channel's webhook as Telegram does; returns the status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(
            self.rasa_url + "/webhooks/telegram/webhook",
            data=json.dumps(update).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

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
def fake_telegram() -> Iterator[FakeTelegramThread]:
    """A fake Telegram Bot API server on 127.0.0.1 for the whole session."""
    server = FakeTelegramThread(TOKEN).start()
    yield server
    server.stop()


def telegram_environment(fake: FakeTelegramThread, rasa_port: int, state_dir: Path) -> dict[str, str]:
    """What turns on the Telegram channel (webhook mode) against the fake server."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{rasa_port}/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_VOICE_ENGINE": "offline",
        "TELEGRAM_STATE_DIR": str(state_dir),
        "TELEGRAM_COORDINATOR_CHAT_ID": str(COORDINATOR_CHAT),
    }


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory, fake_telegram: FakeTelegramThread) -> Iterator[RunningStack]:
    """Start the servers once, with Telegram against the fake server; stop them at the end."""
    if not model_path().exists():
        pytest.fail("no trained model: `make test` trains it first (or run `assistant train`)")
    state = tmp_path_factory.mktemp("stack")
    settings = seeded_settings(state, care_tick_seconds=1)
    url = settings.database_url
    stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
    # The Stack passes os.environ to its children: set Telegram's variables for the start only.
    telegram = telegram_environment(fake_telegram, settings.rasa_port, state / "telegram")
    saved = {name: os.environ.get(name) for name in telegram}
    os.environ.update(telegram)
    try:
        stack.start(timeout=420)
    except Exception:
        logs = "\n".join(p.read_text()[-3000:] for p in (state / "logs").glob("*.log"))
        stack.stop()
        pytest.fail(f"the stack did not start:\n{logs}")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    stack.watch_in_background()  # as `assistant run` does: a crashed process is started again
    yield RunningStack(stack, url, fake_telegram)
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

"""The action server answers only Rasa: without the secret header nothing runs (a real server process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from sqlalchemy import func, select

from assistant.care.core.db import Database
from assistant.care.core.models import Escalation
from assistant.security import ACTION_TOKEN_HEADER
from assistant.stack import free_port

TOKEN = "test-action-token-0123456789abcdef"


def action_call(action: str, sender: str, text: str, intent: str) -> dict[str, Any]:
    """The body Rasa posts to the action server's /webhook for one action."""
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [],
                               "message_id": "m-" + sender},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_event_time": time.time(),
        },
    }


def post(url: str, body: dict[str, Any], token: Optional[str]) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[ACTION_TOKEN_HEADER] = token
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database]]:
    state = tmp_path_factory.mktemp("actions")
    db = Database(f"sqlite:///{state / 'care.db'}")
    db.upgrade()
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATABASE_URL": db.url, "ASSISTANT_ACTION_TOKEN": TOKEN,
           "ASSISTANT_LISTEN_ADDRESS": "127.0.0.1"}
    log = open(state / "actions.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "assistant.action_server", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/health", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the action server did not start:\n" + (state / "actions.log").read_text()[-3000:])
            time.sleep(0.3)
    yield base, db
    process.terminate()
    process.wait(timeout=20)
    log.close()
    db.dispose()


def escalations(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Escalation)) or 0)


def test_without_the_secret_the_action_server_answers_401_and_runs_nothing(action_server: tuple[str, Database]) -> None:
    base, db = action_server
    body = action_call("action_emergency", "intruder-0001", "I've fallen", "emergency")

    for token in (None, "", "wrong-token", TOKEN[:-1]):
        status, answer = post(base + "/webhook", body, token)
        assert status == 401, (token, answer)
        assert "only answers" in answer["error"]
    assert escalations(db) == 0, "a refused request must not run the action"
    status, _ = post(base + "/actions", {}, None)
    assert status in (401, 405)


def test_with_the_secret_the_action_runs_as_before(action_server: tuple[str, Database]) -> None:
    base, db = action_server
    status, answer = post(base + "/webhook", action_call("action_emergency", "senior-0001", "I've fallen", "emergency"), TOKEN)

    assert status == 200, answer
    assert [r["response"] for r in answer["responses"]] == ["utter_emergency"]
    assert escalations(db) == 1


def test_an_exposed_action_server_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_ACTION_TOKEN": "", "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.action_server", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "beyond this machine, without a secret" in result.stderr


def test_rasa_refuses_an_exposed_http_api_without_a_token() -> None:
    from assistant.rasa_server import exposure_refusal

    assert exposure_refusal(["run", "--enable-api", "--interface", "127.0.0.1"]) is None
    assert exposure_refusal(["run", "--enable-api", "--interface", "0.0.0.0", "--auth-token", "s3cret"]) is None
    assert "without a token" in (exposure_refusal(["run", "--enable-api", "--interface", "0.0.0.0"]) or "")
    assert "without a token" in (exposure_refusal(["run", "--enable-api"]) or ""), "Rasa's default is every interface"
    assert exposure_refusal(["train"]) is None

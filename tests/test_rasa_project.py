"""The Rasa project itself: the data validates and the conversation stories are predicted exactly."""

from __future__ import annotations

import os
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from assistant.care.core.db import Database
from assistant.care.registry.seed import load_demo_data
from assistant.settings import PROJECT_ROOT
from assistant.stack import answers, free_port
from assistant.training import is_stale, model_path

pytestmark = pytest.mark.rasa


def post_json(url: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


PROJECT_FILES = ("config.yml", "credentials.yml", "endpoints.yml", "domain", "domain.yml", "data", "models", "tests")


def project_copy(scratch: Path) -> Path:
    """The project as Rasa sees it (links to its files) in ``scratch``: a ``.state`` made there stays there."""
    folder = scratch / "project"
    folder.mkdir()
    for name in PROJECT_FILES:
        (folder / name).symlink_to(PROJECT_ROOT / name)
    return folder


def plain_environment() -> dict[str, str]:
    """This environment without any of our variables: what a Rasa user's shell has."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "TELEGRAM_"))}


def run_rasa(*args: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    """Run a rasa command as a Rasa user would in the project folder, with none of our variables set."""
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=project_copy(scratch), capture_output=True, text=True,
        timeout=900, env=plain_environment(),
    )


def test_training_data_validates(tmp_path: Path) -> None:
    result = run_rasa("data", "validate", scratch=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "story structure conflicts" in (result.stdout + result.stderr).lower()
    assert "found conflicts" not in (result.stdout + result.stderr).lower()


def test_model_is_trained_on_the_current_data() -> None:
    assert model_path().exists(), "no model: run `make test` (it trains) or `assistant train`"
    assert not is_stale(), "the model is older than its data: run `assistant train`"


def test_conversation_stories_are_predicted_without_errors(tmp_path: Path) -> None:
    result = run_rasa(
        "test", "core", "--stories", "tests/stories", "--model", str(model_path()),
        "--fail-on-prediction-errors", "--out", str(tmp_path / "results"), scratch=tmp_path,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, detail[-4000:] + result.stdout[-2000:] + result.stderr[-2000:]
    assert not list(PROJECT_ROOT.glob("$*")), "a rasa command wrote a file named after an unset variable"


def test_bare_rasa_run_and_rasa_run_actions_work_with_the_local_defaults(tmp_path: Path) -> None:
    """``rasa run actions`` and ``rasa run`` with nothing set: a message is understood and answered."""
    port = free_port()
    folder = project_copy(tmp_path)
    database = Database(f"sqlite:///{tmp_path / 'care.db'}")
    database.upgrade()
    load_demo_data(database)
    database.dispose()
    log = tmp_path / "rasa.log"
    with open(log, "wb") as out:
        # Only where the care data lives is set, so this test leaves the project's own .state alone.
        actions = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "actions", "--actions", "assistant.actions"],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT,
            env={**plain_environment(), "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'care.db'}"},
        )
        rasa = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--port", str(port), "--interface", "127.0.0.1"],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT, env=plain_environment(),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        while not answers("http://127.0.0.1:5055/health"):
            assert actions.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        deadline = time.monotonic() + 300
        while not answers(f"{base}/status", need="model_file"):
            assert rasa.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        parsed = post_json(f"{base}/model/parse", {"text": "hello there"})
        assert parsed["intent"]["name"] == "greet"
        replies = post_json(f"{base}/webhooks/rest/webhook", {"sender": "plain-rasa-1", "message": "I've fallen and can't get up"})
        assert any("112" in (r.get("text") or "") for r in replies), replies
        assert (folder / ".state" / "trackers.db").exists()
    finally:
        for process in (rasa, actions):
            process.terminate()
            process.wait(timeout=30)

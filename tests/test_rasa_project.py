"""The Rasa project itself: the data validates and the conversation stories are predicted exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT
from assistant.training import is_stale, model_path

pytestmark = pytest.mark.rasa


def run_rasa(*args: str, scratch: Path, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    """Run a rasa command; endpoints.yml's tracker store points into ``scratch``, never the project."""
    env = {**os.environ, "ASSISTANT_TRACKER_DB": str(scratch / "trackers.db"), "ASSISTANT_ACTION_PORT": "5055",
           "ASSISTANT_ACTION_TOKEN": "not-used-by-these-commands"}
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env
    )


def test_training_data_validates(tmp_path: Path) -> None:
    result = run_rasa(
        "data", "validate", "--data", "data", "--domain", "domain", "--config", "config.yml", scratch=tmp_path
    )
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

"""Tests for ``python -m assistant.careservice``: refusing a second instance, stopping on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from sqlalchemy import select

from assistant.care.core import lock
from assistant.care.core.clock import utcnow
from assistant.care.core.db import Database
from assistant.care.core.models import ServiceLock
from assistant.careservice.main import build_parser
from assistant.stack import free_port
from assistant.careservice.scheduler import LOCK_NAME
from assistant.cli import build_parser as cli_parser

ROOT = Path(__file__).resolve().parents[2]


def service(db: Database, rasa_url: str, console_port: int = 0) -> subprocess.Popen:
    console = ["--console-port", str(console_port)] if console_port else ["--no-console"]
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.careservice", "--database-url", db.url, "--rasa-url", rasa_url,
         "--tick-seconds", "0.1", "--log-level", "WARNING", *console],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def lock_holder(db: Database) -> str | None:
    with db.reading() as session:
        return session.scalar(select(ServiceLock.holder).where(ServiceLock.name == LOCK_NAME))


def test_a_second_care_service_refuses_to_start(db: Database, dead_rasa_url: str) -> None:
    lock.acquire(db, LOCK_NAME, "the-first-one", utcnow(), timedelta(seconds=90))

    process = service(db, dead_rasa_url)
    _, err = process.communicate(timeout=20)

    assert process.returncode == 2
    assert "already running" in err and "the-first-one" in err
    assert lock_holder(db) == "the-first-one"


def test_sigterm_stops_cleanly_and_releases_the_lock(db: Database, dead_rasa_url: str) -> None:
    process = service(db, dead_rasa_url)
    deadline = time.monotonic() + 15
    while lock_holder(db) is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)

    assert process.returncode == 0, err
    assert "Care service running" in out
    assert lock_holder(db) is None


def test_the_care_service_serves_the_console_and_stops_it_with_itself(db: Database, dead_rasa_url: str) -> None:
    port = free_port()
    process = service(db, dead_rasa_url, console_port=port)
    deadline = time.monotonic() + 30
    page = None
    while page is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the console did not answer"
        try:
            page = requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
        except requests.ConnectionError:
            time.sleep(0.1)
    assert page.status_code == 200 and "Log in" in page.text

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"Coordinators' console: http://127.0.0.1:{port}" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/login", timeout=2)


def test_the_command_line_options() -> None:
    args = build_parser().parse_args(["--database-url", "sqlite:///x.db", "--rasa-url", "http://r:5005"])
    cli = cli_parser().parse_args(["care-service", "--tick-seconds", "5"])

    assert (args.database_url, args.rasa_url) == ("sqlite:///x.db", "http://r:5005")
    assert cli.tick_seconds == 5.0 and cli.func.__name__ == "cmd_care_service"


def test_the_number_of_workers_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CARE_DELIVERY_WORKERS", "4")
    assert build_parser().parse_args([]).workers == 4
    assert build_parser().parse_args(["--workers", "32"]).workers == 32
    monkeypatch.delenv("ASSISTANT_CARE_DELIVERY_WORKERS")
    assert build_parser().parse_args([]).workers == 16

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--workers", "0"])

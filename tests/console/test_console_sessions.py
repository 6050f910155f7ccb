"""Sessions end for real at log-out, and one address cannot keep guessing passwords."""

from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy import select

from assistant.care.core.models import AuditLog
from assistant.console.ratelimit import FailedLogins

from .conftest import PASSWORD, Console, start_console


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    server, running, db = start_console(tmp_path_factory.mktemp("sessions"), "console_sessions",
                                        failed_logins=FailedLogins(max_failures=4))
    yield running
    server.stop()
    db.dispose()


def test_a_copied_session_cookie_stops_working_after_log_out(console: Console) -> None:
    alice = console.logged_in("alice")
    laptop = console.logged_in("alice")
    stolen = dict(alice.http.cookies)
    assert alice.get("/").status_code == 200

    assert alice.post("/logout", {"csrf": alice.csrf("/")}).status_code == 303

    thief = console.client()
    thief.http.cookies.update(stolen)
    assert thief.get("/").status_code == 303, "the old cookie must not open the console"
    assert thief.get("/api/escalations").status_code == 401
    assert laptop.get("/").status_code == 303, "log-out ends every session of the account"
    assert console.logged_in("alice").get("/").status_code == 200, "a new log-in works"
    with console.care.db.reading() as session:
        assert "coordinator.logout" in session.scalars(select(AuditLog.action)).all()


def test_an_address_that_keeps_failing_must_wait_even_with_the_right_password(console: Console) -> None:
    client = console.client()
    for username in ("bob", "carol", "dave", "erin"):
        assert client.login(username, "wrong password").status_code == 401
    refused = client.login("alice", PASSWORD)
    assert refused.status_code == 429 and "wait 15 minutes" in refused.text


def test_the_window_forgets_old_failures() -> None:
    now = [0.0]
    limiter = FailedLogins(max_failures=2, window_seconds=60, clock=lambda: now[0])
    limiter.failed("10.0.0.1")
    limiter.failed("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    now[0] = 61.0
    assert not limiter.blocked("10.0.0.1")

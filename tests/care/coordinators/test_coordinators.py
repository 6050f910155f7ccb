"""Tests for assistant.care.coordinators.coordinators: accounts, argon2id hashing, lock-out, notes, audit."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.coordinators.coordinators import (
    LOCK_MINUTES,
    MAX_FAILED_LOGINS,
    CoordinatorService,
    CoordinatorView,
    LoginFailed,
)
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, NotFound
from assistant.care.core.models import AuditLog, Coordinator

from ..helpers import FakeClock

PASSWORD = "correct horse battery"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def accounts(db: Database, clock: FakeClock) -> CoordinatorService:
    service = CoordinatorService(db, clock, hasher=FAST)
    service.create("Alice", "Alice Smith", PASSWORD)
    return service


def _audit(db: Database) -> list[tuple[str, str, str, dict]]:
    with db.reading() as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        return [(r.actor, r.action, r.entity_id, json.loads(r.detail)) for r in rows]


def test_password_is_stored_as_an_argon2id_hash(db: Database, accounts: CoordinatorService) -> None:
    with db.reading() as session:
        stored = session.scalars(select(Coordinator)).one()
    assert stored.username == "alice"
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert accounts.authenticate("ALICE ", PASSWORD) == CoordinatorView("alice", "Alice Smith", True)


def test_the_default_hasher_is_argon2id(db: Database, clock: FakeClock) -> None:
    service = CoordinatorService(db, clock)
    service.create("carol", "Carol", PASSWORD)
    with db.reading() as session:
        assert session.scalars(select(Coordinator.password_hash)).one().startswith("$argon2id$v=19$m=65536")


@pytest.mark.parametrize(
    ("username", "name", "password", "field"),
    [
        ("bob", "Bob", "short", "password"),
        ("b", "Bob", PASSWORD, "username"),
        ("bob smith", "Bob", PASSWORD, "username"),
        ("alice", "Another Alice", PASSWORD, "username"),
        ("bob", "alice smith", PASSWORD, "display_name"),
        ("bob", "  ", PASSWORD, "display_name"),
    ],
)
def test_create_refuses_bad_accounts(accounts: CoordinatorService, username: str, name: str, password: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.create(username, name, password)
    assert error.value.field == field


def test_wrong_password_and_unknown_user_fail_alike(db: Database, accounts: CoordinatorService) -> None:
    with pytest.raises(LoginFailed) as wrong:
        accounts.authenticate("alice", "not the password")
    with pytest.raises(LoginFailed) as unknown:
        accounts.authenticate("nobody", "not the password")

    assert wrong.value.message == unknown.value.message
    assert wrong.value.kind == "login_failed"
    failed = [(a, e, d["reason"]) for a, action, e, d in _audit(db) if action == "coordinator.login_failed"]
    assert failed == [("console", "alice", "password"), ("console", "-", "unknown")]


def test_five_failures_lock_the_account_for_fifteen_minutes(
    db: Database, accounts: CoordinatorService, clock: FakeClock
) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(LoginFailed):
            accounts.authenticate("alice", "wrong password!")
    with pytest.raises(LoginFailed) as locked:
        accounts.authenticate("alice", PASSWORD)
    clock.advance(minutes=LOCK_MINUTES - 1)
    with pytest.raises(LoginFailed):
        accounts.authenticate("alice", PASSWORD)
    clock.advance(minutes=1, seconds=1)

    assert accounts.authenticate("alice", PASSWORD).username == "alice"
    assert locked.value.message == LoginFailed().message
    actions = [action for _, action, _, _ in _audit(db)]
    assert actions.count("coordinator.locked") == 1
    assert actions[-1] == "coordinator.login"


def test_fewer_failures_are_forgotten_after_a_good_login(accounts: CoordinatorService) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate("alice", "wrong password!")
    accounts.authenticate("alice", PASSWORD)
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate("alice", "wrong password!")

    assert accounts.authenticate("alice", PASSWORD).username == "alice"


def test_an_inactive_account_cannot_log_in_or_be_found(db: Database, accounts: CoordinatorService) -> None:
    with db.reading() as session:
        session.scalars(select(Coordinator)).one().active = False

    with pytest.raises(LoginFailed):
        accounts.authenticate("alice", PASSWORD)
    with pytest.raises(NotFound):
        accounts.get("alice")


def test_notes_are_kept_in_order_and_audited(db: Database, care: CareServices, accounts: CoordinatorService, clock: FakeClock) -> None:
    reference = care.escalations.open("complaint", None, "cold lunch").reference
    accounts.add_note(reference.lower(), "Alice Smith", "Called the kitchen.")
    clock.advance(minutes=5)
    accounts.add_note(reference, "Alice Smith", "<b>Refund</b> agreed.")

    notes = accounts.notes(reference)
    assert [(n.coordinator, n.text) for n in notes] == [
        ("Alice Smith", "Called the kitchen."), ("Alice Smith", "<b>Refund</b> agreed."),
    ]
    assert notes[1].created_at > notes[0].created_at
    entries = [(actor, entity) for actor, action, entity, _ in _audit(db) if action == "escalation.note_added"]
    assert entries == [("coordinator:Alice Smith", reference)] * 2
    with pytest.raises(InvalidInput):
        accounts.add_note(reference, "Alice Smith", "  ")
    with pytest.raises(NotFound):
        accounts.add_note("E-ZZZZZ", "Alice Smith", "hello")
    with pytest.raises(NotFound):
        accounts.notes("E-ZZZZZ")


def test_account_creation_is_audited_without_the_password(db: Database, accounts: CoordinatorService) -> None:
    entries = _audit(db)
    assert entries[0][:3] == ("cli", "coordinator.created", "alice")
    assert all(PASSWORD not in json.dumps(entry) for entry in entries)


def test_list_page_orders_by_priority_then_age_and_counts(care: CareServices, clock: FakeClock) -> None:
    opened = []
    for kind in ("service_request", "complaint", "emergency", "talk_to_human", "emergency"):
        opened.append(care.escalations.open(kind, None, kind).reference)
        clock.advance(minutes=1)
    care.escalations.claim(opened[1], "Alice Smith")
    care.escalations.resolve(opened[3], "Alice Smith", "done")

    everything, total = care.escalations.list_page(0, 50)
    first, _ = care.escalations.list_page(0, 2)
    rest, _ = care.escalations.list_page(2, 2)

    assert [e.reference for e in everything] == [opened[2], opened[4], opened[1], opened[0]]
    assert [e.reference for e in everything] == [e.reference for e in care.escalations.list_open()]
    assert total == 4
    assert [e.reference for e in first + rest] == [e.reference for e in everything]


def test_deep_queue_pages_match_the_merged_order(care: CareServices, clock: FakeClock) -> None:
    kinds = ("service_request", "complaint", "emergency", "talk_to_human", "consultation", "missed_medication")
    opened = []
    for i in range(620):
        opened.append(care.escalations.open(kinds[i % len(kinds)], None, f"item {i}").reference)
        clock.advance(seconds=7)
    for reference in opened[::5]:
        care.escalations.claim(reference, "Alice Smith")

    expected = [e.reference for e in care.escalations.list_open()]
    pages = [care.escalations.list_page(offset, 50)[0] for offset in range(0, 650, 50)]

    assert [e.reference for page in pages for e in page] == expected
    assert care.escalations.list_page(600, 50)[1] == 620

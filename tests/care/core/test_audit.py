"""Tests for assistant.care.core.audit: one row per change, in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from assistant.care import CareServices
from assistant.care.core import audit
from assistant.care.core.db import Database
from assistant.care.core.models import AuditLog

from ..helpers import add_meal_provider, at, register


def test_record_stores_json_detail(db: Database) -> None:
    moment = datetime(2025, 12, 1, 9, 0, tzinfo=timezone.utc)
    with db.reading() as session:
        audit.record(session, audit.coordinator_actor("alice"), "thing.done", "thing", 7, at=moment, why="test", n=2)
    with db.reading() as session:
        entry = session.scalars(select(AuditLog)).one()
    assert (entry.actor, entry.action, entry.entity_type, entry.entity_id) == ("coordinator:alice", "thing.done", "thing", "7")
    assert entry.at == moment
    assert json.loads(entry.detail) == {"why": "test", "n": 2}


def test_audit_rows_roll_back_with_the_change(db: Database) -> None:
    with pytest.raises(RuntimeError):
        with db.reading() as session:
            audit.record(session, "cli", "thing.done", "thing", 1)
            raise RuntimeError("change failed")
    with db.reading() as session:
        assert session.scalar(select(func.count(AuditLog.id))) == 0


def test_every_state_change_is_audited(care: CareServices) -> None:
    ids = add_meal_provider(care, "Kitchen", ["Riverside"], dishes=[("Soup", "lunch", 500, [])])
    profile = register(care, "conv-edith")
    order = care.meals.place_order("conv-edith", ids["Soup"], 1, at(1, 12))
    care.meals.cancel("conv-edith", order.reference)
    care.escalations.open("talk_to_human", "conv-edith", "help")
    care.people.withdraw_consent("conv-edith")

    with care.db.reading() as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        details = " ".join(session.scalars(select(AuditLog.detail)).all())
    assert actions == [
        "provider.created", "dish.created", "senior.registered", "booking.created",
        "booking.confirmed", "booking.cancelled", "escalation.opened", "consent.withdrawn",
    ]
    assert profile.full_name not in details and profile.address not in details

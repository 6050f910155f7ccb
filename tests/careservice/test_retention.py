"""Conversation history and resolved escalations are deleted once past their periods, nothing sooner."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.coordinators.coordinators import CoordinatorService
from assistant.care.core.models import Escalation, EscalationNote
from assistant.careservice.retention import Retention
from tests.care.helpers import FakeClock, register
from tests.careservice.test_emergency_sweep import write_tracker


def _texts(path: Path, sender: str) -> list[str]:
    """What Rasa itself reads back of a conversation."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    try:
        tracker = asyncio.run(store.retrieve(sender))
    finally:
        store.engine.dispose()
    return [] if tracker is None else [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_history_older_than_its_period_is_deleted_and_newer_kept(tmp_path: Path, care: CareServices,
                                                                 clock: FakeClock) -> None:
    trackers = tmp_path / "trackers.db"
    now = clock.now.timestamp()
    write_tracker(trackers, "conv-edith", "what's for lunch", "m-old", now - 200 * 86400, intent="order_meal")
    write_tracker(trackers, "conv-walter", "remind me at 8", "m-new", now - 10 * 86400, intent="set_reminder")
    retention = Retention(care.db, f"sqlite:///{trackers}", history=timedelta(days=180), clock=clock)
    try:
        run = retention.run()
        assert run.events == 2  # the old message and the action before it
        assert _texts(trackers, "conv-edith") == []
        assert _texts(trackers, "conv-walter") == ["remind me at 8"]
        assert retention.run().events == 0
    finally:
        retention.close()


def test_resolved_escalations_go_after_their_period_open_ones_never(care: CareServices, clock: FakeClock) -> None:
    register(care, "conv-edith")
    old = care.escalations.open("talk_to_human", "conv-edith", "please call me")
    care.escalations.claim(old.reference, "sam")
    CoordinatorService(care.db, clock=clock).add_note(old.reference, "sam", "rang her back")
    care.escalations.resolve(old.reference, "sam", "done")
    forgotten = care.escalations.open("talk_to_human", "conv-edith", "an old question nobody closed")
    clock.advance(days=800)
    recent = care.escalations.open("talk_to_human", "conv-edith", "a new question")
    care.escalations.resolve(recent.reference, "sam", "answered")

    retention = Retention(care.db, None, escalations=timedelta(days=730), clock=clock)
    assert retention.run().escalations == 1
    with care.db.reading() as session:
        left = set(session.scalars(select(Escalation.reference)))
        notes = session.scalars(select(EscalationNote)).all()
    assert left == {forgotten.reference, recent.reference}
    assert notes == []


def test_periods_must_be_positive(care: CareServices) -> None:
    with pytest.raises(ValueError):
        Retention(care.db, None, history=timedelta(0))
